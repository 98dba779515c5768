"""The sync link against the real device app (firmware/monitor/app.py on the real Store, Tracker, Clock and
rule profile), through bleak's API over the bumble link: time set, entries, alerts from the tracker,
profile get/set with its CRC, pull and acknowledge (the app logs the sync mark)."""
import datetime
import tempfile

import pytest

from sim import env, vclock

env.install()

import machine  # noqa: E402  (the simulator's RTC on the virtual clock)
from monitor.app import App  # noqa: E402
from monitor.clock import Clock  # noqa: E402
from sync_fixtures import DEVICE_KEY, TODAY, device_and_link, run, session  # noqa: E402
from monitor import protocol, protocol_host, records  # noqa: E402
from monitor.store import Store  # noqa: E402
from host_tools.device_link import DeviceError  # noqa: E402


@pytest.fixture()
def app():
    vclock.reset()
    path = tempfile.mkdtemp(prefix="e2mon-app-")
    device_app = App(Store(path), Clock(machine.RTC()), path)
    device_app.boot()
    return device_app


def test_real_app_over_ble(app):
    async def main():
        async with device_and_link(app, key=DEVICE_KEY) as (link, _service):
            async with session(link, role="patient") as dl:
                with pytest.raises(DeviceError) as unset:
                    await dl.push_entry(records.KIND_SYMPTOM, records.S_JOINT, 2, 0, TODAY, 600)
                assert unset.value.code in (protocol.ERR_CLOCK_UNSET, records.ERR_CLOCK)
                with pytest.raises(DeviceError) as patient_clock:      # setting the clock is the clinician's
                    await dl.set_time(datetime.datetime(2026, 10, 31, 12, 0, 0))
                assert patient_clock.value.code == protocol.ERR_ROLE and app.clock_now() is None
            async with session(link) as dl:
                await dl.set_time(datetime.datetime(2026, 10, 31, 12, 0, 0))
                assert app.clock_now()[0] == TODAY
            async with session(link, role="patient") as dl:
                seqs = [
                    await dl.push_entry(records.KIND_DOSE, records.D_ANASTROZOLE, 1000, 0, TODAY - 40, 600),
                    await dl.push_entry(records.KIND_SYMPTOM, records.S_JOINT, 2, 0, TODAY - 20, 600),
                    await dl.push_entry(records.KIND_LAB, records.A_E2, 110, records.METHOD_LCMS, TODAY - 12, 600),
                ]
                assert seqs == sorted(seqs) and len(set(seqs)) == 3
                with pytest.raises(DeviceError) as future:
                    await dl.push_entry(records.KIND_SYMPTOM, records.S_JOINT, 2, 0, TODAY + 5, 600)
                assert future.value.code == records.ERR_FUTURE
                flags, reminders = await dl.alerts()
                want = protocol_host.decode_alerts(app.alerts_payload())
                assert (flags, reminders) == want
                assert flags, "low E2 with joint pain should raise a flag"
            async with session(link) as dl:
                blob = await dl.get_profile()
                assert blob == app.profile_blob()
                tampered = bytearray(blob)
                tampered[len(tampered) // 2] ^= 0x01
                with pytest.raises(DeviceError):
                    await dl.set_profile(bytes(tampered))      # the profile's CRC refuses it
                assert app.profile_blob() == blob
                await dl.set_profile(blob)
                got = []
                result = await dl.pull(0, got.extend)
                assert got == list(app.store.records(0))
                kinds = [r[3] for r in got]
                assert kinds.count(records.KIND_EVENT) >= 1      # the clock set is logged
                await dl.acknowledge(result.last_seq)
                marks = [r for r in app.store.records(result.last_seq + 1)
                         if r[3] == records.KIND_EVENT and r[4] == records.EVENT_SYNC_MARK]
                assert marks and marks[-1][5] == result.last_seq
    run(main())
