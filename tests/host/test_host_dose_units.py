"""Testosterone doses stored in mg (a host database from before schema 3, records from earlier firmware)
read as the same doses as those stored in µg now: the migration, a pull that delivers old records again,
CSV/JSON/FHIR exports, the history file `e2mon evaluate` reads, and the report."""
import io
import json
import os
import sqlite3
import sys

from host_tools import db as host_db
from host_tools import export, fhir, report
from host_tools.cmd_evaluate import evaluate
from host_tools.db import HostDB
from host_tools.device_link import records_in_frame
from host_tools.history import load
from monitor import dates, records
from paths import TESTS

sys.path.insert(0, os.path.join(TESTS, "core"))
from old_records import old_record  # noqa: E402  (the bytes earlier firmware wrote: mg, no FLAG_UG)

DAY = dates.days_from_civil(2026, 11, 2)
DEVICE = "dev-old"
T, A = records.D_TESTOSTERONE, records.D_ANASTROZOLE
CONFIRMED = records.FLAG_CONFIRMED


def old_record_bytes(seq, day, value_mg):
    buf = bytearray(records.RECORD_SIZE)
    old_record(buf, 0, seq, day, value_mg)
    return bytes(buf)


def new_record(seq, day, kind, code, value, flags=CONFIRMED):
    buf = bytearray(records.RECORD_SIZE)
    records.pack_record(buf, 0, seq, day, 0, kind, code, value, flags)
    return bytes(buf)


def schema_2_database(path):
    """A clinician's database as the host wrote it before testosterone doses were in µg."""
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
    os.close(fd)
    conn = sqlite3.connect(str(path))
    conn.executescript(host_db.SCHEMA)
    conn.execute("INSERT INTO devices(device_id, first_seen) VALUES (?, 1)", (DEVICE,))
    conn.executemany("INSERT INTO records VALUES (?, ?, ?, 0, ?, ?, ?, ?)", [
        (DEVICE, 1, DAY, records.KIND_DOSE, T, 100, CONFIRMED),           # 100 mg
        (DEVICE, 2, DAY, records.KIND_DOSE, A, 500, CONFIRMED),           # 0.5 mg (µg then too)
        (DEVICE, 3, DAY + 7, records.KIND_DOSE, T, 100, CONFIRMED),
        (DEVICE, 4, DAY + 8, records.KIND_LAB, records.A_TT, 640, 0),
    ])
    conn.execute("PRAGMA user_version=2")
    conn.commit()
    conn.close()


def dose_values(db):
    return [(r[0], r[4], r[5], r[6]) for r in db.records(DEVICE, records.KIND_DOSE)]


def test_schema_2_testosterone_doses_become_ug_after_a_backup(tmp_path):
    path = tmp_path / "old.sqlite"
    schema_2_database(path)
    with HostDB(str(path)) as db:
        assert dose_values(db) == [(1, T, 100000, CONFIRMED), (2, A, 500, CONFIRMED), (3, T, 100000, CONFIRMED)]
        assert list(db.lab_results(DEVICE, records.A_TT)) == [(DAY + 8, 0, 640, False)]
        assert db.conn.execute("PRAGMA user_version").fetchone()[0] == host_db.SCHEMA_VERSION == 5
    (backup,) = os.listdir(str(path) + ".backups")
    kept = sqlite3.connect(os.path.join(str(path) + ".backups", backup))
    assert "before-schema-5" in backup and kept.execute("PRAGMA user_version").fetchone()[0] == 2
    assert kept.execute("SELECT value FROM records WHERE seq=1").fetchone()[0] == 100   # the original, as it was
    kept.close()
    with HostDB(str(path)) as db:     # opened again: converted once only, no second backup
        assert dose_values(db)[0] == (1, T, 100000, CONFIRMED)
    assert len(os.listdir(str(path) + ".backups")) == 1


def test_old_and_new_records_of_one_dose_agree_in_every_export(tmp_path):
    path = tmp_path / "old.sqlite"
    schema_2_database(path)
    with HostDB(str(path)) as db:
        # the device sends its log again (old mg records from its flash) and then a new µg record
        frame = old_record_bytes(3, DAY + 7, 100) + new_record(5, DAY + 14, records.KIND_DOSE, T, 100000)
        assert db.store_records(DEVICE, records_in_frame(frame, 3)) == 1   # record 3 matches the converted row
        gel = new_record(6, DAY + 15, records.KIND_DOSE, T, 20250)            # 20.25 mg gel
        assert db.store_records(DEVICE, records_in_frame(gel, 6)) == 1
        assert dose_values(db)[2:] == [(3, T, 100000, CONFIRMED), (5, T, 100000, CONFIRMED),
                                       (6, T, 20250, CONFIRMED)]

        rows = {r["seq"]: r for r in export.rows(db, DEVICE)}
        for seq in (1, 3, 5):
            assert (rows[seq]["value"], rows[seq]["unit"], rows[seq]["shown"]) == ("100", "mg", "100 mg")
        assert rows[6]["shown"] == "20.25 mg" and rows[2]["shown"] == "0.5 mg"
        out = io.StringIO()
        export.write_csv(db, DEVICE, out)
        assert out.getvalue().count(",testosterone,,100,mg,100 mg,") == 3
        out = io.StringIO()
        export.write_json(db, DEVICE, out)
        shown = [r["shown"] for r in json.loads(out.getvalue())["records"] if r["name"] == "testosterone"]
        assert shown == ["100 mg", "100 mg", "100 mg", "20.25 mg"]

        out = io.StringIO()
        fhir.write_bundle(db, DEVICE, out)
        quantities = [e["resource"]["dosage"][0]["doseAndRate"][0]["doseQuantity"]
                      for e in json.loads(out.getvalue())["entry"]
                      if e["resource"]["resourceType"] == "MedicationStatement"]
        assert [(q["value"], q["unit"]) for q in quantities] == [(100, "mg"), (0.5, "mg"), (100, "mg"), (100, "mg"),
                                                                 (20.25, "mg")]

        out = io.StringIO()
        export.write_history(db, DEVICE, out)
        doc = load(out.getvalue(), "history")
        assert [e["value"] for e in doc["entries"] if e.get("drug") == "testosterone"] == \
            ["100 mg", "100 mg", "100 mg", "20.25 mg"]
        result = evaluate(doc, DAY + 16)      # the history runs through the device's core, every dose accepted
        assert result["rejected"] == []

        data = report.gather(db, DEVICE, today=DAY + 16)
        # one start and one real change (100 -> 20.25 mg): the old records are not a change to 100 µg
        assert [(d[1], d[2]) for d in data.dose_changes] == [("testosterone", "100 mg"), ("anastrozole", "0.5 mg"),
                                                             ("testosterone", "20.25 mg")]
