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
from monitor.dates import year_of_day
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
RULE_COUNT = const(27)

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
STATUS_PATIENT_REPORTED = const(8)   # it rests on a result the patient entered (records.FLAG_CLINIC unset)
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


def symptom_recheck_day(st):
    # Latest day a symptom appeared or worsened with no E2 result since (C1/C12 recheck), or -1.
    e2_day = st[S.LAT_DAY + R.A_E2]
    best = -1
    for s in range(R.SYMPTOM_COUNT):
        if st[S.SYM_SEV + s] > 0:
            rise = st[S.SYM_RISE + s]
            if rise > e2_day and rise > best:
                best = rise
    return best


def therapy_age(st, p):
    # Age in years at therapy start from the birth year, or -1 if either is unknown.
    if p[P.P_BIRTH_YEAR] <= 0 or st[S.THERAPY_START] < 0:
        return -1
    return year_of_day(st[S.THERAPY_START]) - p[P.P_BIRTH_YEAR]


def on_testosterone(st):
    return st[S.DOSE_START + R.D_TESTOSTERONE] >= 0
