"""End to end through bleak's BleakClient API, the sim's bumble link and the firmware's own BleService
on the real Store: USB provisioning, sessions, entries, a 10,000-record pull, resume after forced
disconnects (200 runs), abort, time set, profile and alerts, link-layer security option."""
import datetime
import os
import socket
import tempfile
import threading

import pytest
from bleak.exc import BleakError

from sync_fixtures import (DEVICE_KEY, TODAY, SyncApp, chaos_campaign, device_and_link, device_log, fill,
                           run, session)
from device.usb_service import UsbService
from monitor import protocol, records, session as device_session
from host_tools.device_link import DeviceError, provision_over_serial


class _SocketPort:
    """A pyserial-like port on one end of an OS socket pair (read times out with b"")."""

    def __init__(self, sock):
        self.sock = sock
        sock.settimeout(0.05)

    def write(self, data):
        self.sock.sendall(data)

    def read(self, n):
        try:
            return self.sock.recv(n)
        except (TimeoutError, socket.timeout):
            return b""


def _usb_device(app, key_path, stop):
    """The device's USB side (firmware device.usb_service) on one end of an OS socket pair."""
    host_sock, device_sock = socket.socketpair()
    port = _SocketPort(device_sock)
    usb = UsbService(app, lambda: port.read(256), port.write, key_path=key_path)

    def loop():
        while not stop.is_set():
            usb.poll()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    return _SocketPort(host_sock), thread


def test_provision_over_usb_then_session_over_ble():
    app = SyncApp(tempfile.mkdtemp())
    fill(app, 20)
    key_path = os.path.join(app.data_dir, device_session.KEY_FILE)

    async def main():
        async with device_and_link(app, key=None) as (link, _service):
            async with session(link, open_session=False) as dl:
                with pytest.raises(DeviceError) as refused:
                    await dl.open_session()
                assert refused.value.code == protocol.ERR_NOT_PROVISIONED
            stop = threading.Event()
            port, thread = _usb_device(app, key_path, stop)
            try:
                provision_over_serial(port, DEVICE_KEY)
            finally:
                stop.set()
                thread.join()
            assert device_session.load_key(key_path) == DEVICE_KEY
            async with session(link) as dl:    # the BLE side picks the key up at the next connection
                assert await dl.count(0) == 20
    run(main())


def test_push_entries_pull_10k_time_profile_alerts():
    app = SyncApp(tempfile.mkdtemp())
    fill(app, 10_000)

    async def main():
        async with device_and_link(app) as (link, service):
            async with session(link, role="patient") as dl:
                with pytest.raises(DeviceError) as unset:
                    await dl.push_entry(records.KIND_SYMPTOM, 0, 2, 0, TODAY, 600)
                assert unset.value.code == protocol.ERR_CLOCK_UNSET
                with pytest.raises(DeviceError) as patient_clock:     # setting the clock is the clinician's
                    await dl.set_time(datetime.datetime(2026, 10, 31, 12, 30, 5))
                assert patient_clock.value.code == protocol.ERR_ROLE and app.clock is None
            async with session(link) as dl:
                assert await dl.set_time(datetime.datetime(2026, 10, 31, 12, 30, 5)) == (TODAY, 750, 5)
                assert app.clock == (TODAY, 750, 5)
            async with session(link, role="patient") as dl:
                seq = await dl.push_entry(records.KIND_SYMPTOM, 0, 2, 0, TODAY, 600)
                assert seq == 10_001
                with pytest.raises(DeviceError) as bad:   # severity 9 is not a symptom score
                    await dl.push_entry(records.KIND_SYMPTOM, 0, 9, 0, TODAY, 600)
                assert bad.value.code not in (0, protocol.ERR_BAD_LENGTH)
                assert app.store.next_seq == 10_002
                flags, reminders = await dl.alerts()
                assert [tuple(f) for f in flags] == [tuple(f) for f in app.flags]
                assert [tuple(r) for r in reminders] == [tuple(r) for r in app.reminders]
                assert await dl.get_profile() == app.profile
            async with session(link) as dl:
                assert await dl.count(0) == 10_001
                assert await dl.count(9_990) == 12
                got = []
                notifications = service.notifications
                result = await dl.pull(0, got.extend)
                assert (result.count, result.first_seq, result.last_seq) == (10_001, 1, 10_001)
                assert got == device_log(app)
                # 14 records per notification at MTU 247, plus the completion indication
                assert service.notifications - notifications == -(-10_001 // 14) + 1
                await dl.acknowledge(result.last_seq)
                assert app.acked == 10_001
                # incremental: nothing new, then exactly the new records
                assert (await dl.pull(result.last_seq + 1, got.extend)).count == 0
                fill(app, 10)
                again = await dl.pull(result.last_seq + 1, got.extend)
                assert (again.count, again.first_seq) == (10, 10_002)
                assert got == device_log(app)
                new_profile = b"profile v2 " + bytes(range(256)) * 2
                await dl.set_profile(new_profile)
                assert app.profile == new_profile and await dl.get_profile() == new_profile
                with pytest.raises(DeviceError):          # the app's own validation refuses it
                    await dl.set_profile(b"not a profile")
                assert app.profile == new_profile
    run(main(), timeout=180)


def test_abort_stops_a_pull_and_the_session_goes_on():
    app = SyncApp(tempfile.mkdtemp())
    fill(app, 3000)

    async def main():
        async with device_and_link(app) as (link, _service):
            async with session(link) as dl:
                got = []

                async def on_batch(batch):
                    got.extend(batch)
                    if len(got) == 14 * 3:
                        await dl.abort()

                result = await dl.pull(0, on_batch)
                assert result.aborted and 42 <= result.count < 3000
                assert [r[0] for r in got] == list(range(1, result.count + 1))
                rest = await dl.pull(result.last_seq + 1, got.extend)
                assert not rest.aborted and got == device_log(app)
    run(main())


def test_resume_after_forced_disconnects_200_runs():
    figures = run(chaos_campaign(200, seed=20261121), timeout=600)
    assert figures["runs"] == 200
    assert figures["interrupted"] >= 150           # most runs really were cut
    assert figures["duplicates"] == 0
    assert figures["gaps"] == 0
    assert figures["mismatched"] == 0
    assert figures["records"] == figures["device_records"]


@pytest.mark.parametrize("stack,limits", [("nimble", {"notify_pool": 3}),
                                          ("btstack", {"btstack_heap_limit": 3 * 244})])
def test_stack_refusals_are_retried_in_order(stack, limits):
    """More in flight per tick than the stack takes: NimBLE's ENOMEM / btstack's heap cap refuse some
    notifications; each is retried at the head of the queue, so the log arrives whole and in order."""
    app = SyncApp(tempfile.mkdtemp())
    fill(app, 2000)

    async def main():
        async with device_and_link(app, stack=stack, max_in_flight=12, **limits) as (link, service):
            async with session(link) as dl:
                got = []
                await dl.pull(0, got.extend)
                assert got == device_log(app)
                assert service.notify_refusals > 0
                assert link.peripheral_ble().sim_stats["notify_refused"] == service.notify_refusals
    run(main())


def test_free_heap_is_read_near_the_floor_not_before_every_frame():
    """gc.mem_free() walks the whole heap (more instructions than sealing a frame): the pump reads it
    again only when the last reading, less the frames handed to the stack since, nears HEAP_FLOOR. A
    roomy heap is read once per request; one just above the floor every few frames."""
    from device import ble_service
    app = SyncApp(tempfile.mkdtemp())
    fill(app, 2000)
    reads = []
    free = [1 << 20]

    def mem_free():
        reads.append(free[0])
        return free[0]

    async def main():
        async with device_and_link(app) as (link, service):
            service._mem_free = mem_free        # CPython's gc has none: the board's reading, counted
            async with session(link) as dl:
                got = []
                await dl.pull(0, got.extend)
                assert got == device_log(app)
                assert len(reads) <= 4          # the handshake's two writes and the pull request's
                del reads[:]
                free[0] = ble_service.HEAP_FLOOR + 3 * 300   # about three frames above the floor
                got = []
                await dl.pull(0, got.extend)
                frames = len(got) // 14
                assert got == device_log(app) and frames // 4 <= len(reads) <= frames // 2
                assert service.heap_waits == 0
    run(main())


def test_small_mtu_gets_fewer_records_per_notification_and_the_same_log():
    app = SyncApp(tempfile.mkdtemp())
    fill(app, 200)

    async def main():
        async with device_and_link(app) as (link, service):
            async with session(link, mtu=100) as dl:
                got = []
                before = service.notifications
                await dl.pull(0, got.extend)
                assert got == device_log(app)
                per = protocol.records_per_frame(100, device_session.FRAME_OVERHEAD, records.RECORD_SIZE)
                assert per == 5 and service.notifications - before == 200 // per + 1
            async with session(link, mtu=23, open_session=False) as dl:
                with pytest.raises(DeviceError) as small:
                    await dl.open_session()
                assert small.value.code == protocol.ERR_MTU
    run(main())


def test_secure_link_option_refuses_unpaired_writes_and_works_bonded():
    app = SyncApp(tempfile.mkdtemp())
    fill(app, 30)

    async def main():
        async with device_and_link(app, secure_link=True) as (link, _service):
            async with session(link, open_session=False) as dl:
                with pytest.raises(BleakError):
                    await dl.open_session()      # ATT: insufficient encryption
            async with link.client() as client:
                await client.pair()
                from host_tools import host_crypto
                from host_tools.device_link import DeviceLink
                dl = DeviceLink(client, host_crypto.role_key(DEVICE_KEY, 1), "clinician")
                await dl.open_session()
                assert await dl.count(0) == 30
    run(main())


def test_wired_pull_over_usb_serial_with_the_host_serial_client():
    """Provision and pull over USB: pyserial's socket:// port under host_tools.serial_link.SerialClient."""
    from host_tools import host_crypto
    from host_tools.device_link import DeviceLink
    from host_tools.serial_link import SerialClient

    app = SyncApp(tempfile.mkdtemp())
    fill(app, 1000)
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    stop = threading.Event()

    def device():
        conn, _ = server.accept()
        port = _SocketPort(conn)
        usb = UsbService(app, lambda: port.read(256), port.write)
        while not stop.is_set():
            usb.poll()
        conn.close()

    thread = threading.Thread(target=device, daemon=True)
    thread.start()

    async def main():
        url = "socket://127.0.0.1:%d" % server.getsockname()[1]
        async with SerialClient(url) as client:
            assert await client.provision(DEVICE_KEY) == protocol.STATUS_OK
            dl = DeviceLink(client, host_crypto.role_key(DEVICE_KEY, 1), "clinician")
            await dl.open_session()
            got = []
            result = await dl.pull(0, got.extend)
            assert result.count == 1000 and got == device_log(app)
            await dl.acknowledge(result.last_seq)
            assert app.acked == 1000
    try:
        run(main())
    finally:
        stop.set()
        thread.join()
        server.close()


def test_bonds_survive_a_reboot_on_secure_builds():
    """_IRQ_SET_SECRET / _IRQ_GET_SECRET (MicroPython's documented events 30 and 29) persist the bond keys."""
    app = SyncApp(tempfile.mkdtemp())

    async def main():
        async with device_and_link(app, secure_link=True) as (_link, service):
            assert service._irq(30, (1, b"peer-a", b"ltk-a")) is True
            assert service._irq(30, (2, b"peer-b", b"irk-b")) is True
            assert service._irq(30, (1, b"gone", b"x")) is True
            assert service._irq(30, (1, b"gone", None)) is True      # deleting a bond
        async with device_and_link(app, secure_link=True) as (_link, rebooted):
            assert rebooted._irq(29, (1, 0, b"peer-a")) == b"ltk-a"
            assert rebooted._irq(29, (2, 0, None)) == b"irk-b"       # by index when no key is given
            assert rebooted._irq(29, (1, 0, b"gone")) is None
            assert rebooted._irq(29, (1, 1, None)) is None
    run(main())


def test_large_mtu_central_gets_frames_the_device_can_buffer():
    """A central offering MTU 517 meets the device's 247; profile chunks still fit the write buffer."""
    app = SyncApp(tempfile.mkdtemp())
    fill(app, 100)

    async def main():
        async with device_and_link(app) as (link, _service):
            async with session(link, mtu=517) as dl:
                assert dl.client.mtu_size <= protocol.MAX_MTU
                new_profile = b"profile v3 " + bytes(range(256)) * 3
                await dl.set_profile(new_profile)
                assert app.profile == new_profile
                got = []
                await dl.pull(0, got.extend)
                assert got == device_log(app)
    run(main())


def test_strangers_pairing_one_after_another_keep_at_most_max_bonds():
    """Just Works lets any central pair: 3 x MAX_BONDS centrals with their own addresses pair in turn, and the
    bond file keeps at most MAX_BONDS keys of each type. (Shadow only: the sim boards do not bond.)"""
    from bleak import BleakClient

    from device.ble_bonds import MAX_BONDS, Bonds
    from host_tools.bleak_backend import BumbleClientBackend
    from sim import radio
    import asyncio

    app = SyncApp(tempfile.mkdtemp())

    async def main():
        async with device_and_link(app, secure_link=True) as (link, service):
            for i in range(3 * MAX_BONDS):
                _controller, central = radio._make_device(link.link, "stranger", "C0:E2:00:00:01:%02X" % i)
                await central.power_on()
                async with BleakClient(link.current_device_address(), backend=BumbleClientBackend, central=central,
                                       address_of=link.advertising_address, timeout=10.0) as client:
                    await client.pair()
                await asyncio.sleep(0.1)
            return service.secrets_path

    path = run(main())
    bonds = Bonds(path)
    types = {sec_type for sec_type, _key in bonds._order}
    assert types and all(len([e for e in bonds._order if e[0] == t]) <= MAX_BONDS for t in types)
    assert max(len([e for e in bonds._order if e[0] == t]) for t in types) == MAX_BONDS
