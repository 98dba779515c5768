"""What a stranger nearby gets from a device on a simulated link (sim.radio.InProcessLink or
sim.stack_device.StackLink), shared by bench/bench_privacy.py and the tests.

    seconds = await hold_seconds(link, cap=150)      # a central that connects and writes nothing
    values = await stranger_reads(client)            # {uuid: bytes} of everything readable without a session
    linked = linked_values(before, after)            # the values that tie two identities together
"""
import asyncio

from bleak.exc import BleakError

from host_tools.bleak_backend import BumbleClientBackend

GAP_DEVICE_NAME = "00002a00-0000-1000-8000-00805f9b34fb"
GAP_APPEARANCE = "00002a01-0000-1000-8000-00805f9b34fb"
CTS_CURRENT_TIME = "00002a2b-0000-1000-8000-00805f9b34fb"
BATTERY_LEVEL = "00002a19-0000-1000-8000-00805f9b34fb"


def stranger_client(link, **kwargs):
    """A bleak client on the link's central for the device's current address (no session opened)."""
    from bleak import BleakClient
    kwargs.setdefault("timeout", 10.0)
    return BleakClient(link.current_device_address(), backend=BumbleClientBackend, central=link.central,
                       address_of=link.advertising_address, **kwargs)


async def hold_seconds(link, cap=150.0):
    """Seconds a central that connects and writes nothing keeps the device, until the device disconnects it
    (its disconnected callback) or `cap`."""
    gone = asyncio.Event()
    loop = asyncio.get_running_loop()
    client = stranger_client(link, disconnected_callback=lambda _client: gone.set())
    await client.connect()
    started = loop.time()
    try:
        await asyncio.wait_for(gone.wait(), cap)
    except asyncio.TimeoutError:
        pass
    held = loop.time() - started
    if client.is_connected:
        try:
            await client.disconnect()
        except BleakError:
            pass
    return round(held, 1)


async def stranger_reads(client):
    """{characteristic uuid: value} of every characteristic that says it can be read, the GAP device name and
    appearance included; a refused read counts as b""."""
    values = {}
    for service in client.services:
        for characteristic in service.characteristics:
            if "read" not in characteristic.properties:
                continue
            try:
                values[characteristic.uuid] = bytes(await client.read_gatt_char(characteristic))
            except BleakError:
                values[characteristic.uuid] = b""
    for uuid in (GAP_DEVICE_NAME, GAP_APPEARANCE):
        values.setdefault(uuid, b"")
    return values


def linked_values(before, after, common=()):
    """The characteristics whose value ties two identities of a device together: the same non-empty value
    that is not one every device shows (`common`: {uuid: value}), or a clock at the same offset from true
    time (the Current Time, read 1 s apart at most)."""
    linked = []
    for uuid, value in before.items():
        other = after.get(uuid, b"")
        if not value or not other or common.get(uuid) == value:
            continue
        if uuid == CTS_CURRENT_TIME or value == other:
            linked.append(uuid)
    return sorted(linked)
