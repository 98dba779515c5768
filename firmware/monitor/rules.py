# Rule IDs, flag fields and the shared predicates of the rule evaluation (clinical-rules §1, §4).
#
# monitor.evaluate's `evaluate_flags(st, p, today, out)` reads the fixed-size state (monitor.state) and the profile's
# parameters (monitor.profile) and writes flags into `out` (FLAG_FIELDS ints each) without allocating:
# rule, level, day, value, value2, status. Ladders report only their most severe band. A low rule whose
# threshold lies below a result's limit of quantitation gives STATUS_INDETERMINATE ("ask about a sensitive
# assay") instead of firing. C9 (hematocrit action level) tops the HCT ladder; C7 and C8 replace E2_MILD and
# TE_RATIO when the goal is TRT / fertility (their texts say so). BMD_OSTEOPOROSIS tops the BMD ladder. Text is in monitor.texts. Nothing here suggests a dose.
from monitor import profile as P
from monitor import records as R
from monitor import state as S
from monitor.dates import month_day_of_day, year_of_day
from monitor.profile import LEVEL_DISCUSS

from micropython import const

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
R_BMD_OSTEOPENIA = const(25)     # appended: acknowledgement events store 64 + rule index
R_BMD_OSTEOPOROSIS = const(26)
R_C15 = const(27)
RULE_COUNT = const(28)

FLAG_FIELDS = const(6)
F_RULE = const(0)
F_LEVEL = const(1)
F_DAY = const(2)
F_VALUE = const(3)
F_VALUE2 = const(4)
F_STATUS = const(5)
STATUS_INDETERMINATE = const(1)
STATUS_ACKED = const(2)
STATUS_BELOW_LLOQ = const(4)   # the flag's value is a lab's limit of quantitation: the result is below it
STATUS_LCMS = const(8)   # indeterminate below the limit of an LC-MS/MS assay: no sensitive assay to ask for
STATUS_AFTER_CHANGE = const(16)   # C12 for C1's symptoms after a change without an aromatase inhibitor
STATUS_ON_AI = const(32)   # a bone density flag for a man taking an aromatase inhibitor
STATUS_PATIENT_REPORTED = const(64)   # it rests on a result the patient entered (records.FLAG_CLINIC unset)
MAX_FLAGS = const(32)

def emit(out, n, p, st, rule, day, value, value2, status):
    # Writes one flag at index n unless its rule is off; returns the new count.
    level = p[P.P_LEVELS + rule]
    if level < 0 or n >= MAX_FLAGS:
        return n
    if status & STATUS_INDETERMINATE and level > LEVEL_DISCUSS:
        level = LEVEL_DISCUSS
    if st[S.RULE_ACK_DAY + rule] >= day >= 0:
        status |= STATUS_ACKED
    o = n * FLAG_FIELDS
    out[o] = rule
    out[o + 1] = level
    out[o + 2] = day
    out[o + 3] = value
    out[o + 4] = value2
    out[o + 5] = status
    return n + 1


def e2_surely_below(st, threshold):
    # True if the latest E2 is certainly below threshold (a below-LLOQ result counts when LLOQ <= it).
    if st[S.LAT_DAY + R.A_E2] < 0:
        return False
    value = st[S.LAT_VAL + R.A_E2]
    if st[S.LAT_FLAGS + R.A_E2] & R.FLAG_BELOW_LLOQ:
        return value <= threshold
    return value < threshold


def e2_persistently_low(st, p):
    return st[S.E2_RUN_START] >= 0 and st[S.E2_RUN_LAST] - st[S.E2_RUN_START] >= p[P.P_E2_PERSIST_DAYS]


def severe_recheck_anchor(st):
    # Day of the last E2 above the severe threshold or GYNO flare (C6), -1 if none.
    a = st[S.SEVERE_DAY]
    g = st[S.SYM_RISE + R.S_GYNO]
    return g if g > a else a


def recheck_request(st, p, today):
    # The latest day C1 or C12 asked for an E2 and total T recheck (clinical-rules §2), or -1: C1's symptom
    # new or worse since the last therapy change; C12's symptoms with no E2 in the NO_LAB_DAYS before,
    # from the day that became true (today >= 0); an earlier C12 that an E2 alone has not answered.
    best = st[S.C12_ASK]
    change = st[S.LAST_CHANGE]
    e2_day = st[S.LAT_DAY + R.A_E2]
    stale_from = e2_day + p[P.P_NO_LAB_DAYS] + 1 if e2_day >= 0 else -1
    c12 = p[P.P_LEVELS + R_C12] >= 0 and stale_from <= today
    # C1 with an aromatase inhibitor taken, else C12's wording for the same symptoms
    c1 = change >= 0 and p[P.P_LEVELS + (R_C1 if drug_taken(st, R.D_ANASTROZOLE) else R_C12)] >= 0
    for s in range(R.SYMPTOM_COUNT):
        if st[S.SYM_SEV + s] > 0:
            rise = st[S.SYM_RISE + s]
            if c1 and s <= R.S_ED and rise > change and rise > best:
                best = rise
            if c12:
                day = rise if rise > stale_from else stale_from
                if day > best:
                    best = day
    return best


def therapy_age(st, p):
    # Age in whole years at therapy start, or -1 if the birth year or the start is unknown. With the birth
    # year alone, the difference of years (at most one year more than the age).
    start = st[S.THERAPY_START]
    if p[P.P_BIRTH_YEAR] <= 0 or start < 0:
        return -1
    age = year_of_day(start) - p[P.P_BIRTH_YEAR]
    if p[P.P_BIRTH_MONTH_DAY] and month_day_of_day(start) < p[P.P_BIRTH_MONTH_DAY]:
        age -= 1   # the birthday not reached yet that year (born Feb 29: from Mar 1 in other years)
    return age


def drug_taken(st, drug):
    # a dose logged and not stopped since
    return st[S.DOSE_DAY + drug] > st[S.DOSE_STOP + drug]


def on_trt(st):
    # "On TRT" (clinical-rules §2 CBC, §4 C7): testosterone taken, or the TRT goal with no testosterone
    # logged and stopped.
    return drug_taken(st, R.D_TESTOSTERONE) or (st[S.GOAL] == R.GOAL_TRT and st[S.DOSE_DAY + R.D_TESTOSTERONE] < 0)


def cbc_start(st):
    # The CBC schedule's start (clinical-rules §2), -1 while not on TRT: the first testosterone dose of the
    # current course or the TRT goal's date (set after any stop), whichever is first; with the goal from the
    # profile alone (no date) and no testosterone logged, the therapy start.
    if not on_trt(st):
        return -1
    start = st[S.DOSE_START + R.D_TESTOSTERONE] if drug_taken(st, R.D_TESTOSTERONE) else -1
    goal = st[S.GOAL_DAY] if st[S.GOAL] == R.GOAL_TRT else -1
    if goal > st[S.DOSE_STOP + R.D_TESTOSTERONE] and (start < 0 or goal < start):
        start = goal
    return start if start >= 0 else st[S.THERAPY_START]
