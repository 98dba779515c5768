"""Shared by the sync, attack and fuzz tests and bench/bench_sync.py: a device app on the real
monitor.store.Store, the firmware's BleService on the sim's bluetooth shadow, and a DeviceLink
through bleak's BleakClient API over bumble (sim.radio)."""
import asyncio
import contextlib
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIRMWARE = os.path.join(ROOT, "firmware")
if FIRMWARE not in sys.path:
    sys.path.insert(0, FIRMWARE)

import sim.bluetooth  # noqa: E402

sys.modules.setdefault("bluetooth", sim.bluetooth)  # what sim/shadow/bluetooth.py does on sys.path

from device.ble_service import BleService  # noqa: E402
from monitor import corrections, protocol, records, validate  # noqa: E402
from monitor.store import Store, StoreFull  # noqa: E402
from sim import radio  # noqa: E402

from host_tools import host_crypto  # noqa: E402
from host_tools.device_link import DeviceLink, role_code  # noqa: E402

DEVICE_KEY = bytes(range(32))
TODAY = 9800   # 2026-10-31


class SyncApp:
    """The device app's sync surface (firmware/monitor/app.py's interface) on a real Store.

    Validation uses monitor.validate.check_entry; the tracker-derived parts (alerts) are fixed tuples,
    since these tests are about the link, not the rules."""

    def __init__(self, directory, segment_records=256, max_segments=120):
        self.data_dir = directory
        self.store = Store(directory, segment_records=segment_records, max_segments=max_segments)
        self.clock = None
        self.profile = b"profile v1" + bytes(range(200))   # long enough to need several chunks
        self.flags = ((1, 2, 3), (4, 5))
        self.reminders = ((7, TODAY + 30),)
        self.acked = 0
        self.clock_sets = 0

    def submit_entry(self, kind, code, value, flags, day, minute, role=0, options=0):
        if self.clock is None:
            return protocol.ERR_CLOCK_UNSET, None
        if kind == records.KIND_EVENT:
            return protocol.ERR_BAD_VALUE, None
        status = validate.check_entry(kind, code, value, flags, day, minute, self.clock[0])
        if status:
            return status, None
        try:
            return 0, self.store.append(day, minute, kind, code, value, flags)
        except StoreFull:
            return protocol.ERR_STORE_FULL, None

    def correct(self, request, role):
        # a correction's shape is checked as the device checks it; this stand-in holds no entry to correct
        corrections.decode_correction(request)
        return protocol.ERR_NO_ENTRY, None

    def clock_now(self):
        return self.clock

    def set_clock(self, day, minute, second, flag=0):
        self.clock = (day, minute, second)
        self.clock_sets += 1
        return 0

    def profile_blob(self):
        return self.profile

    def set_profile(self, blob):
        if not blob.startswith(b"profile"):
            return protocol.ERR_BAD_VALUE
        self.profile = bytes(blob)
        return 0

    def alerts_payload(self):
        return protocol.encode_alerts(self.flags, self.reminders)

    def acknowledge_sync(self, upto_seq):
        if upto_seq >= self.store.next_seq:
            return protocol.ERR_BAD_VALUE
        self.store.acknowledge(upto_seq)
        self.acked = upto_seq
        return 0

    def battery_percent(self):
        return 87


def fill(app, n, start_day=TODAY - 400):
    """Appends n valid symptom records (the device's log to pull)."""
    for i in range(n):
        app.store.append(start_day + i // 30, (i * 37) % 1440, records.KIND_SYMPTOM, i % 13, i % 4, 0)


def device_log(app):
    return list(app.store.records(0))


@contextlib.asynccontextmanager
async def device_and_link(app, stack="nimble", mtu=247, secure_link=False, key=DEVICE_KEY, max_in_flight=4,
                          service_options=None, **ble_options):
    """Yields (link, service): the firmware's BleService advertising on a bumble link (service_options: more
    BleService keywords)."""
    async with radio.InProcessLink(stack=stack, **ble_options) as link:
        ble = link.peripheral_ble()
        service = BleService(ble, app, key=key, key_path=os.path.join(app.data_dir, "device.key"),
                             secure_link=secure_link, max_in_flight=max_in_flight, **(service_options or {}))
        service.start()
        await ble.sim_settle()
        yield link, service


@contextlib.asynccontextmanager
async def session(link, role="clinician", key=DEVICE_KEY, mtu=247, open_session=True):
    """Yields a DeviceLink on a fresh BleakClient connection."""
    async with link.client(mtu=mtu) as client:
        dl = DeviceLink(client, host_crypto.role_key(key, role_code(role)), role)
        if open_session:
            await dl.open_session()
        yield dl


def run(coro, timeout=120):
    return asyncio.run(asyncio.wait_for(coro, timeout))


async def cut_pull(link, key, host, store_batch, cut_at, mtu=247):
    """One clinician pull from max(host) + 1 on a fresh connection of link, cut by a radio loss at cut_at
    (-1 during the handshake, 0 before the pull, k after k records notifications, None: not cut); returns
    1 if the cut interrupted it, else 0. Anything raised while the link is still up is a real failure."""
    from host_tools.device_link import DeviceError, LinkLost

    async with link.client(mtu=mtu) as client:
        dl = DeviceLink(client, host_crypto.role_key(key, 1), "clinician")
        received = [0]
        dropper = None

        async def on_batch(batch):
            store_batch(batch)
            received[0] += 1
            if cut_at is not None and received[0] == cut_at:
                await link.drop_connection()

        try:
            if cut_at == -1:
                dropper = asyncio.ensure_future(link.drop_connection())
            await dl.open_session()
            if cut_at == 0:
                await link.drop_connection()
            result = await dl.pull(max(host) + 1 if host else 0, on_batch)
            if result.count:
                await dl.acknowledge(result.last_seq)
        except Exception as exc:  # noqa: BLE001 - whatever the cut raised, judged here
            # The cut may hit bleak mid-write (its own error) or our link mid-wait (LinkLost).
            if cut_at is None or (client.is_connected and not isinstance(exc, (LinkLost, DeviceError))):
                raise
            return 1
        finally:
            if dropper is not None:
                await dropper
    return 0


async def chaos_campaign(runs, seed=1, initial=400, mtu=247, stack="nimble"):
    """Pulls cut by forced radio disconnects at random points, each resumed with ">= last + 1".

    Between runs the device log grows (new entries), so every pull is incremental. Returns the figures
    {runs, duplicates, gaps, interrupted, records, device_records} after a final uninterrupted pull; the
    host copy is then compared with the device log record for record."""
    import random
    import tempfile

    rng = random.Random(seed)
    app = SyncApp(tempfile.mkdtemp(prefix="e2mon-chaos-"), segment_records=64)
    fill(app, initial)
    host = {}
    duplicates = 0
    interrupted = 0

    def store_batch(batch):
        nonlocal duplicates
        for record in batch:
            if record[0] in host:
                duplicates += 1
            host[record[0]] = record

    async with device_and_link(app, stack=stack) as (link, _service):
        for run_index in range(runs + 1):
            final = run_index == runs
            if not final:
                fill(app, rng.randint(0, 60), start_day=TODAY - 200 + run_index)
            # where to cut: -1 during the handshake, 0 before the pull, k after k records notifications
            pending = app.store.next_seq - 1 - (max(host) if host else 0)
            cut_at = None if final else rng.randint(-1, (pending + 13) // 14)
            interrupted += await cut_pull(link, DEVICE_KEY, host, store_batch, cut_at, mtu)
    device = device_log(app)
    device_seqs = [r[0] for r in device]
    first_kept = device_seqs[0] if device_seqs else 1
    # Acknowledged segments may be reclaimed on the device: compare the part both still hold,
    # and check the host holds every record number from 1 to the newest.
    host_seqs = sorted(host)
    gaps = 0
    expected = 1
    for seq in host_seqs:
        if seq != expected:
            gaps += seq - expected
        expected = seq + 1
    gaps += max(0, app.store.next_seq - expected)
    mismatched = sum(1 for r in device if host.get(r[0]) != r)
    return {"runs": runs, "duplicates": duplicates, "gaps": gaps, "interrupted": interrupted,
            "records": len(host), "device_records": app.store.next_seq - 1,
            "mismatched": mismatched, "first_kept": first_kept}
