"""The unchanged firmware (firmware/main.py) on the from-source MicroPython with its real `bluetooth` module,
BTstack (the Pico W's stack) and NimBLE (the ESP32's), a bumble virtual controller on an H4 pty as its
radio (sim/stack_device.py), against the host's own DeviceLink through bleak's BleakClient API.

Needs `make firmware` (build/firmware/micropython-{btstack,nimble}); a stack whose binary is not built is
skipped, and only then.
"""
import asyncio
import datetime
import os
import random
import sys

import pytest

from paths import ROOT  # noqa: E402
FIRMWARE = os.path.join(ROOT, "firmware")
if FIRMWARE not in sys.path:
    sys.path.insert(0, FIRMWARE)

import sim.bluetooth  # noqa: E402

sys.modules.setdefault("bluetooth", sim.bluetooth)

from device import ble_service  # noqa: E402
from host_tools import host_crypto  # noqa: E402
from host_tools.device_link import DeviceLink, role_code  # noqa: E402
from monitor import dates, protocol, protocol_host, records, version  # noqa: E402
from monitor.session import KEY_FILE  # noqa: E402
from monitor.store import Store  # noqa: E402
from test_privacy import plain_read  # noqa: E402
from sim import stack_device  # noqa: E402
from sync_fixtures import cut_pull  # noqa: E402

KEY = bytes(range(32))
FIRST_DAY = 9400
STACKS = [pytest.param(s, marks=pytest.mark.skipif(not stack_device.built(s), reason="%s not built: make firmware"
                                                   % stack_device.binary(s))) for s in stack_device.STACKS]


def run(coro, timeout=240):
    return asyncio.run(asyncio.wait_for(coro, timeout))


def flash_with(tmp_path, n):
    """A provisioned device's flash holding n symptom records (the store written as the device writes it)."""
    flash = str(tmp_path / "flash")
    os.makedirs(flash)
    with open(os.path.join(flash, KEY_FILE), "wb") as f:
        f.write(KEY)
    store = Store(flash)
    for i in range(n):
        store.append(FIRST_DAY + i // 30, (i * 37) % 1440, records.KIND_SYMPTOM, i % 13, i % 4, 0)
    log = list(store.records(0))
    store.close()
    return flash, log


def link_for(client, role="clinician"):
    return DeviceLink(client, host_crypto.role_key(KEY, role_code(role)), role)


def test_gatt_table_fits_btstacks_512_bytes_with_room():
    """BTstack drops attributes past MAX_ATT_DB_SIZE without an error (handles then collide); the table,
    with and without the secure-link flags, leaves at least 32 bytes."""
    service = ble_service.BleService.__new__(ble_service.BleService)
    for secure in (False, True):
        service.secure_link = secure
        used = stack_device.btstack_att_db_bytes(service._services())
        assert used <= stack_device.BTSTACK_ATT_DB_SIZE - 32, used
    # the model reproduces the overflow the issue saw: six custom characteristics and a notifying battery
    old = list(service._services())
    custom_uuid, custom = old[0]
    old[0] = (custom_uuid, custom + (custom[2], custom[2]))
    assert stack_device.btstack_att_db_bytes(old) > stack_device.BTSTACK_ATT_DB_SIZE


@pytest.mark.parametrize("stack", STACKS)
def test_standard_characteristics_and_every_sync_operation(stack, tmp_path):
    """Device Information, Battery and Current Time read back their values; time sync, push, pull,
    acknowledge, profile get/set and alerts work; the pull's completion may overtake its records
    (BTstack sends indications first) and the host still gets every record once, in order."""
    flash, log = flash_with(tmp_path, 300)
    when = datetime.datetime(2026, 11, 2, 9, 41, 7)
    day = dates.days_from_civil(2026, 11, 2)

    async def main():
        async with stack_device.StackLink(stack, flash) as link:
            async with link.client(mtu=247) as client:
                plain = (protocol_host.sig_uuid(protocol.DIS_MANUFACTURER), protocol_host.sig_uuid(protocol.DIS_MODEL_NUMBER),
                         protocol_host.sig_uuid(protocol.DIS_FIRMWARE_REVISION), protocol_host.BATTERY_LEVEL_UUID,
                         protocol_host.CTS_CURRENT_TIME_UUID)
                assert [await plain_read(client, uuid) for uuid in plain] == [b""] * 5   # nothing without a session
                clinician = link_for(client)          # setting the clock is the clinician's
                await clinician.open_session()
                read = {uuid: bytes(await client.read_gatt_char(uuid)) for uuid in plain[:4]}
                assert read[protocol_host.sig_uuid(protocol.DIS_MANUFACTURER)] == ble_service.MANUFACTURER
                assert read[protocol_host.sig_uuid(protocol.DIS_MODEL_NUMBER)] == ble_service.MODEL_NUMBER
                assert read[protocol_host.sig_uuid(protocol.DIS_FIRMWARE_REVISION)] == version.VERSION.encode()   # monitor/version.py, as the firmware runs it
                assert read[protocol_host.BATTERY_LEVEL_UUID] == bytes((72,))     # 3950 mV (sim/upy/machine.py)
                assert await clinician.set_time(when) == (day, 9 * 60 + 41, 7)
                patient = link_for(client, "patient")
                await patient.open_session()
                seq = await patient.push_entry(records.KIND_SYMPTOM, 1, 2, 0, day, 9 * 60)
                assert seq == len(log) + 2          # the clock-set event, then this entry
                flags, reminders = await patient.alerts()
                assert isinstance(flags, list) and isinstance(reminders, list)
                await asyncio.sleep(1.2)            # BleService refreshes the plain CTS value every second
                cts = protocol.decode_cts(bytes(await client.read_gatt_char(protocol_host.CTS_CURRENT_TIME_UUID)))
                assert cts[0] == day and 0 <= cts[1] * 60 + cts[2] - (9 * 3600 + 41 * 60 + 7) <= 10
            async with link.client(mtu=247) as client:
                clinician = link_for(client)
                await clinician.open_session()
                assert await clinician.count(0) == seq
                got = []
                result = await clinician.pull(0, got.extend)
                assert (result.count, result.first_seq, result.last_seq) == (seq, 1, seq)
                assert got[:len(log)] == log and [r[0] for r in got] == list(range(1, seq + 1))
                await clinician.acknowledge(seq)
                again = await clinician.pull(seq + 1, got.extend)   # at most the acknowledgement's own event
                assert again.count <= 1 and [r[0] for r in got] == list(range(1, len(got) + 1))
                profile = await clinician.get_profile()
                await clinician.set_profile(profile)
                assert await clinician.get_profile() == profile
                return clinician.frames_reordered

    reordered = run(main())
    assert reordered >= 0


@pytest.mark.parametrize("stack", STACKS)
def test_pulls_cut_by_random_disconnects_resume_without_duplicates_or_gaps(stack, tmp_path):
    """The chaos campaign on the real stack: each run the patient pushes 0-3 entries, then a clinician pull
    is cut at a random point (during the handshake, before the pull, after k notifications) and the next
    run resumes from the last record stored; a final uncut pull. 0 duplicates, 0 gaps, every record equal."""
    runs = 16
    flash, log = flash_with(tmp_path, 400)
    rng = random.Random(20261128)
    host = {}
    duplicates = [0]
    expected = {r[0]: r for r in log}

    def store_batch(batch):
        for record in batch:
            if record[0] in host:
                duplicates[0] += 1
            host[record[0]] = record

    async def main():
        interrupted = 0
        async with stack_device.StackLink(stack, flash) as link:
            async with link.client(mtu=247) as client:
                clinician = link_for(client)
                await clinician.open_session()
                await clinician.set_time(datetime.datetime(2026, 11, 2, 9, 0, 0))
                expected[len(log) + 1] = None        # the clock-set event the device logs
            for run_index in range(runs + 1):
                final = run_index == runs
                pending = max(expected) - (max(host) if host else 0)
                cut_at = None if final else rng.randint(-1, (pending + 13) // 14)
                interrupted += await cut_pull(link, KEY, host, store_batch, cut_at)
                if not final:
                    async with link.client(mtu=247) as client:
                        patient = link_for(client, "patient")
                        await patient.open_session()
                        for k in range(rng.randint(0, 3)):
                            seq = await patient.push_entry(records.KIND_SYMPTOM, k, 1, 0, dates.days_from_civil(
                                2026, 11, 2), 8 * 60 + run_index)
                            expected[seq] = None     # its fields are checked against the pull below
        return interrupted

    interrupted = run(main(), timeout=400)
    assert interrupted >= runs // 2
    assert duplicates[0] == 0
    assert sorted(host) == list(range(1, max(host) + 1)) and max(host) >= max(expected)   # no gap
    assert all(host[seq] == record for seq, record in expected.items() if record is not None)
