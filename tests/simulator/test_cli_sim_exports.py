"""Against the simulated device: an SI entry pushed without a time of day leaves the clinic as typed and dated
as entered, `--json` speaks in the units people read, and a host clock days off is named as such."""
import datetime
import json
import types

import pytest

from host_tools import connect
from test_cli_sim import DEVICE, KEY, SimDevice, e2mon, host_env, one_error_line, save_keys


@pytest.fixture
def device_env(tmp_path):
    device = SimDevice(str(tmp_path / "flash"), KEY.hex(), 5)
    env = host_env(tmp_path, device.port)
    save_keys(env)
    yield env
    device.stop()


def test_an_si_entry_without_a_time_leaves_the_clinic_as_typed(device_env, tmp_path):
    env = device_env
    assert e2mon(env, "time", "sync").exit_code == 0
    assert e2mon(env, "pull").exit_code == 0      # the host database exists: what is typed is kept in it
    day = (datetime.date.today() - datetime.timedelta(days=2)).isoformat()
    pushed = e2mon(env, "--json", "push", "lab", "E2", "150", "pmol/L", "--date", day)
    assert pushed.exit_code == 0, pushed.output
    result = json.loads(pushed.output)
    assert (result["value"], result["unit"], result["entered_as"]) == (40.9, "pg/mL", "150 pmol/L")
    seq = result["seq"]
    assert e2mon(env, "pull").exit_code == 0
    out = tmp_path / "bundle.json"
    assert e2mon(env, "export", "--format", "fhir", "--out", str(out)).exit_code == 0
    bundle = json.loads(out.read_text())
    (observation,) = [e["resource"] for e in bundle["entry"] if e["resource"]["id"].endswith("-%d" % seq)]
    assert observation["effectiveDateTime"] == day            # no invented 12:00
    (translation,) = observation["valueQuantity"]["extension"]
    assert translation["valueQuantity"]["value"] == 150 and translation["valueQuantity"]["unit"] == "pmol/L"
    assert observation["valueQuantity"]["value"] == 40.9


def test_a_host_clock_days_off_is_named_not_a_second_provisioning(device_env, monkeypatch):
    env = device_env
    assert e2mon(env, "time", "sync").exit_code == 0

    class Later(datetime.datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime.datetime.now(tz) + datetime.timedelta(days=3)

    monkeypatch.setattr(connect, "datetime", types.SimpleNamespace(datetime=Later, timedelta=datetime.timedelta))
    refused = e2mon(env, "time", "sync")
    assert refused.exit_code == 3, refused.output
    line = one_error_line(refused)
    assert "this computer's clock reads" in line and "3 days 0 h apart" in line
    assert "provisioned again" not in line and DEVICE in line


def test_profile_show_json_is_accepted_back_by_profile_set(device_env, tmp_path):
    env = device_env
    shown = e2mon(env, "--json", "profile", "show")
    assert shown.exit_code == 0, shown.output
    doc = json.loads(shown.output)
    assert doc["profile"]["E2_TARGET_LOW"]["threshold"].endswith(" pg/mL")
    path = tmp_path / "profile.json"
    path.write_text(shown.output)
    same = e2mon(env, "profile", "set", str(path))
    assert same.exit_code == 0 and "already has these values: nothing sent" in same.output, same.output
    doc["profile"]["E2_TARGET_LOW"]["threshold"] = "22 pg/mL"
    path.write_text(json.dumps(doc))
    changed = e2mon(env, "--json", "profile", "set", str(path), "--yes")
    assert changed.exit_code == 0, changed.output
    assert json.loads(changed.output)["changes"] == [{"name": "E2_TARGET_LOW", "old": "20 pg/mL", "new": "22 pg/mL"}]
