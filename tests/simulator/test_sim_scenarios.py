"""The shipped therapy courses played into the real device app: what appears, on which day."""
import json
import subprocess
import sys

import pytest

from sim import env
from sim.scenario import ScenarioError, play, scenario_path

env.install()


def timeline_of(name, tmp_path):
    device, player = play(scenario_path(name), str(tmp_path / "flash"), echo=lambda line: None)
    summary = player.summary()
    device.shutdown()
    assert summary["refused"] == [], summary["refused"]
    assert summary["unset_clock"] == {"screen": "SET TIME", "reminders_fired": 0, "reminders_listed": 0}
    return summary


def first(summary, what, ident, change):
    for item in summary["timeline"]:
        if item["type"] == what and item["id"] == ident and item["change"] == change:
            return item["day"]
    return None


def test_trt_with_over_suppressed_estradiol(tmp_path):
    s = timeline_of("trt_oversuppressed", tmp_path)
    assert first(s, "flag", "C1", "appeared") == 14            # new joint pain after starting
    assert first(s, "flag", "E2_LOW_SYMPT", "appeared") == 28  # the 11 pg/mL recheck
    assert first(s, "flag", "E2_LOW_SYMPT", "cleared") == 63   # after the dose was halved
    assert first(s, "flag", "C9", "appeared") == 150           # hematocrit 54.4 %
    assert first(s, "reminder", "RECHECK", "done") == 28
    assert first(s, "reminder", "CBC", "done") == 91
    assert 28 in [t["day"] for t in s["timeline"] if t["id"] == "C2"]
    assert len(s["signal_days"]) >= 3
    for item in s["timeline"]:
        assert "mg" not in item["text"].replace("mg/dL", "")   # flags never mention a dose


def test_sixteen_week_fertility_course(tmp_path):
    s = timeline_of("fertility_16wk", tmp_path)
    assert first(s, "flag", "C8", "appeared") == 0             # T:E2 below 10 while trying to conceive
    assert first(s, "reminder", "SEMEN", "done") == 91
    review = first(s, "reminder", "FERTILITY_REVIEW", "due")
    assert review is not None and 105 <= review <= 113
    assert s["entries"] >= 112


def test_long_term_user_due_for_dexa(tmp_path):
    s = timeline_of("dexa_long_term", tmp_path)
    assert first(s, "reminder", "DEXA_BASELINE", "due") == 0   # 58 years old at the start
    assert first(s, "flag", "C4", "appeared") == 35            # E2 < 20 on results 35 days apart
    assert first(s, "reminder", "DEXA_BASELINE", "done") == 75


def test_bad_scenarios_are_refused_clearly(tmp_path):
    base = {"name": "x", "start": "2026-01-01", "days": 10, "events": []}
    cases = [
        ({"day": 1, "lab": "E3", "value": "10", "unit": "pg/mL"}, "unknown lab 'E3'"),
        ({"day": 1, "lab": "E2", "value": 10.5, "unit": "pg/mL"}, "exact decimals"),
        ({"day": 11, "symptom": "JOINT", "severity": 1}, "day must be an integer in 0..10"),
        ({"day": 1, "wave": "hello"}, "does nothing"),
    ]
    for event, message in cases:
        path = tmp_path / "bad.json"
        path.write_text(json.dumps(dict(base, events=[event])))
        with pytest.raises(ScenarioError, match=message):
            play(str(path), str(tmp_path / "flash"), echo=lambda line: None)


def test_python_m_sim_run_prints_timeline_and_writes_json(tmp_path):
    out = tmp_path / "t.json"
    proc = subprocess.run([sys.executable, "-m", "sim", "run", "dexa_long_term", "--json", str(out),
                           "--flash", str(tmp_path / "f"), "--screenshots", str(tmp_path / "shots")],
                          capture_output=True, text=True, cwd=env.ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "DEXA_BASELINE" in proc.stdout and "SET TIME" in proc.stdout
    data = json.loads(out.read_text())
    assert data["scenario"] == "Long-term user due for DEXA" and len(data["screenshots"]) == 3
    bad = subprocess.run([sys.executable, "-m", "sim", "run", "no_such_course"], capture_output=True, text=True,
                         cwd=env.ROOT, timeout=60)
    assert bad.returncode != 0 and "known:" in bad.stderr
