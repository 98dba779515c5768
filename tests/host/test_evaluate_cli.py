"""`e2mon evaluate`: the bundled example, the issue's sample, exact numbers, profile overrides in both
unit systems, refused entries that do not stop the rest, and malformed files that name entry and field."""
import json
import os

import pytest
from click.testing import CliRunner

from host_tools import cli as cli_module

from paths import ROOT  # noqa: E402
EXAMPLE = os.path.join(ROOT, "examples", "trt_anastrozole.json")
SAMPLE = {
    "patient": {"birth_year": 1968, "goal": "trt", "fracture_history": False, "planned_months": 24},
    "profile": {"E2_HIGH": {"threshold": "55 pg/mL"}},
    "entries": [
        {"kind": "dose", "date": "2026-01-05", "drug": "anastrozole", "amount": 0.5, "unit": "mg"},
        {"kind": "lab", "date": "2026-02-02", "analyte": "E2", "value": 65, "unit": "pg/mL", "method": "LC-MS/MS"},
        {"kind": "symptom", "date": "2026-02-10", "code": "JOINT", "severity": 2}]}


@pytest.fixture(scope="module")
def run():
    cli_module._register()
    runner = CliRunner()

    def invoke(*args, doc=None, text=None, tmp=None):
        if doc is not None or text is not None:
            path = os.path.join(tmp, "history.json")
            with open(path, "w") as f:
                f.write(text if text is not None else json.dumps(doc))
            args = (path,) + args
        return runner.invoke(cli_module.cli, ["evaluate"] + list(args))
    return invoke


def evaluate(run, tmp_path, doc, *args):
    result = run("--json", *args, doc=doc, tmp=str(tmp_path))
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def rules_of(out):
    return [f["rule"] for f in out["flags"]]


def test_example_history_json(run):
    result = run(EXAMPLE, "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["at"] == "2026-05-15"
    assert rules_of(out) == ["C1"]
    c1 = out["flags"][0]
    assert c1["level"] == "discuss" and c1["source"] == "000" and c1["date"] == "2026-04-27"
    assert c1["message"].endswith("Discuss this with your clinician.")
    reminders = {r["id"]: (r["state"], r["due"]) for r in out["reminders"]}
    assert reminders["RECHECK"] == ("overdue", "2026-04-27")
    assert reminders["CBC"] == ("upcoming", "2026-07-13")     # 91 days after the 2026-04-13 count
    assert reminders["DEXA_BASELINE"][0] == "done"            # DEXA 16 days before the start
    assert [(r["index"], r["error"]) for r in out["rejected"]] == [(23, "ERR_UNIT"), (30, "ERR_FUTURE")]


def test_example_at_an_earlier_date_and_as_text(run):
    out = json.loads(run(EXAMPLE, "--json", "--at", "2026-03-10").output)
    assert rules_of(out) == ["E2_LOW_SYMPT", "C2"]             # 51.4 pmol/L = 14 pg/mL with joint pain
    assert out["flags"][1]["level"] == "urgent"
    text = run(EXAMPLE).output
    assert "[discuss] C1 2026-04-27" in text and "Rejected entries:" in text and "ERR_UNIT" in text


def test_issue_sample_with_a_lowered_threshold(run, tmp_path):
    out = evaluate(run, tmp_path, SAMPLE, "--at", "2026-02-12")
    assert rules_of(out) == ["E2_HIGH", "C1"]
    assert out["flags"][0]["message"].startswith("Estradiol 65 pg/mL is elevated.")
    doc = json.loads(json.dumps(SAMPLE))
    doc["entries"][1]["value"] = 55                           # at the threshold: not above it
    assert rules_of(evaluate(run, tmp_path, doc, "--at", "2026-02-12"))[0] == "C7"
    doc["entries"][1]["value"] = 55.1
    assert rules_of(evaluate(run, tmp_path, doc, "--at", "2026-02-12"))[0] == "E2_HIGH"


def test_threshold_in_si_units_and_levels(run, tmp_path):
    doc = json.loads(json.dumps(SAMPLE))
    doc["profile"] = {"E2_HIGH": {"threshold": "220.26 pmol/L"}, "C1": {"level": "off"},
                      "RECHECK": {"due_days": 21}}
    doc["entries"][1]["value"] = 60
    out = evaluate(run, tmp_path, doc, "--at", "2026-02-12")
    assert rules_of(out) == ["C7"]                            # 60.0 is not above 60.00 (220.26 pmol/L)
    doc["entries"][1]["value"] = "220.3 pmol/L"               # 60.01 pg/mL -> 600 stored: still not above
    assert rules_of(evaluate(run, tmp_path, doc, "--at", "2026-02-12")) == ["C7"]
    doc["entries"][1]["value"] = "220.7 pmol/L"               # 60.12 pg/mL -> 601
    assert rules_of(evaluate(run, tmp_path, doc, "--at", "2026-02-12")) == ["E2_HIGH"]
    doc["entries"] = doc["entries"][:1]
    due = {r["id"]: (r["state"], r["due"]) for r in evaluate(run, tmp_path, doc, "--at", "2026-01-12")["reminders"]}
    assert due["RECHECK"] == ("due", "2026-01-26")            # due 21 days after the start, window open


def test_numbers_are_exact(run, tmp_path):
    doc = {"patient": {"goal": "estrogen_control"}, "entries": [
        {"kind": "dose", "date": "2026-01-05", "drug": "anastrozole", "amount": 0.125, "unit": "mg"},
        {"kind": "lab", "date": "2026-01-06", "analyte": "HCT", "value": 54.0, "unit": "%"},
        {"kind": "lab", "date": "2026-01-07", "analyte": "E2", "value": 1.0e1, "unit": "pg/mL", "confirmed": True}]}
    out = evaluate(run, tmp_path, doc, "--at", "2026-01-08")
    assert out["rejected"] == []                              # 0.125 mg is exactly 125 ug (no confirm)
    assert "C9" in rules_of(out)                              # 54.0 % is the action level
    assert "E2_LOW_SYMPT" in rules_of(out)                    # 1.0e1 = 10.0 pg/mL: not below 10
    doc["entries"][1]["value"] = 53.9
    assert "C9" not in rules_of(evaluate(run, tmp_path, doc, "--at", "2026-01-08"))
    # more precise than the stored 0.1 %: refused, never rounded to 54.0
    doc["entries"][1]["value"] = 53.95
    out = evaluate(run, tmp_path, doc, "--at", "2026-01-08")
    assert [r["error"] for r in out["rejected"]] == ["ERR_PRECISION"] and "C9" not in rules_of(out)


def test_refused_entries_do_not_stop_the_rest(run, tmp_path):
    doc = {"entries": [
        {"kind": "lab", "date": "2026-01-05", "analyte": "E2", "value": 2500, "unit": "pg/mL"},
        {"kind": "lab", "date": "2026-01-05", "analyte": "E2", "value": 250, "unit": "pg/mL"},
        {"kind": "lab", "date": "2026-01-05", "analyte": "XYZ", "value": 1, "unit": "pg/mL"},
        {"kind": "symptom", "date": "2026-01-05", "code": "JOINT", "severity": 5},
        {"kind": "lab", "date": "2026-01-05", "analyte": "E2", "value": 70, "unit": "pg/mL"},
        {"kind": "lab", "date": "2026-01-05", "analyte": "E2", "value": 8, "unit": "pg/mL", "below_lloq": True,
         "method": "immunoassay", "confirmed": True}]}
    out = evaluate(run, tmp_path, doc, "--at", "2026-01-06")
    assert [(r["index"], r["error"]) for r in out["rejected"]] == [
        (0, "ERR_RANGE"), (1, "ERR_CONFIRM"), (2, "ERR_CODE"), (3, "ERR_SEVERITY")]
    assert "pmol/L" in out["rejected"][1]["message"]           # an unusual value is shown in both units
    assert rules_of(out) == ["E2_CRITICAL"]                    # "< 8 pg/mL" is surely below 10


def test_below_lloq_asks_for_a_sensitive_assay(run, tmp_path):
    doc = {"entries": [{"kind": "lab", "date": "2026-01-05", "analyte": "E2", "value": "24 pg/mL",
                        "below_lloq": True, "method": "immunoassay"}]}
    out = evaluate(run, tmp_path, doc, "--at", "2026-01-05")
    assert rules_of(out) == ["E2_BONE", "E2_LOW"]
    assert out["flags"][1].get("indeterminate") is True
    assert "sensitive assay" in out["flags"][1]["message"]


@pytest.mark.parametrize("text, expected", [
    ("{not json", "not valid JSON"),
    ("[]", "top level must be an object"),
    ('{"entries": {}}', "field 'entries' must be a list"),
    ('{"entries": [{"kind": "lab"}]}', "entry 0: field 'date' is missing"),
    ('{"entries": [{"kind": "lab", "date": "2026-02-30", "analyte": "E2", "value": 1, "unit": "pg/mL"}]}',
     "entry 0: field 'date'"),
    ('{"entries": [{"kind": "symptom", "date": "2026-01-01", "code": "JOINT", "severity": "2"}]}',
     "entry 0: field 'severity'"),
    ('{"entries": [{"kind": "nap", "date": "2026-01-01"}]}', "entry 0: field 'kind'"),
    ('{"entries": [{"kind": "lab", "date": "2026-01-01", "analyte": "E2", "value": "x", "unit": "pg/mL"}]}',
     "entry 0: field 'value'"),
    ('{"patient": {"goal": "bulk"}, "entries": []}', "patient field 'goal'"),
    ('{"profile": {"E2_HIGH": {"threshold": 55}}, "entries": []}', "profile 'E2_HIGH'"),
    ('{"profile": {"E2_HIGH": {"threshold": "5555 pg/mL"}}, "entries": []}', "outside"),
    ('{"profile": {"E2_ABOVE": {"threshold": "35 pg/mL"}}, "entries": []}', "set E2_TARGET_HIGH instead"),
    ('{"entries": [{"kind": "event", "date": "2026-01-01", "event": "SNOOZE", "reminder": "RECHECK", "days": 8}]}',
     "field 'days' must be an integer 1-7"),
    ('{"entries": [{"kind": "dose", "date": "2026-01-01", "drug": "anastrozole", "stop": true, "value": "1 mg"}]}',
     "field 'stop' must be true, with no amount"),
    ('{"entries": [{"kind": "dose", "date": "2026-01-01", "drug": "anastrozole", "value": "0 mg"}]}',
     "write \"stop\": true"),
])
def test_malformed_files_name_the_entry_and_field(run, tmp_path, text, expected):
    result = run(text=text, tmp=str(tmp_path))
    assert result.exit_code != 0
    assert expected in result.output


def test_a_drawn_reminder_waits_for_its_result_then_returns(run, tmp_path):
    doc = {"entries": [
        {"kind": "dose", "date": "2026-01-05", "drug": "anastrozole", "amount": 0.5, "unit": "mg"},
        {"kind": "event", "date": "2026-01-25", "event": "ACK", "reminder": "RECHECK"}]}
    out = evaluate(run, tmp_path, doc, "--at", "2026-02-07")
    recheck = [r for r in out["reminders"] if r["id"] == "RECHECK"][0]
    assert recheck["state"] == "due" and recheck["muted"] == "drawn, waiting for the result"
    out = evaluate(run, tmp_path, doc, "--at", "2026-02-08")      # ACK_GRACE (14 days) later, no E2 yet
    recheck = [r for r in out["reminders"] if r["id"] == "RECHECK"][0]
    assert recheck["state"] == "due" and "muted" not in recheck


def test_a_stop_in_a_history_is_a_dose_change(run, tmp_path):
    doc = {"entries": [
        {"kind": "dose", "date": "2026-01-05", "drug": "anastrozole", "amount": 0.5, "unit": "mg"},
        {"kind": "lab", "date": "2026-02-02", "analyte": "E2", "value": 30, "unit": "pg/mL"},
        {"kind": "lab", "date": "2026-02-02", "analyte": "TT", "value": 600, "unit": "ng/dL"},
        {"kind": "dose", "date": "2026-03-01", "drug": "anastrozole", "stop": True}]}
    out = evaluate(run, tmp_path, doc, "--at", "2026-03-20")
    recheck = [r for r in out["reminders"] if r["id"] == "RECHECK"][0]
    assert (recheck["state"], recheck["due"]) == ("due", "2026-03-29") and out["rejected"] == []


def test_a_refused_precision_says_what_the_unit_takes(run, tmp_path):
    doc = {"entries": [{"kind": "dose", "date": "2026-01-05", "drug": "anastrozole", "amount": 0.0625, "unit": "mg"},
                       {"kind": "lab", "date": "2026-01-05", "analyte": "E2", "value": "38.15 pg/mL"}]}
    out = evaluate(run, tmp_path, doc, "--at", "2026-01-05")
    assert [(r["index"], r["error"]) for r in out["rejected"]] == [(0, "ERR_PRECISION"), (1, "ERR_PRECISION")]
    assert "at most 3 decimals in mg" in out["rejected"][0]["message"]
    assert "at most 1 decimal in pg/mL" in out["rejected"][1]["message"]


def test_bad_at_date(run):
    result = run(EXAMPLE, "--at", "2026-13-01")
    assert result.exit_code != 0 and "--at" in result.output


def test_an_si_limit_of_quantitation_is_not_made_firmer(run, tmp_path):
    # "<95.5 pmol/L" is below 26.01 pg/mL: not surely below 26, so E2_BONE is indeterminate, not asserted
    doc = {"entries": [{"kind": "lab", "date": "2026-01-05", "analyte": "E2", "value": "95.5 pmol/L",
                        "below_lloq": True, "method": "immunoassay"}]}
    out = evaluate(run, tmp_path, doc, "--at", "2026-01-05")
    assert rules_of(out) == ["E2_BONE"] and out["flags"][0].get("indeterminate") is True


def test_texts_follow_the_profile_and_overdue_gives_its_first_day(run, tmp_path):
    doc = {"profile": {"SYMPTOM_PERSIST_DAYS": {"threshold": 28}},
           "entries": [
               {"kind": "dose", "date": "2026-01-05", "drug": "anastrozole", "amount": 0.5, "unit": "mg"},
               {"kind": "symptom", "date": "2026-01-06", "code": "FATIGUE", "severity": 2},
               {"kind": "lab", "date": "2026-02-02", "analyte": "E2", "value": 30, "unit": "pg/mL"},
               {"kind": "lab", "date": "2026-02-02", "analyte": "TT", "value": 600, "unit": "ng/dL"}]}
    out = evaluate(run, tmp_path, doc, "--at", "2026-02-10")
    c11 = [f for f in out["flags"] if f["rule"] == "C11"][0]
    assert "has lasted 4 weeks or more" in c11["message"] and c11["date"] == "2026-02-03"
    out = evaluate(run, tmp_path, {"entries": doc["entries"][:1]}, "--at", "2026-03-01")
    recheck = [r for r in out["reminders"] if r["id"] == "RECHECK"][0]
    assert recheck["state"] == "overdue" and recheck["overdue_since"] == "2026-02-17"
    assert "overdue since 2026-02-17 (due 2026-02-02)" in recheck["text"]


@pytest.mark.parametrize("birth_date, start, baseline", [
    ("1975-06-15", "2026-06-14", False), ("1975-06-15", "2026-06-15", True)])
def test_a_birth_date_decides_the_age_over_50(run, tmp_path, birth_date, start, baseline):
    doc = {"patient": {"birth_date": birth_date},
           "entries": [{"kind": "dose", "date": start, "drug": "anastrozole", "amount": 0.5, "unit": "mg"}]}
    out = evaluate(run, tmp_path, doc, "--at", start)
    assert ("DEXA_BASELINE" in [r["id"] for r in out["reminders"]]) == baseline


def test_a_bad_birth_date_is_refused(run, tmp_path):
    result = run(text=json.dumps({"patient": {"birth_date": "1975-02-30"}, "entries": []}), tmp=str(tmp_path))
    assert result.exit_code != 0 and "patient field 'birth_date'" in result.output


def test_a_scan_with_several_sites_reads_its_lowest(run, tmp_path):
    doc = {"entries": [{"kind": "lab", "date": "2026-03-02", "analyte": "BMD_T_HIP", "value": "-2.6 SD"},
                       {"kind": "lab", "date": "2026-03-02", "analyte": "BMD_T", "value": "-0.8 SD"}]}
    out = evaluate(run, tmp_path, doc, "--at", "2026-03-02")
    assert rules_of(out) == ["BMD_OSTEOPOROSIS"] and "-2.6 SD" in out["flags"][0]["message"]
