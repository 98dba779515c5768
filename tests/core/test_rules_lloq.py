# Below-LLOQ results: indeterminate instead of firing; flag acknowledgement.
from core_helpers import DAY0, History  # noqa: I001
from monitor import records as R
from monitor import rules as U
from monitor import profile as P

BLQ = R.METHOD_IMMUNOASSAY | R.FLAG_BELOW_LLOQ | R.FLAG_CONFIRMED


def flags(value, flags=BLQ):
    return [(f[0], f[5]) for f in History(2).lab(DAY0, R.A_E2, value, flags).tracker.flags(DAY0)]


LT = U.STATUS_BELOW_LLOQ          # the flag's value is the limit: every text shows it as "<24 pg/mL"
UNSURE = U.STATUS_INDETERMINATE | LT


def test_below_lloq_is_indeterminate_not_fired():
    assert flags(240) == [(U.R_E2_BONE, LT), (U.R_E2_LOW, UNSURE)]     # "<24 pg/mL"
    # LLOQ at, just above and just below the bone threshold (26 pg/mL)
    assert flags(260) == [(U.R_E2_BONE, LT), (U.R_E2_LOW, UNSURE)]
    assert flags(261) == [(U.R_E2_BONE, UNSURE)]
    assert flags(259) == [(U.R_E2_BONE, LT), (U.R_E2_LOW, UNSURE)]
    # a sensitive assay with LLOQ 5 pg/mL: below it is surely critical
    assert flags(50, R.METHOD_LCMS | R.FLAG_BELOW_LLOQ | R.FLAG_CONFIRMED) == [(U.R_E2_CRITICAL, LT)]
    # LLOQ exactly at the critical threshold: surely below 10
    assert flags(100) == [(U.R_E2_CRITICAL, LT)]
    assert flags(101) == [(U.R_E2_LOW_SYMPT, LT), (U.R_E2_CRITICAL, UNSURE)]
    # a measured result carries no "<"
    assert flags(240, R.METHOD_LCMS | R.FLAG_CONFIRMED) == [(U.R_E2_BONE, 0)]


def test_below_lloq_testosterone():
    h = History(2).lab(DAY0, R.A_TT, 400, R.FLAG_BELOW_LLOQ)
    assert [(f[0], f[5]) for f in h.tracker.flags(DAY0)] == [
        (U.R_TT_BELOW_TARGET, LT), (U.R_TT_LOW, UNSURE)]


def test_below_lloq_combination_flags_keep_the_qualifier():
    h = History(2).dose(DAY0, R.D_ANASTROZOLE, 500).lab(DAY0 + 20, R.A_E2, 80, BLQ)
    h.symptom(DAY0 + 21, R.S_JOINT, 2)
    assert h.flag(U.R_C3, DAY0 + 21)[5] == LT
    h = History(2).dose(DAY0, R.D_ANASTROZOLE, 500).lab(DAY0 + 20, R.A_E2, 120, BLQ)
    h.symptom(DAY0 + 21, R.S_JOINT, 2)
    assert h.flag(U.R_C2, DAY0 + 21)[5] == LT


def test_flag_acknowledgement_lasts_until_a_new_result():
    h = History(2).lab(DAY0, R.A_E2, 650)
    assert h.flag(U.R_E2_HIGH, DAY0)[5] == 0
    h.event(DAY0 + 1, R.EVENT_ACK, 64 + U.R_E2_HIGH)
    assert h.flag(U.R_E2_HIGH, DAY0 + 1)[5] == U.STATUS_ACKED
    h.lab(DAY0 + 30, R.A_E2, 700)
    assert h.flag(U.R_E2_HIGH, DAY0 + 30)[5] == 0
    assert P.Profile().level(U.R_C9) == P.LEVEL_URGENT


def test_an_lcms_result_below_its_limit_is_marked_so():
    lcms = R.METHOD_LCMS | R.FLAG_BELOW_LLOQ | R.FLAG_CONFIRMED
    assert flags(120, lcms) == [(U.R_E2_LOW_SYMPT, LT), (U.R_E2_CRITICAL, UNSURE | U.STATUS_LCMS)]
    assert flags(120) == [(U.R_E2_LOW_SYMPT, LT), (U.R_E2_CRITICAL, UNSURE)]
