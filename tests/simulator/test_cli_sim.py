"""The e2mon CLI against the simulated device over bumble's TCP link (`--sim`), through click's
CliRunner in this process and once as a real subprocess. The device runs the real firmware app,
store and GATT service in its own process (tests/cli_sim_device.py)."""
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import threading

import pytest
from click.testing import CliRunner
from fhir.resources.R4B.bundle import Bundle

from host_tools import cli as cli_module
from host_tools import host_crypto, keys
from host_tools.db import HostDB
from monitor import records, version
from sim import stack_device

from paths import ROOT  # noqa: E402
PYTHON = sys.executable
DEVICE = "C0:E2:00:00:00:01"   # host_tools.sim_link.DEVICE_ADDRESS
KEY = bytes(range(32))
SEED = 300


class SimDevice:
    def __init__(self, flash, key_hex="-", seed=0, serial=False, freed=0):
        args = [PYTHON, os.path.join(ROOT, "tests", "cli_sim_device.py"), flash, key_hex, str(seed)]
        args += ["--freed=%d" % freed] if freed else []
        self.log = open(flash.rstrip("/") + ".log", "w+")
        self.proc = subprocess.Popen(args + (["--serial"] if serial else []), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.log, text=True, cwd=ROOT)
        self.port = int(self._line("port"))
        self.serial = self._line("serial") if serial else None

    def _line(self, name):
        line = self.proc.stdout.readline().split()
        if not line or line[0] != name:
            self.log.seek(0)
            raise AssertionError("simulated device did not start:\n" + self.log.read()[-2000:])
        return line[1]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def kill(self):
        self.proc.kill()
        self.proc.wait()


def host_env(tmp, port):
    return {"E2MON_CONFIG": str(tmp / "config"), "E2MON_NO_KEYRING": "1", "E2MON_DB": str(tmp / "host.sqlite"),
            "E2MON_SIM_TRANSPORT": "127.0.0.1:%d" % port}


def save_keys(env, key=KEY, beacon_of=None):
    """What provisioning leaves on the host: role keys and the beacon key (of beacon_of's key if given)."""
    old = os.environ.get("E2MON_CONFIG")
    os.environ["E2MON_CONFIG"] = env["E2MON_CONFIG"]
    try:
        for name, value in host_crypto.host_keys(key).items():
            keys.save_key(DEVICE, name, value)
        if beacon_of is not None:
            keys.save_key(DEVICE, keys.BEACON, host_crypto.host_keys(beacon_of)[keys.BEACON])
    finally:
        if old is None:
            del os.environ["E2MON_CONFIG"]
        else:
            os.environ["E2MON_CONFIG"] = old


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli_sim")
    device = SimDevice(str(tmp / "flash"), KEY.hex(), SEED)
    env = host_env(tmp, device.port)
    env["E2MON_NO_KEYRING"] = "1"
    save_keys(env)
    yield env
    device.stop()


def e2mon(env, *args):
    cli_module._register()
    result = CliRunner().invoke(cli_module.cli, ["--sim"] + list(args), env=env, catch_exceptions=False)
    return result


def one_error_line(result):
    lines = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1, result.output
    return lines[0]


def test_pull_is_incremental_and_never_duplicates(sim):
    assert e2mon(sim, "time", "sync").exit_code == 0
    first = e2mon(sim, "--json", "pull")
    assert first.exit_code == 0, first.output
    data = json.loads(first.output)
    assert data["device_id"] == DEVICE and data["new"] >= SEED
    again = json.loads(e2mon(sim, "--json", "pull").output)
    # Only what the device logged since (its sync mark event) comes back, and a pull of nothing but
    # sync marks does not acknowledge (which would log yet another mark).
    assert again["new"] <= 2 and again["total_on_host"] == data["total_on_host"] + again["new"]
    third = json.loads(e2mon(sim, "--json", "pull").output)
    assert third["new"] == 0 and third["acknowledged"] is None
    with HostDB(sim["E2MON_DB"]) as db:
        seqs = [r[0] for r in db.records(DEVICE)]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))   # no gap, no duplicate
        symptoms = [r for r in db.records(DEVICE, records.KIND_SYMPTOM)]
        assert symptoms[5][3:6] == (records.KIND_SYMPTOM, 5, 1)


def test_push_validates_in_plain_words_then_stores(sim):
    e2mon(sim, "time", "sync")
    bad_unit = e2mon(sim, "push", "lab", "E2", "38", "ng/dL")
    assert bad_unit.exit_code == 6
    assert "not accepted" in one_error_line(bad_unit) and "pg/mL, pmol/L" in bad_unit.output
    unusual = e2mon(sim, "push", "lab", "E2", "350", "pg/mL")
    assert unusual.exit_code == 6 and "--confirm" in one_error_line(unusual)
    assert "pmol/L" in unusual.output   # shown back in both units
    unknown = e2mon(sim, "push", "symptom", "ITCH", "2")
    assert unknown.exit_code == 6 and "JOINT" in one_error_line(unknown)
    ok = e2mon(sim, "--json", "push", "lab", "E2", "150", "pmol/L", "--method", "LC-MS/MS")
    assert ok.exit_code == 0, ok.output
    pushed = json.loads(ok.output)
    # in the unit a person reads, with it and with what was typed (not the stored integer 409)
    assert (pushed["value"], pushed["unit"], pushed["entered_as"]) == (40.9, "pg/mL", "150 pmol/L")
    e2mon(sim, "pull")
    with HostDB(sim["E2MON_DB"]) as db:
        stored = [r for r in db.records(DEVICE) if r[0] == pushed["seq"]]
        assert stored and stored[0][3:6] == (records.KIND_LAB, records.A_E2, 409)


def test_alerts_and_reminders_in_plain_words(sim):
    e2mon(sim, "time", "sync")
    assert e2mon(sim, "push", "lab", "E2", "8", "pg/mL", "--method", "LC-MS/MS").exit_code == 0
    result = e2mon(sim, "--json", "alerts")
    assert result.exit_code == 0, result.output
    flags = json.loads(result.output)["flags"]
    critical = [f for f in flags if f["rule"] == "E2_CRITICAL"]
    assert critical and "8 pg/mL" in critical[0]["message"] and critical[0]["source"] == "004"
    assert all("clinician" in f["message"] for f in flags)
    text = e2mon(sim, "alerts").output
    assert "E2_CRITICAL" in text and "Due reminders:" in text
    everything = json.loads(e2mon(sim, "--json", "reminders", "--upcoming").output)
    assert {r["state"] for r in everything} <= {"upcoming", "due", "overdue", "done"}
    assert all(r["source"] for r in everything)


def test_values_keep_their_sign_qualifier_and_precision(sim, tmp_path):
    import datetime
    e2mon(sim, "time", "sync")
    bmd = e2mon(sim, "--json", "push", "lab", "BMD_T", "-2.5", "SD")       # negative, without `--`
    assert bmd.exit_code == 0, bmd.output
    assert (json.loads(bmd.output)["value"], json.loads(bmd.output)["unit"]) == (-2.5, "SD")   # not -25
    below = e2mon(sim, "push", "lab", "E2", "24", "pg/mL", "--below-lloq", "--method", "immunoassay")
    assert below.exit_code == 0 and "<24 pg/mL" in below.output, below.output
    flags = json.loads(e2mon(sim, "--json", "alerts").output)["flags"]
    by_rule = {f["rule"]: f["message"] for f in flags}
    assert "Estradiol <24 pg/mL" in by_rule["E2_BONE"] and "<24 pg/mL" in by_rule["E2_LOW"]
    assert [f.get("below_lloq") for f in flags if f["rule"] in ("E2_BONE", "E2_LOW")] == [True, True]
    assert "-2.5 SD" in by_rule["BMD_OSTEOPOROSIS"]
    precise = e2mon(sim, "push", "lab", "E2", "38.15", "pg/mL")
    assert precise.exit_code == 6 and "at most 1 decimal in pg/mL" in one_error_line(precise)
    assert e2mon(sim, "push", "lab", "PSA", "0.001", "ng/mL").exit_code == 6
    gel = e2mon(sim, "--json", "push", "dose", "testosterone", "12.5", "mg")
    assert gel.exit_code == 0 and json.loads(gel.output)["value"] == 12.5         # mg, as a person reads it
    zero = e2mon(sim, "push", "dose", "testosterone", "0", "mg")
    assert zero.exit_code == 6 and "push stop testosterone" in zero.output
    stop = e2mon(sim, "--json", "push", "stop", "testosterone")
    assert stop.exit_code == 0 and json.loads(stop.output)["value"] == "stopped", stop.output
    ahead = datetime.datetime.now() + datetime.timedelta(minutes=30)
    future = e2mon(sim, "push", "symptom", "JOINT", "1", "--date", ahead.date().isoformat(),
                   "--time", ahead.strftime("%H:%M"))
    assert future.exit_code == 6 and "future" in one_error_line(future)
    assert e2mon(sim, "pull").exit_code == 0
    out = tmp_path / "log.csv"
    assert e2mon(sim, "export", "--format", "csv", "--out", str(out)).exit_code == 0
    import csv
    rows = [r for r in csv.DictReader(out.open()) if r["name"] == "E2" and r["below_lloq"] == "True"]
    assert rows and rows[-1]["comparator"] == "<" and rows[-1]["value"] == "24" and rows[-1]["shown"] == "<24 pg/mL"


def test_profile_show_set_and_a_bad_file_sends_nothing(sim, tmp_path):
    shown = e2mon(sim, "profile", "show")
    assert shown.exit_code == 0 and "E2_TARGET_LOW = 20 pg/mL" in shown.output
    edited = tmp_path / "clinic.profile"
    edited.write_text(shown.output.replace("E2_TARGET_LOW = 20 pg/mL", "E2_TARGET_LOW = 22 pg/mL"))
    assert e2mon(sim, "profile", "set", str(edited)).exit_code == 0
    assert "E2_TARGET_LOW = 22 pg/mL" in e2mon(sim, "profile", "show").output
    bad = tmp_path / "bad.profile"
    bad.write_text("E2_TARGET_LOW = 18 pg/mL\nE2_LOW = 5 kg\n")
    result = e2mon(sim, "profile", "set", str(bad))
    assert result.exit_code == 6
    assert "line 2" in one_error_line(result) and "nothing was sent" in result.output
    assert "E2_TARGET_LOW = 22 pg/mL" in e2mon(sim, "profile", "show").output


def test_export_fhir_after_pull_validates(sim, tmp_path):
    e2mon(sim, "time", "sync")
    e2mon(sim, "push", "lab", "HCT", "0.47", "L/L")
    e2mon(sim, "pull")
    out = tmp_path / "bundle.json"
    result = e2mon(sim, "export", "--format", "fhir", "--out", str(out))
    assert result.exit_code == 0, result.output
    bundle = Bundle.model_validate_json(out.read_text())
    hct = [e.resource for e in bundle.entry if e.resource.get_resource_type() == "Observation"
           and e.resource.code.coding[0].code == "4544-3"]
    assert hct and str(hct[-1].valueQuantity.value) == "47" and hct[-1].valueQuantity.code == "%"


def test_wrong_key_is_one_clear_line(sim, tmp_path):
    env = dict(sim, E2MON_CONFIG=str(tmp_path / "other"))
    save_keys(env, key=bytes(32), beacon_of=KEY)   # it recognises the device, the device refuses the key
    result = e2mon(env, "pull")
    assert result.exit_code == 4
    assert "provision" in one_error_line(result)
    save_keys(env, key=bytes(32))                  # a wholly foreign key does not even recognise it
    unknown = e2mon(env, "pull")
    assert unknown.exit_code == 3 and "identifier" in one_error_line(unknown)
    missing = e2mon(dict(sim, E2MON_CONFIG=str(tmp_path / "none")), "alerts")
    assert missing.exit_code == 4 and "no clinician key" in one_error_line(missing)


@contextlib.contextmanager
def held_in_a_thread(enter, timeout=30):
    """Runs `async with enter() as value` on an event loop in a thread of its own (beside CliRunner's) for
    the length of the block; yields value."""
    ready, done, box = threading.Event(), threading.Event(), {}

    async def hold():
        async with enter() as value:
            box["value"] = value
            ready.set()
            while not done.is_set():
                await asyncio.sleep(0.1)

    thread = threading.Thread(target=asyncio.run, args=(hold(),), daemon=True)
    thread.start()
    try:
        assert ready.wait(timeout), "the background peer did not start"
        yield box["value"]
    finally:
        done.set()
        thread.join(20)


@contextlib.asynccontextmanager
async def stranger_connected(port):
    """A central that connects to the device and writes nothing."""
    from host_tools import sim_link

    async with sim_link.TcpCentral("127.0.0.1", port, central_address="C0:E2:00:00:00:5A") as central:
        client = central.client()
        await client.connect()
        yield client


def test_pull_succeeds_while_a_stranger_holds_the_device(sim):
    """A stranger connects and writes nothing: the device stops advertising while it holds the link, drops
    it after protocol.SESSION_WAIT_MS, and the host's search outlasts that."""
    port = int(sim["E2MON_SIM_TRANSPORT"].rpartition(":")[2])
    with held_in_a_thread(lambda: stranger_connected(port)):
        result = e2mon(sim, "pull")
    assert result.exit_code == 0, result.output


def test_simulator_not_running(tmp_path):
    env = host_env(tmp_path, 9)   # nothing listens on port 9
    result = e2mon(env, "pull")
    assert result.exit_code == 3
    assert "python -m sim serve" in one_error_line(result)


def test_real_subprocess_pull_json(sim):
    done = subprocess.run([os.path.join(os.path.dirname(PYTHON), "e2mon"), "--sim", "--json", "pull"],
                          env=dict(os.environ, **sim), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["device_id"] == DEVICE
    bad = subprocess.run([os.path.join(os.path.dirname(PYTHON), "e2mon"), "--sim", "push", "dose",
                          "anastrozole", "50", "mg"], env=dict(os.environ, **sim), capture_output=True,
                         text=True, timeout=60)
    assert bad.returncode == 6
    assert bad.stderr.strip().count("\n") == 0 and bad.stderr.startswith("Error: ")


def test_provision_over_usb_then_ble(tmp_path):
    device = SimDevice(str(tmp_path / "flash"), "-", 20, serial=True)
    try:
        env = host_env(tmp_path, device.port)
        refused = e2mon(env, "pull")
        assert refused.exit_code == 4   # no key on the host yet
        result = e2mon(env, "--port", device.serial, "--json", "provision", "--goal", "fertility")
        assert result.exit_code == 0, result.output
        info = json.loads(result.output)
        assert info["device_id"] == DEVICE
        key_file = tmp_path / "config" / "e2mon" / "keys" / ("%s.clinician.key" % DEVICE.replace(":", "-"))
        assert oct(key_file.stat().st_mode & 0o777) == "0o600"
        # The same commands run over the USB cable (DeviceLink on the serial port), then over BLE.
        over_usb = e2mon(env, "--port", device.serial, "--json", "pull", DEVICE)
        assert over_usb.exit_code == 0, over_usb.output
        assert json.loads(over_usb.output)["new"] >= 20
        pulled = e2mon(env, "--json", "pull")
        assert pulled.exit_code == 0, pulled.output
        assert json.loads(pulled.output)["new"] <= 2
        assert "GOAL = fertility" in e2mon(env, "profile", "show").output
        assert "not set" not in e2mon(env, "time", "show").output
    finally:
        device.stop()


def test_provisioning_again_over_usb_erases_the_log_only_when_told(tmp_path):
    """A minute with a cable: a second provisioning is refused while the device holds another key and its
    log, saying how many records; with --erase-log the log and profile go with the old key."""
    device = SimDevice(str(tmp_path / "flash"), "-", 20, serial=True)
    try:
        env = host_env(tmp_path, device.port)
        assert e2mon(env, "--port", device.serial, "provision", "--goal", "fertility").exit_code == 0
        again = e2mon(env, "--port", device.serial, "provision")
        assert again.exit_code == 6, again.output
        line = one_error_line(again)
        assert "holds another key and" in line and "--erase-log" in line and "pull" in line
        kept = e2mon(env, "--port", device.serial, "--json", "pull", DEVICE)   # the old key still works
        assert kept.exit_code == 0 and json.loads(kept.output)["new"] >= 20
        erased = e2mon(env, "--port", device.serial, "provision", "--erase-log")
        assert erased.exit_code == 0, erased.output
        fresh = e2mon(env, "--port", device.serial, "--json", "pull", DEVICE)
        assert fresh.exit_code == 0 and json.loads(fresh.output)["new"] <= 3, fresh.output   # clock, profile
        assert "GOAL = fertility" not in e2mon(env, "--port", device.serial, "profile", "show").output
    finally:
        device.stop()


def test_time_sync_back_before_the_log_needs_force(tmp_path, monkeypatch):
    import datetime
    import types

    from host_tools import cmd_push, cmd_time

    device = SimDevice(str(tmp_path / "flash"), KEY.hex(), 20)
    try:
        env = host_env(tmp_path, device.port)
        save_keys(env)
        assert e2mon(env, "time", "sync").exit_code == 0
        assert e2mon(env, "push", "symptom", "JOINT", "1").exit_code == 0

        class Past(datetime.datetime):
            @classmethod
            def now(cls, tz=None):
                return datetime.datetime(2005, 1, 1, 9, 30)
        for command in (cmd_time, cmd_push):   # this computer's clock reads 2005
            monkeypatch.setattr(command, "datetime", types.SimpleNamespace(datetime=Past))
        refused = e2mon(env, "time", "sync")
        assert refused.exit_code == 6 and "--force" in refused.output
        assert "2005" not in e2mon(env, "time", "show").output                  # unchanged
        forced = e2mon(env, "time", "sync", "--force")
        assert forced.exit_code == 0 and "forced back, logged" in forced.output
        assert "2005-01-01" in e2mon(env, "time", "show").output
        # the clock epoch starts at the forced set: an entry dated before it is refused with its code
        before = e2mon(env, "push", "symptom", "JOINT", "2", "--date", "2004-12-31")
        assert before.exit_code == 6 and "ERR_BEFORE_CLOCK" in before.output
        assert e2mon(env, "push", "symptom", "JOINT", "2").exit_code == 0
        # the patient's key may not set the clock at all
        patient = e2mon(env, "time", "sync", "--as", "patient")
        assert patient.exit_code != 0
    finally:
        device.stop()


def test_link_lost_mid_pull_keeps_a_clean_prefix_and_resumes(tmp_path, monkeypatch):
    from host_tools import cmd_pull
    from host_tools import db as db_module

    flash = str(tmp_path / "flash")
    device = SimDevice(flash, KEY.hex(), 3000)
    env = host_env(tmp_path, device.port)
    save_keys(env)
    monkeypatch.setattr(cmd_pull, "STORE_BATCH", 200)
    real_store = db_module.HostDB.store_records
    calls = []

    def store_then_lose_the_device(self, device_id, rows):
        added = real_store(self, device_id, rows)
        calls.append(added)
        if len(calls) == 2:
            device.kill()   # the radio link dies mid-pull
        return added

    monkeypatch.setattr(db_module.HostDB, "store_records", store_then_lose_the_device)
    result = e2mon(env, "pull")
    assert result.exit_code == 5, result.output
    line = one_error_line(result)
    with HostDB(env["E2MON_DB"]) as db:
        seqs = [r[0] for r in db.records(DEVICE)]
    assert 400 <= len(seqs) < 3000 and seqs == list(range(seqs[0], seqs[0] + len(seqs)))   # no gap
    # It says what was kept, in numbers that match the database.
    assert "The %d new records received before were kept" % len(seqs) in line and "rerun" in line
    assert "nothing partial" not in line
    monkeypatch.setattr(db_module.HostDB, "store_records", real_store)
    device = SimDevice(flash, KEY.hex(), 0)     # the same flash: the log survived
    try:
        env["E2MON_SIM_TRANSPORT"] = "127.0.0.1:%d" % device.port
        resumed = e2mon(env, "--json", "pull")
        assert resumed.exit_code == 0, resumed.output
        assert json.loads(resumed.output)["new"] == 3000 - len(seqs)
        with HostDB(env["E2MON_DB"]) as db:
            assert [r[0] for r in db.records(DEVICE)][:3000] == list(range(seqs[0], seqs[0] + 3000))
    finally:
        device.stop()


def test_scan_lists_your_device_by_its_identifier_and_a_stranger_sees_none(sim, tmp_path):
    result = e2mon(sim, "--json", "scan", "--seconds", "1")
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)
    assert [(d["device_id"], d["label"]) for d in found] == [(DEVICE, DEVICE)]   # no label set: its id
    assert found[0]["address"] != DEVICE                 # a random address of this window, not a fixed one
    assert isinstance(found[0]["rssi"], int)
    assert found[0]["firmware"] == version.VERSION   # Device Information's revision: monitor/version.py
    stranger = e2mon(dict(sim, E2MON_CONFIG=str(tmp_path / "stranger")), "--json", "scan", "--seconds", "1")
    assert stranger.exit_code == 0 and json.loads(stranger.output) == []


def test_ctrl_c_mid_pull_keeps_what_was_stored(tmp_path, monkeypatch):
    from host_tools import cmd_pull
    from host_tools import db as db_module

    # A device of its own: the shared one may have reclaimed what earlier tests acknowledged.
    device = SimDevice(str(tmp_path / "flash"), KEY.hex(), 600)
    env = host_env(tmp_path, device.port)
    save_keys(env)
    try:
        _ctrl_c_then_resume(env, monkeypatch, cmd_pull, db_module)
    finally:
        device.stop()


def _ctrl_c_then_resume(env, monkeypatch, cmd_pull, db_module):
    monkeypatch.setattr(cmd_pull, "STORE_BATCH", 50)
    real_store = db_module.HostDB.store_records
    calls = []

    def store_then_ctrl_c(self, device_id, rows):
        added = real_store(self, device_id, rows)
        calls.append(added)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return added

    monkeypatch.setattr(db_module.HostDB, "store_records", store_then_ctrl_c)
    result = e2mon(env, "pull")
    assert result.exit_code == 130
    assert "rerun to continue" in one_error_line(result)
    with HostDB(env["E2MON_DB"]) as db:
        kept = [r[0] for r in db.records(DEVICE)]
    assert len(kept) >= 100 and kept == list(range(kept[0], kept[0] + len(kept)))
    monkeypatch.setattr(db_module.HostDB, "store_records", real_store)
    resumed = json.loads(e2mon(env, "--json", "pull").output)
    assert resumed["new"] > 0 and resumed["total_on_host"] == resumed["new"] + len(kept)


def test_a_reset_device_is_not_mixed_into_its_old_log(tmp_path):
    device = SimDevice(str(tmp_path / "flash-a"), KEY.hex(), 60)
    env = host_env(tmp_path, device.port)
    save_keys(env)
    try:
        assert e2mon(env, "pull").exit_code == 0
    finally:
        device.stop()
    device = SimDevice(str(tmp_path / "flash-b"), KEY.hex(), 5)   # same address, wiped flash
    try:
        env["E2MON_SIM_TRANSPORT"] = "127.0.0.1:%d" % device.port
        result = e2mon(env, "pull")
        assert result.exit_code == 7
        assert "reset or replaced" in one_error_line(result)
        with HostDB(env["E2MON_DB"]) as db:
            assert db.count(DEVICE) >= 60   # the old log untouched
    finally:
        device.stop()


def device_and_host(tmp_path, flash, seed, **options):
    """A simulated device holding KEY and `seed` records, and a host holding its keys."""
    device = SimDevice(str(tmp_path / flash), KEY.hex(), seed, **options)
    env = host_env(tmp_path, device.port)
    save_keys(env)
    return device, env


def test_another_key_files_the_old_history_apart_from_any_computer(tmp_path):
    device, env = device_and_host(tmp_path, "flash-a", 60)
    try:
        assert e2mon(env, "pull").exit_code == 0
        assert e2mon(env, "devices", "label", DEVICE, "patient 12").exit_code == 0
    finally:
        device.stop()
    # Provisioned again on another computer (a new key), whose keys were then copied here; its new log
    # happens to run past this host's record numbers, so only the key tells the two histories apart.
    other_key = bytes(range(100, 132))
    device = SimDevice(str(tmp_path / "flash-b"), other_key.hex(), 90)
    try:
        env["E2MON_SIM_TRANSPORT"] = "127.0.0.1:%d" % device.port
        save_keys(env, key=other_key)
        result = e2mon(env, "--json", "pull")
        assert result.exit_code == 0, result.output
        data = json.loads(result.output)
        assert data["filed_apart"]["as"] == DEVICE + "~1" and data["filed_apart"]["records"] >= 60
        assert data["gaps"] == []   # a new log, nothing missing from it
        with HostDB(env["E2MON_DB"]) as db:
            assert db.count(DEVICE + "~1") == data["filed_apart"]["records"]
            assert db.count(DEVICE) == data["new"] and db.label(DEVICE) == "patient 12"
        again = e2mon(env, "pull")
        assert again.exit_code == 0 and "another key" not in again.output
    finally:
        device.stop()


def test_a_gap_in_record_numbers_is_reported_in_words(tmp_path):
    device, env = device_and_host(tmp_path, "flash", 600, freed=520)
    with HostDB(env["E2MON_DB"]) as db:    # this host pulled records 1..100 long ago
        db.ensure_device(DEVICE)
        db.store_records(DEVICE, [(seq, 9800, seq, records.KIND_SYMPTOM, 0, 1, 0) for seq in range(1, 101)])
    try:
        result = e2mon(env, "pull")
        assert result.exit_code == 0, result.output
        gap = [line for line in result.output.splitlines() if "were not on the device any more" in line]
        assert len(gap) == 1 and gap[0].startswith("records 101 to "), result.output
        first = json.loads(e2mon(env, "--json", "pull").output)
        assert first["gaps"] == [] and first["new"] <= 2
        quiet = e2mon(env, "pull").output   # only the device's own sync mark came: nothing new in words
        assert ": nothing new (" in quiet and "stored" not in quiet and "acknowledged up to -" not in quiet
    finally:
        device.stop()


def test_profile_replace_keeps_the_patient_unless_named_and_asks_to_change_it(sim, tmp_path):
    patient = tmp_path / "patient.profile"
    patient.write_text("BIRTH_YEAR = 1980\nGOAL = fertility\n")
    assert e2mon(sim, "profile", "set", str(patient)).exit_code == 0
    rules = tmp_path / "rules.profile"
    rules.write_text("E2_LOW = 18 pg/mL\n")
    replaced = e2mon(sim, "profile", "set", "--replace", str(rules))
    assert replaced.exit_code == 0, replaced.output
    shown = e2mon(sim, "profile", "show").output
    assert "BIRTH_YEAR = 1980" in shown and "GOAL = fertility" in shown and "E2_LOW = 18 pg/mL" in shown
    assert "BIRTH_YEAR" not in replaced.output and "GOAL" not in replaced.output
    back = tmp_path / "back.profile"
    back.write_text("BIRTH_YEAR = 0\nGOAL = trt\n")
    unasked = e2mon(sim, "profile", "set", "--replace", str(back))   # stdin is no terminal here
    assert unasked.exit_code == 6 and "BIRTH_YEAR, GOAL" in one_error_line(unasked)
    assert "BIRTH_YEAR = 1980" in e2mon(sim, "profile", "show").output
    assert e2mon(sim, "profile", "set", "--replace", "--yes", str(back)).exit_code == 0
    assert "GOAL = trt" in e2mon(sim, "profile", "show").output


def test_a_device_that_falls_silent_ends_the_pull_with_a_message(tmp_path, monkeypatch):
    import signal
    import time

    from host_tools import device_link

    device, env = device_and_host(tmp_path, "flash", 50)
    monkeypatch.setattr(device_link, "REPLY_TIMEOUT_S", 1.0)
    real_pull = device_link.DeviceLink.pull

    async def pull_from_a_silent_device(self, *args, **kwargs):
        os.kill(device.proc.pid, signal.SIGSTOP)   # connected, session open, then not a word more
        return await real_pull(self, *args, **kwargs)

    monkeypatch.setattr(device_link.DeviceLink, "pull", pull_from_a_silent_device)
    try:
        start = time.monotonic()
        result = e2mon(env, "pull")
        assert result.exit_code == 5, result.output
        elapsed = time.monotonic() - start
        assert "stopped answering" in one_error_line(result) and elapsed < 60, elapsed   # not minutes
    finally:
        os.kill(device.proc.pid, signal.SIGCONT)
        device.stop()


def test_another_log_under_the_same_key_is_refused_not_merged(tmp_path):
    device, env = device_and_host(tmp_path, "flash-a", 60)
    try:
        e2mon(env, "time-sync")
        assert e2mon(env, "push", "lab", "HCT", "45", "%", "--confirm").exit_code == 0
        assert e2mon(env, "pull").exit_code == 0
    finally:
        device.stop()
    with HostDB(env["E2MON_DB"]) as db:
        held = [tuple(r) for r in db.records(DEVICE)]
        profile = db.device(DEVICE)["profile"]
    # Another board given a copy of the same key file: its own log, longer than what this host holds.
    device = SimDevice(str(tmp_path / "flash-b"), KEY.hex(), 200)
    try:
        env["E2MON_SIM_TRANSPORT"] = "127.0.0.1:%d" % device.port
        result = e2mon(env, "pull")
        assert result.exit_code == 7, result.output
        assert "other content than this host stored" in one_error_line(result)
        with HostDB(env["E2MON_DB"]) as db:
            assert [tuple(r) for r in db.records(DEVICE)] == held and db.device(DEVICE)["profile"] == profile
    finally:
        device.stop()


SERVE_STACKS = ["shadow"] + [pytest.param(s, marks=pytest.mark.skipif(
    not stack_device.built(s), reason="%s not built: make firmware" % stack_device.binary(s))) for s in stack_device.STACKS]


@pytest.mark.parametrize("stack", SERVE_STACKS)
def test_an_impostor_replaying_the_advertisement_is_skipped(stack, tmp_path):
    """An impostor replays the device's advertisement (so it carries the identifier) more often, from another
    address, and answers the handshake with junk and Device Information with terminal escapes: scan lists
    the device verified, pull reaches it and stores its records, and no escape reaches the output or the
    database."""
    from impostor import HOSTILE_TEXT, Impostor
    from sim_serve_process import Served

    env = host_env(tmp_path, 0)
    with Served(stack, str(tmp_path / "flash"), env) as served:
        env["E2MON_SIM_TRANSPORT"] = "127.0.0.1:%d" % served.port
        with held_in_a_thread(lambda: Impostor(served.port)) as impostor:
            scan = e2mon(env, "--json", "scan", "--seconds", "2")
            time_sync = e2mon(env, "time", "sync")
            push = e2mon(env, "push", "lab", "E2", "150", "pmol/L", "--method", "LC-MS/MS")
            pull = e2mon(env, "--json", "pull")
    assert scan.exit_code == 0, scan.output
    found = json.loads(scan.output)
    assert [(d["device_id"], d["verified"], d["firmware"]) for d in found] == [(DEVICE, True, version.VERSION)]
    assert found[0]["address"] != impostor.address
    assert time_sync.exit_code == 0, time_sync.output
    assert push.exit_code == 0, push.output
    assert pull.exit_code == 0, pull.output
    assert impostor.hellos >= 1          # the replayed identifier was tried, and skipped
    with HostDB(env["E2MON_DB"]) as db:
        assert db.count(DEVICE) >= 1
        stored = json.dumps([db.device(DEVICE)] + [list(r) for r in db.records(DEVICE)], default=str)
    for text in (scan.output, time_sync.output, push.output, pull.output, stored):
        assert "\x1b" not in text and "\x07" not in text and HOSTILE_TEXT.decode("utf-8", "replace") not in text


def test_device_text_is_harmless():
    from host_tools.untrusted import device_text

    from impostor import HOSTILE_TEXT
    text = device_text(HOSTILE_TEXT)
    assert not any(ch in text for ch in "\x1b\x07\u202e") and "pwned" in text
    assert device_text(b"1.2.0") == "1.2.0" and device_text(b"\xff1") == "\ufffd1"
    assert device_text("x" * 100, limit=10) == "x" * 9 + "\u2026"
    assert device_text("line\u2028two\u200f") == "line\ufffdtwo\ufffd"
