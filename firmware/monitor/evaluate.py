# Flag evaluation: the latest results, symptoms and therapy dates in the tracker's state against the
# profile, integer only and without allocating. Writes FLAG_FIELDS ints per flag into `out` (rule, level,
# day, value, value2, status) and returns the count; rule IDs and fields are in monitor.rules.
from monitor.combine import combination_flags  # noqa: I001  (first: compile order, see monitor.ingest)
from monitor import profile as P
from monitor import records as R
from monitor import state as S
from monitor import rules as U

from micropython import const
E2_LOW_LADDER = (U.R_E2_CRITICAL, U.R_E2_LOW_SYMPT, U.R_E2_LOW, U.R_E2_BONE)
E2_LOW_PARAMS = (P.P_E2_CRITICAL, P.P_E2_LOW_SYMPT, P.P_E2_LOW, P.P_E2_BONE)
TT_LOW_LADDER = (U.R_TT_LOW, U.R_TT_BELOW_TARGET)
TT_LOW_PARAMS = (P.P_TT_LOW, P.P_TT_TARGET_LOW)
TE_PAIR_DAYS = const(7)   # the most days between the T and the E2 the T:E2 ratio compares


# ---------------------------------------------------------------------------
# Evaluation: integer only, no allocation (writes into `out`, returns the number of flags).

def _low_ladder(out, n, p, st, analyte, ladder, params, count):
    # Most severe band that surely matches; with a below-LLOQ result (true value < stored value),
    # bands whose threshold is under the LLOQ are indeterminate: report the least severe of those.
    day = st[S.LAT_DAY + analyte]
    if day < 0:
        return n
    value = st[S.LAT_VAL + analyte]
    below = st[S.LAT_FLAGS + analyte] & R.FLAG_BELOW_LLOQ
    shown = (U.STATUS_BELOW_LLOQ if below else 0) | reported_by(st, analyte)
    unsure = -1
    unsure_param = 0
    for i in range(count):
        rule = ladder[i]
        if p[P.P_LEVELS + rule] < 0:
            continue
        threshold = p[params[i]]
        if below:
            if value <= threshold:
                n = U.emit(out, n, p, st, rule, day, value, threshold, shown)
                break
            unsure = rule
            unsure_param = threshold
        elif value < threshold:
            n = U.emit(out, n, p, st, rule, day, value, threshold, shown)
            break
    if unsure >= 0:
        lcms = U.STATUS_LCMS if (st[S.LAT_FLAGS + analyte] & R.METHOD_MASK) == R.METHOD_LCMS else 0
        n = U.emit(out, n, p, st, unsure, day, value, unsure_param, U.STATUS_INDETERMINATE | shown | lcms)
    return n


def reported_by(st, analyte):
    # STATUS_PATIENT_REPORTED when the latest result of analyte is not from a clinician's session.
    return 0 if st[S.LAT_FLAGS + analyte] & R.FLAG_CLINIC else U.STATUS_PATIENT_REPORTED


def evaluate_flags(st, p, today, out):
    n = 0
    goal = st[S.GOAL]
    # Estradiol, latest result.
    e2_day = st[S.LAT_DAY + R.A_E2]
    e2 = st[S.LAT_VAL + R.A_E2]
    e2_below = st[S.LAT_FLAGS + R.A_E2] & R.FLAG_BELOW_LLOQ
    e2_by = reported_by(st, R.A_E2)
    if e2_day >= 0 and not e2_below:
        if p[P.P_LEVELS + U.R_E2_SEVERE] >= 0 and e2 > p[P.P_E2_SEVERE]:
            n = U.emit(out, n, p, st, U.R_E2_SEVERE, e2_day, e2, 0, e2_by)
        elif p[P.P_LEVELS + U.R_E2_HIGH] >= 0 and e2 > p[P.P_E2_HIGH]:
            n = U.emit(out, n, p, st, U.R_E2_HIGH, e2_day, e2, 0, e2_by)
        elif p[P.P_E2_MILD_LOW] <= e2 <= p[P.P_E2_MILD_HIGH] and (
                p[P.P_LEVELS + U.R_E2_MILD] >= 0 or (p[P.P_LEVELS + U.R_C7] >= 0 and U.on_trt(st))):
            if p[P.P_LEVELS + U.R_C7] >= 0 and U.on_trt(st):
                n = U.emit(out, n, p, st, U.R_C7, e2_day, e2, 0, e2_by)
            else:
                n = U.emit(out, n, p, st, U.R_E2_MILD, e2_day, e2, 0, e2_by)
        elif e2 > p[P.P_E2_TARGET_HIGH]:
            n = U.emit(out, n, p, st, U.R_E2_ABOVE, e2_day, e2, 0, e2_by)
    n = _low_ladder(out, n, p, st, R.A_E2, E2_LOW_LADDER, E2_LOW_PARAMS, 4)

    # Total testosterone and the T:E2 ratio (T*100 < ratio_tenths * e2_d, both exact integers).
    tt_day = st[S.LAT_DAY + R.A_TT]
    tt = st[S.LAT_VAL + R.A_TT]
    tt_below = st[S.LAT_FLAGS + R.A_TT] & R.FLAG_BELOW_LLOQ
    n = _low_ladder(out, n, p, st, R.A_TT, TT_LOW_LADDER, TT_LOW_PARAMS, 2)
    tt_by = reported_by(st, R.A_TT)
    if tt_day >= 0 and not tt_below and tt > p[P.P_TT_TARGET_HIGH]:
        n = U.emit(out, n, p, st, U.R_TT_ABOVE_TARGET, tt_day, tt, 0, tt_by)
    # the ratio pairs a T and an E2 drawn within TE_PAIR_DAYS of each other (clinical-rules §1)
    if tt_day >= 0 and e2_day >= 0 and not tt_below and not e2_below and e2 > 0 \
            and -TE_PAIR_DAYS <= tt_day - e2_day <= TE_PAIR_DAYS and tt * 100 < p[P.P_TE_RATIO] * e2:
        day = tt_day if tt_day > e2_day else e2_day
        if goal == R.GOAL_FERTILITY and p[P.P_LEVELS + U.R_C8] >= 0:
            n = U.emit(out, n, p, st, U.R_C8, day, tt, e2, tt_by | e2_by)
        else:
            n = U.emit(out, n, p, st, U.R_TE_RATIO, day, tt, e2, tt_by | e2_by)

    # Hematocrit ladder: C9 (action level, urgent) above HCT_WARN.
    hct_day = st[S.LAT_DAY + R.A_HCT]
    hct = st[S.LAT_VAL + R.A_HCT]
    if hct_day >= 0 and not st[S.LAT_FLAGS + R.A_HCT] & R.FLAG_BELOW_LLOQ:
        if p[P.P_LEVELS + U.R_C9] >= 0 and hct >= p[P.P_HCT_HIGH]:
            n = U.emit(out, n, p, st, U.R_C9, hct_day, hct, 0, reported_by(st, R.A_HCT))
        elif hct >= p[P.P_HCT_WARN]:
            n = U.emit(out, n, p, st, U.R_HCT_WARN, hct_day, hct, 0, reported_by(st, R.A_HCT))

    # Bone density ladder (latest DEXA T-score, 0.1 SD, signed): osteoporosis range above low bone density.
    bmd_day = st[S.BMD_DAY]   # the latest scan day and its lowest T-score, any site
    bmd = st[S.BMD_MIN]
    # WHO: T = -1.0 is normal, osteopenia is -2.5 < T < -1.0. The text names aromatase inhibitors only for a
    # man who takes one.
    if bmd_day >= 0:
        on_ai = U.STATUS_ON_AI if U.drug_taken(st, R.D_ANASTROZOLE) else 0
        by = 0   # patient-reported when any site of that scan day was entered by the patient
        for site in range(R.A_BMD_T, R.A_BMD_T_FN + 1):   # spine, hip, femoral neck
            if st[S.LAT_DAY + site] == bmd_day:
                by |= reported_by(st, site)
        if p[P.P_LEVELS + U.R_BMD_OSTEOPOROSIS] >= 0 and bmd <= p[P.P_BMD_OSTEOPOROSIS]:
            n = U.emit(out, n, p, st, U.R_BMD_OSTEOPOROSIS, bmd_day, bmd, p[P.P_BMD_OSTEOPOROSIS], on_ai | by)
        elif bmd < p[P.P_BMD_OSTEOPENIA]:
            n = U.emit(out, n, p, st, U.R_BMD_OSTEOPENIA, bmd_day, bmd, p[P.P_BMD_OSTEOPENIA], on_ai | by)

    return combination_flags(st, p, today, out, n)
