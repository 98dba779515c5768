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
