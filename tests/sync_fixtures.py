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
from monitor import protocol, records  # noqa: E402
from monitor.store import Store, StoreFull  # noqa: E402
from sim import radio  # noqa: E402

from host_tools import host_crypto  # noqa: E402
from host_tools.device_link import DeviceLink, role_code  # noqa: E402

DEVICE_KEY = bytes(range(32))
TODAY = 9800   # 2026-10-31


class SyncApp:
    """The device app's sync surface (firmware/device/app.py's interface) on a real Store.

    Validation uses monitor.records.check_entry; the tracker-derived parts (alerts) are fixed tuples,
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

    def submit_entry(self, kind, code, value, flags, day, minute):
        if self.clock is None:
            return protocol.ERR_CLOCK_UNSET, None
        if kind == records.KIND_EVENT:
            return protocol.ERR_BAD_VALUE, None
        status = records.check_entry(kind, code, value, flags, day, minute, self.clock[0])
        if status:
            return status, None
        try:
            return 0, self.store.append(day, minute, kind, code, value, flags)
        except StoreFull:
            return protocol.ERR_STORE_FULL, None

    def clock_now(self):
        return self.clock

    def set_clock(self, day, minute, second):
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
async def device_and_link(app, stack="nimble", mtu=247, secure_link=False, key=DEVICE_KEY, **ble_options):
    """Yields (link, service): the firmware's BleService advertising on a bumble link."""
    async with radio.InProcessLink(stack=stack, **ble_options) as link:
        ble = link.peripheral_ble()
        service = BleService(ble, app, key=key, key_path=os.path.join(app.data_dir, "device.key"),
                             secure_link=secure_link)
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
