"""The RP2040 on the air: e2mon frozen into MicroPython v1.28.0's rp2 port for the Arduino Nano RP2040 Connect
(NimBLE over UART1 to its radio module, build/firmware/e2mon-nano_rp2040.uf2, `make firmware-rp2-nano`), on the
emulated RP2040 (rp2040js) with that UART joined to bumble's virtual controller (sim/rp2040_radio.py), against the
host's own DeviceLink through bleak's BleakClient API on the same link `e2mon --sim` reaches."""
import asyncio
import datetime
import os

import pytest

import sync_fixtures as fx
from bench import bench_rp2040_onair as onair
from bench.bench_rp2040_onair import FULL_PULL, KEY, link_for
from host_tools import release
from monitor import bundle, dates, protocol_host, records, update
from monitor.session import KEY_FILE
from sim import rp2040_radio

pytestmark = pytest.mark.skipif(not rp2040_radio.built(), reason=rp2040_radio.missing() or "")


def log_files(tmp_path, n):
    return onair.log_files(str(tmp_path), n)


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
                profile = await clinician.get_profile()
                await clinician.set_profile(profile)
                assert await clinician.get_profile() == profile
                patient = link_for(client, "patient")
                await patient.open_session()
                seq = await patient.push_entry(records.KIND_SYMPTOM, 1, 2, 0, day, 9 * 60)
                assert seq == len(log) + 3          # the clock-set and profile events, then this entry
                flags, reminders = await patient.alerts()
                assert isinstance(flags, list) and isinstance(reminders, list)
            # a pull cut by a radio loss after 3 records frames, then resumed from the last stored record
            interrupted = await fx.cut_pull(link, KEY, host, store_batch, 3)
            resumed = await fx.cut_pull(link, KEY, host, store_batch, None)
            async with link.client(mtu=247) as client:
                patient = link_for(client, "patient")
                await patient.open_session()
                newer = await patient.push_entry(records.KIND_SYMPTOM, 2, 1, 0, day, 9 * 60 + 30)
            incremental = await fx.cut_pull(link, KEY, host, store_batch, None)
            return seq, newer, interrupted, resumed, incremental, link.chip.boots

    seq, newer, interrupted, resumed, incremental, boots = run(main())
    assert interrupted == 1 and resumed == 0 and incremental == 0
    assert duplicates == []
    assert sorted(host) == list(range(1, max(host) + 1)) and max(host) >= newer > seq   # no gap
    assert [host[i + 1] for i in range(len(log))] == log
    assert host[newer][3:5] == (records.KIND_SYMPTOM, 2)
    assert boots == ["power", "reboot"]     # safe mode to load the log, then one boot of the app: no reset


def test_a_full_2000_record_pull_through_the_emulated_chip(tmp_path):
    files, log = log_files(tmp_path, FULL_PULL)

    got, result, before, after = run(onair.full_pull(files))
    assert (result.count, result.first_seq, result.last_seq) == (FULL_PULL, 1, FULL_PULL)
    assert got == log
    seconds = (after["ms"] - before["ms"]) / 1000
    print("rp2040_onair_pull_2k_s %.2f, cycles per record %d"
          % (seconds, (after["cycles"] - before["cycles"]) // FULL_PULL))


def test_a_signed_update_reboots_the_chip_into_the_new_version_which_confirms_it(tmp_path):
    """A release built for the board (bytecode for armv6m, as `e2mon release build pico_w` makes it), sent over
    the air: staged, the chip resets itself once the host has gone, boots the new version from its slot and
    the first session confirms it."""
    publisher = str(tmp_path / "publisher")
    release.keygen(publisher, height=5)
    tree = str(tmp_path / "tree")
    board, code = release.TARGETS["pico_w"]
    files = []
    for rel in release.release_tree("pico_w", "1.1.0", 2, tree):
        with open(os.path.join(tree, rel), "rb") as f:
            files.append((rel, f.read()))
    data = release.make_bundle(files, board, code, "1.1.0", 2, lambda m: release.sign(publisher, m))
    header = bundle.header_size(data)
    with open(publisher + ".pub", "rb") as f:
        device_files = {KEY_FILE: KEY, update.PUBLISHER_KEY_FILE: f.read()}

    async def main():
        async with rp2040_radio.ChipLink(files=device_files) as link:
            device = link.chip_device
            async with link.client(mtu=247) as client:
                dl = link_for(client)
                await dl.open_session()
                await dl.set_time(datetime.datetime(2026, 11, 2, 9, 41, 7))
                before = await dl.update_status()
                await dl.update_send(data, header)
                staged = await dl.update_status()
            boots = device.boots
            await device.wait_boot(boots + 1)          # machine.reset() once the host has gone
            async with link.client(mtu=247) as client:
                dl = link_for(client)
                await dl.open_session()
                after = await dl.update_status()
            return before, staged, after, list(link.chip.boots)

    before, staged, after, boots = run(main(), timeout=1500)
    assert (before.sequence, before.outcome) == (0, protocol_host.UPDATE_NONE)
    assert (staged.outcome, staged.note) == (protocol_host.UPDATE_STAGED, "1.1.0")
    assert (after.version, after.sequence, after.outcome) == ("1.1.0", 2, protocol_host.UPDATE_CONFIRMED)
    assert boots[:2] == ["power", "reboot"] and len(boots) == 3     # the update's one reset
