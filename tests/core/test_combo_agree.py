# Combination rules that agree with each other (clinical-rules §4): C1 only with an aromatase inhibitor,
# a stale E2 leaves symptoms to C12 (not C2, C3, C5), C11 only on labs drawn after the symptom and the last
# change, the T:E2 ratio only on a T and an E2 drawn within 7 days. The stored E2 and T values used here
# are boundaries.py's, which test_units_boundaries.py reaches from both unit systems (this file and the
# SI tables do not both fit a 64K heap).
from core_helpers import DAY0, History  # noqa: I001
from monitor import records as R
from monitor import rules as U

T = R.D_TESTOSTERONE
AI = R.D_ANASTROZOLE


def test_c1_only_with_an_aromatase_inhibitor():
    h = History(0).dose(DAY0, T, 100000).dose(DAY0 + 30, T, 150000).symptom(DAY0 + 40, R.S_FATIGUE, 2)
    assert h.rules(DAY0 + 41) == [U.R_C12]
    f = h.flag(U.R_C12, DAY0 + 41)
    assert f[U.F_DAY] == DAY0 + 40 and f[U.F_STATUS] & U.STATUS_AFTER_CHANGE and f[U.F_VALUE2] == DAY0 + 30
    h = History(0).dose(DAY0, AI, 500).dose(DAY0 + 30, AI, 250).symptom(DAY0 + 40, R.S_FATIGUE, 2)
    assert h.rules(DAY0 + 41) == [U.R_C1]
    h = History(0).dose(DAY0, AI, 500).dose(DAY0 + 30, AI, 0).symptom(DAY0 + 40, R.S_FATIGUE, 2)   # stopped
    assert h.rules(DAY0 + 41) == [U.R_C12]


def stale_case(stored, symptom):
    # the E2 on day 0, the symptom on day 1: evaluated on days 42 and 43
    h = History(2).lab(DAY0, R.A_E2, stored).symptom(DAY0 + 1, symptom, 2)
    return h.rules(DAY0 + 42), h.rules(DAY0 + 43), h.flag(U.R_C12, DAY0 + 43)


def test_a_stale_e2_leaves_the_symptoms_to_c12():
    recent, stale, c12 = stale_case(149, R.S_JOINT)                  # 14.9 pg/mL, below E2_LOW_SYMPT (15)
    assert recent == [U.R_E2_LOW_SYMPT, U.R_C2] and stale == [U.R_E2_LOW_SYMPT, U.R_C12]
    assert c12[U.F_DAY] == DAY0 + 43                                  # the day the E2 turned stale
    recent, stale, _ = stale_case(99, R.S_FATIGUE)                    # 9.9 pg/mL, below E2_CRITICAL (10)
    assert recent == [U.R_E2_CRITICAL, U.R_C3] and stale == [U.R_E2_CRITICAL, U.R_C12]
    recent, stale, _ = stale_case(601, R.S_BREAST)                    # 60.1 pg/mL, above E2_HIGH (60)
    assert recent == [U.R_E2_HIGH, U.R_C5] and stale == [U.R_E2_HIGH, U.R_C12]
    assert stale_case(600, R.S_BREAST)[0] == [U.R_E2_MILD]            # 60.0: no C5 at all
    # the clock unset: the E2 counts as recent, C3 still shows
    h = History(2).lab(DAY0, R.A_E2, 99).symptom(DAY0 + 1, R.S_FATIGUE, 2)
    assert h.rules(-1) == [U.R_E2_CRITICAL, U.R_C3]


def test_c5_is_dated_to_when_both_were_true():
    h = History(2).lab(DAY0, R.A_E2, 700).symptom(DAY0 + 5, R.S_BREAST, 1)
    assert h.flag(U.R_C5, DAY0 + 6)[U.F_DAY] == DAY0 + 5


def c11_case(panel_day, rise=1):
    # anastrozole from day 0, changed on day 20; FATIGUE from day 1 (worse on `rise`); E2 and TT in target
    h = History(2).dose(DAY0, AI, 500).dose(DAY0 + 20, AI, 250).symptom(DAY0 + 1, R.S_FATIGUE, 1)
    if rise > 1:
        h.symptom(DAY0 + rise, R.S_FATIGUE, 2)
    return h.lab(DAY0 + panel_day, R.A_E2, 300).lab(DAY0 + panel_day, R.A_TT, 600)


def test_c11_needs_labs_after_the_symptom_and_the_last_change():
    assert U.R_C11 not in c11_case(20).rules(DAY0 + 50)               # drawn on the change day
    h = c11_case(21)
    assert U.R_C11 in h.rules(DAY0 + 50)
    assert h.flag(U.R_C11, DAY0 + 50)[U.F_DAY] == DAY0 + 43           # FATIGUE from day 1 + 42 days
    assert U.R_C11 not in c11_case(21, rise=25).rules(DAY0 + 50)      # worse after the draw
    assert U.R_C11 in c11_case(26, rise=25).rules(DAY0 + 50)


def test_c11_never_beside_c1_or_c12():
    seen = set()
    for panel in range(2, 120, 3):
        # JOINT from day 1, a change on day 30, JOINT worse on day 35; E2 and TT in target on `panel`
        h = History(2).dose(DAY0, AI, 500).symptom(DAY0 + 1, R.S_JOINT, 1)
        for day, kind, code, value in sorted(((panel, R.KIND_LAB, R.A_E2, 300), (panel, R.KIND_LAB, R.A_TT, 600),
                                              (30, R.KIND_DOSE, AI, 250), (35, R.KIND_SYMPTOM, R.S_JOINT, 2))):
            h.add(DAY0 + day, kind, code, value, R.FLAG_CONFIRMED if kind == R.KIND_DOSE else 0)
        for today in range(DAY0 + 40, DAY0 + 200, 5):
            rules = h.rules(today)
            seen.update(r for r in rules if r in (U.R_C1, U.R_C11, U.R_C12))
            assert not (U.R_C11 in rules and (U.R_C1 in rules or U.R_C12 in rules)), (panel, today, rules)
    assert seen == {U.R_C1, U.R_C11, U.R_C12}


def test_the_ratio_pairs_a_t_and_an_e2_drawn_within_seven_days():
    tt, e2 = 600, 601                                                  # 600 ng/dL against 60.1 pg/mL
    assert U.R_TE_RATIO in History(2).lab(DAY0, R.A_TT, tt).lab(DAY0 + 7, R.A_E2, e2).rules(DAY0 + 7)
    assert U.R_TE_RATIO in History(2).lab(DAY0, R.A_E2, e2).lab(DAY0 + 7, R.A_TT, tt).rules(DAY0 + 7)
    assert U.R_TE_RATIO not in History(2).lab(DAY0, R.A_TT, tt).lab(DAY0 + 8, R.A_E2, e2).rules(DAY0 + 8)
    assert U.R_TE_RATIO not in History(2).lab(DAY0, R.A_E2, e2).lab(DAY0 + 8, R.A_TT, tt).rules(DAY0 + 8)
