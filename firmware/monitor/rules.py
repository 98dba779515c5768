"""Integer-only flag evaluation (clinical-rules §1, §4) over the tracker's state and a profile.

`evaluate_flags(st, p, today, out)` reads the fixed-size state (monitor.state) and the profile's
parameters (monitor.profile) and writes flags into `out` (FLAG_FIELDS ints each) without allocating:
rule, level, day, value, value2, status. Ladders report only their most severe band. A low rule whose
threshold lies below a result's limit of quantitation gives STATUS_INDETERMINATE ("ask about a sensitive
assay") instead of firing. C9 (hematocrit action level) tops the HCT ladder; C7 and C8 replace E2_MILD and
TE_RATIO when the goal is TRT / fertility. Text is in monitor.texts. Nothing here suggests a dose.
"""
from monitor import records as R
from monitor.dates import year_of_day
from monitor.profile import (  # noqa: F401  (Profile and LEVELS re-exported: rules.Profile is the interface)
    LEVEL_DISCUSS, LEVEL_INFO, LEVEL_OFF, LEVEL_URGENT, LEVELS, P_BIRTH_YEAR, P_E2_ABOVE, P_E2_CRITICAL, P_E2_HIGH, P_E2_LOW, P_E2_LOW_SYMPT,
    P_E2_BONE, P_E2_MILD_HIGH, P_E2_MILD_LOW, P_E2_PERSIST_DAYS, P_E2_SEVERE, P_E2_TARGET_HIGH,
    P_E2_TARGET_LOW, P_GOAL, P_HCT_HIGH, P_HCT_WARN, P_LEVELS, P_NO_LAB_DAYS, P_REMINDERS,
    P_SYMPTOM_PERSIST_DAYS, P_TE_RATIO, P_TT_LOW, P_TT_TARGET_HIGH, P_TT_TARGET_LOW, Profile,
)
from monitor.state import (
    DOSE_START, E2_RUN_LAST, E2_RUN_START, GOAL, LAST_CHANGE, LAT_DAY, LAT_FLAGS, LAT_VAL, RULE_ACK_DAY,
    SEVERE_DAY, SYM_ONSET, SYM_RISE, SYM_SEV, THERAPY_START,
)

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

RULES = ("E2_ABOVE", "E2_MILD", "E2_HIGH", "E2_SEVERE", "E2_BONE", "E2_LOW", "E2_LOW_SYMPT", "E2_CRITICAL",
         "TE_RATIO", "TT_LOW", "TT_BELOW_TARGET", "TT_ABOVE_TARGET", "HCT_WARN",
         "C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8", "C9", "C11", "C12", "C14")
R_E2_ABOVE = const(0)
R_E2_MILD = const(1)
R_E2_HIGH = const(2)
R_E2_SEVERE = const(3)
R_E2_BONE = const(4)
R_E2_LOW = const(5)
R_E2_LOW_SYMPT = const(6)
R_E2_CRITICAL = const(7)
R_TE_RATIO = const(8)
R_TT_LOW = const(9)
R_TT_BELOW_TARGET = const(10)
R_TT_ABOVE_TARGET = const(11)
R_HCT_WARN = const(12)
R_C1 = const(13)
R_C2 = const(14)
R_C3 = const(15)
R_C4 = const(16)
R_C5 = const(17)
R_C6 = const(18)
R_C7 = const(19)
R_C8 = const(20)
R_C9 = const(21)
R_C11 = const(22)
R_C12 = const(23)
R_C14 = const(24)
RULE_COUNT = const(25)

FLAG_FIELDS = const(6)
F_RULE = const(0)
F_LEVEL = const(1)
F_DAY = const(2)
F_VALUE = const(3)
F_VALUE2 = const(4)
F_STATUS = const(5)
STATUS_INDETERMINATE = const(1)
STATUS_ACKED = const(2)
MAX_FLAGS = const(32)

# Ladders from most to least severe: (rule, threshold parameter).
E2_LOW_LADDER = (R_E2_CRITICAL, R_E2_LOW_SYMPT, R_E2_LOW, R_E2_BONE)
E2_LOW_PARAMS = (P_E2_CRITICAL, P_E2_LOW_SYMPT, P_E2_LOW, P_E2_BONE)
TT_LOW_LADDER = (R_TT_LOW, R_TT_BELOW_TARGET)
TT_LOW_PARAMS = (P_TT_LOW, P_TT_TARGET_LOW)


def rule_index(name):
    for i in range(RULE_COUNT):
        if RULES[i] == name:
            return i
    raise ValueError("unknown rule %s" % name)


# ---------------------------------------------------------------------------
# Evaluation: integer only, no allocation (writes into `out`, returns the number of flags).

def _emit(out, n, p, st, rule, day, value, value2, status):
    level = p[P_LEVELS + rule]
    if level < 0 or n >= MAX_FLAGS:
        return n
    if status & STATUS_INDETERMINATE and level > LEVEL_DISCUSS:
        level = LEVEL_DISCUSS
    if st[RULE_ACK_DAY + rule] >= day >= 0:
        status |= STATUS_ACKED
    o = n * FLAG_FIELDS
    out[o] = rule
    out[o + 1] = level
    out[o + 2] = day
    out[o + 3] = value
    out[o + 4] = value2
    out[o + 5] = status
    return n + 1


def _low_ladder(out, n, p, st, analyte, ladder, params, count):
    # Most severe band that surely matches; with a below-LLOQ result (true value < stored value),
    # bands whose threshold is under the LLOQ are indeterminate: report the least severe of those.
    day = st[LAT_DAY + analyte]
    if day < 0:
        return n
    value = st[LAT_VAL + analyte]
    below = st[LAT_FLAGS + analyte] & R.FLAG_BELOW_LLOQ
    unsure = -1
    unsure_param = 0
    for i in range(count):
        rule = ladder[i]
        if p[P_LEVELS + rule] < 0:
            continue
        threshold = p[params[i]]
        if below:
            if value <= threshold:
                n = _emit(out, n, p, st, rule, day, value, threshold, 0)
                break
            unsure = rule
            unsure_param = threshold
        elif value < threshold:
            n = _emit(out, n, p, st, rule, day, value, threshold, 0)
            break
    if unsure >= 0:
        n = _emit(out, n, p, st, unsure, day, value, unsure_param, STATUS_INDETERMINATE)
    return n


def e2_surely_below(st, threshold):
    """True if the latest E2 is certainly below threshold (a below-LLOQ result counts when LLOQ <= it)."""
    if st[LAT_DAY + R.A_E2] < 0:
        return False
    value = st[LAT_VAL + R.A_E2]
    if st[LAT_FLAGS + R.A_E2] & R.FLAG_BELOW_LLOQ:
        return value <= threshold
    return value < threshold


def e2_persistently_low(st, p):
    return st[E2_RUN_START] >= 0 and st[E2_RUN_LAST] - st[E2_RUN_START] >= p[P_E2_PERSIST_DAYS]


def severe_recheck_anchor(st):
    """Day of the last E2 above the severe threshold or GYNO flare (C6), -1 if none."""
    a = st[SEVERE_DAY]
    g = st[SYM_RISE + R.S_GYNO]
    return g if g > a else a


def symptom_recheck_day(st):
    """Latest day a symptom appeared or worsened with no E2 result since (C1/C12 recheck), or -1."""
    e2_day = st[LAT_DAY + R.A_E2]
    best = -1
    for s in range(R.SYMPTOM_COUNT):
        if st[SYM_SEV + s] > 0:
            rise = st[SYM_RISE + s]
            if rise > e2_day and rise > best:
                best = rise
    return best


def evaluate_flags(st, p, today, out):
    n = 0
    goal = st[GOAL]
    # Estradiol, latest result.
    e2_day = st[LAT_DAY + R.A_E2]
    e2 = st[LAT_VAL + R.A_E2]
    e2_below = st[LAT_FLAGS + R.A_E2] & R.FLAG_BELOW_LLOQ
    if e2_day >= 0 and not e2_below:
        if p[P_LEVELS + R_E2_SEVERE] >= 0 and e2 > p[P_E2_SEVERE]:
            n = _emit(out, n, p, st, R_E2_SEVERE, e2_day, e2, 0, 0)
        elif p[P_LEVELS + R_E2_HIGH] >= 0 and e2 > p[P_E2_HIGH]:
            n = _emit(out, n, p, st, R_E2_HIGH, e2_day, e2, 0, 0)
        elif p[P_E2_MILD_LOW] <= e2 <= p[P_E2_MILD_HIGH] and (
                p[P_LEVELS + R_E2_MILD] >= 0 or (goal == R.GOAL_TRT and p[P_LEVELS + R_C7] >= 0)):
            if goal == R.GOAL_TRT and p[P_LEVELS + R_C7] >= 0:
                n = _emit(out, n, p, st, R_C7, e2_day, e2, 0, 0)
            else:
                n = _emit(out, n, p, st, R_E2_MILD, e2_day, e2, 0, 0)
        elif e2 > p[P_E2_ABOVE]:
            n = _emit(out, n, p, st, R_E2_ABOVE, e2_day, e2, 0, 0)
    n = _low_ladder(out, n, p, st, R.A_E2, E2_LOW_LADDER, E2_LOW_PARAMS, 4)

    # Total testosterone and the T:E2 ratio (T*100 < ratio_tenths * e2_d, both exact integers).
    tt_day = st[LAT_DAY + R.A_TT]
    tt = st[LAT_VAL + R.A_TT]
    tt_below = st[LAT_FLAGS + R.A_TT] & R.FLAG_BELOW_LLOQ
    n = _low_ladder(out, n, p, st, R.A_TT, TT_LOW_LADDER, TT_LOW_PARAMS, 2)
    if tt_day >= 0 and not tt_below and tt > p[P_TT_TARGET_HIGH]:
        n = _emit(out, n, p, st, R_TT_ABOVE_TARGET, tt_day, tt, 0, 0)
    if tt_day >= 0 and e2_day >= 0 and not tt_below and not e2_below and e2 > 0 \
            and tt * 100 < p[P_TE_RATIO] * e2:
        day = tt_day if tt_day > e2_day else e2_day
        if goal == R.GOAL_FERTILITY and p[P_LEVELS + R_C8] >= 0:
            n = _emit(out, n, p, st, R_C8, day, tt, e2, 0)
        else:
            n = _emit(out, n, p, st, R_TE_RATIO, day, tt, e2, 0)

    # Hematocrit ladder: C9 (action level, urgent) above HCT_WARN.
    hct_day = st[LAT_DAY + R.A_HCT]
    hct = st[LAT_VAL + R.A_HCT]
    if hct_day >= 0 and not st[LAT_FLAGS + R.A_HCT] & R.FLAG_BELOW_LLOQ:
        if p[P_LEVELS + R_C9] >= 0 and hct >= p[P_HCT_HIGH]:
            n = _emit(out, n, p, st, R_C9, hct_day, hct, 0, 0)
        elif hct >= p[P_HCT_WARN]:
            n = _emit(out, n, p, st, R_HCT_WARN, hct_day, hct, 0, 0)

    # Symptoms. c1: a JOINT..ED symptom active; any: any symptom active; excess: BREAST..FLUID active.
    c1_code = -1
    c1_rise = -1
    new_code = -1
    new_rise = -1
    any_code = -1
    any_day = -1
    excess_code = -1
    for s in range(R.SYMPTOM_COUNT):
        if st[SYM_SEV + s] <= 0:
            continue
        rise = st[SYM_RISE + s]
        if rise >= any_day:
            any_code = s
            any_day = rise
        if s <= R.S_ED:
            if rise >= c1_rise:
                c1_code = s
                c1_rise = rise
            if st[LAST_CHANGE] >= 0 and rise > st[LAST_CHANGE] and rise > e2_day and rise >= new_rise:
                new_code = s
                new_rise = rise
        elif s <= R.S_FLUID and excess_code < 0:
            excess_code = s
    low_symptom = 0
    if any_code >= 0 and p[P_LEVELS + R_C3] >= 0 and e2_surely_below(st, p[P_E2_CRITICAL]):
        n = _emit(out, n, p, st, R_C3, e2_day if e2_day > any_day else any_day, e2, any_code, 0)
        low_symptom = 1
    elif c1_code >= 0 and p[P_LEVELS + R_C2] >= 0 and e2_surely_below(st, p[P_E2_LOW_SYMPT]):
        n = _emit(out, n, p, st, R_C2, e2_day if e2_day > c1_rise else c1_rise, e2, c1_code, 0)
        low_symptom = 1
    elif new_code >= 0 and p[P_LEVELS + R_C1] >= 0:
        n = _emit(out, n, p, st, R_C1, new_rise, new_code, st[LAST_CHANGE], 0)
        low_symptom = 1
    if e2_persistently_low(st, p):
        n = _emit(out, n, p, st, R_C4, st[E2_RUN_LAST], e2, st[E2_RUN_START], 0)
    if excess_code >= 0 and e2_day >= 0 and not e2_below and e2 > p[P_E2_HIGH]:
        n = _emit(out, n, p, st, R_C5, e2_day, e2, excess_code, 0)
    anchor = severe_recheck_anchor(st)
    due_param = P_REMINDERS + 3   # RECHECK_SEVERE due / early
    if anchor >= 0 and e2_day < anchor + p[due_param] - p[due_param + 1]:
        n = _emit(out, n, p, st, R_C6, anchor, anchor + p[due_param], st[SEVERE_DAY], 0)
    if today >= 0 and any_code >= 0:
        # C11: labs in target, yet a symptom has lasted SYMPTOM_PERSIST_DAYS or more.
        if e2_day >= 0 and not e2_below and p[P_E2_TARGET_LOW] <= e2 <= p[P_E2_TARGET_HIGH] and (
                tt_day < 0 or (not tt_below and p[P_TT_TARGET_LOW] <= tt <= p[P_TT_TARGET_HIGH])):
            oldest = -1
            oldest_code = -1
            for s in range(R.SYMPTOM_COUNT):
                onset = st[SYM_ONSET + s]
                if st[SYM_SEV + s] > 0 and onset >= 0 and onset <= today - p[P_SYMPTOM_PERSIST_DAYS] and (
                        oldest < 0 or onset < oldest):
                    oldest = onset
                    oldest_code = s
            if oldest_code >= 0:
                n = _emit(out, n, p, st, R_C11, oldest, oldest_code, e2, 0)
        # C12: symptoms but no E2 result in the last NO_LAB_DAYS: do not guess high or low.
        if not low_symptom and (e2_day < 0 or e2_day < today - p[P_NO_LAB_DAYS]):
            n = _emit(out, n, p, st, R_C12, any_day, any_code, e2_day, 0)
    if st[SYM_SEV + R.S_COGNITION] > 0 or st[SYM_SEV + R.S_MOOD] > 0:
        code = R.S_COGNITION if st[SYM_SEV + R.S_COGNITION] > 0 else R.S_MOOD
        n = _emit(out, n, p, st, R_C14, st[SYM_RISE + code], code, 0, 0)
    return n


def therapy_age(st, p):
    """Age in years at therapy start from the birth year, or -1 if either is unknown."""
    if p[P_BIRTH_YEAR] <= 0 or st[THERAPY_START] < 0:
        return -1
    return year_of_day(st[THERAPY_START]) - p[P_BIRTH_YEAR]


def on_testosterone(st):
    return st[DOSE_START + R.D_TESTOSTERONE] >= 0


# Plain-language text lives in monitor.texts; these wrappers load it only when asked.

def message(rule, value, value2, status):
    """Plain-language flag text; always ends by sending the patient to the clinician, never a dose."""
    from monitor import texts
    return texts.message(rule, value, value2, status)


def source(rule):
    from monitor import texts
    return texts.RULE_SOURCES[rule]


def level_name(level):
    return LEVELS[level] if 0 <= level < len(LEVELS) else "off"
