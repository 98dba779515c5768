"""CLI commands on the host database alone: export, report, device selection, progress line."""
import csv
import io
import json

from click.testing import CliRunner
from PIL import Image

from host_tools import cli as cli_module
from host_tools import report
from host_tools.db import HostDB
from host_tools.progress import Progress
from monitor import dates, profile_codec, records

DAY = dates.days_from_civil(2026, 9, 1)


def make_db(path, devices=("dev-a",)):
    with HostDB(str(path)) as db:
        for n, device in enumerate(devices):
            db.ensure_device(device)
            db.store_records(device, [
                (0, DAY, 480, records.KIND_DOSE, records.D_ANASTROZOLE, 500, 0),
                (1, DAY + 30, 540, records.KIND_LAB, records.A_E2, 180 + n, records.METHOD_LCMS),
                (2, DAY + 30, 541, records.KIND_LAB, records.A_TT, 640, 0),
                (3, DAY + 31, 600, records.KIND_SYMPTOM, records.S_JOINT, 2, 0),
            ])


def e2mon(db_path, *args):
    cli_module._register()
    return CliRunner().invoke(cli_module.cli, ["--db", str(db_path)] + list(args), catch_exceptions=False)


def test_export_csv_to_stdout_and_json_to_file(tmp_path):
    db_path = tmp_path / "h.sqlite"
    make_db(db_path)
    result = e2mon(db_path, "export", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [(r["name"], r["value"], r["unit"]) for r in rows[:2]] == [("anastrozole", "0.5", "mg"),
                                                                      ("E2", "18", "pg/mL")]
    out = tmp_path / "export.json"
    result = e2mon(db_path, "--json", "export", "--format", "json", "--out", str(out))
    assert json.loads(result.output)["entries"] == 4
    assert len(json.loads(out.read_text())["records"]) == 4
    assert not (tmp_path / "export.json.part").exists()


def test_report_cli_png(tmp_path):
    db_path = tmp_path / "h.sqlite"
    make_db(db_path)
    out = tmp_path / "r.png"
    result = e2mon(db_path, "--json", "report", "--out", str(out), "--today", "2026-10-05")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["records"] == 4 and summary["dose_changes"] == 1
    assert any("18 pg/mL" in f for f in summary["flags"])
    with Image.open(out) as image:
        assert image.size == (int(report.FIG_INCHES[0] * report.DPI), int(report.FIG_INCHES[1] * report.DPI))


def test_bad_inputs_are_one_clear_line(tmp_path):
    db_path = tmp_path / "h.sqlite"
    empty = e2mon(db_path, "export")
    assert empty.exit_code == 7 and empty.output.startswith("Error: there is no host database at %s" % db_path)
    make_db(db_path, ("dev-a", "dev-b"))
    several = e2mon(db_path, "report", "--out", str(tmp_path / "r.png"))
    assert several.exit_code == 3 and "--device" in several.output and "e2mon devices" in several.output
    assert "dev-a" not in several.output   # pointed at the list, not given it
    unknown = e2mon(db_path, "export", "--device", "dev-z")
    assert unknown.exit_code == 3 and "e2mon devices" in unknown.output and "dev-a" not in unknown.output
    wrong_ext = e2mon(db_path, "report", "--out", str(tmp_path / "r.pdf"), "--device", "dev-a")
    assert wrong_ext.exit_code == 6 and ".png or .html" in wrong_ext.output
    bad_date = e2mon(db_path, "report", "--out", str(tmp_path / "r.png"), "--device", "dev-a", "--today", "soon")
    assert bad_date.exit_code == 6 and "YYYY-MM-DD" in bad_date.output
    for result in (empty, several, unknown, wrong_ext, bad_date):
        assert len(result.output.strip().splitlines()) == 1
    # Exports keep the devices apart.
    b = list(csv.DictReader(io.StringIO(e2mon(db_path, "export", "--device", "dev-b").output)))
    assert {r["device_id"] for r in b} == {"dev-b"} and b[1]["value"] == "18.1"


def test_progress_line_shows_records_rate_and_time_left():
    now = [0.0]
    out = io.StringIO()
    progress = Progress(1000, out=out, clock=lambda: now[0], live=True, interval=0)
    now[0] = 1.0
    progress.advance(250)    # 250 rec/s, 750 left -> 3 s
    assert out.getvalue().endswith("250/1000 records  250 rec/s  0:03 left")
    now[0] = 2.0
    progress.advance(250)
    assert "500/1000 records" in progress.line() and "0:02 left" in progress.line()
    assert "[############............]" in progress.line()
    assert progress.finish() == 2.0 and out.getvalue().endswith("\n")


def test_profile_check_and_default(tmp_path):
    db_path = tmp_path / "h.sqlite"
    default = e2mon(db_path, "profile", "show", "--default")
    assert default.exit_code == 0 and "HCT_HIGH = 54 %" in default.output
    good = tmp_path / "good.profile"
    good.write_text(default.output.replace("GOAL = trt", "GOAL = fertility"))
    assert e2mon(db_path, "profile", "check", str(good)).exit_code == 0
    bad = tmp_path / "bad.profile"
    bad.write_text("HCT_HIGH = 54\n")
    result = e2mon(db_path, "profile", "check", str(bad))
    assert result.exit_code == 6 and "line 1" in result.output and "54 %" in result.output
    missing = e2mon(db_path, "profile", "check", str(tmp_path / "nope.profile"))
    assert missing.exit_code == 7 and "cannot read profile file" in missing.output


def test_devices_lists_what_the_host_holds(tmp_path):
    db_path = tmp_path / "h.sqlite"
    assert e2mon(db_path, "db", "init").exit_code == 0
    assert "no device" in e2mon(db_path, "devices").output
    make_db(db_path, ("dev-a", "dev-b"))
    listed = json.loads(e2mon(db_path, "--json", "devices").output)
    assert [(d["device_id"], d["records"], d["next_seq"]) for d in listed] == [("dev-a", 4, 4), ("dev-b", 4, 4)]
    assert all(d["last_pull"] for d in listed)


def test_profile_check_accepts_evaluate_json(tmp_path):
    db_path = tmp_path / "h.sqlite"
    good = tmp_path / "clinic.json"
    good.write_text('{"patient": {"goal": "fertility"}, "profile": {"E2_TARGET": {"low": "22 pg/mL", '
                    '"high": "35 pg/mL"}, "C1": {"level": "urgent"}}}')
    result = e2mon(db_path, "--json", "profile", "check", str(good))
    assert result.exit_code == 0, result.output
    from monitor import profile as P
    expected = P.Profile()
    profile_codec.set_param(expected, "GOAL", 1)
    profile_codec.set_param(expected, "E2_TARGET_LOW", 220)
    profile_codec.set_param(expected, "E2_TARGET_HIGH", 350)
    profile_codec.set_param(expected, "LEVEL_C1", 2)
    assert json.loads(result.output)["crc"] == expected.crc()
    bad = tmp_path / "bad.json"
    bad.write_text('{"profile": {"E2_TARGET": {"low": "22 kg"}}}')
    result = e2mon(db_path, "profile", "check", str(bad))
    assert result.exit_code == 6 and "E2_TARGET" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_history_export_evaluates_to_the_same_flags_as_the_report(tmp_path):
    """The exported history, run through `e2mon evaluate`, gives the flags and reminders the host's
    report computed from the stored records: the same core, the same values, nothing lost in between."""
    from host_tools import report

    db_path = tmp_path / "h.sqlite"
    with HostDB(str(db_path)) as db:
        db.ensure_device("dev-h")
        rows = [
            (0, DAY, 480, records.KIND_DOSE, records.D_ANASTROZOLE, 1000, 0),
            (1, DAY, 481, records.KIND_EVENT, records.EVENT_CLOCK_SET, 3600, 0),
            (2, DAY + 28, 540, records.KIND_LAB, records.A_E2, 120, records.METHOD_LCMS),
            (3, DAY + 28, 541, records.KIND_LAB, records.A_TT, 700, records.FLAG_SI),
            (4, DAY + 29, 600, records.KIND_SYMPTOM, records.S_JOINT, 2, 0),
            (5, DAY + 30, 600, records.KIND_EVENT, records.EVENT_ACK, 64 + 5, 0),
            (6, DAY + 31, 600, records.KIND_EVENT, records.EVENT_SNOOZE, 2, 7),
            (7, DAY + 32, 600, records.KIND_LAB, records.A_HCT, 551, records.FLAG_CONFIRMED),
        ]
        db.store_records("dev-h", rows)
        expected = report.gather(db, "dev-h", today=DAY + 40)
    out = tmp_path / "history.json"
    assert e2mon(db_path, "export", "--format", "history", "--out", str(out)).exit_code == 0
    history = json.loads(out.read_text())
    assert len(history["entries"]) == len(rows) - 1            # the clock-set event is bookkeeping
    assert history["entries"][1]["value"] == "12 pg/mL" and history["entries"][1]["method"] == "LC-MS/MS"
    assert history["entries"][4] == {"date": dates.format_day(DAY + 30), "time": "10:00", "kind": "event",
                                     "event": "ACK", "rule": "E2_LOW"}
    cli_module._register()
    evaluated = CliRunner().invoke(cli_module.cli, ["evaluate", str(out), "--at", dates.format_day(DAY + 40),
                                                    "--json"])
    assert evaluated.exit_code == 0, evaluated.output
    result = json.loads(evaluated.output)
    assert result["rejected"] == []
    got = sorted("[%s] %s: %s%s (%s; source %s)%s" % (
        f["level"], f["date"], f["message"], " (rests on a patient-reported result)" if f.get("patient_reported")
        else "", f["rule"], f["source"], " (acknowledged)" if f.get("acknowledged") else "")
        for f in result["flags"])
    assert got == sorted(expected.flags) and got
