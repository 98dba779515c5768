"""What a stranger nearby gets from a device on a simulated link (sim.radio.InProcessLink or
sim.stack_device.StackLink), shared by bench/bench_privacy.py and the tests.

    seconds = await hold_seconds(link, cap=150)      # a central that connects and writes nothing
    values = await stranger_reads(client)            # {uuid: bytes} of everything readable without a session
    linked = linked_values(before, after)            # the values that tie two identities together
    count, reads = await linkable_rotations(link, rotate)   # identifier changes a stranger could link
"""
import asyncio

from bleak.exc import BleakError

from host_tools.bleak_backend import BumbleClientBackend
from monitor import protocol_host

GAP_DEVICE_NAME = protocol_host.sig_uuid(0x2A00)
GAP_APPEARANCE = protocol_host.sig_uuid(0x2A01)
# The same on every device: the GAP name and appearance (the firmware's, test_privacy checks), the GATT
# service's Database Hash (of the one GATT table) and Client Supported Features (what this central wrote).
COMMON = (GAP_DEVICE_NAME, GAP_APPEARANCE, protocol_host.sig_uuid(0x2B2A), protocol_host.sig_uuid(0x2B29))


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


def linked_values(before, after):
    """The characteristics whose value ties two identities of a device together: the same non-empty value
    (COMMON aside), or any clock value on both (its offset from true time is the device's own)."""
    linked = []
    for uuid, value in before.items():
        other = after.get(uuid, b"")
        if not value or not other or uuid in COMMON:
            continue
        if uuid == protocol_host.CTS_CURRENT_TIME_UUID or value == other:
            linked.append(uuid)
    return sorted(linked)


async def linkable_rotations(link, rotate, rotations=3):
    """A stranger connects and reads everything before and after each of `rotations` identifier changes
    (`await rotate(step)` makes the device take its next one); returns (rotations linked, the reads)."""
    reads = []
    for step in range(rotations + 1):
        async with stranger_client(link) as client:
            reads.append(await stranger_reads(client))
        if step < rotations:
            await rotate(step)
    return sum(1 for a, b in zip(reads, reads[1:], strict=False) if linked_values(a, b)), reads
