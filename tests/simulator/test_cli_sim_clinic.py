"""The CLI in a clinic against the simulated device (tests/cli_sim_device.py in its own process): keys that do not
fit say which side failed, alerts carry their results' dates, labels stay on the host, the device is named
one way, options go anywhere, and a closed pipe ends quietly."""
import json
import os
import subprocess

import pytest

from host_tools import keys
from host_tools.failures import EXIT_AUTH, EXIT_NOT_FOUND
from test_cli_sim import DEVICE, KEY, PYTHON, SimDevice, e2mon, host_env, one_error_line, save_keys

E2MON = os.path.join(os.path.dirname(PYTHON), "e2mon")


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli_sim_clinic")
    device = SimDevice(str(tmp / "flash"), KEY.hex(), 40)
    env = host_env(tmp, device.port)
    save_keys(env)
    env["FLASH"] = str(tmp / "flash")
    yield env
    device.stop()


def test_options_after_the_command_and_device_named_one_way(sim):
    assert e2mon(sim, "time-sync", "--device", DEVICE).exit_code == 0
    pushed = e2mon(sim, "push", "lab", "HCT", "54.4", "%", "--date", "2026-10-27", "--confirm", "--json",
                   "--device", DEVICE.lower())
    assert pushed.exit_code == 0, pushed.output
    assert json.loads(pushed.output)["date"] == "2026-10-27"
    pulled = e2mon(sim, "pull", "--json", "--device", DEVICE)
    assert pulled.exit_code == 0, pulled.output and json.loads(pulled.output)["device_id"] == DEVICE
    legacy = e2mon(sim, "alerts", DEVICE)       # the older positional spelling still works
    assert legacy.exit_code == 0, legacy.output
    clash = e2mon(sim, "alerts", DEVICE, "--device", "C0:E2:00:00:00:99")
    assert clash.exit_code == 2 and "two devices given" in one_error_line(clash)


def test_alerts_show_the_date_of_each_result(sim):
    e2mon(sim, "time-sync")
    # the same result again is an exact duplicate (asked about, refused without a terminal): another time
    again = e2mon(sim, "push", "lab", "HCT", "54.4", "%", "--date", "2026-10-27", "--confirm")
    assert again.exit_code == 6 and "already stored as record" in again.output
    assert e2mon(sim, "push", "lab", "HCT", "54.4", "%", "--date", "2026-10-27", "--time", "09:00",
                 "--confirm").exit_code == 0
    text = e2mon(sim, "alerts").output
    hct = [line for line in text.splitlines() if "Hematocrit 54.4 %" in line]
    assert hct and all("2026-10-27" in line for line in hct), text
    assert "ago" in hct[0] or "today" in hct[0]
    flags = json.loads(e2mon(sim, "alerts", "--json").output)["flags"]
    assert any(f["rule"] == "C9" and f["date"] == "2026-10-27" for f in flags)


def test_labels_show_in_pull_and_are_never_sent(sim):
    label = "patient 12 zq7"
    assert e2mon(sim, "devices", "label", DEVICE.lower(), label).exit_code == 0
    pulled = e2mon(sim, "pull")
    assert pulled.exit_code == 0 and pulled.output.startswith("%s (%s): stored" % (label, DEVICE))
    assert "%s (%s)" % (label, DEVICE) in e2mon(sim, "devices").output
    # the scan finds the device by its identifier and shows the label this computer keeps
    scanned = json.loads(e2mon(sim, "scan", "--seconds", "1", "--json").output)
    assert [(d["label"], d["device_id"]) for d in scanned] == [(label, DEVICE)]
    for folder, _dirs, files in os.walk(sim["FLASH"]):
        for name in files:
            with open(os.path.join(folder, name), "rb") as f:
                assert b"zq7" not in f.read(), name


def test_a_wrong_key_says_which_side_failed_and_what_to_do(sim, tmp_path):
    env = dict(sim, E2MON_CONFIG=str(tmp_path / "other"))
    key_folder = os.path.join(str(tmp_path / "other"), "e2mon", "keys")
    save_keys(env, key=bytes(32), beacon_of=KEY)   # the device is recognised, its session key is not this one
    result = e2mon(env, "pull")
    assert result.exit_code == EXIT_AUTH
    line = one_error_line(result)
    assert "failed on this computer" in line and "could not prove" not in line
    assert key_folder in line   # where the key that did not fit is
    assert "provision --device %s" % DEVICE in line
    # Keys of another provisioning altogether: no advertisement carries the identifier this beacon key makes.
    # The host cannot tell that from a device out of range, so: not found, the search failed here, both ways out.
    save_keys(env, key=bytes(32))
    unknown = e2mon(env, "pull")
    assert unknown.exit_code == EXIT_NOT_FOUND
    line = one_error_line(unknown)
    assert "failed on this computer" in line and "identifier" in line and key_folder in line
    assert "bring it closer" in line and "provision --device %s" % DEVICE in line


def test_a_key_file_others_can_read_says_chmod_not_provision(sim, tmp_path):
    env = dict(sim, E2MON_CONFIG=str(tmp_path / "loose"))
    save_keys(env)
    key_file = os.path.join(str(tmp_path / "loose"), "e2mon", "keys", "%s.clinician.key" % DEVICE.replace(":", "-"))
    os.chmod(key_file, 0o644)
    result = e2mon(env, "pull")
    assert result.exit_code == 7, result.output
    line = one_error_line(result)
    assert "readable by other users" in line and "chmod 600 %s" % key_file in line
    assert "rovision" not in line


def test_an_empty_key_file_is_a_clear_auth_error(sim, tmp_path):
    env = dict(sim, E2MON_CONFIG=str(tmp_path / "empty"))
    save_keys(env)
    old = os.environ.get("E2MON_CONFIG")
    os.environ["E2MON_CONFIG"] = env["E2MON_CONFIG"]
    try:
        path = keys.key_path(DEVICE, "clinician")
    finally:
        os.environ["E2MON_CONFIG"] = old if old is not None else ""
        if old is None:
            del os.environ["E2MON_CONFIG"]
    open(path, "w").close()
    result = e2mon(env, "alerts")
    assert result.exit_code == EXIT_AUTH
    line = one_error_line(result)
    assert "is empty" in line and "unexpected" not in line and "provision" in line


def test_alerts_into_a_closed_pipe_end_quietly(sim):
    proc = subprocess.Popen([E2MON, "--sim", "alerts"], env=dict(os.environ, **sim), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdout.close()    # `| head -0`: the reader is gone before the answer comes
    err = proc.stderr.read()
    proc.wait(60)
    assert err == b"" and proc.returncode == 141


def test_a_patient_key_lab_is_marked_patient_reported_end_to_end(sim, tmp_path):
    """The lost-phone case: a lab pushed with the patient's key is the patient's in the pull, every export,
    the report and the alerts; the clinic's own push is not marked."""
    assert e2mon(sim, "time-sync").exit_code == 0
    assert e2mon(sim, "push", "lab", "E2", "420", "pg/mL", "--date", "2026-10-28", "--confirm",
                 "--as", "patient").exit_code == 0
    assert e2mon(sim, "push", "lab", "TT", "610", "ng/dL", "--date", "2026-10-28", "--confirm").exit_code == 0
    assert e2mon(sim, "pull").exit_code == 0
    csv_out = tmp_path / "log.csv"
    assert e2mon(sim, "export", "--format", "csv", "--out", str(csv_out)).exit_code == 0
    import csv
    rows = list(csv.DictReader(open(csv_out)))
    by = {(r["name"], r["value"]): r["entered_by"] for r in rows if r["date"] == "2026-10-28"}
    assert by[("E2", "420")] == "patient" and by[("TT", "610")] == "clinic"
    fhir_out = tmp_path / "log.json"
    assert e2mon(sim, "export", "--format", "fhir", "--out", str(fhir_out)).exit_code == 0
    from fhir.resources.R4B.bundle import Bundle
    bundle = Bundle.model_validate_json(fhir_out.read_text())
    e2 = [e.resource for e in bundle.entry if e.resource.get_resource_type() == "Observation"
          and e.resource.code.text == "E2" and str(e.resource.effectiveDateTime).startswith("2026-10-28")]
    assert e2 and e2[0].performer and "patient-reported" in [c.coding[0].code for c in e2[0].category]
    html_out = tmp_path / "report.html"
    assert e2mon(sim, "report", "--out", str(html_out)).exit_code == 0
    assert "<td>E2</td><td>420 pg/mL</td>" in html_out.read_text() and "<td>patient</td>" in html_out.read_text()
    flags = json.loads(e2mon(sim, "alerts", "--json").output)["flags"]
    e2_flags = [f for f in flags if f["date"] == "2026-10-28" and "Estradiol" in f["message"]]
    assert e2_flags and all(f.get("patient_reported") for f in e2_flags)
    assert "rests on a patient-reported result" in e2mon(sim, "alerts").output
