# Names and plain-language texts for hosts and displays; evaluation never loads this module.
from monitor import records as R
from monitor import schedule as M
from monitor import profile as P
from monitor.dates import format_day
from monitor.rules import (
    R_C1, R_C2, R_C3, R_C4, R_C5, R_C6, R_C7, R_C8, R_C9, R_C11, R_C12, R_C14, R_C15, R_E2_ABOVE, R_E2_BONE, R_E2_CRITICAL,
    R_E2_HIGH, R_E2_LOW, R_E2_LOW_SYMPT, R_E2_MILD, R_E2_SEVERE, R_HCT_WARN, R_TE_RATIO, R_TT_ABOVE_TARGET,
    R_TT_BELOW_TARGET, R_TT_LOW, STATUS_INDETERMINATE, STATUS_BELOW_LLOQ, STATUS_AFTER_CHANGE, STATUS_ON_AI, STATUS_LCMS, R_BMD_OSTEOPENIA, R_BMD_OSTEOPOROSIS,
)
from monitor.catalog import DOSE_DECIMALS, LAB_DECIMALS, LAB_UNIT, SYMPTOMS
from monitor.records import (
    ANALYTE_COUNT, DRUG_COUNT, EVENT_NAMES, FLAG_BELOW_LLOQ, KIND_DOSE, KIND_EVENT, KIND_LAB, KIND_SYMPTOM,
    SYMPTOM_COUNT,
)


def format_decimal(value, decimals):
    # Integer value with an implied decimal point, trailing zeros dropped: (1255, 2) -> '12.55'.
    sign = "-" if value < 0 else ""
    value = -value if value < 0 else value
    scale = 10 ** decimals
    whole = value // scale
    frac = value - whole * scale
    if not frac:
        return "%s%d" % (sign, whole)
    digits = "%d" % (frac + scale)   # leading '1' keeps the zeros after the point
    digits = digits[1:]
    while digits[-1] == "0":
        digits = digits[:-1]
    return "%s%d.%s" % (sign, whole, digits)


def format_value(kind, code, value, flags=0):
    # A stored value in plain words with its conventional unit; a lab result below the lab's limit of
    # quantitation (flags) keeps its "<": "<24 pg/mL".
    if kind == KIND_LAB and code in (R.A_BMD_T, R.A_BMD_T_HIP, R.A_BMD_T_FN):
        # a T-score always with its tenth: "-1.0 SD" (ASCII minus: the device font)
        return "%s%d.%d %s" % ("-" if value < 0 else "", (-value if value < 0 else value) // 10,
                               (-value if value < 0 else value) % 10, LAB_UNIT[code])
    if kind == KIND_LAB and 0 <= code < ANALYTE_COUNT:
        return "%s%s %s" % ("<" if flags & FLAG_BELOW_LLOQ else "", format_decimal(value, LAB_DECIMALS[code]),
                            LAB_UNIT[code])
    if kind == KIND_DOSE and 0 <= code < DRUG_COUNT:
        if value == 0:
            return "stopped"
        return "%s %s" % (format_decimal(value, DOSE_DECIMALS[code]), "mg")
    if kind == KIND_SYMPTOM and 0 <= code < SYMPTOM_COUNT:
        return "%s severity %d" % (SYMPTOMS[code], value)
    if kind == KIND_EVENT and 0 <= code < len(EVENT_NAMES):
        return "%s %d" % (EVENT_NAMES[code], value)
    return "%d" % value


def format_lab_si(code, value):
    # A stored lab value in its SI unit, or None without one: exact where the unit is a power of ten of the
    # stored one (54.4 % is 0.544 L/L, not 0.54), else 2 decimals, rounded half up.
    from monitor import units   # the conversion tables: hosts' reports, not the device's screens
    for row in units.LAB_UNITS[code]:
        if row[3]:
            decimals = 2
            if row[2] == 1:
                scale = 1
                while scale < row[1] and row[1] % (scale * 10) == 0:
                    scale *= 10
                if scale == row[1]:
                    decimals = max(decimals, len(str(scale)) - 1)
            # stored = si * mul / div  =>  si * 10**decimals = stored * div * 10**decimals / mul
            scaled = units.scale_round_half_up(value, row[2] * 10 ** decimals, row[1])
            return "%s %s" % (format_decimal(scaled, decimals), row[0])
    return None


# ---------------------------------------------------------------------------
# Rule texts.

RULE_SOURCES = ("003", "001", "002, 001", "001", "003", "001, 003", "001", "004",
                "002, 003", "AUA 2018", "002, 003", "000, 002, 003", "ISSAM",
                "000", "001", "004", "001, 003", "000, 001", "001", "001", "002", "003, ES 2010, AUA 2018",
                "000", "000", "001", "WHO 1994, 003, 004", "WHO 1994, ISCD", "000")


SYMPTOM_WORDS = ("joint pain", "low libido", "fatigue", "low mood", "erection problems", "breast tenderness",
                 "breast enlargement", "nipple sensitivity", "water retention", "hot flashes", "headache",
                 "memory fog", "reduced sense of well-being")
CLOSING = "Discuss this with your clinician."


def _lab_text(code, value, status=0):
    # status STATUS_BELOW_LLOQ: the value is the lab's limit and the result below it ("<24 pg/mL")
    return format_value(KIND_LAB, code, value, FLAG_BELOW_LLOQ if status & STATUS_BELOW_LLOQ else 0)


def _symptom_list(mask):
    # The symptoms of a bit mask (bit = symptom code) in words: "joint pain, fatigue and hot flashes".
    names = [SYMPTOM_WORDS[s] for s in range(R.SYMPTOM_COUNT) if mask & (1 << s)]
    if not names:
        return "symptoms"
    if len(names) == 1:
        return names[0]
    return "%s and %s" % (", ".join(names[:-1]), names[-1])


def _symptom(code):
    if 0 <= code < R.SYMPTOM_COUNT:
        return SYMPTOM_WORDS[code]
    return "a symptom"


def duration(days):
    # A profile's day count in words: weeks up to 16, months from 3 on when within 3 days of whole months,
    # else days.
    if days % 7 == 0 and 0 < days <= 112:
        n, unit = days // 7, "week"
    else:
        n = (days * 12 + 182) // 365
        unit = "month"
        if n < 3 or not -3 <= n * 365 // 12 - days <= 3:
            n, unit = days, "day"
    return "%d %s%s" % (n, unit, "" if n == 1 else "s")


def explain(rule, value, value2, status, p=None):
    # The sentence for one flag, without the closing advice; durations from the profile's parameters
    # (p: its array; the defaults without one). Names no internal rule ID.
    p = P.PARAM_DEFAULTS if p is None else p
    if status & STATUS_INDETERMINATE:
        if rule in (R_TT_LOW, R_TT_BELOW_TARGET):
            what = "Total testosterone"
            code = R.A_TT
        else:
            what = "Estradiol"
            code = R.A_E2
        text = ("%s %s was below the lab's limit of quantitation, so it is not known whether it is below %s"
                % (what, _lab_text(code, value, STATUS_BELOW_LLOQ), _lab_text(code, value2)))
        if status & STATUS_LCMS:
            return text + " (the limit of the sensitive LC-MS/MS assay it was measured with)."
        return text + ": ask about a sensitive assay (LC-MS/MS)."
    e2 = _lab_text(R.A_E2, value, status)
    if rule == R_E2_ABOVE:
        return "Estradiol %s is above the target range." % e2
    if rule == R_E2_MILD:
        return "Estradiol %s is mildly elevated." % e2
    if rule == R_E2_HIGH:
        return "Estradiol %s is elevated." % e2
    if rule == R_E2_SEVERE:
        return "Estradiol %s is severely elevated; a recheck after about %s is usual." % (
            e2, duration(p[P.P_REMINDERS + 3 * M.M_RECHECK_SEVERE]))
    if rule == R_E2_BONE:
        return "Estradiol %s is in the range where bone protection may start to suffer." % e2
    if rule == R_E2_LOW:
        return "Estradiol %s is low." % e2
    if rule == R_E2_LOW_SYMPT:
        return "Estradiol %s is low enough that it may contribute to dry joints, fatigue or low libido." % e2
    if rule == R_E2_CRITICAL:
        return "Estradiol %s is very low, a level linked to bone loss." % e2
    if rule in (R_TE_RATIO, R_C8):
        text = "The testosterone to estradiol ratio is low (%s to %s)." % (
            _lab_text(R.A_TT, value), _lab_text(R.A_E2, value2))
        if rule == R_C8:
            text += " This matters while trying to conceive (this replaces the general ratio flag)."
        return text
    if rule == R_TT_LOW:
        return "Total testosterone %s is low." % _lab_text(R.A_TT, value, status)
    if rule == R_TT_BELOW_TARGET:
        return "Total testosterone %s is below the target range." % _lab_text(R.A_TT, value, status)
    if rule == R_TT_ABOVE_TARGET:
        return "Total testosterone %s is above the target range." % _lab_text(R.A_TT, value)
    if rule == R_HCT_WARN:
        return "Hematocrit %s is approaching the action level." % _lab_text(R.A_HCT, value)
    if rule == R_C9:
        return "Hematocrit %s is at or above the action level." % _lab_text(R.A_HCT, value)
    if rule == R_C1:
        return ("New or worse %s since the last therapy change: estradiol may have dropped too low"
                " (possible over-suppression). An estradiol recheck is suggested." % _symptom(value))
    if rule == R_C2:
        return "%s with estradiol %s: low estradiol may contribute." % (
            _symptom(value2)[:1].upper() + _symptom(value2)[1:], e2)
    if rule == R_C3:
        return "Estradiol %s is very low and you report %s." % (e2, _symptom_list(value2))
    if rule == R_C4:
        return ("Estradiol has stayed low on tests at least %s apart (last low result %s): a bone density"
                " scan every %s is suggested." % (duration(p[P.P_E2_PERSIST_DAYS]), e2,
                                                   duration(p[P.P_DEXA_REPEAT_LOW_DUE])))
    if rule == R_C5:
        return "Estradiol %s with %s: possible estrogen excess." % (e2, _symptom(value2))
    if rule == R_C6:
        return ("After a very high estradiol or a breast enlargement flare, an estradiol recheck is"
                " planned for %s." % format_day_safe(value))
    if rule == R_C7:
        return ("Estradiol %s is mildly elevated while on testosterone therapy (this replaces the general"
                " mild-elevation flag)." % e2)
    if rule == R_C11:
        return ("Your labs are in the target range but %s has lasted %s or more: other causes"
                " (sleep, thyroid, mood, medication) are worth looking at." % (
                    _symptom(value), duration(p[P.P_SYMPTOM_PERSIST_DAYS])))
    if rule == R_C12 and status & STATUS_AFTER_CHANGE:
        return ("New or worse %s since the last therapy change. High and low estradiol cause overlapping"
                " symptoms, so a recheck is suggested rather than a guess." % _symptom(value))
    if rule == R_C12:
        return ("You report %s with no estradiol test in the last %s. High and low estradiol cause"
                " overlapping symptoms, so a recheck is suggested rather than a guess." % (
                    _symptom(value), duration(p[P.P_NO_LAB_DAYS])))
    if rule == R_C15:
        return ("You logged testosterone while trying to conceive: testosterone therapy can suppress sperm"
                " production.")
    if rule == R_C14:
        return "You report %s: changes in thinking or mood are worth raising." % _symptom(value)
    if rule in (R_BMD_OSTEOPENIA, R_BMD_OSTEOPOROSIS):
        return ("Bone density T-score %s is %s %s: %s.%s A scan every %s is suggested." % (
            _lab_text(R.A_BMD_T, value), "below" if rule == R_BMD_OSTEOPENIA else "at or below",
            _lab_text(R.A_BMD_T, value2),
            "low bone density (osteopenia)" if rule == R_BMD_OSTEOPENIA else "the osteoporosis range",
            " Aromatase inhibitors can speed bone loss." if status & STATUS_ON_AI else "",
            duration(p[P.P_DEXA_REPEAT_LOW_DUE])))
    return "Rule %d matched." % rule


def format_day_safe(day):
    return format_day(day) if 0 <= day <= 65535 else "soon"


URGENT_CLOSING = "Contact your clinician soon."


def message(rule, value, value2, status, p=None):
    # Plain-language flag text; always ends by sending the patient to the clinician (once), never a dose.
    return "%s %s" % (explain(rule, value, value2, status, p), URGENT_CLOSING if rule == R_C9 else CLOSING)


# ---------------------------------------------------------------------------
# Reminder texts.

REMINDER_SOURCES = ("002, 001, 000, 003", "001", "001, ES 2010", "001", "001, 003", "004, 003, 001",
                    "001, 000", "001", "001")


REMINDER_TEXT = (
    "Estradiol and total testosterone recheck after a therapy start, dose change or new symptoms",
    "Estradiol recheck after a very high result or a breast enlargement flare",
    "Blood count (CBC) including hematocrit",
    "Fasting lipids",
    "Baseline bone density scan (DEXA)",
    "Repeat bone density scan (DEXA)",
    "Semen analysis",
    "Review at the end of the fertility course (%s)",   # its length: the profile's due day
    "Labs during the step-down",
)


def reminder_text(reminder, p=None):
    # What a reminder asks for; a length in it comes from the profile (p: its parameters; the defaults without one).
    text = REMINDER_TEXT[reminder]
    if reminder == M.M_FERTILITY_REVIEW:
        text = text % duration((P.PARAM_DEFAULTS if p is None else p)[P.P_REMINDERS + 3 * reminder])
    return text


def overdue_day(reminder, due, p=None):
    # The day a reminder due on `due` turns overdue (p: the profile's parameters; the defaults without one).
    return due + (P.PARAM_DEFAULTS if p is None else p)[P.P_REMINDERS + 3 * reminder + 2] + 1


def describe_reminder(reminder, state, due, p=None):
    when = format_day(due) if 0 <= due <= 65535 else "?"
    if state == M.DONE:
        return "%s: done." % reminder_text(reminder, p)
    if state == M.OVERDUE:
        since = overdue_day(reminder, due, p)
        return "%s: overdue since %s (due %s). Discuss this with your clinician." % (
            reminder_text(reminder, p), format_day(since) if 0 <= since <= 65535 else "?", when)
    return "%s: %s %s." % (reminder_text(reminder, p), "due" if state == M.DUE else "planned for", when)
