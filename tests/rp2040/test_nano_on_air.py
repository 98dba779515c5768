"""The RP2040 on the air: e2mon frozen into MicroPython v1.28.0's rp2 port for the Arduino Nano RP2040 Connect
(NimBLE over UART1 to its radio module, build/firmware/e2mon-nano_rp2040.uf2, `make firmware-rp2-nano`), on the
emulated RP2040 (rp2040js) with that UART joined to bumble's virtual controller (sim/rp2040_radio.py), against the
host's own DeviceLink through bleak's BleakClient API on the same link `e2mon --sim` reaches."""
import asyncio
import datetime
import os

import pytest

import sync_fixtures as fx
from host_tools import host_crypto
from host_tools.device_link import DeviceLink, role_code
from monitor import dates, records
from monitor.session import KEY_FILE
from monitor.store import Store
from sim import rp2040_radio

KEY = bytes(range(32))
FIRST_DAY = 9400
FULL_PULL = 2000

pytestmark = pytest.mark.skipif(not rp2040_radio.built(), reason=rp2040_radio.missing() or "")


def log_files(tmp_path, n):
    """A provisioned device's data directory holding n symptom records, written by the device's own Store:
    {path: bytes} for ChipDevice, and the records as the device will report them."""
    flash = str(tmp_path / "flash")
    os.makedirs(flash)
    store = Store(flash)
    for i in range(n):
        store.append(FIRST_DAY + i // 30, (i * 37) % 1440, records.KIND_SYMPTOM, i % 13, i % 4, 0)
    log = list(store.records(0))
    store.close()
    files = {KEY_FILE: KEY}
    for dirpath, _dirs, names in os.walk(flash):
        for name in names:
            path = os.path.join(dirpath, name)
            with open(path, "rb") as f:
                files[os.path.relpath(path, flash).replace(os.sep, "/")] = f.read()
    return files, log


def link_for(client, role="clinician"):
    return DeviceLink(client, host_crypto.role_key(KEY, role_code(role)), role, timeout=120)


def run(coro, timeout=900):
    return asyncio.run(asyncio.wait_for(coro, timeout))


def test_time_sync_push_alerts_profile_incremental_pull_and_a_radio_loss_mid_pull(tmp_path):
    files, log = log_files(tmp_path, 120)
    when = datetime.datetime(2026, 11, 2, 9, 41, 7)
    day = dates.days_from_civil(2026, 11, 2)
    host = {}
    duplicates = []

    def store_batch(batch):
        for record in batch:
            if record[0] in host:
                duplicates.append(record[0])
            host[record[0]] = record

    async def main():
        async with rp2040_radio.ChipLink(files=files) as link:
            async with link.client(mtu=247) as client:
                clinician = link_for(client)
                await clinician.open_session()
                assert await clinician.set_time(when) == (day, 9 * 60 + 41, 7)
                patient = link_for(client, "patient")
                await patient.open_session()
                seq = await patient.push_entry(records.KIND_SYMPTOM, 1, 2, 0, day, 9 * 60)
                assert seq == len(log) + 2          # the clock-set event, then this entry
                flags, reminders = await patient.alerts()
                assert isinstance(flags, list) and isinstance(reminders, list)
                profile = await clinician.get_profile()
                await clinician.set_profile(profile)
                assert await clinician.get_profile() == profile
            # a pull cut by a radio loss after 3 records frames, then resumed from the last stored record
            interrupted = await fx.cut_pull(link, KEY, host, store_batch, 3)
            resumed = await fx.cut_pull(link, KEY, host, store_batch, None)
            async with link.client(mtu=247) as client:
                patient = link_for(client, "patient")
                await patient.open_session()
                newer = await patient.push_entry(records.KIND_SYMPTOM, 2, 1, 0, day, 10 * 60)
            incremental = await fx.cut_pull(link, KEY, host, store_batch, None)
            return seq, newer, interrupted, resumed, incremental, link.chip.boots

    seq, newer, interrupted, resumed, incremental, boots = run(main())
    assert interrupted == 1 and resumed == 0 and incremental == 0
    assert duplicates == []
    assert sorted(host) == list(range(1, max(host) + 1)) and max(host) >= newer > seq   # no gap
    assert [host[i + 1] for i in range(len(log))] == log
    assert host[newer][3:5] == (2, 1)
    assert boots == ["power", "reboot"]     # safe mode to load the log, then one boot of the app: no reset


def test_a_full_2000_record_pull_through_the_emulated_chip(tmp_path):
    files, log = log_files(tmp_path, FULL_PULL)

    async def main():
        async with rp2040_radio.ChipLink(files=files) as link:
            async with link.client(mtu=247) as client:
                clinician = link_for(client)
                await clinician.open_session()
                got = []
                before = await asyncio.to_thread(link.chip.stats)
                result = await clinician.pull(0, got.extend)
                after = await asyncio.to_thread(link.chip.stats)
            return got, result, before, after

    got, result, before, after = run(main())
    assert (result.count, result.first_seq, result.last_seq) == (FULL_PULL, 1, FULL_PULL)
    assert got == log
    seconds = (after["ms"] - before["ms"]) / 1000
    print("rp2040_onair_pull_2k_s %.2f, cycles per record %d"
          % (seconds, (after["cycles"] - before["cycles"]) // FULL_PULL))
