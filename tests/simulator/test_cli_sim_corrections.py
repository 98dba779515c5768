"""Mistakes corrected in the open, end to end through `--sim` (the real firmware app in its own process): an
exact duplicate is asked about (on the device before a pull, on the host after), a date before the therapy
needs --confirm, `entry void` / `entry amend` are recorded on the device, its flags follow the corrected
value, and CSV, FHIR and the history export say what happened."""
import datetime
import json

import pytest
from fhir.resources.R4B.bundle import Bundle

from host_tools.failures import EXIT_REJECTED
from test_cli_sim import KEY, SimDevice, e2mon, host_env, one_error_line, save_keys


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli_sim_corrections")
    device = SimDevice(str(tmp / "flash"), KEY.hex(), 0)
    env = host_env(tmp, device.port)
    save_keys(env)
    yield env
    device.stop()


def day(offset):
    return (datetime.date.today() + datetime.timedelta(days=offset)).isoformat()


def e2_flags(sim):
    out = e2mon(sim, "alerts", "--json")
    assert out.exit_code == 0, out.output
    return [f["rule"] for f in json.loads(out.output)["flags"] if f["rule"].startswith("E2_")]


def test_duplicates_dates_void_and_amend(sim, tmp_path):
    assert e2mon(sim, "time-sync").exit_code == 0
    assert e2mon(sim, "push", "dose", "anastrozole", "1", "mg", "--date", day(-40)).exit_code == 0
    e2 = ["push", "lab", "E2", "90", "pg/mL", "--date", day(-2), "--time", "08:00", "--method", "LC-MS/MS",
          "--confirm"]
    first = e2mon(sim, *e2, "--json")
    assert first.exit_code == 0, first.output
    original = json.loads(first.output)["seq"]

    # not pulled yet: the device refuses the duplicate, and without a terminal nothing asks
    again = e2mon(sim, *e2)
    assert again.exit_code == EXIT_REJECTED
    assert "already stored as record %d (on the device)" % original in one_error_line(again)
    assert "--yes" in again.output
    # pulled: the host knows it before any radio traffic
    assert e2mon(sim, "pull").exit_code == 0
    again = e2mon(sim, *e2)
    assert again.exit_code == EXIT_REJECTED
    assert "already stored as record %d (on this host)" % original in one_error_line(again)
    stored = e2mon(sim, *e2, "--yes", "--json")
    assert stored.exit_code == 0, stored.output
    duplicate = json.loads(stored.output)["seq"]
    assert duplicate > original

    # a date before the therapy's start (the first dose) needs --confirm, on the host and on the device
    early = ["push", "lab", "TT", "500", "ng/dL", "--date", day(-41)]
    refused = e2mon(sim, *early)
    assert refused.exit_code == EXIT_REJECTED
    assert "before the therapy's start (%s)" % day(-40) in one_error_line(refused) and "--confirm" in refused.output
    assert e2mon(sim, *early, "--confirm").exit_code == 0

    assert "E2_SEVERE" in e2_flags(sim) or "E2_HIGH" in e2_flags(sim)
    voided = e2mon(sim, "entry", "void", str(duplicate), "--reason", "duplicate", "--json")
    assert voided.exit_code == 0, voided.output
    twice = e2mon(sim, "entry", "void", str(duplicate), "--reason", "duplicate")
    assert twice.exit_code == EXIT_REJECTED and "already voided or amended" in one_error_line(twice)
    amended = e2mon(sim, "entry", "amend", str(original), "30", "pg/mL", "--reason", "wrong-value", "--json")
    assert amended.exit_code == 0, amended.output
    replacement = json.loads(amended.output)["replacement"]
    assert e2_flags(sim) == []          # the device evaluates the corrected value

    assert e2mon(sim, "pull").exit_code == 0
    csv_path = tmp_path / "out.csv"
    assert e2mon(sim, "export", "--out", str(csv_path)).exit_code == 0
    import csv
    rows = {int(r["seq"]): r for r in csv.DictReader(open(csv_path))}
    assert rows[original]["status"] == "amended" and rows[original]["value"] == "90"
    assert "record %d replaces it" % replacement in rows[original]["correction"]
    assert "wrong value" in rows[original]["correction"]
    assert rows[duplicate]["status"] == "entered-in-error" and "duplicate" in rows[duplicate]["correction"]
    assert rows[replacement]["status"] == "amendment" and rows[replacement]["value"] == "30"
    assert "replaces record %d" % original in rows[replacement]["correction"]

    fhir_path = tmp_path / "out.json"
    assert e2mon(sim, "export", "--format", "fhir", "--out", str(fhir_path)).exit_code == 0
    bundle = Bundle.model_validate_json(fhir_path.read_text())
    observations = {e.resource.id.rsplit("-", 1)[1]: e.resource for e in bundle.entry
                    if type(e.resource).__name__ == "Observation"}
    assert observations[str(original)].status == "amended"
    assert float(observations[str(original)].valueQuantity.value) == 30.0
    assert observations[str(duplicate)].status == "entered-in-error"
    assert str(replacement) not in observations          # it is the amended Observation

    history_path = tmp_path / "history.json"
    assert e2mon(sim, "export", "--format", "history", "--out", str(history_path)).exit_code == 0
    e2_values = [e["value"] for e in json.loads(history_path.read_text())["entries"] if e.get("analyte") == "E2"]
    assert e2_values == ["30 pg/mL"]
