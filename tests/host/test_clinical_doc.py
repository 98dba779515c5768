"""docs/clinical-rules.md is generated from firmware/monitor and committed in sync; the README links it."""
import os
import re

from host_tools import clinical_doc
from monitor import profile as P
from monitor import catalog, texts
from monitor.param_names import PARAM_NAMES

from paths import ROOT  # noqa: E402


def committed():
    with open(os.path.join(ROOT, "docs", "clinical-rules.md"), encoding="utf-8") as f:
        return f.read()


def test_committed_doc_is_what_the_generator_writes():
    assert committed() == clinical_doc.generate(), "run: python -m host_tools.clinical_doc"
    assert clinical_doc.main(["--check"]) == 0


def table_rows(text, first_header):
    """{first cell: [cells]} of the markdown table whose header starts with `first_header`."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| %s |" % first_header))
    rows = {}
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        rows[cells[0]] = cells
    return rows


def test_every_rule_with_its_default_level_source_and_reason():
    rows = table_rows(clinical_doc.generate(), "Rule")
    assert list(rows) == list(catalog.RULES)
    for i, name in enumerate(catalog.RULES):
        _, when, level, source, why = rows[name]
        assert level == catalog.level_name(P.RULE_LEVELS[i]) and source == texts.RULE_SOURCES[i]
        assert when and why and why != clinical_doc.MISSING, name
    assert "latest E2 above 80 pg/mL" in rows["E2_SEVERE"][1]
    assert rows["HCT_WARN"][2] == "off"


def test_every_reminder_and_parameter_with_its_default():
    text = clinical_doc.generate()
    reminders = table_rows(text, "Reminder")
    assert list(reminders) == list(catalog.REMINDERS)
    assert reminders["RECHECK"][3] == "day 28" and reminders["RECHECK"][4] == "14 days before / 14 days after"
    assert all(row[6] != clinical_doc.MISSING for row in reminders.values())
    params = table_rows(text, "Parameter")
    assert list(params) == [n for n in PARAM_NAMES if not n.startswith("LEVEL_")]
    assert params["E2_SEVERE"][1] == "80 pg/mL" and params["HCT_HIGH"][1] == "54 %"


def test_a_changed_default_changes_the_doc(monkeypatch):
    """The numbers come from the firmware: a new default shows up, with no prose edited."""
    defaults = P.PARAM_DEFAULTS[:]
    defaults[PARAM_NAMES.index("E2_SEVERE")] = 900
    monkeypatch.setattr(P, "PARAM_DEFAULTS", defaults)
    rows = table_rows(clinical_doc.generate(), "Rule")
    assert "latest E2 above 90 pg/mL" in rows["E2_SEVERE"][1]


def test_a_new_rule_appears_without_prose(monkeypatch):
    monkeypatch.setattr(catalog, "RULES", catalog.RULES + ("E2_NEW",))
    monkeypatch.setattr(P, "RULE_LEVELS", list(P.RULE_LEVELS) + [1])
    monkeypatch.setattr(texts, "RULE_SOURCES", texts.RULE_SOURCES + ("test",))
    rows = table_rows(clinical_doc.generate(), "Rule")
    assert rows["E2_NEW"][2:] == ["discuss", "test", clinical_doc.MISSING]


def test_readme_links_the_doc():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    assert "(docs/clinical-rules.md)" in readme


def test_read_by_names_every_parameter_the_rules_and_reminders_read():
    used = set()
    for module in ("evaluate", "combine", "reminders", "ingest", "rules", "texts"):
        with open(os.path.join(ROOT, "firmware", "monitor", module + ".py")) as f:
            used.update(re.findall(r"\bP\.P_([A-Z0-9_]+)\b", f.read()))
    used -= {"LEVELS", "REMINDERS"}
    for name in used:
        assert clinical_doc.readers(name), name
    for name in PARAM_NAMES[:P.P_LEVELS]:
        assert clinical_doc.readers(name), "%s has no reader: is it read at all?" % name
