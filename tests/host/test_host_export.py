"""Exports: CSV/JSON rows and a FHIR R4 Bundle that validates and round-trips to the device's values."""
import csv
import io
import json
import sys
from decimal import Decimal

import pytest
from fhir.resources.R4B.bundle import Bundle

from host_tools import export, fhir
from host_tools.db import HostDB
from monitor import catalog, dates, profile_codec, records, units
from monitor import profile as P
from paths import TESTS

DAY = dates.days_from_civil(2026, 11, 1)

# (analyte, entered text, unit) as a patient or clinic would type them; conventional and SI units.
ENTRIES = [
    ("E2", "38.5", "pg/mL"),
    ("E2", "150", "pmol/L"),
    ("TT", "17.3", "nmol/L"),
    ("TT", "640", "ng/dL"),
    ("HCT", "0.47", "L/L"),
    ("LH", "4.2", "IU/L"),
    ("PSA", "1.25", "ng/mL"),
    ("TG", "1.7", "mmol/L"),
    ("SPERM", "42", "M/mL"),
    ("BMD_T", "-1.4", "SD"),
]


def decimal_entry(text):
    mantissa, _, frac = text.partition(".")
    return int(mantissa + frac), len(frac)


@pytest.fixture
def db(tmp_path):
    db = HostDB(str(tmp_path / "h.sqlite"))
    db.ensure_device("AA:BB:CC:00:00:01", name="e2mon-test", firmware="0.1.0")
    profile = P.Profile()
    profile_codec.set_param(profile, "BIRTH_YEAR", 1971)
    db.set_profile("AA:BB:CC:00:00:01", profile_codec.encode(profile))
    rows = []
    for seq, (name, text, unit) in enumerate(ENTRIES):
        code = catalog.ANALYTES.index(name)
        mantissa, decimals = decimal_entry(text)
        stored, is_si = units.convert_entry(records.KIND_LAB, code, mantissa, decimals, unit)
        flags = records.METHOD_LCMS | (records.FLAG_SI if is_si else 0)
        rows.append((seq, DAY + seq, 8 * 60 + seq, records.KIND_LAB, code, stored, flags))
    n = len(rows)
    rows.append((n, DAY, 600, records.KIND_DOSE, records.D_ANASTROZOLE, 500, 0))
    rows.append((n + 1, DAY, 601, records.KIND_DOSE, records.D_TESTOSTERONE, 100, 0))
    rows.append((n + 2, DAY, 602, records.KIND_SYMPTOM, records.S_JOINT, 2, 0))
    rows.append((n + 3, DAY, 603, records.KIND_EVENT, records.EVENT_CLOCK_SET, 3600, 0))
    rows.append((n + 4, DAY + 1, 0, records.KIND_LAB, records.A_E2, 240, records.FLAG_BELOW_LLOQ | 1))
    db.store_records("AA:BB:CC:00:00:01", rows)
    db.rows = rows
    return db


def test_fhir_bundle_validates_with_patient_device_and_loinc(db):
    text = fhir.bundle_text(db, "AA:BB:CC:00:00:01", tz="+01:00")
    bundle = Bundle.model_validate_json(text)
    kinds = [e.resource.get_resource_type() for e in bundle.entry]
    assert kinds.count("Patient") == 1 and kinds.count("Device") == 1
    patient = [e.resource for e in bundle.entry if e.resource.get_resource_type() == "Patient"][0]
    assert str(patient.birthDate) == "1971" and patient.identifier[0].value == "AA:BB:CC:00:00:01"
    device = [e.resource for e in bundle.entry if e.resource.get_resource_type() == "Device"][0]
    assert device.version[0].value == "0.1.0" and device.deviceName[0].name == "e2mon-test"
    labs = [e.resource for e in bundle.entry if e.resource.get_resource_type() == "Observation"
            and e.resource.code.coding[0].system == "http://loinc.org"]
    assert len(labs) == len(ENTRIES) + 1
    assert {o.code.coding[0].code for o in labs} == {catalog.LOINC[catalog.ANALYTES.index(a)] for a, _, _ in ENTRIES}
    assert all(o.valueQuantity.system == "http://unitsofmeasure.org" for o in labs)
    assert kinds.count("MedicationStatement") == 2
    below = [o for o in labs if o.valueQuantity.comparator == "<"]
    assert len(below) == 1 and below[0].valueQuantity.value == Decimal("24")
    # Every reference points at an entry of the bundle.
    urls = {e.fullUrl for e in bundle.entry}
    for o in labs:
        assert o.subject.reference in urls and o.device.reference in urls


def test_fhir_values_round_trip_to_device_integers_after_unit_conversion(db):
    bundle = json.loads(fhir.bundle_text(db, "AA:BB:CC:00:00:01", tz="+00:00"), parse_float=Decimal)
    back = fhir.read_lab_values(bundle)
    stored = [(catalog.LOINC[r[4]], r[5]) for r in db.rows if r[3] == records.KIND_LAB]
    assert [(loinc, value) for loinc, _when, value in back] == stored
    # And the exported number is the entry converted to the conventional unit.
    by_loinc = {loinc: value for loinc, _w, value in back[:len(ENTRIES)]}
    e2_si = [q for q in bundle["entry"] if q["resource"].get("effectiveDateTime", "").startswith(
        dates.format_day(DAY + 1))][0]["resource"]["valueQuantity"]
    assert e2_si["unit"] == "pg/mL"
    assert abs(e2_si["value"] - Decimal(150) / Decimal("3.671")) <= Decimal("0.05")
    assert by_loinc["4544-3"] == 470          # 0.47 L/L -> 47.0 %


def test_csv_and_json_rows_show_units_and_qualifiers(db):
    out = io.StringIO()
    count = export.write_csv(db, "AA:BB:CC:00:00:01", out)
    assert count == len(db.rows)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    first = rows[0]
    assert (first["name"], first["value"], first["unit"], first["method"]) == ("E2", "38.5", "pg/mL", "LC-MS/MS")
    assert rows[1]["entered_si"] == "True" and rows[1]["value"] == "40.9"
    dose = [r for r in rows if r["kind"] == "dose"][0]
    assert (dose["name"], dose["value"], dose["unit"]) == ("anastrozole", "0.5", "mg")
    assert rows[-1]["below_lloq"] == "True"
    out = io.StringIO()
    export.write_json(db, "AA:BB:CC:00:00:01", out)
    data = json.loads(out.getvalue())
    assert data["device"]["name"] == "e2mon-test"
    assert [r["seq"] for r in data["records"]] == list(range(len(db.rows)))


def test_fhir_bundle_of_a_long_log_validates_and_counts(tmp_path):
    sys.path.insert(0, TESTS)
    from bench.bench_host import therapy_log   # the bench's log: labs, doses and symptoms

    db = HostDB(str(tmp_path / "long.sqlite"))
    db.ensure_device("dev-long")
    log = therapy_log(3000)
    db.store_records("dev-long", log)
    out = io.StringIO()
    count = fhir.write_bundle(db, "dev-long", out, tz="-05:00")
    bundle = Bundle.model_validate_json(out.getvalue())
    assert count == len(bundle.entry) == len(log) + 2   # every lab, dose and symptom, plus Patient and Device
    assert len({e.fullUrl for e in bundle.entry}) == len(bundle.entry)
    doses = [e.resource for e in bundle.entry if e.resource.get_resource_type() == "MedicationStatement"]
    first = doses[0].dosage[0].doseAndRate[0].doseQuantity
    assert (str(first.value), first.code) == ("0.5", "mg")
    assert doses[0].effectiveDateTime.isoformat().endswith("-05:00")


def test_done_on_a_reminder_reads_drawn_and_a_long_snooze_its_cap():
    from monitor import schedule
    assert export.event_text(9500, 0, records.EVENT_ACK, schedule.M_CBC, 0) == \
        "reminder CBC: drawn, waiting for the result"
    assert export.event_text(9500, 0, records.EVENT_ACK, schedule.M_FERTILITY_REVIEW, 0) == \
        "reminder FERTILITY_REVIEW acknowledged"
    assert export.event_text(9500, 0, records.EVENT_SNOOZE, schedule.M_CBC, 14) == \
        "reminder CBC snoozed for 14 days (counts as 7)"


def test_a_stop_in_every_export(db):
    device = "AA:BB:CC:00:00:01"
    n = len(db.rows)
    db.store_records(device, [(n, DAY + 20, 600, records.KIND_DOSE, records.D_ANASTROZOLE, 0, 0)])
    bundle = Bundle.model_validate_json(fhir.bundle_text(db, device, tz="+00:00"))
    statements = [e.resource for e in bundle.entry if e.resource.get_resource_type() == "MedicationStatement"]
    assert [s.status for s in statements] == ["completed", "completed", "stopped"]
    assert export.history_entry(DAY + 20, 600, records.KIND_DOSE, records.D_ANASTROZOLE, 0, 0) == {
        "date": "2026-11-21", "time": "10:00", "kind": "dose", "drug": "anastrozole", "stop": True,
        "entered_by": "patient"}
    rows = list(export.rows(db, device))
    assert (rows[-1]["value"], rows[-1]["unit"], rows[-1]["shown"]) == ("stopped", "", "stopped")


def test_every_loinc_code_has_a_valid_check_digit():
    def check_digit(number):
        total = 0
        for i, c in enumerate(reversed(number)):
            d = int(c) * (2 if i % 2 == 0 else 1)
            total += d - 9 if d > 9 else d
        return (10 - total % 10) % 10
    for code in catalog.LOINC + (catalog.LOINC_E2_SENSITIVE,):
        number, check = code.split("-")
        assert int(check) == check_digit(number), code
    assert catalog.LOINC[records.A_BMD_T] == "38267-1"     # DXA lumbar spine T-score


def test_fhir_birth_date_is_whole_when_the_profile_has_it(db):
    device = "AA:BB:CC:00:00:01"
    profile = P.Profile()
    profile_codec.set_param(profile, "BIRTH_YEAR", 1971)
    profile_codec.set_param(profile, "BIRTH_MONTH_DAY", 615)
    db.set_profile(device, profile_codec.encode(profile))
    bundle = Bundle.model_validate_json(fhir.bundle_text(db, device, tz="+00:00"))
    patient = [e.resource for e in bundle.entry if e.resource.get_resource_type() == "Patient"][0]
    assert str(patient.birthDate) == "1971-06-15"


def test_every_export_says_who_entered_each_record(db):
    """records.FLAG_CLINIC (set by the device in a clinician session) reads "clinic"; everything else,
    the buttons and a patient-key push, "patient"; FHIR names the patient as performer (Observation) or
    informationSource (MedicationStatement) and adds a patient-reported category."""
    device = "AA:BB:CC:00:00:01"
    n = len(db.rows)
    db.store_records(device, [(n, DAY + 2, 0, records.KIND_LAB, records.A_E2, 650, records.FLAG_CLINIC | 2),
                              (n + 1, DAY + 2, 1, records.KIND_DOSE, records.D_ANASTROZOLE, 500, records.FLAG_CLINIC)])
    by_seq = {r["seq"]: r["entered_by"] for r in export.rows(db, device)}
    assert by_seq[n] == by_seq[n + 1] == "clinic" and by_seq[0] == "patient" and by_seq[n - 2] == "device"
    out = io.StringIO()
    export.write_csv(db, device, out)
    assert "entered_by" in out.getvalue().splitlines()[0]
    assert export.history_entry(DAY, 0, records.KIND_LAB, records.A_E2, 650, 0)["entered_by"] == "patient"
    bundle = Bundle.model_validate_json(fhir.bundle_text(db, device, tz="+00:00"))
    patient = [e.fullUrl for e in bundle.entry if e.resource.get_resource_type() == "Patient"][0]
    for e in bundle.entry:
        res = e.resource
        kind = res.get_resource_type()
        seq = int(res.id.rsplit("-", 1)[1]) if kind in ("Observation", "MedicationStatement") else None
        if kind == "Observation":
            codes = [c.coding[0].code for c in res.category]
            if seq in (n, n + 1):
                assert res.performer is None and "patient-reported" not in codes
            else:
                assert [p.reference for p in res.performer] == [patient] and "patient-reported" in codes
        elif kind == "MedicationStatement":
            assert (res.informationSource is None) == (seq == n + 1)


def test_one_unknown_code_does_not_break_any_export(db, tmp_path):
    """A record with a code this host does not know (newer firmware) is exported as its raw value and said
    so; every other record exports as before, and FHIR still validates."""
    from click.testing import CliRunner

    from host_tools import cli as cli_module
    device = "AA:BB:CC:00:00:01"
    n = len(db.rows)
    db.store_records(device, [(n, DAY + 3, 0, records.KIND_LAB, 42, 777, 0),
                              (n + 1, DAY + 3, 1, records.KIND_EVENT, 99, 5, 0),
                              (n + 2, DAY + 3, 2, records.KIND_SYMPTOM, 50, 2, 0)])
    rows = {r["seq"]: r for r in export.rows(db, device)}
    assert rows[n]["value"] == "777" and rows[n]["unknown_code"] and "unknown" in rows[n]["name"]
    assert rows[n + 1]["value"] == "5" and rows[n + 1]["unknown_code"] and not rows[0]["unknown_code"]
    bundle = Bundle.model_validate_json(fhir.bundle_text(db, device, tz="+00:00"))
    unknown = [e.resource for e in bundle.entry if e.resource.get_resource_type() == "Observation"
               and e.resource.code.coding[0].system == fhir.UNKNOWN_CODE_SYSTEM]
    assert sorted(o.valueInteger for o in unknown) == [2, 777] and all("unknown" in o.code.text for o in unknown)
    history = io.StringIO()
    export.write_history(db, device, history)
    assert len(json.load(io.StringIO(history.getvalue()))["entries"]) > 0
    cli_module._register()
    env = {"E2MON_DB": db.path}
    for fmt in ("csv", "json", "fhir", "history"):
        result = CliRunner().invoke(cli_module.cli, ["export", "--format", fmt, "--device", device], env=env)
        assert result.exit_code == 0, (fmt, result.output)
    out = tmp_path / "r.html"
    result = CliRunner().invoke(cli_module.cli, ["report", "--out", str(out), "--device", device], env=env)
    assert result.exit_code == 0, result.output
    assert "3 records with codes this version of e2mon does not know" in out.read_text()


def test_a_pull_counts_and_names_records_with_unknown_codes():
    from host_tools import cmd_pull
    batch = [(5, DAY, 0, records.KIND_LAB, records.A_E2, 300, 0), (6, DAY, 1, records.KIND_LAB, 42, 777, 0),
             (7, DAY, 2, records.KIND_EVENT, 99, 1, 0), (8, DAY, 3, records.KIND_SYMPTOM, 50, 1, 0)]
    assert cmd_pull.unknown_codes(batch, 6) == 3 and cmd_pull.unknown_codes(batch, 7) == 2
    lines = cmd_pull.notes({"device_id": "AA:BB", "unknown_codes": 3})
    assert lines == ["3 new records with codes this version of e2mon does not know (written by newer firmware?): "
                     "stored as received, exported with their raw values; update e2mon"]
    assert cmd_pull.notes({"device_id": "AA:BB", "unknown_codes": 0}) == []
