"""Names and plain-language texts of the rule core (host side): one per rule, reminder, parameter and
error code; every flag message explains, cites a source, ends by sending the patient to the clinician,
and never gives a dose."""
import re

from monitor import catalog, dates, profile, records, rules, schedule, texts
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


CLOSINGS = re.compile(r"(discuss|contact) (this with )?your clinician", re.I)


def test_every_flag_message_sends_to_the_clinician_once_names_no_rule_id_and_gives_no_dose():
    ids = re.compile(r"\b(%s)\b" % "|".join(catalog.RULES))
    statuses = (0, rules.STATUS_INDETERMINATE, rules.STATUS_INDETERMINATE | rules.STATUS_LCMS,
                rules.STATUS_AFTER_CHANGE, rules.STATUS_ON_AI)
    for rule in range(rules.RULE_COUNT):
        for status in statuses:
            for value, value2 in ((650, 0), (140, 200), (600, 650), (records.S_JOINT, 9500), (9550, 9500)):
                text = texts.message(rule, value, value2, status)
                closing = "Contact your clinician soon." if rule == rules.R_C9 else "Discuss this with your clinician."
                assert text.endswith(closing) and len(CLOSINGS.findall(text)) == 1, text
                assert not DOSE_WORDS.search(text), text
                assert not ids.search(text), text


def test_durations_in_texts_come_from_the_profile():
    p = profile.Profile()
    p.params[profile.P_SYMPTOM_PERSIST_DAYS] = 28
    p.params[profile.P_NO_LAB_DAYS] = 60
    p.params[profile.P_DEXA_REPEAT_LOW_DUE] = 182
    assert "has lasted 4 weeks or more" in texts.message(rules.R_C11, records.S_JOINT, 300, 0, p.params)
    assert "in the last 60 days" in texts.message(rules.R_C12, records.S_JOINT, 9500, 0, p.params)
    assert "every 6 months" in texts.message(rules.R_BMD_OSTEOPENIA, -15, -10, 0, p.params)
    assert "in the last 6 weeks" in texts.message(rules.R_C12, records.S_JOINT, 9500, 0)   # the defaults
    assert [texts.duration(d) for d in (7, 28, 42, 112, 119, 182, 365, 730, 60)] == [
        "1 week", "4 weeks", "6 weeks", "16 weeks", "4 months", "6 months", "12 months", "24 months", "60 days"]


def test_an_indeterminate_lcms_result_asks_for_no_sensitive_assay():
    unsure = rules.STATUS_INDETERMINATE | rules.STATUS_BELOW_LLOQ
    assert "ask about a sensitive assay" in texts.message(rules.R_E2_LOW, 240, 200, unsure)
    text = texts.message(rules.R_E2_CRITICAL, 120, 100, unsure | rules.STATUS_LCMS)
    assert "ask about" not in text and "LC-MS/MS assay it was measured with" in text


def test_overdue_since_is_the_day_it_turned_overdue():
    text = texts.describe_reminder(schedule.M_RECHECK, schedule.OVERDUE, 9528)
    assert "overdue since %s (due %s)" % (dates.format_day(9543), dates.format_day(9528)) in text


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


def test_the_fertility_review_text_gives_the_profiles_length():
    p = profile.Profile()
    review = schedule.M_FERTILITY_REVIEW
    assert texts.reminder_text(review, p.params) == "Review at the end of the fertility course (16 weeks)"
    p.params[profile.P_REMINDERS + 3 * review] = 84
    assert "(12 weeks)" in texts.reminder_text(review, p.params)
    assert "(12 weeks)" in texts.describe_reminder(review, schedule.DUE, 9000, p.params)
