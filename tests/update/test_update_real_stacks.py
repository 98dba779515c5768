"""Signed updates over BLE on the real stacks: the unchanged firmware on the from-source MicroPython unix port
with BTstack or NimBLE (sim/stack_device.py), the host's DeviceLink through bleak's BleakClient API. The
device reboots when the firmware calls machine.reset() (the process restarts on the same flash and radio), and
the A/B selector (firmware/update_boot.py) keeps its slots beside the flash directory.

Same bundles and keys as tests/update/test_update.py (the shadow device); a stack whose binary is not built is
skipped, and only then.
"""
import datetime
import os

import pytest

import sync_fixtures as fx
import test_real_stacks as real
import update_boot
from host_tools.device_link import DeviceError
from monitor import dates, protocol, protocol_host
from sim import stack_device
import test_update as shadow
from test_update import device_log, make, slot_files

STACKS = real.STACKS
keys, sim_tree, flash = shadow.keys, shadow.sim_tree, shadow.flash     # the shadow tests' fixtures


def ota_state(flash):
    return update_boot.read_state(os.path.join(flash, "ota"))


def run(coro):
    return real.run(coro, timeout=400)


@pytest.mark.parametrize("stack", STACKS)
def test_a_good_update_reboots_into_the_new_version_and_its_first_session_confirms_it(stack, flash, keys, sim_tree):
    data, header = make(sim_tree, keys[0], "1.1.0", 2)
    records_before = len(device_log(flash))
    progress = []
    when = datetime.datetime(2026, 11, 2, 9, 41, 7)

    async def main():
        async with stack_device.StackLink(stack, flash) as link:
            device = link.stack_device
            async with fx.session(link) as dl:
                await dl.set_time(when)
                before = await dl.update_status()
                started = await dl.update_send(data, header, on_progress=lambda o, t: progress.append(o))
                staged = await dl.update_status()
            assert device.boots == 1            # no restart while the host is connected
            await device.wait_boot(2)           # machine.reset() once the host has gone
            async with fx.session(link) as dl:
                after = await dl.update_status()
                clock = protocol.decode_cts(bytes(await dl.client.read_gatt_char(protocol_host.CTS_CURRENT_TIME_UUID)))
            return before, started, staged, after, clock

    before, started, staged, after, clock = run(main())
    # the RTC ran on through the reboot (a board's machine.reset() keeps it), from the time the clinician set
    assert clock[0] == dates.days_from_civil(2026, 11, 2) and 0 <= clock[1] * 60 + clock[2] - (9 * 60 + 41) * 60 - 7 < 300
    assert (before.version, before.sequence, before.outcome) == ("dev", 0, protocol_host.UPDATE_NONE)
    assert started == 0 and progress[-1] == len(data) and progress == sorted(progress)
    assert (staged.version, staged.outcome, staged.note) == ("dev", protocol_host.UPDATE_STAGED, "1.1.0")
    # the new version answered from slot a (the deployed copy says "dev"), and its first session confirmed it
    assert (after.version, after.sequence, after.outcome) == ("1.1.0", 2, protocol_host.UPDATE_CONFIRMED)
    assert ota_state(flash) == ["a", "", 0, update_boot.CONFIRMED, "1.1.0"]
    assert len(device_log(flash)) == records_before + 3       # clock set, staged, confirmed: the log went on

    async def power_cycle():
        async with stack_device.StackLink(stack, flash) as link:
            async with fx.session(link) as dl:
                return await dl.update_status()

    again = run(power_cycle())                                  # confirmed: it keeps booting, no trial
    assert (again.version, again.outcome) == ("1.1.0", protocol_host.UPDATE_CONFIRMED)
    assert ota_state(flash) == ["a", "", 0, update_boot.CONFIRMED, "1.1.0"]


@pytest.mark.parametrize("stack", STACKS)
def test_a_tampered_chunk_is_refused_and_nothing_changes(stack, flash, keys, sim_tree):
    good, header = make(sim_tree, keys[0], "1.1.0", 2)
    tampered = bytearray(good)
    tampered[header + 5000] ^= 0x20            # one payload byte: its chunk no longer matches the manifest
    state = ota_state(flash)
    records_before = device_log(flash)

    async def main():
        async with stack_device.StackLink(stack, flash) as link:
            async with fx.session(link) as dl:
                with pytest.raises(DeviceError) as refused:
                    await dl.update_send(bytes(tampered), header)
                info = await dl.update_status()
            return refused.value.code, info, link.stack_device.boots, list(link.stack_device.output)

    code, info, boots, output = run(main())
    assert code == protocol.ERR_UPDATE_HASH
    assert (info.version, info.outcome) == ("dev", protocol_host.UPDATE_NONE)
    assert boots == 1, output                   # no restart
    assert ota_state(flash) == state
    assert [p for p in slot_files(flash) if not p.endswith(("/ID", "/HEADER.part"))] == []
    assert device_log(flash) == records_before


@pytest.mark.parametrize("stack", STACKS)
def test_a_transfer_cut_by_a_radio_loss_resumes_from_the_stored_offset_after_a_power_cut(stack, flash, keys, sim_tree):
    data, header = make(sim_tree, keys[0], "1.2.0", 3)
    acknowledged = []
    armed = []
    room = []

    async def cut():
        async with stack_device.StackLink(stack, flash) as link:
            def on_progress(offset, total):
                if offset * 5 >= total * 2 and not armed:
                    link.drop_after(1)          # the next chunk's write crosses, its reply is lost
                    armed.append(offset)
                acknowledged.append(offset)
            async with link.client(mtu=247) as client:
                dl = real.link_for(client)
                await dl.open_session()
                room.append(dl.update_chunk_size())
                with pytest.raises(Exception) as lost:     # LinkLost, or bleak's own error mid-write
                    await dl.update_send(data, header, on_progress=on_progress)
                assert not client.is_connected, lost.value
        # the device process ends here: a power cut with the transfer part-way

    run(cut())
    last_acknowledged = acknowledged[-1]
    assert armed == [last_acknowledged] and 0 < last_acknowledged < len(data)
    resumed = []

    async def resume():
        async with stack_device.StackLink(stack, flash) as link:
            device = link.stack_device
            async with fx.session(link) as dl:
                first = await dl.update_status()
                started = await dl.update_send(data, header, on_progress=lambda o, t: resumed.append(o))
            await device.wait_boot(2)
            async with fx.session(link) as dl:
                return first, started, await dl.update_status()

    first, started, after = run(resume())
    assert (first.version, first.outcome) == ("dev", protocol_host.UPDATE_NONE)
    # from what the device had stored: what the host saw acknowledged, or one chunk more (its reply was lost)
    assert last_acknowledged <= started <= last_acknowledged + room[0]
    assert resumed[0] == started and resumed[-1] == len(data)
    assert (after.version, after.sequence, after.outcome) == ("1.2.0", 3, protocol_host.UPDATE_CONFIRMED)
    assert ota_state(flash)[:2] == ["a", ""]


async def status_after_a_failed_trial(stack, flash, data, header):
    """Sends the bundle; the trial it boots gives way at once (a reset) and the previous version answers:
    (UPDATE_STATUS, the device's console lines)."""
    async with stack_device.StackLink(stack, flash) as link:
        device = link.stack_device
        async with fx.session(link) as dl:
            await dl.update_send(data, header)
        await device.wait_boot(3)
        async with fx.session(link) as dl:
            return await dl.update_status(), list(device.output)


@pytest.mark.parametrize("stack", STACKS)
def test_a_failed_self_test_reboots_into_the_previous_version_and_says_why(stack, flash, keys, sim_tree):
    def break_rules(source):       # a release whose rules no longer evaluate the fixed vector as it expects
        return source.replace(b"EXPECTED_FLAGS = ((6, 1,", b"EXPECTED_FLAGS = ((6, 2,")
    data, header = make(sim_tree, keys[0], "2.0.0", 4, patch={"monitor/selftest.py": break_rules})
    info, output = run(status_after_a_failed_trial(stack, flash, data, header))
    assert any("failed its self-test" in line for line in output), output
    assert (info.version, info.outcome, info.note) == ("dev", protocol_host.UPDATE_SELFTEST_FAILED, "2.0.0")
    assert ota_state(flash)[:3] == ["", "", 0]


@pytest.mark.parametrize("stack", STACKS)
def test_a_trial_that_crashes_before_the_app_reboots_into_the_previous_version(stack, flash, keys, sim_tree):
    """A new version whose device/memory.py raises in tune() (before the board module and the app): main.boot
    rolls it back and resets, and the previous version answers with NOT_CONFIRMED."""
    def crash_in_tune(source):
        return source.replace(b"def tune():\n", b"def tune():\n    raise MemoryError('tune')\n")
    data, header = make(sim_tree, keys[0], "2.1.0", 5, patch={"device/memory.py": crash_in_tune})
    info, _output = run(status_after_a_failed_trial(stack, flash, data, header))
    assert (info.version, info.outcome, info.note) == ("dev", protocol_host.UPDATE_NOT_CONFIRMED, "2.1.0")
    assert ota_state(flash)[:3] == ["", "", 0]


@pytest.mark.parametrize("stack", STACKS)
def test_begin_larger_than_the_flash_is_refused(stack, flash):
    import hashlib

    async def main():
        async with stack_device.StackLink(stack, flash) as link:
            async with fx.session(link) as dl:
                return (await dl._update(protocol_host.encode_update_begin(
                    0xFFFFFFF0, 100, hashlib.sha256(b"x").digest()), protocol.UPDATE_BEGIN))[0]

    assert run(main()) == protocol.ERR_UPDATE_SPACE
