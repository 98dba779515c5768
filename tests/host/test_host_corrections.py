"""Corrections read on the host (host_tools.corrections): the report and its --since/--until window, the
exports of a voided STOP and of an amended dose."""
import io
import json

from host_tools import export, fhir, report
from host_tools.db import HostDB
from monitor import dates, records

START = dates.days_from_civil(2026, 3, 2)


def build(tmp_path, extra=()):
    db = HostDB(str(tmp_path / "c.sqlite"))
    db.ensure_device("dev")
    rows = [
        (1, START, 480, records.KIND_DOSE, records.D_ANASTROZOLE, 1000, 0),
        (2, START + 30, 540, records.KIND_LAB, records.A_E2, 300, records.METHOD_LCMS | records.FLAG_CLINIC),
        (3, START + 60, 540, records.KIND_LAB, records.A_E2, 900, records.METHOD_LCMS | records.FLAG_CLINIC),
        (4, START + 70, 480, records.KIND_DOSE, records.D_ANASTROZOLE, 0, 0),
    ] + list(extra)
    db.store_records("dev", rows)
    return db


def e2_rules(data):
    return [line for line in data.flags if "Estradiol" in line or "E2" in line]


def test_a_voided_result_is_neither_plotted_nor_evaluated(tmp_path):
    high = report.gather(build(tmp_path / "a"), "dev", today=START + 62)
    assert e2_rules(high) and high.series[records.A_E2][1] == [30.0, 90.0]
    void = (5, START + 61, 600, records.KIND_EVENT, records.EVENT_VOID, 3, 1)
    data = report.gather(build(tmp_path / "b", [void]), "dev", today=START + 62)
    assert e2_rules(data) == [] and data.series[records.A_E2][1] == [30.0] and data.corrected == 1


def test_the_report_window_limits_what_is_shown_not_what_is_evaluated(tmp_path):
    db = build(tmp_path)
    whole = report.gather(db, "dev", today=START + 62)
    window = report.gather(db, "dev", today=START + 62, since=START + 50, until=START + 65)
    assert (window.first, window.last) == (START + 60, START + 60)
    assert window.series[records.A_E2][1] == [90.0]
    assert window.flags == whole.flags and window.dose_changes == []
    # the stop is judged against the dose before the window, and only it is shown
    assert [c[2] for c in report.gather(db, "dev", today=START + 80, since=START + 65).dose_changes] == ["stopped"]


def test_exports_of_a_voided_stop_and_an_amended_dose(tmp_path):
    amend = [(5, START, 480, records.KIND_DOSE, records.D_ANASTROZOLE, 500, records.FLAG_AMENDS),
             (6, START + 71, 600, records.KIND_EVENT, records.EVENT_AMEND, 1, 2),
             (7, START + 71, 601, records.KIND_EVENT, records.EVENT_VOID, 4, 0)]
    db = build(tmp_path, amend)
    out = io.StringIO()
    fhir.write_bundle(db, "dev", out, tz="+00:00")
    resources = {e["resource"]["id"].rsplit("-", 1)[1]: e["resource"] for e in json.loads(out.getvalue())["entry"]
                 if e["resource"]["resourceType"] == "MedicationStatement"}
    assert set(resources) == {"1", "4"}                      # the amendment stands as record 1
    assert resources["1"]["status"] == "completed"
    assert resources["1"]["dosage"][0]["doseAndRate"][0]["doseQuantity"]["value"] == 0.5
    assert "amended: wrong value (record 5 replaces record 1)" in resources["1"]["note"][0]["text"]
    assert resources["4"]["status"] == "entered-in-error"
    assert [n["text"] for n in resources["4"]["note"]][1] == "stopped" and "voided" in resources["4"]["note"][0]["text"]
    rows = {r["seq"]: r for r in export.rows(db, "dev")}
    assert rows[1]["status"] == "amended" and rows[5]["status"] == "amendment" and rows[4]["status"] == "entered-in-error"
    assert rows[6]["shown"] == "record 1 amended by record 5: wrong value"
    assert rows[7]["shown"] == "record 4 voided: entered in error"
    # a window that leaves the correction out still applies it
    window = export.Window(db, START, START + 5)
    assert {r["seq"]: r["status"] for r in export.rows(window, "dev")} == {1: "amended", 5: "amendment"}


def test_report_since_until_on_the_command_line(tmp_path):
    from test_cli_offline import e2mon

    build(tmp_path).close()
    db_path = tmp_path / "c.sqlite"
    out = tmp_path / "r.png"
    done = e2mon(db_path, "report", "--out", str(out), "--since", dates.format_day(START + 50), "--until",
                 dates.format_day(START + 65), "--today", dates.format_day(START + 62), "--json")
    assert done.exit_code == 0, done.output
    assert out.stat().st_size > 0
    swapped = e2mon(db_path, "report", "--out", str(out), "--since", dates.format_day(START + 65), "--until",
                    dates.format_day(START + 50))
    assert swapped.exit_code == 6 and "is after --until" in swapped.output
