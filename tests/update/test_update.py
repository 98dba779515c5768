"""Updates over BLE on the simulated device: the unchanged firmware (main.build, the A/B selector, the app, its
BleService on bumble) and the host's DeviceLink with the clinician's session.

Good update (progress on the screen, restart on trial, self-test, confirmed by the next session, version on the
Status screen); refusals that change nothing (another signer, a tampered chunk, an older release unless
allowed, another board, too little flash); a transfer cut mid-way resumes from the stored chunk after a reboot;
a failed self-test or a reset before confirmation boots the previous version, and the host is told why.
"""
import os
import shutil
import sys

import pytest

from paths import ROOT  # noqa: E402
sys.path.insert(0, os.path.join(ROOT, "tests"))

import sync_fixtures as fx  # noqa: E402
import update_boot  # noqa: E402  (firmware/ is on sys.path through sync_fixtures)
from host_tools import release  # noqa: E402
from host_tools.device_link import DeviceError  # noqa: E402
from monitor import protocol, protocol_host, records  # noqa: E402
from sim import radio  # noqa: E402


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    where = tmp_path_factory.mktemp("keys")
    publisher = str(where / "publisher")
    stranger = str(where / "stranger")
    release.keygen(publisher, height=5)
    release.keygen(stranger, height=5)
    return publisher, stranger


@pytest.fixture(scope="module")
def sim_tree(tmp_path_factory):
    """The firmware as a source bundle for the simulator carries it: [(path, bytes)] without version.py."""
    out = str(tmp_path_factory.mktemp("tree"))
    paths = release.release_tree("sim", "x", 0, out)
    files = []
    for rel in paths:
        with open(os.path.join(out, rel), "rb") as f:
            files.append((rel, f.read()))
    return files


def make(sim_tree, key, version, sequence, board="sim(pico_w)", code="py", patch=None, extra=(), floor=0):
    files = list(extra)
    for rel, data in sim_tree:
        if rel == "monitor/version.py":
            data = ("VERSION = %r\nSEQUENCE = %d\nFLOOR = %d\n" % (version, sequence, floor)).encode()
        if patch and rel in patch:
            data = patch[rel](data)
        files.append((rel, data))
    data = release.make_bundle(files, board, code, version, sequence, lambda m: release.sign(key, m), floor)
    from monitor import bundle
    return data, bundle.header_size(data)


@pytest.fixture
def flash(tmp_path, keys):
    path = str(tmp_path / "flash")
    os.makedirs(path)
    with open(os.path.join(path, "device.key"), "wb") as f:
        f.write(fx.DEVICE_KEY)
    shutil.copyfile(keys[0] + ".pub", os.path.join(path, "publisher.pub"))
    return path


class Boot:
    """One power-on of the simulated device with BLE; .session() opens a clinician session. stack: which
    stack's behaviour the shadow bluetooth gives (NimBLE refuses notifications when full, BTstack queues)."""

    def __init__(self, flash, stack="nimble"):
        self.flash = flash
        self.stack = stack

    async def __aenter__(self):
        from sim.device import SimDevice
        self._link = radio.InProcessLink(stack=self.stack)
        link = await self._link.__aenter__()
        ble = link.peripheral_ble()
        self.device = SimDevice(self.flash)
        self.device.boot(with_ble=True)
        if self.device.runner.ble is not None:
            self.device.runner.ble.start()
            await ble.sim_settle()
        self.link = link
        return self

    async def __aexit__(self, *exc):
        self.device.shutdown()
        await self._link.__aexit__(*exc)

    def session(self):
        return fx.session(self.link)


def power_on(flash, job=None, stack="nimble"):
    """Boots the device, runs job(boot, device_link) in a session if given; returns (device, job's result)."""
    async def go():
        async with Boot(flash, stack) as boot:
            if job is None:
                return boot.device, None
            async with boot.session() as dl:
                return boot.device, await job(boot, dl)
    return fx.run(go())


def device_log(flash):
    from monitor.store import Store
    store = Store(flash)
    try:
        return list(store.records(0))
    finally:
        store.close()


def update_events(device):
    return [r for r in device.app.store.records(0)
            if r[3] == records.KIND_EVENT and r[4] == records.EVENT_UPDATE]


def slot_files(flash):
    found = []
    for dirpath, _dirs, names in os.walk(os.path.join(flash, "ota")):
        found += [os.path.relpath(os.path.join(dirpath, n), flash) for n in names if not n.endswith(".pyc")]
    return sorted(found)


def send(data, header_size, allow_downgrade=False, seen=None):
    async def job(boot, dl):
        def on_progress(offset, total):
            if seen is not None:
                seen.append((offset * 100 // total, boot.device.screen_lines()[2]))
        await dl.update_send(data, header_size, allow_downgrade, on_progress)
        return await dl.update_status()
    return job


async def status(boot, dl):
    return await dl.update_status()


def test_outcome_codes_are_the_devices():
    for name in ("NONE", "STAGED", "ON_TRIAL", "CONFIRMED", "SELFTEST_FAILED", "NOT_CONFIRMED", "CANCELLED"):
        assert getattr(update_boot, name) == getattr(protocol_host, "UPDATE_" + name), name


@pytest.mark.parametrize("stack", ["nimble", "btstack"])
def test_a_good_update_boots_on_trial_and_is_confirmed_by_the_next_session(flash, keys, sim_tree, stack):
    data, header = make(sim_tree, keys[0], "1.1.0", 2)
    device, before = power_on(flash, status, stack)
    assert (before.version, before.sequence, before.outcome) == ("dev", 0, protocol_host.UPDATE_NONE)
    records_before = len(device_log(flash))
    seen = []
    device, staged = power_on(flash, send(data, header, seen=seen), stack)
    assert staged.outcome == protocol_host.UPDATE_STAGED and staged.version == "dev" and staged.note == "1.1.0"
    assert device.app.update_staged
    # the patient's screen followed the transfer
    assert any(line == "Updating 40 %..." for _pct, line in seen), seen[::50]
    assert [pct for pct, _ in seen] == sorted(pct for pct, _ in seen) and seen[-1][0] == 100
    # restart: the new version runs on trial and says so; its first session confirms it
    device, after = power_on(flash, status, stack)
    assert (device.slot, device.on_trial) == ("a", True)
    assert device.main.sys.path[0] == os.path.join(flash, "ota", "a")
    assert (after.version, after.sequence, after.outcome) == ("1.1.0", 2, protocol_host.UPDATE_CONFIRMED)
    import monitor.version
    assert monitor.version.__file__.startswith(os.path.join(flash, "ota", "a"))
    device.press_sequence("B C C C B")      # dismiss "Updated to version 1.1.0", then Status
    assert "Version: 1.1.0" in device.screen_lines()
    outcomes = [r[6] & 0x7F for r in update_events(device)]
    assert outcomes == [update_boot.STAGED, update_boot.CONFIRMED]
    assert len(device_log(flash)) == records_before + 2           # the log went on, nothing lost
    # confirmed: it keeps booting without a trial
    device, again = power_on(flash)
    assert (device.slot, device.on_trial, again) == ("a", False, None)


def test_refusals_change_nothing(flash, keys, sim_tree, monkeypatch):
    cases = [
        ("another signer", make(sim_tree, keys[1], "1.1.0", 2), protocol.ERR_UPDATE_SIGNATURE),
        ("another board", make(sim_tree, keys[0], "1.1.0", 2, board="esp32"), protocol.ERR_UPDATE_BOARD),
        ("code it cannot load", make(sim_tree, keys[0], "1.1.0", 2, code="mpy-armv6m"), protocol.ERR_UPDATE_BOARD),
        ("a main.py, which would run instead of the boot", make(sim_tree, keys[0], "1.1.0", 2, extra=[
            ("main.py", b"raise SystemExit\n")]), protocol.ERR_UPDATE_BUNDLE),
        ("the boot selector", make(sim_tree, keys[0], "1.1.0", 2, extra=[("update_boot.py", b"")]),
         protocol.ERR_UPDATE_BUNDLE),
        ("the slot's own header", make(sim_tree, keys[0], "1.1.0", 2, extra=[("HEADER", b"x")]),
         protocol.ERR_UPDATE_BUNDLE),
    ]
    good, header = make(sim_tree, keys[0], "1.1.0", 2)
    tampered = bytearray(good)
    tampered[header + 5000] ^= 0x20                # one payload byte: its chunk no longer matches the manifest
    cases.append(("tampered chunk", (bytes(tampered), header), protocol.ERR_UPDATE_HASH))
    state = update_boot.read_state(os.path.join(flash, "ota"))
    for what, (data, size), code in cases:
        with pytest.raises(DeviceError) as refused:
            power_on(flash, send(data, size))
        assert refused.value.code == code, what
        assert update_boot.read_state(os.path.join(flash, "ota")) == state, what
        assert [p for p in slot_files(flash) if not p.endswith(("/ID", "/HEADER.part"))] == [], what
        device, info = power_on(flash, status)
        assert (device.slot, info.version, info.outcome) == ("", "dev", protocol_host.UPDATE_NONE), what
    # too little flash: refused at BEGIN, before the first chunk is written
    from monitor import store_files      # a small flash: what statvfs would say (monitor.update.flash_free)
    monkeypatch.setattr(store_files.OsFiles, "free_bytes", lambda self, path: len(good), raising=False)
    with pytest.raises(DeviceError) as refused:
        power_on(flash, send(good, header))
    assert refused.value.code == protocol.ERR_UPDATE_SPACE
    assert slot_files(flash) == []
    monkeypatch.undo()
    # an older release: refused unless the clinician allows a downgrade, which the device logs
    power_on(flash, send(good, header))
    power_on(flash, status)                                       # 1.1.0 confirmed
    older, older_header = make(sim_tree, keys[0], "1.0.5", 1)
    with pytest.raises(DeviceError) as refused:
        power_on(flash, send(older, older_header))
    assert refused.value.code == protocol.ERR_UPDATE_OLDER
    device, info = power_on(flash, status)
    assert (info.version, device.slot) == ("1.1.0", "a")
    device, info = power_on(flash, send(older, older_header, allow_downgrade=True))
    assert info.outcome == protocol_host.UPDATE_STAGED
    assert [r[6] >> 7 for r in update_events(device)][-2:] == [1, 0]    # downgrade allowed, then staged
    device, info = power_on(flash, status)
    assert (device.slot, info.version, info.outcome) == ("b", "1.0.5", protocol_host.UPDATE_CONFIRMED)


def test_a_release_below_the_floor_is_refused_even_with_allow_downgrade(flash, keys, sim_tree):
    """The publisher's floor (signed in the manifest and in version.FLOOR) is kept on the flash once the
    release carrying it is confirmed: a stolen clinician key cannot put a withdrawn release back, with
    --allow-downgrade or after the device runs a deployed copy without a floor."""
    ota = os.path.join(flash, "ota")
    power_on(flash, send(*make(sim_tree, keys[0], "1.2.0", 3, floor=2)))
    device, info = power_on(flash, status)                         # confirmed: the floor is stored
    assert (device.slot, info.version) == ("a", "1.2.0")
    withdrawn = make(sim_tree, keys[0], "1.1.0", 1)
    for _ in range(2):
        state = update_boot.read_state(ota)
        with pytest.raises(DeviceError) as refused:
            power_on(flash, send(*withdrawn, allow_downgrade=True))
        assert refused.value.code == protocol.ERR_UPDATE_FLOOR
        assert update_boot.read_state(ota) == state
        assert [p for p in slot_files(flash) if p.startswith("ota/b/") and not p.endswith(("/ID", ".part"))] == []
        update_boot.write_state(["", "", 0, update_boot.NONE, ""], ota)   # as if redeployed over USB: FLOOR 0
    device, info = power_on(flash, send(*make(sim_tree, keys[0], "1.1.5", 2), allow_downgrade=True))
    assert info.outcome == protocol_host.UPDATE_STAGED               # the floor itself is allowed


def test_begin_larger_than_the_flash_is_refused(flash):
    """The simulator's flash has a size (board.FLASH_BYTES): its free space is not the host disk's."""
    import hashlib

    from monitor import flash_room, update

    async def begin(total):
        async with Boot(flash) as boot:
            if total is None:     # just above what the simulated flash has left
                total = boot.device.board.FLASH_BYTES - flash_room.used_bytes(update.OsFiles(), flash, update.BLOCK) \
                    - update.FLASH_RESERVE - update.BLOCK
            async with boot.session() as dl:
                return (await dl._update(protocol_host.encode_update_begin(
                    total, 100, hashlib.sha256(b"x").digest()), protocol.UPDATE_BEGIN))[0]

    for total in (0xFFFFFFF0, update.MAX_BUNDLE + 1, None):
        assert fx.run(begin(total)) == protocol.ERR_UPDATE_SPACE, total
    assert [p for p in slot_files(flash) if not p.endswith("/ID")] == []


def test_a_cut_transfer_resumes_from_the_last_stored_chunk(flash, keys, sim_tree):
    data, header = make(sim_tree, keys[0], "1.2.0", 3)
    cut_at = len(data) * 2 // 5

    async def partial(boot, dl):
        room = dl.update_chunk_size()
        import hashlib
        status, stored, _t, _ = await dl._update(protocol_host.encode_update_begin(
            len(data), header, hashlib.sha256(data[:header]).digest()), protocol.UPDATE_BEGIN)
        assert (status, stored) == (0, 0)
        offset = 0
        while offset < cut_at:
            status, offset, _t, _ = await dl._update(protocol_host.encode_update_chunk(
                offset, data[offset:offset + room]), protocol.UPDATE_CHUNK)
            assert status == 0
        assert boot.device.screen_lines()[2] == "Updating 40 %..."
        return offset

    _device, stored = power_on(flash, partial)       # the link drops here, and the device loses power
    device, info = power_on(flash, status)
    assert device.slot == "" and info.outcome == protocol_host.UPDATE_NONE

    async def resume(boot, dl):
        started = await dl.update_send(data, header)
        return started, await dl.update_status()

    device, (started, info) = power_on(flash, resume)
    assert started == stored > 0
    assert info.outcome == protocol_host.UPDATE_STAGED
    device, info = power_on(flash, status)
    assert (device.slot, info.version, info.outcome) == ("a", "1.2.0", protocol_host.UPDATE_CONFIRMED)


def test_a_failed_self_test_boots_the_previous_version_and_says_why(flash, keys, sim_tree):
    # A release whose rules no longer evaluate the fixed vector as it expects.
    def break_rules(source):
        return source.replace(b"EXPECTED_FLAGS = ((6, 1,", b"EXPECTED_FLAGS = ((6, 2,")
    data, header = make(sim_tree, keys[0], "2.0.0", 4, patch={"monitor/selftest.py": break_rules})
    power_on(flash, send(data, header))
    from sim.device import SimDevice
    trial = SimDevice(flash)
    trial.boot()
    assert trial.on_trial and trial.reset_requested      # it gave up its place at once
    trial.shutdown()
    device, info = power_on(flash, status)
    assert (device.slot, info.version) == ("", "dev")
    assert (info.outcome, info.note) == (protocol_host.UPDATE_SELFTEST_FAILED, "2.0.0")


def test_a_reset_before_confirmation_boots_the_previous_version(flash, keys, sim_tree):
    data, header = make(sim_tree, keys[0], "1.3.0", 5)
    power_on(flash, send(data, header))
    device, _ = power_on(flash)                          # boots on trial; the watchdog resets it before a session
    assert device.on_trial
    device, info = power_on(flash, status)
    assert (device.slot, info.version) == ("", "dev")
    assert (info.outcome, info.note) == (protocol_host.UPDATE_NOT_CONFIRMED, "1.3.0")


def test_only_a_clinician_may_update(flash, keys, sim_tree):
    data, header = make(sim_tree, keys[0], "1.1.0", 2)

    async def go():
        async with Boot(flash) as boot:
            async with fx.session(boot.link, role="patient") as dl:
                with pytest.raises(DeviceError) as refused:
                    await dl.update_send(data, header)
                return refused.value.code
    assert fx.run(go()) == protocol.ERR_ROLE
    assert slot_files(flash) == []


def test_the_host_signer_never_reuses_a_one_time_key(tmp_path):
    name = str(tmp_path / "k")
    release.keygen(name, height=5)
    leaves = set()
    for i in range(4):
        sig = release.sign(name, b"release %d" % i)
        leaves.add(sig[4:8])                   # q, the one-time key's index
    assert len(leaves) == 4 and release.remaining(name) == 28
    with pytest.raises(release.ReleaseError):
        release.keygen(name, height=5)         # never overwritten


def test_lms_vectors_verify_with_the_host_library_too():
    import pyhsslms
    sys.path.insert(0, os.path.join(ROOT, "tests", "core"))
    from lms_vectors import VECTORS
    for pub, msg, sig in VECTORS:
        assert pyhsslms.HssPublicKey.deserialize(bytes.fromhex(pub)).verify(bytes.fromhex(msg), bytes.fromhex(sig))


def test_e2mon_update_over_the_sim_link(tmp_path, keys):
    """The real CLI against the simulator in its own process: a refused bundle says why and changes nothing;
    a good one is sent with a progress bar, the device restarts into it and the CLI reports it confirmed."""
    from click.testing import CliRunner
    from host_tools import cli as cli_module
    from host_tools.failures import EXIT_REJECTED
    import test_cli_sim as cs

    flash = tmp_path / "flash"
    flash.mkdir()
    shutil.copyfile(keys[0] + ".pub", str(flash / "publisher.pub"))
    device = cs.SimDevice(str(flash), cs.KEY.hex(), 5)
    try:
        env = cs.host_env(tmp_path, device.port)
        cs.save_keys(env)
        cli_module._register()
        good = str(tmp_path / "good.e2up")
        release.build("sim", "1.4.0", 6, keys[0], good)
        stranger = str(tmp_path / "stranger.e2up")
        release.build("sim", "1.4.0", 6, keys[1], stranger)
        assert CliRunner().invoke(cli_module.cli, ["--sim", "pull"], env=env).exit_code == 0
        missing = CliRunner().invoke(cli_module.cli, ["--sim", "update", str(tmp_path / "none.e2up")], env=env)
        assert missing.exit_code == 7 and "file not found" in missing.output   # as for every missing input file
        refused = CliRunner().invoke(cli_module.cli, ["--sim", "update", stranger], env=env)
        assert refused.exit_code == EXIT_REJECTED, refused.output
        assert "not signed by this device's publisher" in refused.output
        done = CliRunner().invoke(cli_module.cli, ["--sim", "--json", "update", good], env=env)
        assert done.exit_code == 0, done.output
        import json
        result = json.loads(done.output[done.output.index("{"):])
        assert (result["running"], result["before"], result["outcome"]) == ("1.4.0", "dev", protocol_host.UPDATE_CONFIRMED)
        listed = CliRunner().invoke(cli_module.cli, ["--sim", "--json", "devices"], env=env)
        assert json.loads(listed.output)[0]["firmware"] == "1.4.0"   # the version it runs now
        again = CliRunner().invoke(cli_module.cli, ["--sim", "update", good], env=env)
        assert "already ran 1.4.0" in again.output and "new version confirmed" not in again.output, again.output
    finally:
        device.stop()


def test_update_messages_name_the_cause_once(tmp_path):
    from host_tools import cmd_update
    reset = cmd_update._not_kept_todo(protocol_host.UPDATE_NOT_CONFIRMED)
    assert "the bundle was fine" in reset and "check the bundle" not in reset
    assert "check the bundle" not in cmd_update._not_kept_todo(protocol_host.UPDATE_SELFTEST_FAILED)
    garbage = tmp_path / "notes.txt"
    garbage.write_bytes(b"x" * 200)
    with pytest.raises(release.ReleaseError) as err:
        release.read_bundle(str(garbage))
    assert str(err.value).count("not an e2mon update bundle") == 1
