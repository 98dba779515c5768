"""docs/clinical-rules.md, generated from firmware/monitor so that it cannot drift from what the device does.

    python -m host_tools.clinical_doc           # rewrite docs/clinical-rules.md
    python -m host_tools.clinical_doc --check   # exit 1 if the committed file is out of date

Every number, level, source tag, unit, range and ladder comes from monitor (rules, profile,
profile_codec, schedule, texts, units, validate). The prose below says what each rule means and
why its default was chosen; a rule or reminder added to monitor appears in the tables on the next
run, with "(reason not written yet)" until a line is added here.
"""
import os
import re
import sys

from host_tools import profile_file
from monitor import profile as P
from monitor import catalog, profile_codec, records, schedule, texts, units, validate
from monitor.param_names import PARAM_NAMES

DOC_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs", "clinical-rules.md")
MISSING = "(reason not written yet)"

SOURCES = (
    ("000-004", "the five review and patient-education articles on anastrozole in men that the project "
                "started from (cited by the first three digits of their file names)"),
    ("ES 2010", "Endocrine Society clinical practice guideline on testosterone therapy in men (2010)"),
    ("AUA 2018", "American Urological Association guideline on testosterone deficiency (2018)"),
    ("ISSAM", "International Society for the Study of the Aging Male recommendations (read second-hand)"),
    ("WHO 1994", "World Health Organization classification of bone density by T-score"),
)

# Rule ID -> (when it fires, with {PARAM} for the profile's default; why this default).
RULE_PROSE = {
    "E2_ABOVE": ("latest E2 above the top of the target band {E2_TARGET_LOW}-{E2_TARGET_HIGH} (it follows an "
                 "edited target), and below the mild band",
                 "003 gives 20-40 pg/mL as the target and says it varies by lab and clinical judgement, so "
                 "leaving it is information only"),
    "E2_MILD": ("latest E2 within {E2_MILD_LOW}-{E2_MILD_HIGH} (C7 replaces it with the TRT goal)",
                "001: \"TRT with mild E2 elevation (45-60 pg/mL)\""),
    "E2_HIGH": ("latest E2 above {E2_HIGH}", "002: \"exceeding 60 pg/mL\"; 001 agrees"),
    "E2_SEVERE": ("latest E2 above {E2_SEVERE}",
                  "001: \"Severe E2 (>80 pg/mL) or gyno flare ... re-evaluate at week 4\"; it calls for a "
                  "recheck (C6), hence discuss rather than information"),
    "E2_BONE": ("latest E2 below {E2_BONE}",
                "003 puts the critical level for bone at 20-26 pg/mL; the band overlaps the target, so it is "
                "information only"),
    "E2_LOW": ("latest E2 below {E2_LOW}", "001 and 003: the bottom of the 20-40 pg/mL target"),
    "E2_LOW_SYMPT": ("latest E2 below {E2_LOW_SYMPT}",
                     "001: \"dry joints, fatigue, decreased libido when E2 drops below 15 pg/mL\""),
    "E2_CRITICAL": ("latest E2 below {E2_CRITICAL}", "004: bone loss at \"approximately 10 pg/ml\""),
    "TE_RATIO": ("total T (ng/dL) below {TE_RATIO} times E2 (pg/mL), the two drawn within 7 days of each other "
                 "(C8 replaces it with the fertility goal)",
                 "002: a ratio \"less than 10:1\" is unfavourable; 003 aims at 10:1 or more. Computed as "
                 "integers (T x 100 < ratio tenths x E2 tenths), no floats on the device"),
    "TT_LOW": ("latest total T below {TT_LOW}", "AUA 2018 statement 1: 300 ng/dL is the cut-off for low "
                                                 "testosterone"),
    "TT_BELOW_TARGET": ("latest total T from {TT_LOW} up to {TT_TARGET_LOW}",
                        "002 and 003 target 500-1000 ng/dL; below it but not low is information"),
    "TT_ABOVE_TARGET": ("latest total T above {TT_TARGET_HIGH}",
                        "the top of the 002/003 target; 000 warns that testosterone should not become "
                        "supraphysiologic"),
    "HCT_WARN": ("hematocrit at or above {HCT_WARN}, below the action level",
                 "ISSAM (second-hand) warns near 52 %; no primary source was read, so it is off by default"),
    "C1": ("a new or worse JOINT, LIBIDO, FATIGUE, MOOD or ED after therapy start or a dose change, with no E2 "
           "result since, while an aromatase inhibitor is taken (without one, the same symptoms give C12's "
           "wording: a recheck, no guess)",
           "000: \"If a man develops new joint pain, worsening libido, fatigue, low mood, or reduced sexual "
           "function after starting therapy, estradiol may have dropped too low\"; an E2 recheck is scheduled"),
    "C2": ("a C1 symptom and the latest E2, not older than {NO_LAB_DAYS}, below {E2_LOW_SYMPT}",
           "001 ties these symptoms to E2 below 15 pg/mL: raises C1's priority"),
    "C3": ("any symptom and the latest E2, not older than {NO_LAB_DAYS}, below {E2_CRITICAL}",
           "004: about 10 pg/mL is the level linked to bone loss; with symptoms it is the most urgent low-E2 flag"),
    "C4": ("E2 below {E2_LOW} on results at least {E2_PERSIST_DAYS} apart",
           "001 and 003: persistently low E2 harms bone. \"Persistently\" is undefined in the sources: the "
           "default is two results at least 28 days apart; a DEXA every 12 months follows"),
    "C5": ("latest E2, not older than {NO_LAB_DAYS}, above {E2_HIGH} with BREAST, GYNO, NIPPLE or FLUID",
           "000 and 001: breast tenderness, gynecomastia, nipple sensitivity and water retention are signs of "
           "estrogen excess"),
    "C6": ("E2 above {E2_SEVERE} or a GYNO flare, until an E2 recheck {RECHECK_SEVERE_DUE} later",
           "001: re-evaluate at week 4 after a severe E2 or a gyno flare"),
    "C7": ("latest E2 within {E2_MILD_LOW}-{E2_MILD_HIGH} on TRT (testosterone taken, or the TRT goal with "
           "testosterone not stopped: the same meaning as for CBC)",
           "001's mild band on TRT; it replaces E2_MILD so one result gives one flag"),
    "C8": ("total T below {TE_RATIO} times E2 with the fertility goal",
           "002: the T:E2 ratio matters while trying to conceive; it replaces TE_RATIO for that goal"),
    "C9": ("hematocrit at or above {HCT_HIGH}",
           "003 (\"< 54%\"), Endocrine Society 2010 and AUA 2018 act at 54 %: urgent, contact the clinician"),
    "C11": ("labs in target (E2 within {E2_TARGET_LOW}-{E2_TARGET_HIGH} with no E2 flag, E2_BONE included; "
            "total T within {TT_TARGET_LOW}-{TT_TARGET_HIGH}), both drawn after the symptom last rose and after "
            "the last therapy change, the E2 not older than {NO_LAB_DAYS}, yet the symptom has lasted "
            "{SYMPTOM_PERSIST_DAYS}; never beside C1 or C12",
            "000: when the labs are in range, lasting symptoms have other causes worth looking at (sleep, "
            "thyroid, mood, medication)"),
    "C12": ("symptoms and no E2 result in the last {NO_LAB_DAYS} (then it replaces C2, C3 and C5); also C1's "
            "symptoms after a change without an aromatase inhibitor",
            "000: \"side effects of high and low estradiol can overlap\": a recheck, never a guess"),
    "C15": ("a testosterone dose logged while the goal is fertility, testosterone not stopped since",
            "000: \"Testosterone therapy can suppress LH and FSH, which can reduce sperm production\"; \"Avoid "
            "reflexive TRT\" when trying to conceive"),
    "C14": ("COGNITION or MOOD reported", "001 lists memory and mood changes among the effects of low E2; "
                                          "worth raising whatever the labs say"),
    "BMD_OSTEOPENIA": ("lowest DEXA T-score of the latest scan day (lumbar spine, total hip, femoral neck) below {BMD_OSTEOPENIA} and above {BMD_OSTEOPOROSIS} (-1.0 itself is "
                       "normal)",
                       "WHO 1994 classification (-2.5 < T < -1.0); 003 and 004: aromatase inhibition "
                       "raises the risk of osteopenia and osteoporosis, so the text names it for a man who "
                       "takes one"),
    "BMD_OSTEOPOROSIS": ("lowest DEXA T-score of the latest scan day at or below {BMD_OSTEOPOROSIS}",
                         "WHO 1994 (T <= -2.5); ISCD official positions: T-scores apply to men of 50 or more, "
                         "under 50 a clinician may switch both BMD rules off"),
}

# Reminder ID -> (what starts it; why this default).
REMINDER_PROSE = {
    "RECHECK": ("therapy start, stop or dose change; C1 or C12 asking for one. Done when an E2 and a total T are "
                "both logged in the window (from the day C1 or C12 asked)",
                "002 \"2-4 weeks\", 001 \"weeks 4-6\", 000 and 003 \"weeks to months\": day 28 is where they "
                "meet, the window spans weeks 2 to 6"),
    "RECHECK_SEVERE": ("an E2 above E2_SEVERE or a GYNO flare", "001: re-evaluate at week 4"),
    "CBC": ("testosterone taken (a dose logged and not stopped, or the TRT goal): from the first testosterone "
            "dose of the course or the TRT goal's date, whichever is first; repeats; stops when testosterone is "
            "stopped",
            "001 quarterly; ES 2010 \"baseline, at 3 months, and then annually\": the stricter quarterly "
            "interval"),
    "LIPIDS": ("therapy start; repeats", "001: \"every 6-12 months\", \"semi-annually\""),
    "DEXA_BASELINE": ("therapy start when the age at start is above {DEXA_AGE}, with a fracture history, or a "
                      "planned duration of {DEXA_PLANNED_MONTHS} or more; a scan in the 24 months before "
                      "counts",
                      "001 and 003: a baseline scan for those at risk of bone loss"),
    "DEXA_REPEAT": ("the last DEXA: {DEXA_REPEAT_DUE} later; {DEXA_REPEAT_LOW_DUE} while E2 is persistently low "
                    "(C4) or the last T-score is in the BMD_OSTEOPENIA or BMD_OSTEOPOROSIS range (that rule on)",
                    "004 \"1-2 years\", 003 \"2-5 years\", 001 \"annually ... especially if E2 persistently "
                    "<20\": two years, one while E2 stays low or bone density is already low"),
    "SEMEN": ("the fertility goal; repeats", "001 \"3-6 months\", 000: the shorter interval"),
    "FERTILITY_REVIEW": ("the fertility goal's start", "001: \"1 mg daily x 16 weeks then taper\""),
    "TAPER_LABS": ("a step-down entered by the clinician (TAPER_START); repeats until TAPER_END",
                   "001: \"step-down by 50 % every two weeks while retesting labs\""),
}

PARAM_MEANING = {"TE_RATIO": "T (ng/dL) : E2 (pg/mL)", "DEXA_AGE": "years, age at therapy start",
                 "GOAL": "therapy goal", "FRACTURE_HISTORY": "yes or no",
                 "PLANNED_MONTHS": "planned duration of therapy, months (0 = unknown)",
                 "DEXA_REPEAT_LOW_DUE": "days; DEXA_REPEAT while E2 is persistently low or the T-score low",
                 "BMD_OSTEOPENIA": "DEXA T-score threshold", "BMD_OSTEOPOROSIS": "DEXA T-score threshold",
                 "ACK_GRACE": "days; the longest a reminder marked drawn stays muted while its result is awaited",
                 "DOSE_CHANGE_PCT": "%; a change of the 14-day dose total this large is a dose change"}

# Choices made where the reference is silent, with the reason (listed in section 6 of the document).
CHOICES = (
    "A profile of an older version is migrated when it is read, keeping every clinician value, and is left on "
    "the device as written, so that firmware rolled back after a failed update still reads it; E2_ABOVE is no "
    "longer a parameter of its own (it follows E2_TARGET_HIGH, as the reference says), so an older profile whose "
    "E2_ABOVE differed from its target's top loses that value: the target's top is the clinician's statement "
    "of where \"above target\" starts.",
    "CBC with the TRT goal set in the profile alone (it has no date) and no testosterone logged: the schedule "
    "starts at the therapy start, because testosterone may be given in clinic and an early blood count is better "
    "than none; the first testosterone dose logged then becomes the start.",
    "A STOP is a dose of 0 of that drug (the device's menu \"Stop a drug\", `e2mon push stop`, `\"stop\": true` "
    "in a history). A STOP of a drug not taken changes nothing; the next dose after a STOP starts a new course "
    "(a dose change, and the CBC's new start for testosterone).",
    "A change of frequency compares the 14-day totals only when both windows lie inside one regimen: not in the "
    "27 days after a start, stop or other change, so the first weeks of a regimen, with nothing logged before "
    "it, are never read as a change. The comparison is exact in integers (|A - B| x 100 >= DOSE_CHANGE_PCT x B). "
    "Dosing every 10 to 13 days puts one dose in one 14-day window and two in the next, which reads as a 100 % "
    "change: for such a regimen the clinician raises DOSE_CHANGE_PCT above 100.",
    "RECHECK_SEVERE also starts on a GYNO flare: the reference's schedule names only E2 above 80 pg/mL, but "
    "its C6 (001: \"Severe E2 (>80 pg/mL) or gyno flare ... re-evaluate at week 4\") asks for the same recheck.",
    "C12 asks about estradiol (no E2 result in the window), not any lab: the guess it warns against is whether "
    "estradiol is high or low. RECHECK_SEVERE and TAPER_LABS are answered by an E2 alone, the value they follow.",
    "LIPIDS and SEMEN need a dated start (a logged dose, or a GOAL event for SEMEN): a goal set in the profile "
    "alone has no date to count from.",
    "The age at therapy start uses the birth date when the profile has it (BIRTH_MONTH_DAY; a February 29 "
    "birthday counts from March 1 in other years). With the birth year alone it is the difference of years, "
    "which may be one year more than the age: that asks for the baseline DEXA early rather than late.",
    "The patient's daily push budget (PUSH_DAY_BUDGET) survives a reboot: it is kept in the snapshot (saved "
    "as soon as the budget is spent), and at boot every entry logged after the snapshot counts against it, "
    "button entries included, because the log does not say who made them; the count can only err high, and "
    "the device's buttons are never limited.",
    "Durations in the texts come from the profile (NO_LAB_DAYS, SYMPTOM_PERSIST_DAYS, E2_PERSIST_DAYS, "
    "DEXA_REPEAT_LOW_DUE, RECHECK_SEVERE_DUE) and are written in whole weeks up to 16 weeks, in months from 3 "
    "months when within 3 days of whole months, else in days, so an edited window reads as set, never rounded "
    "by more than 3 days.",
    "C4 shows the last result of the low run, not the latest result, which may be an unsure \"<24 pg/mL\" "
    "that neither extends nor ends the run.",
    "An overdue reminder says the day it turned overdue (the day after its window closed) and the day it was "
    "due.",
    "A DEXA scan's sites are kept apart: BMD_T (lumbar spine, LOINC 38267-1 DXA Lumbar spine [T-score]; the "
    "reference's 38263-3 fails LOINC's check digit), BMD_T_HIP (total hip, 38264-8 DXA Hip [T-score]) and "
    "BMD_T_FN (femoral neck, 38263-0 DXA Femur [T-score], the nearest code found: to be confirmed). The BMD "
    "rules and DEXA_REPEAT read the lowest T-score of the latest scan day; a site dated before that day is "
    "kept but does not count.",
    "T-scores are shown with their tenth and an ASCII minus (\"-1.0 SD\"): the device's font has no other.",
    "C2, C3 and C5 still show while the device clock is unset (the E2's age is then unknown): C3 is the most "
    "urgent low-E2 flag and hiding it on a clock fault would be the worse error.",
    "C11 needs the E2 and total T drawn after the last therapy change, not on its day: a sample drawn on the day "
    "of a change reflects the regimen before it. \"After the symptom began\" is read as after its last rise, so "
    "labs drawn before a symptom worsened do not answer it.",
    "C1's doc keeps \"with no E2 result since\": once an E2 has been drawn after the symptom, the lab rules and "
    "C2 read it, and guessing over-suppression without looking at it would be the guess C12 warns against.",
    "Flags are dated to the day their condition became true: C12 to the later of the symptom's rise and the day "
    "the E2 turned older than NO_LAB_DAYS; C11 to the later of the symptom's SYMPTOM_PERSIST_DAYS and the labs; "
    "C5 to the later of the E2 and the symptom.",
    "C12's recheck is dated to the day C12 became true (the later of the symptom's rise and the day the last E2 "
    "turned older than NO_LAB_DAYS), and an E2 alone does not answer it: it stays open until total T is logged "
    "too, as every recheck needs both.",
    "ACK_GRACE defaults to 14 days: most laboratories report estradiol, testosterone and a blood count within "
    "a week, and a second week covers a sample sent out for LC-MS/MS; a result still missing after that needs "
    "the patient's attention again rather than silence.",
    "A snooze given while a reminder is due ends, at the latest, on the day it turns overdue: overdue is the "
    "escalation the schedule exists for.",
)

# Parameter -> the rules and reminders that read it (a reminder's own _DUE/_EARLY/_LATE are added by name).
READ_BY = {
    "E2_TARGET_LOW": ("C11",), "E2_TARGET_HIGH": ("E2_ABOVE", "C11"),
    "E2_MILD_LOW": ("E2_MILD", "C7", "C11"), "E2_MILD_HIGH": ("E2_MILD", "C7", "C11"),
    "E2_HIGH": ("E2_HIGH", "C5", "C11"), "E2_SEVERE": ("E2_SEVERE", "C6", "RECHECK_SEVERE"),
    "E2_BONE": ("E2_BONE", "C11"), "E2_LOW": ("E2_LOW", "C4", "C11", "DEXA_REPEAT"),
    "E2_LOW_SYMPT": ("E2_LOW_SYMPT", "C2"), "E2_CRITICAL": ("E2_CRITICAL", "C3"),
    "TE_RATIO": ("TE_RATIO", "C8"), "TT_TARGET_LOW": ("TT_BELOW_TARGET", "C11"),
    "TT_TARGET_HIGH": ("TT_ABOVE_TARGET", "C11"), "TT_LOW": ("TT_LOW",),
    "HCT_HIGH": ("C9", "C11"), "HCT_WARN": ("HCT_WARN", "C11"),
    "E2_PERSIST_DAYS": ("C4", "DEXA_REPEAT"), "SYMPTOM_PERSIST_DAYS": ("C11",),
    "NO_LAB_DAYS": ("C2", "C3", "C5", "C11", "C12", "RECHECK"),
    "DEXA_AGE": ("DEXA_BASELINE",), "DEXA_PLANNED_MONTHS": ("DEXA_BASELINE",),
    "DEXA_REPEAT_LOW_DUE": ("C4", "BMD_OSTEOPENIA", "BMD_OSTEOPOROSIS", "DEXA_REPEAT"),
    "BIRTH_YEAR": ("DEXA_BASELINE",), "BIRTH_MONTH_DAY": ("DEXA_BASELINE",), "FRACTURE_HISTORY": ("DEXA_BASELINE",), "PLANNED_MONTHS": ("DEXA_BASELINE",),
    "DEXA_PRIOR_DAYS": ("DEXA_BASELINE",),
    "GOAL": ("C7", "C8", "C15", "CBC", "SEMEN", "FERTILITY_REVIEW"),
    "BMD_OSTEOPENIA": ("BMD_OSTEOPENIA", "DEXA_REPEAT"), "BMD_OSTEOPOROSIS": ("BMD_OSTEOPOROSIS", "DEXA_REPEAT"),
    "PUSH_DAY_BUDGET": ("the device's count of a patient host's pushes",),
    "ACK_GRACE": ("every reminder",), "DOSE_CHANGE_PCT": ("RECHECK", "C1", "C12"),
    "RECHECK_SEVERE_DUE": ("E2_SEVERE", "C6"), "RECHECK_SEVERE_EARLY": ("C6",),
}

SYMPTOM_DIRECTION = {"JOINT": "low E2", "LIBIDO": "either", "FATIGUE": "either", "MOOD": "either",
                     "ED": "either", "BREAST": "high E2", "GYNO": "high E2", "NIPPLE": "high E2",
                     "FLUID": "high E2", "HOTFLASH": "low E2", "HEADACHE": "side effect",
                     "COGNITION": "low E2", "WELLBEING": "low E2"}


def param_text(name, profile=None):
    """A parameter's default in words with its unit (profile_file's own wording)."""
    profile = profile or P.Profile()
    i = PARAM_NAMES.index(name)
    value = profile.params[i]
    if name == "TE_RATIO":
        return "%s" % texts.format_decimal(value, 1)
    text = profile_file._value_text(i, value)
    comment = profile_file._comment(i)
    if comment.startswith("days"):
        return "%s days" % text
    if comment == "months":
        return "%s months" % text
    return text


def _fill(template):
    def one(match):
        name = match.group(1)
        return param_text(name) if name in PARAM_NAMES else name
    return re.sub(r"\{([A-Z0-9_]+)\}", one, template)


def _cell(text):
    return text.replace("|", "\\|")


def _rule_params(rule_name):
    """The parameters named after a rule (its thresholds), found by name so new rules bring theirs."""
    return [n for n in PARAM_NAMES if not n.startswith("LEVEL_") and (n == rule_name or (
        n.startswith(rule_name + "_") and n[len(rule_name) + 1:] in ("LOW", "HIGH", "DAYS", "DUE")))]


def rules_table():
    lines = ["| Rule | Fires when (defaults) | Default level | Source | Why this default |",
             "|---|---|---|---|---|"]
    for i, name in enumerate(catalog.RULES):
        when, why = RULE_PROSE.get(name, (None, MISSING))
        if when is None:
            when = ", ".join("%s = %s" % (n, param_text(n)) for n in _rule_params(name)) or "see monitor.evaluate"
        lines.append("| %s | %s | %s | %s | %s |" % (name, _cell(_fill(when)), catalog.level_name(P.RULE_LEVELS[i]),
                                                     texts.RULE_SOURCES[i], _cell(_fill(why))))
    return lines


def ladder_lines():
    lines = []
    for chain in profile_codec.LADDER:
        words = []
        for k in range(0, len(chain), 2):
            name = PARAM_NAMES[chain[k]]
            words.append("%s (%s)" % (name, param_text(name)))
            if k + 2 < len(chain):
                words.append("<" if chain[k + 1] else "<=")
        lines.append("- " + " ".join(words))
    return lines


def reminders_table():
    lines = ["| Reminder | What | Started by | Due (default) | Window opens / overdue after | Source | Why |",
             "|---|---|---|---|---|---|---|"]
    for r, name in enumerate(catalog.REMINDERS):
        start, why = REMINDER_PROSE.get(name, ("see monitor.reminders", MISSING))
        base = P.P_REMINDERS + 3 * r
        due, early, late = (P.Profile().params[base + k] for k in range(3))
        lines.append("| %s | %s | %s | day %d | %d days before / %d days after | %s | %s |" % (
            name, texts.reminder_text(r), _cell(_fill(start)), due, early, late, texts.REMINDER_SOURCES[r],
            _cell(_fill(why))))
    return lines


def readers(name):
    """The rules and reminders that read a parameter: READ_BY, and a reminder for its own window."""
    owner, _, part = name.rpartition("_")
    own = (owner,) if owner in catalog.REMINDERS and part in ("DUE", "EARLY", "LATE") else ()
    return list(own) + [r for r in READ_BY.get(name, ()) if r not in own]


def params_table():
    lines = ["| Parameter | Default | Allowed | Unit or meaning | Read by |", "|---|---|---|---|---|"]
    for i in range(P.P_LEVELS):
        name = PARAM_NAMES[i]
        lo, hi = profile_codec.param_bounds(i)
        if profile_codec.param_analyte(i) >= 0:
            allowed = "%s to %s" % (profile_file._value_text(i, lo), profile_file._value_text(i, hi))
        elif i == P.P_GOAL:
            allowed = ", ".join(catalog.GOALS)
        elif name == "TE_RATIO":
            allowed = "%s to %s" % (texts.format_decimal(lo, 1), texts.format_decimal(hi, 1))
        else:
            allowed = "%d to %d" % (lo, hi)
        meaning = PARAM_MEANING.get(name) or profile_file._comment(i) or (
            "threshold" if profile_codec.param_analyte(i) >= 0 else "")
        lines.append("| %s | %s | %s | %s | %s |" % (name, param_text(name), allowed, _cell(meaning),
                                                     ", ".join(readers(name)) or "-"))
    return lines


def symptoms_table():
    lines = ["| Code | In plain words | Usual direction |", "|---|---|---|"]
    for code, name in enumerate(catalog.SYMPTOMS):
        lines.append("| %s | %s | %s |" % (name, texts.SYMPTOM_WORDS[code], SYMPTOM_DIRECTION.get(name, "")))
    return lines


def _range(kind, code, lo, hi):
    return "%s to %s" % (texts.format_value(kind, code, lo), texts.format_value(kind, code, hi))


def units_table():
    lines = ["| Analyte | LOINC | Stored as | Also accepted (SI marked) | Refused outside | Needs confirmation |",
             "|---|---|---|---|---|---|"]
    lab = records.KIND_LAB
    for code, name in enumerate(catalog.ANALYTES):
        table = units.LAB_UNITS[code]
        step = texts.format_value(lab, code, 1)
        others = ", ".join(row[0] + (" (SI)" if row[3] else "") for row in table[1:]) or "-"
        lo, hi = validate.LAB_REJECT_LO[code], validate.LAB_REJECT_HI[code]
        clo, chi = validate.LAB_CONFIRM_LO[code], validate.LAB_CONFIRM_HI[code]
        confirm = "-" if (clo, chi) == (lo, hi) else _range(lab, code, clo, chi).replace(" to ", " - ")
        lines.append("| %s | %s | steps of %s | %s | %s | %s |" % (
            name, catalog.LOINC[code], step, _cell(others), _range(lab, code, lo, hi),
            "outside " + confirm if confirm != "-" else "-"))
    dose = records.KIND_DOSE
    for code, name in enumerate(catalog.DRUGS):
        others = ", ".join(row[0] for row in units.DOSE_UNITS[code][1:]) or "-"
        lo, hi = validate.DOSE_REJECT_LO[code], validate.DOSE_REJECT_HI[code]
        clo, chi = validate.DOSE_CONFIRM_LO[code], validate.DOSE_CONFIRM_HI[code]
        confirm = "" if (clo, chi) == (lo, hi) else "outside %s, or " % _range(dose, code, clo, chi).replace(
            " to ", " - ")
        lines.append("| %s dose | - | steps of %s | %s | %s | %smore than %s in a week |" % (
            name, texts.format_value(dose, code, 1), others, _range(dose, code, lo, hi), confirm,
            texts.format_value(dose, code, validate.DOSE_WEEK_CONFIRM[code])))
    return lines


def generate():
    out = [
        "# e2mon clinical rules",
        "",
        "<!-- Generated by `python -m host_tools.clinical_doc` from firmware/monitor. Do not edit by hand: "
        "change the firmware or the generator's prose, then rerun it (tests/host/test_clinical_doc.py checks). -->",
        "",
        "Every threshold and interval below is a **default in a profile the clinician can edit** "
        "(`e2mon profile show`, `e2mon profile set`). None of the sources is a validated clinical standard. "
        "The device flags, explains and reminds. It never suggests a dose: every flag ends by sending the "
        "patient to the clinician. Each flag carries its rule's source tag.",
        "",
        "Sources:",
        "",
    ]
    out += ["- **%s**: %s" % pair for pair in SOURCES]
    out += [
        "",
        "## 1. Rules",
        "",
        "A rule whose level is `off` never fires (`LEVEL_<rule> = off` in the profile). Levels: info, "
        "discuss, urgent. A ladder of bands reports only its most severe band. Lab rules read the latest "
        "result of each analyte. A result reported below the lab's limit of quantitation is shown with its "
        "\"<\" (\"<24 pg/mL\"). A low rule whose threshold lies under that limit does not fire: it asks for "
        "a sensitive assay (LC-MS/MS) instead, at most at level discuss.",
        "",
    ]
    out += rules_table()
    out += [
        "",
        "### Ordered thresholds",
        "",
        "A profile is refused, by the host and by the device that receives it, unless its thresholds keep "
        "this order (defaults shown), so that no band is inverted or hidden by another. Only thresholds of "
        "rules that are switched on are compared (a mild-band limit while E2_MILD or C7 is on, E2_SEVERE "
        "while E2_SEVERE or C6 is, TT_TARGET_LOW while TT_BELOW_TARGET is, HCT_HIGH while C9 is, every other "
        "threshold while its own rule is; the targets always): lowering HCT_HIGH to 52 % with HCT_WARN off is "
        "accepted, and HCT_WARN is checked against it when it is switched on. A threshold skipped passes its "
        "order on to the next one compared (E2_CRITICAL must stay below E2_LOW when E2_LOW_SYMPT is off):",
        "",
    ]
    out += ladder_lines()
    out += [
        "",
        "The host also refuses a birth year that is not %d-%d years ago (0 means unknown)."
        % (profile_file.YOUNGEST_PATIENT_YEARS, profile_file.OLDEST_PATIENT_YEARS),
        "",
        "## 2. Reminders",
        "",
        "Each reminder has a due day counted from what starts it, with a window: due from the day it "
        "opens, overdue after the window closes. Logging the matching lab satisfies it. Reminders survive "
        "a reboot, can be acknowledged or snoozed, and never fire while the device clock is unset.",
        "",
        "\"Drawn\" (the device's acknowledgement of a lab reminder) means the sample was taken, not that the "
        "result is in: it mutes the reminder while the result is awaited, for %s at most (ACK_GRACE). A "
        "reminder acknowledged before it turned overdue escalates, unmuted, when it does; one still without "
        "its lab when the grace ends returns, overdue, and stays until the lab is logged. A snooze lasts %d "
        "days at most (a longer one recorded by a host counts as %d) and never hides an overdue reminder. "
        "FERTILITY_REVIEW is not a lab: acknowledging it inside its window completes it."
        % (param_text("ACK_GRACE"), schedule.SNOOZE_MAX, schedule.SNOOZE_MAX),
        "",
    ]
    out += reminders_table()
    out += [
        "",
        "## 3. Profile parameters",
        "",
        "Every parameter besides the rule levels, with its default and the range the device accepts.",
        "",
    ]
    out += params_table()
    out += ["", "## 4. Symptoms (severity 0-3 with a day of onset)", ""]
    out += symptoms_table()
    out += [
        "",
        "## 5. Units and plausibility",
        "",
        "The unit is explicit on every entry; SI entries are converted exactly (integer arithmetic, half "
        "up), except a limit of quantitation (\"<95.5 pmol/L\"), which is rounded up so that it never claims "
        "more than the lab did (<26.1 pg/mL, not <26). A value outside the confirmation band is shown back in both units and stored only when "
        "confirmed; a value outside the refusal band is never stored. Dates in the future are refused.",
        "",
    ]
    out += units_table()
    out += [
        "",
        "## 6. Choices where the reference is silent",
        "",
    ]
    out += ["- " + choice for choice in CHOICES]
    return "\n".join(out) + "\n"


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    text = generate()
    if "--check" in argv:
        try:
            with open(DOC_PATH, encoding="utf-8") as f:
                current = f.read()
        except OSError:
            current = None
        if current != text:
            print("%s is out of date: run python -m host_tools.clinical_doc" % DOC_PATH, file=sys.stderr)
            return 1
        return 0
    os.makedirs(os.path.dirname(DOC_PATH), exist_ok=True)
    with open(DOC_PATH, "w", encoding="utf-8") as f:
        f.write(text)
    print("wrote %s" % DOC_PATH)
    return 0


if __name__ == "__main__":
    sys.exit(main())
