"""One BLE conformance suite, three implementations of MicroPython's `bluetooth` module: the shadow
(sim/bluetooth.py under CPython, what the fast tests use) and the real module built from source with
BTstack (Pico W) and with NimBLE (ESP32), each on a bumble virtual controller. The device side is one
peripheral (tests/ble_conformance_peripheral.py) written only against the documented API; the central
drives it over the air and every check crosses the same radio on every stack.

Where the stacks differ, the test says which stack behaves how (STACK_DIFFERENCES, also in the README).
A real stack whose binary is not built (`make firmware`) is skipped, and only then.
"""
import asyncio
import contextlib
import os
import sys

import pytest

from paths import ROOT  # noqa: E402
TESTS = os.path.join(ROOT, "tests")
if TESTS not in sys.path:
    sys.path.insert(0, TESTS)

import sim.bluetooth  # noqa: E402

sys.modules.setdefault("bluetooth", sim.bluetooth)

import ble_conformance_peripheral as peripheral  # noqa: E402
from bumble import hci  # noqa: E402
from host_tools import sim_link  # noqa: E402
from sim import board_thread, env, radio, stack_device  # noqa: E402

SCRIPT = os.path.join(TESTS, "ble_conformance_peripheral.py")
STACKS = ["shadow"] + [pytest.param(s, marks=pytest.mark.skipif(
    not stack_device.built(s), reason="%s not built: make firmware" % stack_device.binary(s)))
    for s in stack_device.STACKS]
CENTRAL = bytes.fromhex(sim_link.CENTRAL_ADDRESS.replace(":", "")).hex()   # as MicroPython shows it: MSB first
_IRQ_CENTRAL_CONNECT = 1
_IRQ_CENTRAL_DISCONNECT = 2
_IRQ_GATTS_WRITE = 3
_IRQ_GATTS_INDICATE_DONE = 20
_IRQ_MTU_EXCHANGED = 21
_HEX_FIELDS = {_IRQ_CENTRAL_CONNECT: (2,), _IRQ_CENTRAL_DISCONNECT: (2,), _IRQ_GATTS_WRITE: (2,)}


def run(coro, timeout=120):
    return asyncio.run(asyncio.wait_for(coro, timeout))


@contextlib.asynccontextmanager
async def device(stack, tmp_path, mode="connectable", link_delay_s=0.0):
    """Yields the link (radio.InProcessLink or stack_device.StackLink) with the peripheral advertising."""
    if stack == "shadow-program":   # the peripheral's own main(), blocking in time.sleep_ms, on its thread
        async with radio.InProcessLink() as link:
            link.peripheral_ble()
            env.install()
            program = board_thread.BoardThread.start(SCRIPT, asyncio.get_running_loop(), argv=(mode,))
            try:
                while not link.device_radio().is_advertising:
                    assert program.alive, "the program ended: %r" % (program.error,)
                    await asyncio.sleep(0.01)
                yield link
            finally:
                program.stop()
        return
    if stack.startswith("shadow"):   # "shadow" (its NimBLE profile, the default) or "shadow-btstack"
        async with radio.InProcessLink(stack=stack.partition("-")[2] or "nimble", link_delay_s=link_delay_s) as link:
            ble = link.peripheral_ble()
            peripheral.Peripheral(ble, mode)
            await ble.sim_settle()
            yield link
    else:
        async with stack_device.StackLink(stack, str(tmp_path / "flash"), script=SCRIPT, args=(mode,),
                                          link_delay_s=link_delay_s) as link:
            yield link


def _number(text):
    """A logged field: an int when the handler got one; anything else (a bool prints True) stays text."""
    try:
        return int(text)
    except ValueError:
        return text


class Central:
    """The central's side: commands, the peripheral's IRQ log, what arrives on TX and IND in order."""

    def __init__(self, client):
        self.client = client
        self.arrivals = []      # ("tx" | "ind", bytes) in arrival order

    async def subscribe(self):
        await self.client.start_notify(peripheral.TX_UUID, lambda _s, d: self.arrivals.append(("tx", bytes(d))))
        await self.client.start_notify(peripheral.IND_UUID, lambda _s, d: self.arrivals.append(("ind", bytes(d))))

    async def command(self, text):
        await self.client.write_gatt_char(peripheral.CMD_UUID, text.encode(), response=True)
        return bytes(await self.client.read_gatt_char(peripheral.LOG_UUID)).decode()

    async def events(self, *kinds):
        """The peripheral's IRQs as (event, fields) with ints and buffers (bytes) as the handler saw them."""
        items = []
        while True:
            page = [item for item in (await self.command("log %d" % len(items))).split(";") if item]
            if not page:
                break
            items += page
        out = []
        for item in items:
            code, _, fields = item.partition(":")
            event = int(code)
            values = fields.split(",") if fields else []
            parsed = tuple(bytes.fromhex(v) if i in _HEX_FIELDS.get(event, ()) else (None if v == "-" else _number(v))
                           for i, v in enumerate(values))
            if not kinds or event in kinds:
                out.append((event, parsed))
        return out

    async def settle(self, condition, timeout=10):
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not condition():
            assert loop.time() < deadline, "timed out; arrivals: %r" % self.arrivals[-5:]
            await asyncio.sleep(0.01)


def central_connection(link):
    return next(iter(link.central.connections.values()))


@pytest.mark.parametrize("stack", STACKS)
def test_connect_event_tuple_address_and_mtu(stack, tmp_path):
    """_IRQ_CENTRAL_CONNECT is (conn_handle, addr_type, addr) with the central's address most significant
    byte first; an MTU exchange gives _IRQ_MTU_EXCHANGED (conn_handle, mtu) with the smaller of both sides'
    MTUs; config("mac") is (addr_type, 6 bytes)."""
    async def main():
        async with device(stack, tmp_path) as link:
            async with link.client(mtu=247) as client:
                c = Central(client)
                events = await c.events()
                connect = [f for e, f in events if e == _IRQ_CENTRAL_CONNECT]
                assert len(connect) == 1
                conn, addr_type, addr = connect[0]
                assert isinstance(conn, int) and addr_type == 1 and addr.hex() == CENTRAL
                assert (_IRQ_MTU_EXCHANGED, (conn, 247)) in events
                assert await c.command("mtu") == "512"   # config("mtu"): what was set, not what was exchanged
                kind, _, mac = (await c.command("mac")).partition(",")
                assert int(kind) in (0, 1) and len(bytes.fromhex(mac)) == 6

    run(main())


@pytest.mark.parametrize("stack", STACKS)
def test_value_handles_match_what_the_central_discovers(stack, tmp_path):
    """gatts_register_services returns the value handles the central discovers; each characteristic is a
    declaration then its value, a notify/indicate one then its CCCD, with no gap. Where the first one
    starts differs: after each stack's own GAP and GATT services."""
    async def main():
        async with device(stack, tmp_path) as link:
            async with link.client(mtu=247) as client:
                c = Central(client)
                handles = [int(h) for h in (await c.command("handles")).split(",")]
                service = client.services.get_service(peripheral.SERVICE_UUID)
                discovered = [ch.handle for ch in service.characteristics]
                assert sorted(discovered) == handles
                by_handle = {ch.handle: ch for ch in service.characteristics}
                for handle, following in zip(handles, handles[1:], strict=False):
                    ch = by_handle[handle]
                    cccd = 1 if {"notify", "indicate"} & set(ch.properties) else 0
                    assert [d.handle for d in ch.descriptors] == ([handle + 1] if cccd else [])
                    assert following == handle + 1 + cccd + 1     # CCCD, then the next declaration
                return handles[0]

    first = run(main())
    assert first > 1


@pytest.mark.parametrize("stack", STACKS)
def test_back_to_back_writes_each_reach_the_handler_with_their_own_value(stack, tmp_path):
    """The boards run _IRQ_GATTS_WRITE synchronously (sync events): a value read in the handler is that
    write's, even when the next write follows at once, with or without a response."""
    async def main():
        async with device(stack, tmp_path) as link:
            async with link.client(mtu=247) as client:
                c = Central(client)
                await c.command("clear")
                values = [b"with response %d" % i for i in range(5)]
                for value in values:
                    await client.write_gatt_char(peripheral.RX_UUID, value, response=True)
                quick = [b"no response %d" % i for i in range(5)]
                for value in quick:
                    await client.write_gatt_char(peripheral.RX_UUID, value, response=False)
                await asyncio.sleep(0.3)
                writes = [f for e, f in await c.events(_IRQ_GATTS_WRITE)]
                rx = int((await c.command("handles")).split(",")[4])
                assert [f[1] for f in writes] == [rx] * len(writes)
                assert [f[2] for f in writes] == values + quick

    run(main())


@pytest.mark.parametrize("stack", STACKS)
def test_notify_and_indicate_order_and_indicate_done(stack, tmp_path):
    """40 notifications, an indication, 40 more, all from one handler: every notification arrives, in
    order, and _IRQ_GATTS_INDICATE_DONE is (conn_handle, value_handle, 0). Where the indication lands:
    BTstack sends queued indications ahead of queued notifications, so it overtakes those still queued;
    NimBLE and the shadow send in call order. The protocol opens frames in counter order for this."""
    async def main():
        async with device(stack, tmp_path) as link:
            async with link.client(mtu=247) as client:
                c = Central(client)
                await c.subscribe()
                before, after = [[int(x) for x in part.split(",")] for part in (await c.command("order 40")).split(";")]
                assert before[0] > 0
                await c.settle(lambda: len(c.arrivals) >= before[0] + 1 + after[0])
                await asyncio.sleep(0.2)
                notified = [d for kind, d in c.arrivals if kind == "tx"]
                assert [d[0] | d[1] << 8 for d in notified] == list(range(before[0])) + list(range(40, 40 + after[0]))
                position = [kind for kind, _ in c.arrivals].index("ind")
                handles = [int(h) for h in (await c.command("handles")).split(",")]
                done = [f for e, f in await c.events(_IRQ_GATTS_INDICATE_DONE)]
                assert len(done) == 1 and done[0][1:] == (handles[3], 0)
                return position, before[0]

    position, notified_before = run(main())
    if stack == "btstack":
        assert position < notified_before, "BTstack's indication did not overtake the queued notifications"
    else:
        assert position == notified_before


@pytest.mark.parametrize("stack", STACKS)
def test_flow_control_gatts_notify_in_one_go(stack, tmp_path):
    """200 gatts_notify calls without yielding: NimBLE (and the shadow's NimBLE profile) refuses once its
    buffers are full, with OSError (ENOMEM); BTstack never refuses, it queues every one on the heap. Every
    accepted notification arrives, in order."""
    async def main():
        async with device(stack, tmp_path) as link:
            async with link.client(mtu=247) as client:
                c = Central(client)
                await c.subscribe()
                accepted, refused, errors = [int(x) for x in (await c.command("burst 200 200")).split(",")]
                assert accepted + refused + errors == 200 and errors == 0
                await c.settle(lambda: len(c.arrivals) >= accepted)
                await asyncio.sleep(0.2)
                got = [d[0] | d[1] << 8 for kind, d in c.arrivals]
                assert len(got) == accepted and got == sorted(got)
                return refused

    refused = run(main())
    if stack == "btstack":
        assert refused == 0
    else:
        assert refused > 0


@pytest.mark.parametrize("stack", STACKS)
def test_disconnects_and_their_reasons(stack, tmp_path):
    """gap_disconnect: the central sees "remote user terminated" (0x13); a lost link: both sides report a
    timeout. Either way the peripheral gets _IRQ_CENTRAL_DISCONNECT (conn_handle, addr_type, addr): the
    central's address on NimBLE and the shadow, addr_type 0xff and a zero address on BTstack (MicroPython's
    BTstack binding does not keep the peer's address). The firmware uses only conn_handle."""
    async def main():
        reasons = []
        async with device(stack, tmp_path) as link:
            async with link.client(mtu=247) as client:
                central_connection(link).on("disconnection", reasons.append)
                try:
                    await client.write_gatt_char(peripheral.CMD_UUID, b"disconnect", response=True)
                except Exception:  # noqa: BLE001 - the link may go before the write's response
                    pass
                c = Central(client)
                await c.settle(lambda: reasons)
            async with link.client(mtu=247) as client:
                central_connection(link).on("disconnection", reasons.append)
                await link.drop_connection()
            async with link.client(mtu=247) as client:
                events = await Central(client).events(_IRQ_CENTRAL_CONNECT, _IRQ_CENTRAL_DISCONNECT)
        return reasons, events

    reasons, events = run(main())
    assert reasons == [hci.HCI_REMOTE_USER_TERMINATED_CONNECTION_ERROR, hci.HCI_CONNECTION_TIMEOUT_ERROR]
    kinds = [e for e, _ in events]
    assert kinds == [_IRQ_CENTRAL_CONNECT, _IRQ_CENTRAL_DISCONNECT] * 2 + [_IRQ_CENTRAL_CONNECT]
    for event, (conn, addr_type, addr) in events:
        if event == _IRQ_CENTRAL_DISCONNECT and stack == "btstack":
            assert isinstance(conn, int) and addr_type == 0xFF and addr == bytes(6)
        else:
            assert isinstance(conn, int) and addr_type == 1 and addr.hex() == CENTRAL


@pytest.mark.parametrize("stack", STACKS)
def test_every_read_asks_the_handler_first(stack, tmp_path):
    """Builds with sync events (ESP32, rp2, these unix builds) raise _IRQ_GATTS_READ_REQUEST
    (conn_handle, value_handle) before every read, on BTstack and NimBLE alike."""
    async def main():
        async with device(stack, tmp_path) as link:
            async with link.client(mtu=247) as client:
                c = Central(client)
                tx = int((await c.command("handles")).split(",")[2])
                await client.read_gatt_char(peripheral.TX_UUID)
                conn, handle = [int(x) for x in (await c.command("lastread")).split(",")]
                assert handle == tx and conn >= 0

    run(main())


@pytest.mark.parametrize("stack", STACKS)
def test_gatts_write_and_notify_take_a_str(stack, tmp_path):
    """The real module takes any buffer, a str too (its UTF-8 bytes)."""
    async def main():
        async with device(stack, tmp_path) as link:
            async with link.client(mtu=247) as client:
                c = Central(client)
                await c.subscribe()
                assert await c.command("str") == "ok"
                await c.settle(lambda: c.arrivals)
                assert c.arrivals == [("tx", b"notified as str")]
                assert bytes(await client.read_gatt_char(peripheral.TX_UUID)) == b"written as str"

    run(main())


_IRQ_ENCRYPTION_UPDATE = 28
# The legacy PDU both stacks send for each of gap_advertise's modes: connectable=False is always scannable
# (BTstack's adv_type 2, NimBLE's BLE_GAP_DISC_MODE_GEN), with an empty scan response when none was given.
ADVERTISED_AS = {"connectable": "ADV_IND", "scannable": "ADV_SCAN_IND", "nonconnectable": "ADV_SCAN_IND"}


_LEGACY_NAMES = {0: "ADV_IND", 1: "ADV_DIRECT_IND", 2: "ADV_SCAN_IND", 3: "ADV_NONCONN_IND", 4: "SCAN_RSP"}


def _as_legacy_name(event_type):
    """An extended report's event type (legacy PDU used) as the legacy report's name."""
    if event_type & 0x08:
        return "SCAN_RSP"
    if event_type & 0x01:
        return "ADV_IND"
    return "ADV_SCAN_IND" if event_type & 0x02 else "ADV_NONCONN_IND"


async def _scan(link, seconds, legacy, active):
    """The device's advertising reports as the central's host gets them over HCI in `seconds` of scanning
    (legacy or extended scan commands, active or passive, no duplicate filter): (LE meta subevent, PDU type
    name, legacy PDU used, data)."""
    address = link.device_radio().advertising_address()
    controller = link.central_controller
    reports = []
    send = controller.send_hci_packet

    def spy(packet):
        if isinstance(packet, hci.HCI_LE_Advertising_Report_Event):
            reports.extend((0x02, _LEGACY_NAMES[r.event_type], True, bytes(r.data))
                           for r in packet.reports if r.address == address)
        elif isinstance(packet, hci.HCI_LE_Extended_Advertising_Report_Event):
            reports.extend((0x0D, _as_legacy_name(r.event_type), bool(r.event_type & 0x10), bytes(r.data))
                           for r in packet.reports if r.address == address)
        send(packet)

    controller.send_hci_packet = spy
    try:
        await link.central.start_scanning(legacy=legacy, active=active, filter_duplicates=False)
        await asyncio.sleep(seconds)
        await link.central.stop_scanning()
    finally:
        del controller.send_hci_packet
    return reports


@pytest.mark.parametrize("mode", peripheral.MODES)
@pytest.mark.parametrize("stack", STACKS)
def test_scan_reports_match_what_was_advertised(stack, mode, tmp_path):
    """gap_advertise(connectable=...) with and without resp_data goes on the air as ADV_IND or ADV_SCAN_IND
    (never ADV_NONCONN_IND, on both stacks), and advertising without a connection. A legacy scan gets legacy reports (LE meta 0x02, what MicroPython's stacks read), an
    extended scan extended ones marked legacy; both with the type advertised. A scan response comes only to an
    active scan of a scannable advertiser, with the scan response data (never the advertising data again)."""
    async def main():
        async with device(stack, tmp_path, mode) as link:
            found = {}
            for legacy in (True, False):
                for active in (True, False):
                    found[legacy, active] = await _scan(link, 0.5, legacy, active)
            return found

    found = run(main())
    adv_data = peripheral._adv()
    kind = ADVERTISED_AS[mode]
    for (legacy, active), reports in found.items():
        advertising = [r for r in reports if r[1] != "SCAN_RSP"]
        responses = [r for r in reports if r[1] == "SCAN_RSP"]
        assert advertising, (legacy, active)
        assert {r[0] for r in reports} == {0x02 if legacy else 0x0D}
        assert all(r[2] for r in reports)                       # legacy PDUs, either report
        assert {r[1] for r in advertising} == {kind}
        assert {r[3] for r in advertising} == {adv_data}
        if active and kind != "ADV_NONCONN_IND":
            assert len(responses) == len(advertising)
            assert {r[3] for r in responses} == {b"" if mode == "nonconnectable" else peripheral.RESP_DATA}
        else:
            assert not responses, (legacy, active)


@pytest.mark.parametrize("stack", STACKS)
def test_advertising_runs_at_the_interval_asked(stack, tmp_path):
    """gap_advertise(100_000): an advertising event every 100 ms plus the 0-10 ms advDelay, so 8 to 11 in a
    second of passive scanning (bumble's stock controller read the interval's 0.625 ms units as ms: 6)."""
    async def main():
        async with device(stack, tmp_path) as link:
            return await _scan(link, 1.0, legacy=True, active=False)

    events = len(run(main()))
    assert 8 <= events <= 11, events


@pytest.mark.parametrize("stack", STACKS)
def test_a_write_longer_than_the_hci_buffer_reaches_the_handler(stack, tmp_path):
    """With an MTU above 255, one ATT write is longer than NimBLE's HCI buffers: the controller fragments it
    to its ACL buffer size, as a real one does, and the whole value reaches the peripheral on every stack."""
    async def main():
        async with device(stack, tmp_path) as link:
            async with link.client(mtu=517) as client:
                c = Central(client)
                mtu = int(await c.command("mtu"))
                assert await c.command("rx 512") == "ok"
                value = bytes(range(256)) * 2
                exchanged = central_connection(link).att_mtu
                assert exchanged > 255 + 3
                await client.write_gatt_char(peripheral.RX_UUID, value[:exchanged - 3], response=True)
                length, tail = (await c.command("rxinfo")).split(",")
                assert int(length) == exchanged - 3 and bytes.fromhex(tail) == value[exchanged - 7:exchanged - 3]
                return mtu

    assert run(main()) == 512


@pytest.mark.parametrize("stack", STACKS)
def test_encryption_update_gives_integers_and_just_works_is_not_authenticated(stack, tmp_path):
    """_IRQ_ENCRYPTION_UPDATE is (conn_handle, encrypted, authenticated, bonded, key_size), all integers (not
    booleans); Just Works pairing gives encrypted 1 and authenticated 0 (no MITM protection), a 16-byte key,
    and no bond without config(bond=True). BTstack as MicroPython builds it for the Pico W (no
    MICROPY_PY_BLUETOOTH_ENABLE_PAIRING_BONDING, as these unix builds) never answers the pairing confirm:
    no encryption, no event. e2mon's own link security does not rest on pairing for that reason."""
    async def main():
        async with device(stack, tmp_path) as link:
            async with link.client(mtu=247) as client:
                try:
                    await asyncio.wait_for(client.pair(), 5)
                    paired = True
                except (asyncio.TimeoutError, Exception):  # noqa: BLE001 - BTstack: no answer at all
                    paired = False
                await asyncio.sleep(0.3)
                return paired, await Central(client).events(_IRQ_ENCRYPTION_UPDATE)

    paired, events = run(main())
    updates = [fields for _, fields in events]
    if stack == "btstack":
        assert not paired and not updates
        return
    assert paired and updates, "no _IRQ_ENCRYPTION_UPDATE"
    for fields in updates:
        assert all(type(x) is int for x in fields), fields
        assert fields[1:] == (1, 0, 0, 16), fields


@pytest.mark.parametrize("stack", STACKS)
def test_the_radio_has_a_public_address(stack, tmp_path):
    """A real controller has a public address (HCI Read BD_ADDR), never all zeros; a stack left in its
    default address mode advertises on it: config("mac") is (0, that address), as the advertiser's."""
    async def main():
        async with device(stack, tmp_path) as link:
            advertised = link.device_radio().advertising_address()
            async with link.client(mtu=247) as client:
                kind, _, mac = (await Central(client).command("mac")).partition(",")
            return link.device_radio().public_address, advertised, int(kind), bytes.fromhex(mac)

    public, advertised, kind, mac = run(main())
    assert bytes(public) != bytes(6)
    if stack == "shadow":   # still on its random static address until addr_mode is set (see the README)
        assert kind == 1 and advertised.address_type == hci.Address.RANDOM_DEVICE_ADDRESS
        return
    assert (kind, mac) == (0, bytes(reversed(bytes(public))))
    assert advertised == public


_BUILTIN = {   # (service, [(characteristic, properties, descriptors)]) ahead of the firmware's services
    "nimble": [("1800", [("2a00", ["read"], 0), ("2a01", ["read"], 0)]),
               ("1801", [("2a05", ["indicate"], 1)])],
    "btstack": [("1800", [("2a00", ["read"], 0)]),
                ("1801", [("2a05", ["read"], 0)])],
}


@pytest.mark.parametrize("stack", STACKS + ["shadow-btstack"])
def test_builtin_gap_and_gatt_services_are_the_stacks(stack, tmp_path):
    """Each stack registers its own GAP and GATT services first: NimBLE Device Name and Appearance, and a
    Service Changed that indicates (with its CCCD); BTstack only Device Name, and a Service Changed that is
    read. The shadow has its profile's (bumble's own Client Supported Features and Database Hash, in
    neither stack, are gone). The device name is the stack's default until the firmware sets one."""
    async def main():
        async with device(stack, tmp_path) as link:
            async with link.client(mtu=247) as client:
                found = []
                for service in sorted(client.services, key=lambda s: s.handle):
                    short = service.uuid[4:8]
                    if service.uuid.endswith("-0000-1000-8000-00805f9b34fb") and short in ("1800", "1801"):
                        found.append((short, [(c.uuid[4:8], sorted(c.properties), len(c.descriptors))
                                              for c in sorted(service.characteristics, key=lambda c: c.handle)]))
                name = bytes(await client.read_gatt_char("00002a00-0000-1000-8000-00805f9b34fb"))
                return found, name

    found, name = run(main())
    profile = stack.rpartition("-")[2] if stack != "shadow" else "nimble"
    assert found == _BUILTIN[profile]
    assert name == {"nimble": b"MPY NIMBLE", "btstack": b"MPY BTSTACK"}[profile]


@pytest.mark.parametrize("stack", STACKS + ["shadow-program"])
def test_a_program_blocking_in_sleep_ms_gets_its_irqs(stack, tmp_path):
    """The peripheral's own main() ends in `while True: time.sleep_ms(100)`: on both stacks (the unix port's
    delay runs pending events) its handler still serves the central; on the shadow too, when the program runs
    on its own thread (sim.board_thread), as a board's main thread, instead of blocking the radio's loop."""
    async def main():
        async with device(stack, tmp_path) as link:
            async with link.client(mtu=247) as client:
                c = Central(client)
                handles = [int(h) for h in (await c.command("handles")).split(",")]
                await client.write_gatt_char(peripheral.RX_UUID, b"while it sleeps", response=True)
                writes = [f for e, f in await c.events(_IRQ_GATTS_WRITE)]
                return handles, writes

    handles, writes = run(main())
    assert len(handles) == 5
    assert [w[1:] for w in writes] == [(handles[4], b"while it sleeps")]


@pytest.mark.parametrize("stack", STACKS)
def test_a_link_delay_slows_each_exchange_and_keeps_the_order(stack, tmp_path):
    """link_delay_s: what crosses the link arrives that much later, in order. A read (request, response)
    takes at least two delays; quick writes without response still reach the handler in order."""
    delay = 0.03

    async def main():
        async with device(stack, tmp_path, link_delay_s=delay) as link:
            async with link.client(mtu=247) as client:
                c = Central(client)
                await c.command("clear")
                loop = asyncio.get_running_loop()
                started = loop.time()
                await client.read_gatt_char(peripheral.TX_UUID)
                read_s = loop.time() - started
                values = [b"delayed %d" % i for i in range(8)]
                for value in values:
                    await client.write_gatt_char(peripheral.RX_UUID, value, response=False)
                await asyncio.sleep(4 * delay)
                return read_s, [f[2] for e, f in await c.events(_IRQ_GATTS_WRITE)], values

    read_s, written, values = run(main())
    assert read_s >= 2 * delay
    assert written == values
