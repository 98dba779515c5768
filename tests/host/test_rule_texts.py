"""Names and plain-language texts of the rule core (host side): one per rule, reminder, parameter and
error code; every flag message explains, cites a source, ends by sending the patient to the clinician,
and never gives a dose."""
import re

from monitor import catalog, profile, records, rules, schedule, texts
from monitor.errors import ERROR_MESSAGES
from monitor.param_names import PARAM_NAMES

DOSE_WORDS = re.compile(r"\d\s*(mg|µg|ug|mcg)\b|\b(increase|decrease|reduce|raise|lower|double|halve|stop|skip)"
                        r"\b.*\b(dose|dosing|anastrozole|testosterone|tablet|pill)", re.I)


def test_tables_have_one_entry_per_code():
    assert len(catalog.RULES) == rules.RULE_COUNT == len(texts.RULE_SOURCES) == len(profile.RULE_LEVELS)
    assert len(catalog.REMINDERS) == schedule.REMINDER_COUNT == len(texts.REMINDER_TEXT)
    assert len(PARAM_NAMES) == profile.PARAM_COUNT == len(set(PARAM_NAMES))
    assert len(catalog.ERROR_NAMES) == len(ERROR_MESSAGES) == records.ERR_BEFORE_CLOCK + 1
    assert len(catalog.ANALYTES) == records.ANALYTE_COUNT == len(catalog.LOINC)
    assert len(catalog.SYMPTOMS) == records.SYMPTOM_COUNT == len(texts.SYMPTOM_WORDS)
    assert records.GOAL_COUNT == len(catalog.GOALS)
    for i, name in enumerate(catalog.RULES):
        assert catalog.rule_index(name) == i and texts.RULE_SOURCES[i]
        assert getattr(rules, "R_" + name) == i


def test_every_flag_message_ends_with_the_clinician_and_gives_no_dose():
    for rule in range(rules.RULE_COUNT):
        for status in (0, rules.STATUS_INDETERMINATE):
            for value, value2 in ((650, 0), (140, 200), (600, 650), (records.S_JOINT, 9500), (9550, 9500)):
                text = texts.message(rule, value, value2, status)
                assert text.endswith("Discuss this with your clinician."), text
                assert not DOSE_WORDS.search(text), text


def test_reminder_and_error_texts():
    for reminder in range(schedule.REMINDER_COUNT):
        for state in range(4):
            text = texts.describe_reminder(reminder, state, 9600)
            assert text and not DOSE_WORDS.search(text)
            assert ("overdue" in text) == (state == schedule.OVERDUE)
    for code in range(len(ERROR_MESSAGES)):
        assert records.error_message(code) and catalog.error_name(code).startswith("ERR_")


def test_values_shown_in_both_units():
    assert texts.format_value(records.KIND_LAB, records.A_E2, 655) == "65.5 pg/mL"
    assert texts.format_lab_si(records.A_E2, 600) == "220.26 pmol/L"
    assert texts.format_value(records.KIND_DOSE, records.D_ANASTROZOLE, 125) == "0.125 mg"
    assert texts.format_value(records.KIND_LAB, records.A_BMD_T, -25) == "-2.5 SD"
    assert texts.format_lab_si(records.A_PSA, 150) is None


def test_c1_symptoms_without_an_aromatase_inhibitor_read_as_a_recheck_not_a_guess():
    text = texts.message(rules.R_C12, records.S_FATIGUE, 9500, rules.STATUS_AFTER_CHANGE)
    assert text.startswith("New or worse fatigue since the last therapy change.")
    assert "recheck is suggested rather than a guess" in text and "too low" not in text


def test_bone_density_texts_show_tenths_and_blame_no_drug_not_taken():
    assert texts.format_value(records.KIND_LAB, records.A_BMD_T, -10) == "-1.0 SD"
    assert texts.format_value(records.KIND_LAB, records.A_BMD_T, 5) == "0.5 SD"
    text = texts.message(rules.R_BMD_OSTEOPENIA, -18, -10, 0)
    assert "-1.8 SD is below -1.0 SD" in text and "Aromatase" not in text
    assert "Aromatase inhibitors" in texts.message(rules.R_BMD_OSTEOPOROSIS, -26, -25, rules.STATUS_ON_AI)
