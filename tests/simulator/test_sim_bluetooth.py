"""The simulator's radio: a MicroPython-style peripheral (tests/ble_echo_peripheral.py) on the
`bluetooth` shadow, driven through bleak's public BleakClient API over bumble's virtual link."""
import asyncio
import errno
import os
import struct
import subprocess
import sys

import pytest
from bleak.exc import BleakError, BleakGATTProtocolError

import sim.bluetooth

sys.modules.setdefault("bluetooth", sim.bluetooth)  # what sim/shadow/bluetooth.py does on sys.path

import ble_echo_peripheral as echo  # noqa: E402  (needs `bluetooth` importable)
from host_tools import sim_link  # noqa: E402
from sim import radio  # noqa: E402

from paths import ROOT  # noqa: E402

_IRQ_CENTRAL_CONNECT = 1
_IRQ_CENTRAL_DISCONNECT = 2
_IRQ_MTU_EXCHANGED = 21


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


async def settle(predicate, timeout=5.0):
    async def poll():
        while not predicate():
            await asyncio.sleep(0.001)

    await asyncio.wait_for(poll(), timeout)


async def started(link, **kwargs):
    device = echo.EchoPeripheral(link.peripheral_ble(), **kwargs)
    await device.ble.sim_settle()
    return device


def burst_collector():
    received = []

    def on_notify(_char, data):
        received.append(bytes(data))

    return received, on_notify


def test_connect_discover_read_write_and_mtu_exchange():
    async def main():
        async with radio.InProcessLink() as link:
            device = await started(link)
            async with link.client() as client:
                service = client.services.get_service(echo.SERVICE_UUID)
                assert service is not None
                tx = service.get_characteristic(echo.TX_UUID)
                assert tx.properties == ["read", "notify"]
                assert [d.uuid for d in tx.descriptors] == ["00002902-0000-1000-8000-00805f9b34fb"]
                assert service.get_characteristic(echo.RX_UUID).properties == ["write"]
                # NimBLE's handle order: value, its CCCD, then the characteristic's own descriptors.
                ctrl = service.get_characteristic(echo.CTRL_UUID)
                assert ctrl.handle == device.ctrl and device.ctrl_label == device.ctrl + 2
                assert [d.handle for d in ctrl.descriptors] == [device.ctrl + 1, device.ctrl + 2]
                assert await client.read_gatt_char(echo.TX_UUID) == bytearray(b"ready")
                await client.write_gatt_char(echo.RX_UUID, b"hello device", response=True)
                await settle(lambda: device.writes)
                assert device.writes == [(device.rx, b"hello device")]
                # The bleak backend exchanges the MTU on connect, like BlueZ; the device hears of it.
                assert client.mtu_size == 247
                await settle(lambda: device.mtu)
                assert list(device.mtu.values()) == [247]
                conn_handle, address = next(iter(device.connections.items()))
                assert address == bytes.fromhex(sim_link.CENTRAL_ADDRESS.replace(":", ""))
            await settle(lambda: not device.connections)
            kinds = [event for event, _ in device.events]
            assert kinds[0] == _IRQ_CENTRAL_CONNECT and kinds[-1] == _IRQ_CENTRAL_DISCONNECT
            assert device.events[-1][1][0] == conn_handle
            assert device.ble.sim_stats["irq_errors"] == 0

    run(main())


def test_writes_are_cut_to_the_value_buffer_like_on_the_boards():
    async def main():
        async with radio.InProcessLink() as link:
            device = await started(link, rx_size=8)
            async with link.client() as client:
                await client.write_gatt_char(echo.RX_UUID, b"0123456789abcdef", response=True)
                # A characteristic nobody resized keeps MicroPython's 20-byte default.
                await client.write_gatt_char(echo.CTRL_UUID, bytes(range(30)), response=True)
                await settle(lambda: len(device.writes) == 2)
            assert device.writes[0] == (device.rx, b"01234567")
            assert device.writes[1] == (device.ctrl, bytes(range(20)))

    run(main())


def test_many_notifications_arrive_in_order_with_enomem_backpressure():
    async def main():
        async with radio.InProcessLink() as link:
            device = await started(link)
            received, on_notify = burst_collector()
            async with link.client() as client:
                await client.start_notify(echo.TX_UUID, on_notify)
                await client.write_gatt_char(echo.RX_UUID, b"burst 3000 244", response=True)
                await settle(lambda: len(received) == 3000, timeout=30)
            seqs = [struct.unpack_from("<I", packet)[0] for packet in received]
            assert seqs == list(range(3000))
            assert {len(packet) for packet in received} == {244}
            # The pump ran into the bounded pool and had to retry: the stack pushed back.
            assert device.refusals > 0
            assert device.ble.sim_stats["notify_refused"] == device.refusals
            assert device.sent == 3000

    run(main())


def test_gatts_notify_raises_enomem_when_the_pool_is_full_and_recovers():
    async def main():
        async with radio.InProcessLink(notify_pool=5) as link:
            device = await started(link)
            received, on_notify = burst_collector()
            async with link.client() as client:
                await client.start_notify(echo.TX_UUID, on_notify)
                conn_handle = next(iter(device.connections))
                for i in range(5):
                    device.ble.gatts_notify(conn_handle, device.tx, b"n%d" % i)
                with pytest.raises(OSError) as refused:
                    device.ble.gatts_notify(conn_handle, device.tx, b"n5")
                assert refused.value.errno == errno.ENOMEM
                await settle(lambda: len(received) == 5)
                device.ble.gatts_notify(conn_handle, device.tx, b"n5")  # the pool drained
                await settle(lambda: len(received) == 6)
            assert received == [b"n%d" % i for i in range(6)]

    run(main())


def test_btstack_profile_queues_on_the_heap_up_to_its_limit():
    async def main():
        async with radio.InProcessLink(stack="btstack", btstack_heap_limit=1000) as link:
            device = await started(link)
            received, on_notify = burst_collector()
            async with link.client() as client:
                await client.start_notify(echo.TX_UUID, on_notify)
                conn_handle = next(iter(device.connections))
                for _ in range(5):
                    device.ble.gatts_notify(conn_handle, device.tx, bytes(200))
                with pytest.raises(MemoryError):
                    device.ble.gatts_notify(conn_handle, device.tx, bytes(200))
                await settle(lambda: len(received) == 5)

    run(main())


def test_notifications_longer_than_mtu_minus_3_are_truncated():
    async def main():
        async with radio.InProcessLink() as link:
            device = await started(link)
            received, on_notify = burst_collector()
            async with link.client(mtu=64) as client:
                assert client.mtu_size == 64
                await client.start_notify(echo.TX_UUID, on_notify)
                conn_handle = next(iter(device.connections))
                device.ble.gatts_notify(conn_handle, device.tx, bytes(range(100)))
                await settle(lambda: received)
            assert received == [bytes(range(61))]
            assert list(device.mtu.values()) == [64]

    run(main())


def test_device_side_mtu_preference_and_exchange_from_the_device():
    async def main():
        async with radio.InProcessLink() as link:
            device = await started(link)
            device.ble.config(mtu=100)
            assert device.ble.config("mtu") == 100
            async with link.client() as client:
                assert client.mtu_size == 100  # min(central's 247, device's 100)
                conn_handle = next(iter(device.connections))
                device.ble.gattc_exchange_mtu(conn_handle)
                await settle(lambda: sum(1 for e, _ in device.events if e == _IRQ_MTU_EXCHANGED) == 2)
                assert device.mtu[conn_handle] == 100

    run(main())


def test_indication_round_trip_and_indicate_done_irq():
    async def main():
        async with radio.InProcessLink() as link:
            device = await started(link)
            received, on_notify = burst_collector()
            async with link.client() as client:
                await client.start_notify(echo.CTRL_UUID, on_notify)
                await client.write_gatt_char(echo.CTRL_UUID, b"op", response=True)
                await settle(lambda: device.indications_done)
                conn_handle = next(iter(device.connections))
                assert received == [b"ack:op"]
                assert device.indications_done == [(conn_handle, device.ctrl, 0)]
                assert device.ble.gatts_read(device.ctrl) == b"op"  # indicate with data keeps the value

    run(main())


def test_indications_queue_behind_each_other_and_keep_call_order_with_notifications():
    async def main():
        async with radio.InProcessLink() as link:
            device = await started(link)
            seen = []
            async with link.client() as client:
                await client.start_notify(echo.CTRL_UUID, lambda _c, d: seen.append(("ind", bytes(d))))
                await client.start_notify(echo.TX_UUID, lambda _c, d: seen.append(("ntf", bytes(d))))
                conn_handle = next(iter(device.connections))
                ble = device.ble
                ble.gatts_indicate(conn_handle, device.ctrl, b"i1")
                ble.gatts_notify(conn_handle, device.tx, b"n1")
                ble.gatts_indicate(conn_handle, device.ctrl, b"i2")
                ble.gatts_indicate(conn_handle, device.ctrl, b"i3")
                await settle(lambda: len(device.indications_done) == 3)
                assert seen == [("ind", b"i1"), ("ntf", b"n1"), ("ind", b"i2"), ("ind", b"i3")]
                assert device.indications_done == [(conn_handle, device.ctrl, 0)] * 3
                # Cut the link with two indications unconfirmed: both fail, before the disconnect event.
                ble.gatts_indicate(conn_handle, device.ctrl, b"i4")
                ble.gatts_indicate(conn_handle, device.ctrl, b"i5")
                await link.drop_connection()
                await settle(lambda: len(device.indications_done) == 5)
            assert device.indications_done[3:] == [(conn_handle, device.ctrl, 7)] * 2
            kinds = [event for event, _ in device.events]
            assert kinds.index(_IRQ_CENTRAL_DISCONNECT) > max(i for i, k in enumerate(kinds) if k == 20)

    run(main())


def test_gatts_write_send_update_notifies_subscribers_only():
    async def main():
        async with radio.InProcessLink() as link:
            device = await started(link)
            received, on_notify = burst_collector()
            async with link.client() as client:
                device.ble.gatts_write(device.tx, b"before subscribing", True)
                await client.start_notify(echo.TX_UUID, on_notify)
                device.ble.gatts_write(device.tx, b"after", True)
                await settle(lambda: received)
                await client.stop_notify(echo.TX_UUID)
                device.ble.gatts_write(device.tx, b"stopped", True)
                assert await client.read_gatt_char(echo.TX_UUID) == bytearray(b"stopped")
            assert received == [b"after"]

    run(main())


def test_att_errors_surface_as_bleak_protocol_errors():
    async def main():
        async with radio.InProcessLink() as link:
            await started(link)
            async with link.client() as client:
                with pytest.raises(BleakGATTProtocolError) as denied:
                    await client.read_gatt_char(echo.RX_UUID)
                assert denied.value.code == 0x02  # read not permitted
                with pytest.raises(BleakGATTProtocolError) as denied:
                    await client.write_gatt_char(echo.TX_UUID, b"x", response=True)
                assert denied.value.code == 0x03  # write not permitted
                with pytest.raises(BleakGATTProtocolError) as denied:
                    await client.read_gatt_char(echo.SECRET_UUID)
                assert denied.value.code == 0x0F  # insufficient encryption: not paired

    run(main())


def test_pairing_encrypts_the_link_and_opens_encrypted_characteristics():
    async def main():
        async with radio.InProcessLink() as link:
            device = await started(link)
            device.ble.config(bond=True, le_secure=True)
            async with link.client(pair=True) as client:
                assert await client.read_gatt_char(echo.SECRET_UUID) == bytearray(b"phi")
                await settle(lambda: any(e == 28 for e, _ in device.events))
            update = [data for event, data in device.events if event == 28][0]
            assert update[1:] == (1, 0, 1, 16)   # integers, as both stacks; Just Works is not authenticated

    run(main())


def test_bonds_are_kept_by_the_firmware_through_the_secret_irqs():
    async def main():
        async with radio.InProcessLink() as link:
            device = await started(link)
            device.ble.config(bond=True, le_secure=True)
            async with link.client(pair=True) as client:
                assert await client.read_gatt_char(echo.SECRET_UUID) == bytearray(b"phi")
            central = bytes.fromhex(sim_link.CENTRAL_ADDRESS.replace(":", ""))
            ((sec_type, key),) = device.secrets
            assert sec_type == 2 and key == b"\x01" + bytes(reversed(central))  # ble_addr_t
            await device.ble.sim_settle()
            # Bonded: the next session re-encrypts with the stored key, which the stack asks the
            # firmware for; no new pairing, no new secret.
            asked = len([e for e, _ in device.events if e == 29])
            async with link.client(pair=True) as client:
                assert await client.read_gatt_char(echo.SECRET_UUID) == bytearray(b"phi")
            assert len([e for e, _ in device.events if e == 29]) > asked
            assert len([e for e, _ in device.events if e == 30]) == 1
            # A device that lost its bonds refuses the old key: the link stays unencrypted.
            device.secrets.clear()
            await device.ble.sim_settle()
            with pytest.raises(BleakError):
                async with link.client(pair=True):
                    pass
            # The host forgets its side too and pairs afresh: a new bond lands in the firmware.
            await device.ble.sim_settle()
            async with link.client() as client:
                await client.unpair()
                await client.pair()
                assert await client.read_gatt_char(echo.SECRET_UUID) == bytearray(b"phi")
            assert len(device.secrets) == 1

    run(main())


def test_read_request_irq_can_refresh_or_deny_a_read():
    async def main():
        async with radio.InProcessLink(read_request_irq=True) as link:
            device = await started(link)
            ble = device.ble
            echo_irq = device._irq
            reads = []

            def irq(event, data):
                if event == 4:  # _IRQ_GATTS_READ_REQUEST
                    conn_handle, handle = data
                    reads.append(handle)
                    if handle == device.secret:
                        return 0x08  # insufficient authorization
                    ble.gatts_write(handle, b"fresh %d" % len(reads))
                    return 0
                return echo_irq(event, data)

            ble.irq(irq)
            async with link.client(pair=True) as client:
                assert await client.read_gatt_char(echo.TX_UUID) == bytearray(b"fresh 1")
                assert await client.read_gatt_char(echo.TX_UUID) == bytearray(b"fresh 2")
                with pytest.raises(BleakGATTProtocolError) as denied:
                    await client.read_gatt_char(echo.SECRET_UUID)
                assert denied.value.code == 0x08
            assert reads == [device.tx, device.tx, device.secret]

    run(main())


def test_connection_parameter_update_reaches_the_device():
    async def main():
        async with radio.InProcessLink() as link:
            device = await started(link)
            async with link.client():
                (connection,) = link.central.connections.values()
                await connection.update_parameters(7.5, 7.5, 0, 4000)
                await settle(lambda: any(e == 27 for e, _ in device.events))
                conn_handle = next(iter(device.connections))
                update = [data for event, data in device.events if event == 27][-1]
                # (conn, interval in 1.25 ms units, latency, supervision timeout in 10 ms units, status)
                assert update == (conn_handle, 6, 0, 400, 0)

    run(main())


def test_device_initiated_pairing_reports_the_encryption_update():
    async def main():
        async with radio.InProcessLink() as link:
            device = await started(link)
            async with link.client() as client:
                with pytest.raises(BleakGATTProtocolError):
                    await client.read_gatt_char(echo.SECRET_UUID)
                conn_handle = next(iter(device.connections))
                device.ble.gap_pair(conn_handle)
                await settle(lambda: any(e == 28 for e, _ in device.events))
                update = [data for event, data in device.events if event == 28][0]
                assert update[:2] == (conn_handle, 1)
                assert await client.read_gatt_char(echo.SECRET_UUID) == bytearray(b"phi")

    run(main())


def test_forced_link_loss_reaches_both_sides_and_the_device_readvertises():
    async def main():
        async with radio.InProcessLink() as link:
            device = await started(link)
            lost = []
            received, on_notify = burst_collector()
            client = link.client(disconnected_callback=lost.append)
            await client.connect()
            await client.start_notify(echo.TX_UUID, on_notify)
            await client.write_gatt_char(echo.RX_UUID, b"burst 100000 200", response=True)
            await settle(lambda: len(received) > 50)
            assert await link.drop_connection() == 1
            await settle(lambda: lost and not device.connections)
            assert lost == [client] and not client.is_connected
            with pytest.raises(BleakError):
                await client.read_gatt_char(echo.TX_UUID)
            seqs = [struct.unpack_from("<I", p)[0] for p in received]
            assert seqs == list(range(len(seqs)))  # cut short, never reordered
            assert len(seqs) < 100000
            # The firmware advertised again on disconnect: a new session works.
            await device.ble.sim_settle()
            await client.connect()
            assert await client.read_gatt_char(echo.TX_UUID) is not None
            await client.disconnect()
            assert lost == [client]  # a disconnect the client asked for is not reported

    run(main())


def test_link_cut_between_a_write_and_its_response():
    """The write reaches the device but its response dies with the link: the host cannot tell."""
    async def main():
        async with radio.InProcessLink() as link:
            device = await started(link)
            lost = []
            client = link.client(disconnected_callback=lost.append)
            await client.connect()
            link.drop_after(1)  # the write request crosses, the write response does not
            with pytest.raises(BleakError):
                await client.write_gatt_char(echo.RX_UUID, b"landed", response=True)
            await settle(lambda: lost and not device.connections)
            assert device.writes == [(device.rx, b"landed")]
            await device.ble.sim_settle()
            await client.connect()
            link.drop_after(0)  # this time the request itself is lost
            with pytest.raises(BleakError):
                await client.write_gatt_char(echo.RX_UUID, b"lost", response=True)
            await settle(lambda: len(lost) == 2 and not device.connections)
            assert device.writes == [(device.rx, b"landed")]

    run(main())


def test_link_cut_after_random_packet_counts_mid_burst():
    import random

    async def main():
        rng = random.Random(7)
        async with radio.InProcessLink() as link:
            device = await started(link)
            for _ in range(10):
                received, on_notify = burst_collector()
                lost = []
                async with link.client(disconnected_callback=lost.append) as client:
                    await client.start_notify(echo.TX_UUID, on_notify)
                    cut = rng.randint(2, 400)  # 1: the write request, 2: its response
                    link.drop_after(cut)
                    before = link.link.packets
                    await client.write_gatt_char(echo.RX_UUID, b"burst 1000 100", response=True)
                    await settle(lambda lost=lost: lost and not device.connections)
                    assert link.link.cut_at_packet - before == cut
                seqs = [struct.unpack_from("<I", p)[0] for p in received]
                assert seqs == list(range(len(seqs))) and len(seqs) < 1000
                await device.ble.sim_settle()

    run(main())


def test_device_initiated_disconnect():
    async def main():
        async with radio.InProcessLink() as link:
            device = await started(link)
            lost = []
            async with link.client(disconnected_callback=lost.append) as client:
                conn_handle = next(iter(device.connections))
                assert device.ble.gap_disconnect(conn_handle) is True
                await settle(lambda: lost)
                assert not client.is_connected
                assert device.ble.gap_disconnect(conn_handle) is False
                with pytest.raises(OSError) as gone:
                    device.ble.gatts_notify(conn_handle, device.tx, b"x")
                assert gone.value.errno == errno.ENOTCONN

    run(main())


def test_irq_addr_is_a_view_valid_only_during_the_handler_and_handler_errors_do_not_kill_the_stack():
    async def main():
        async with radio.InProcessLink() as link:
            ble = link.peripheral_ble()
            kept = []

            def irq(event, data):
                if event == _IRQ_CENTRAL_CONNECT:
                    kept.append(data[2])
                    assert isinstance(data[2], memoryview) and data[2].readonly
                raise RuntimeError("firmware bug")

            ble.active(True)
            ble.irq(irq)
            ble.gatts_register_services(((sim.bluetooth.UUID(0x180F),
                                          ((sim.bluetooth.UUID(0x2A19), sim.bluetooth.FLAG_READ),)),))
            ble.gap_advertise(100000, b"\x02\x01\x06")
            await ble.sim_settle()
            async with link.client() as client:
                assert client.is_connected
                await settle(lambda: ble.sim_stats["irq_errors"] >= 2)
            with pytest.raises(ValueError):
                bytes(kept[0])  # released: firmware must copy with bytes(addr)
            assert all(isinstance(e, RuntimeError) for e in ble.sim_irq_exceptions)

    run(main())


def test_api_errors_match_micropython():
    async def main():
        sim.bluetooth.detach()
        with pytest.raises(OSError) as no_radio:
            sim.bluetooth.BLE()
        assert no_radio.value.errno == errno.ENODEV
        async with radio.InProcessLink() as link:
            ble = link.peripheral_ble()
            assert sim.bluetooth.BLE() is ble
            with pytest.raises(OSError):
                ble.gatts_register_services(())  # not active yet
            ble.active(True)
            with pytest.raises(ValueError):
                ble.config("no_such_param")
            with pytest.raises(ValueError):
                ble.config(mtu=10)
            with pytest.raises(OSError) as bad_handle:
                ble.gatts_read(999)
            assert bad_handle.value.errno == errno.EINVAL
            with pytest.raises(OSError) as no_conn:
                ble.gatts_notify(7, 1, b"x")
            assert no_conn.value.errno == errno.ENOTCONN
            with pytest.raises(TypeError):
                ble.gatts_register_services((("6e400001-b5a3-f393-e0a9-e50e24dcca9e", ()),))
            ble.config(gap_name="e2mon-42")
            assert ble.config("gap_name") == b"e2mon-42"
            addr_type, addr = ble.config("mac")
            assert addr_type == 1 and addr == bytes.fromhex(sim_link.DEVICE_ADDRESS.replace(":", ""))
            # Registering again replaces the earlier services rather than adding to them.
            first = ble.gatts_register_services((echo._SERVICE,))
            attributes = len(link.device.gatt_server.attributes)
            second = ble.gatts_register_services((echo._SERVICE,))
            assert first == second and len(link.device.gatt_server.attributes) == attributes
            ble.gap_advertise(100000, b"")
            with pytest.raises(OSError) as busy:
                ble.gatts_register_services((echo._SERVICE,))
            assert busy.value.errno == errno.EBUSY
            ble.gap_advertise(None)
            await ble.sim_settle()
            # Nothing advertises, so there is nothing to connect to.
            with pytest.raises(BleakError):
                async with link.client(timeout=0.5):
                    pass

    run(main())


def test_uuid_forms():
    uuid = sim.bluetooth.UUID
    assert uuid(0x180F) == uuid(b"\x0f\x18")
    assert bytes(uuid(0x180F)) == b"\x0f\x18"
    long_form = uuid("6E400001-B5A3-F393-E0A9-E50E24DCCA9E")
    assert bytes(long_form) == bytes(reversed(bytes.fromhex("6E400001B5A3F393E0A9E50E24DCCA9E")))
    assert long_form == uuid(bytes(long_form)) and long_form != uuid(0x180F)
    assert repr(uuid(0x2A19)) == "UUID(0x2a19)"
    assert repr(long_form) == "UUID('6e400001-b5a3-f393-e0a9-e50e24dcca9e')"
    assert bytes(uuid(b"\x01\x02\x03\x04")) == b"\x01\x02\x03\x04"  # 32-bit only from bytes
    for bad in ("1234", "zz400001-b5a3-f393-e0a9-e50e24dcca9e", b"\x01\x02\x03", -1, 0x10000):
        with pytest.raises(ValueError):
            uuid(bad)
    assert {name for name in dir(sim.bluetooth) if name.isupper() or name[0].isupper()} >= {
        "BLE", "UUID", "FLAG_READ", "FLAG_WRITE", "FLAG_NOTIFY", "FLAG_INDICATE", "FLAG_WRITE_NO_RESPONSE"}
    assert not hasattr(sim.bluetooth, "IRQ_CENTRAL_CONNECT")  # not on the real module either


def test_tcp_server_closes_cleanly_under_a_connected_host():
    async def main():
        server = await radio.serve_tcp(port=0)
        device = echo.EchoPeripheral(server.peripheral_ble())
        await device.ble.sim_settle()
        lost = []
        async with sim_link.TcpCentral("127.0.0.1", server.port) as central:
            client = central.client(disconnected_callback=lost.append)
            await client.connect()
            assert await client.read_gatt_char(echo.TX_UUID) == bytearray(b"ready")
            await server.close()
            await settle(lambda: lost)
        with pytest.raises(OSError):
            sim.bluetooth.BLE()  # detached with the server
        with pytest.raises(OSError):  # nobody listens any more
            await sim_link.TcpCentral("127.0.0.1", server.port).open()

    run(main())


def test_two_processes_over_tcp():
    """The device in a subprocess (its own event loop and LocalLink), the host here over TCP."""
    bootstrap = ("import sys, runpy, sim.bluetooth; sys.modules['bluetooth'] = sim.bluetooth; "
                 "runpy.run_path(%r, run_name='__main__')" % os.path.join(ROOT, "tests", "ble_echo_peripheral.py"))
    proc = subprocess.Popen([sys.executable, "-c", bootstrap], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            cwd=ROOT, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("PORT "), line
        port = int(line.split()[1])

        async def session(count):
            received, on_notify = burst_collector()
            async with sim_link.TcpCentral("127.0.0.1", port) as central:
                async with central.client() as client:
                    assert await client.read_gatt_char(echo.TX_UUID) == bytearray(b"ready")
                    await client.start_notify(echo.TX_UUID, on_notify)
                    await client.write_gatt_char(echo.RX_UUID, b"burst %d 240" % count, response=True)
                    await settle(lambda: len(received) == count, timeout=30)
            return [struct.unpack_from("<I", p)[0] for p in received]

        assert run(session(500)) == list(range(500))
        # A second host process (fresh controller) finds the device advertising again.
        assert run(session(50)) == list(range(50))

        async def device_dies_mid_burst():
            received, on_notify = burst_collector()
            lost = []
            async with sim_link.TcpCentral("127.0.0.1", port) as central:
                client = central.client(disconnected_callback=lost.append)
                await client.connect()
                await client.start_notify(echo.TX_UUID, on_notify)
                await client.write_gatt_char(echo.RX_UUID, b"burst 1000000 240", response=True)
                await settle(lambda: len(received) > 20)
                proc.kill()
                await settle(lambda: lost, timeout=10)
                assert not client.is_connected
                with pytest.raises(BleakError):
                    await client.read_gatt_char(echo.TX_UUID)

        run(device_dies_mid_burst())
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_shadow_directory_makes_import_bluetooth_this_module():
    code = ("import sys; sys.path.insert(0, 'sim/shadow'); import bluetooth, sim.bluetooth; "
            "print(bluetooth is sim.bluetooth, bluetooth.FLAG_NOTIFY)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["True", "16"], out.stderr
