"""Data that leaves the clinic is exact: FHIR times carry each record's own offset and no invented time of
day, an SI value keeps what was typed, JSON speaks in the units people read."""
import json
import time

import pytest
from fhir.resources.R4B.bundle import Bundle

from host_tools import fhir
from host_tools.db import HostDB
from monitor import dates, records

DEVICE = "AA:BB:CC:00:00:07"
JULY = dates.days_from_civil(2026, 7, 15)
DECEMBER = dates.days_from_civil(2026, 12, 3)


@pytest.fixture
def new_york(monkeypatch):
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def db(tmp_path):
    db = HostDB(str(tmp_path / "h.sqlite"))
    db.ensure_device(DEVICE)
    db.store_records(DEVICE, [
        (0, JULY, 9 * 60, records.KIND_LAB, records.A_E2, 385, records.FLAG_CLINIC),
        (1, DECEMBER, 9 * 60, records.KIND_LAB, records.A_E2, 300, records.FLAG_CLINIC),
        # 150 pmol/L typed, stored as 40.9 pg/mL, entered without a time of day (12:00 stored)
        (2, DECEMBER + 1, 720, records.KIND_LAB, records.A_E2, 409, records.FLAG_CLINIC | records.FLAG_SI),
        (3, DECEMBER + 2, 720, records.KIND_DOSE, records.D_ANASTROZOLE, 500, records.FLAG_CLINIC),
        (4, DECEMBER + 3, 600, records.KIND_LAB, records.A_E2, 310, records.FLAG_SI),   # SI, from elsewhere
    ])
    db.remember_as_typed(DEVICE, 2, "150", "pmol/L", time_given=False)
    db.remember_as_typed(DEVICE, 3, "", "", time_given=False)
    yield db
    db.close()


def _observations(text):
    Bundle.model_validate_json(text)     # a valid R4 bundle, extension and date-only times included
    bundle = json.loads(text)
    return {int(e["resource"]["id"].rsplit("-", 1)[1]): e["resource"] for e in bundle["entry"][2:]}


def test_each_record_keeps_its_own_dates_offset_in_the_hosts_zone(db, new_york):
    found = _observations(fhir.bundle_text(db, DEVICE))
    assert found[0]["effectiveDateTime"] == "2026-07-15T09:00:00-04:00"    # summer time in July
    assert found[1]["effectiveDateTime"] == "2026-12-03T09:00:00-05:00"    # standard time in December


def test_an_entry_without_a_time_of_day_exports_its_date_only(db, new_york):
    found = _observations(fhir.bundle_text(db, DEVICE))
    assert found[2]["effectiveDateTime"] == "2026-12-04"
    assert found[3]["effectiveDateTime"] == "2026-12-05"
    assert found[4]["effectiveDateTime"] == "2026-12-06T10:00:00-05:00"


def test_an_si_entry_says_it_was_converted_and_keeps_the_value_as_typed(db):
    found = _observations(fhir.bundle_text(db, DEVICE, tz="+00:00"))
    quantity = found[2]["valueQuantity"]
    assert (quantity["value"], quantity["code"]) == (40.9, "pg/mL")
    (translation,) = quantity["extension"]
    assert translation["url"] == "http://hl7.org/fhir/StructureDefinition/iso21090-PQ-translation"
    assert translation["valueQuantity"]["value"] == 150 and translation["valueQuantity"]["code"] == "pmol/L"
    assert "entered as 150 pmol/L" in found[2]["note"][0]["text"]
    # entered in SI elsewhere: the fact is said, no value is invented
    assert "extension" not in found[4]["valueQuantity"]
    assert "entered in SI units" in found[4]["note"][0]["text"]
    assert "note" not in found[0] and "extension" not in found[0]["valueQuantity"]
    # CSV and JSON carry it next to the stored value too
    from host_tools import export
    rows = {row["seq"]: row for row in export.rows(db, DEVICE)}
    assert (rows[2]["value"], rows[2]["unit"], rows[2]["entered_as"]) == ("40.9", "pg/mL", "150 pmol/L")
    assert rows[4]["entered_si"] and rows[4]["entered_as"] == "" and rows[0]["entered_as"] == ""


# --- JSON in the units people read; profiles that travel -------------------------------------------------

from click.testing import CliRunner  # noqa: E402

from host_tools import cli as cli_module  # noqa: E402
from monitor import profile as P  # noqa: E402
from monitor import profile_codec  # noqa: E402


def e2mon(db_path, *args):
    cli_module._register()
    return CliRunner().invoke(cli_module.cli, ["--db", str(db_path)] + list(args), catch_exceptions=False)


def _device_profile():
    profile = P.Profile()
    profile_codec.set_param(profile, "E2_TARGET_LOW", 150)      # 15 pg/mL: the clinician's own band
    profile_codec.set_param(profile, "E2_LOW", 100)             # 10 pg/mL
    profile_codec.set_param(profile, "E2_LOW_SYMPT", 80)
    profile_codec.set_param(profile, "E2_CRITICAL", 50)
    profile_codec.set_param(profile, "BIRTH_YEAR", 1975)
    profile_codec.set_param(profile, "TE_RATIO", 85)
    return profile


def _clinic_db(path, label=None):
    with HostDB(str(path)) as held:
        held.ensure_device(DEVICE)
        held.set_profile(DEVICE, profile_codec.encode(_device_profile()))
        held.store_records(DEVICE, [
            (0, JULY, 480, records.KIND_DOSE, records.D_ANASTROZOLE, 500, records.FLAG_CLINIC),
            (1, JULY + 30, 540, records.KIND_LAB, records.A_E2, 130, records.FLAG_CLINIC | records.METHOD_LCMS),
        ])
        if label:
            held.set_label(DEVICE, label)


def test_profile_show_json_is_in_readable_units_and_set_reads_it_back(tmp_path):
    shown = e2mon(tmp_path / "none.sqlite", "--json", "profile", "show", "--default")
    doc = json.loads(shown.output)
    assert doc["profile"]["E2_TARGET_LOW"] == {"threshold": "20 pg/mL"}       # not 200
    assert doc["profile"]["BMD_OSTEOPENIA"]["threshold"] == "-1.0 SD"       # not -10
    assert doc["profile"]["E2_HIGH"]["level"] in ("info", "discuss", "urgent", "off")
    edited = tmp_path / "profile.json"
    doc["profile"]["E2_TARGET_LOW"]["threshold"] = "22 pg/mL"
    edited.write_text(json.dumps(doc))
    checked = e2mon(tmp_path / "none.sqlite", "--json", "profile", "check", str(edited))
    assert checked.exit_code == 0, checked.output
    expected = P.Profile()
    profile_codec.set_param(expected, "E2_TARGET_LOW", 220)
    assert json.loads(checked.output)["crc"] == expected.crc()


def test_exported_history_carries_the_devices_profile_for_evaluate(tmp_path):
    db_path = tmp_path / "h.sqlite"
    _clinic_db(db_path)
    out = tmp_path / "history.json"
    assert e2mon(db_path, "export", "--format", "history", "--out", str(out)).exit_code == 0
    history = json.loads(out.read_text())
    assert history["profile"]["E2_TARGET_LOW"] == {"threshold": "15 pg/mL"}
    assert history["profile"]["TE_RATIO"]["threshold"] == 8.5
    assert history["patient"]["birth_year"] == 1975
    evaluated = e2mon(db_path, "--json", "evaluate", str(out), "--at", dates.format_day(JULY + 31))
    flags = json.loads(evaluated.output)["flags"]
    # 13 pg/mL is low by the defaults (E2_LOW 15) but not by the device's own ladder (E2_LOW 10)
    assert [f["rule"] for f in flags if f["rule"].startswith("E2_LOW")] == []


def test_profile_check_uses_the_devices_profile_and_says_what_is_not_in_the_file(tmp_path):
    db_path = tmp_path / "h.sqlite"
    _clinic_db(db_path)
    high = tmp_path / "high.txt"
    high.write_text("E2_TARGET_HIGH = 14 pg/mL\n")    # below the device's 15 pg/mL low end
    result = e2mon(db_path, "profile", "check", str(high))
    assert result.exit_code == 6
    assert "E2_TARGET_HIGH = 14 pg/mL must be above E2_BONE = 26 pg/mL (from the current profile of %s, not " \
        "set in %s)" % (DEVICE, high) in result.output
    fine = tmp_path / "fine.txt"
    fine.write_text("E2_LOW = 12 pg/mL\n")    # above the device's E2_LOW_SYMPT 8, below the default's 15
    assert e2mon(tmp_path / "none.sqlite", "profile", "check", str(fine)).exit_code == 6
    result = e2mon(db_path, "--json", "profile", "check", str(fine))
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["checked_against"] == "the current profile of %s" % DEVICE


def test_export_with_json_is_json_and_all_writes_one_labelled_file_per_patient(tmp_path):
    db_path = tmp_path / "h.sqlite"
    _clinic_db(db_path, label="patient 12")
    with HostDB(str(db_path)) as held:
        held.ensure_device("dev-b")
        held.store_records("dev-b", [(0, JULY, 480, records.KIND_LAB, records.A_E2, 250, 0)])
    assert json.loads(e2mon(db_path, "--json", "export", "--device", "patient 12").output)["records"][1]["value"] \
        == "13"
    folder = tmp_path / "out"
    result = e2mon(db_path, "--json", "export", "--all", "--format", "fhir", "--out", str(folder))
    assert result.exit_code == 0, result.output
    files = {f["device_id"]: f["out"] for f in json.loads(result.output)["files"]}
    assert sorted(p.name for p in folder.iterdir()) == ["dev-b.fhir.json", "patient_12.fhir.json"]
    bundle = json.loads(open(files[DEVICE]).read())
    Bundle.model_validate(bundle)
    identifiers = bundle["entry"][0]["resource"]["identifier"]
    assert {"system": fhir.LABEL_SYSTEM, "value": "patient 12"} in identifiers
    result = e2mon(db_path, "export", "--all", "--out", str(folder))
    with open(folder / "patient_12.csv") as f:
        assert all(row.split(",")[1] == "patient 12" for row in f.read().splitlines()[1:])
    assert e2mon(db_path, "export", "--all").exit_code == 2


def test_a_dst_switch_day_gives_each_hour_its_offset(tmp_path, new_york):
    switch = dates.days_from_civil(2026, 3, 8)    # New York moves from -05:00 to -04:00 at 02:00
    with HostDB(str(tmp_path / "dst.sqlite")) as held:
        held.ensure_device(DEVICE)
        held.store_records(DEVICE, [(0, switch, 60, records.KIND_SYMPTOM, records.S_JOINT, 1, 0),
                                    (1, switch, 600, records.KIND_SYMPTOM, records.S_JOINT, 2, 0)])
        found = _observations(fhir.bundle_text(held, DEVICE))
    assert [found[0]["effectiveDateTime"], found[1]["effectiveDateTime"]] == [
        "2026-03-08T01:00:00-05:00", "2026-03-08T10:00:00-04:00"]
