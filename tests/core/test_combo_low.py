# Combination rules C1-C4 (low estradiol with symptoms) at their boundaries.
from core_helpers import DAY0, History  # noqa: I001
from monitor import records as R
from monitor import rules as U

GOAL_EC = 2


def started(goal=GOAL_EC):
    return History(goal).dose(DAY0, R.D_ANASTROZOLE, 500)


def test_c1_new_symptom_after_a_change():
    assert U.R_C1 not in started().symptom(DAY0, R.S_JOINT, 2).rules(DAY0)          # same day: not "after"
    assert U.R_C1 in started().symptom(DAY0 + 1, R.S_JOINT, 2).rules(DAY0 + 1)
    assert U.R_C1 not in started().symptom(DAY0 + 1, R.S_HEADACHE, 2).rules(DAY0 + 1)
    h = started().symptom(DAY0 + 5, R.S_LIBIDO, 1).lab(DAY0 + 5, R.A_E2, 300)   # E2 since the symptom
    assert U.R_C1 not in h.rules(DAY0 + 5)
    h = started().symptom(DAY0 + 5, R.S_LIBIDO, 1).lab(DAY0 + 4, R.A_E2, 300)   # E2 before it
    assert U.R_C1 in h.rules(DAY0 + 5)
    h = started().symptom(DAY0 + 5, R.S_LIBIDO, 1).symptom(DAY0 + 6, R.S_LIBIDO, 0)
    assert U.R_C1 not in h.rules(DAY0 + 6)


def test_c2_c3_raise_the_low_e2_ladder():
    def run(e2, symptom):
        return started().lab(DAY0 + 20, R.A_E2, e2).symptom(DAY0 + 21, symptom, 2).rules(DAY0 + 21)
    assert U.R_C2 in run(149, R.S_JOINT) and U.R_C1 not in run(149, R.S_JOINT)
    assert U.R_C2 not in run(150, R.S_JOINT) and U.R_C1 in run(150, R.S_JOINT)
    assert U.R_C3 in run(99, R.S_HEADACHE) and U.R_C2 not in run(99, R.S_JOINT)
    assert U.R_C3 not in run(100, R.S_HEADACHE)
    assert U.R_C2 not in run(149, R.S_HEADACHE)


def test_c3_names_every_low_e2_symptom_present():
    h = started().lab(DAY0 + 20, R.A_E2, 99).symptom(DAY0 + 21, R.S_JOINT, 2).symptom(DAY0 + 22, R.S_HOTFLASH, 1)
    h.symptom(DAY0 + 23, R.S_FATIGUE, 1).symptom(DAY0 + 24, R.S_BREAST, 1)
    f = h.flag(U.R_C3, DAY0 + 24)
    assert f[4] == (1 << R.S_JOINT) | (1 << R.S_HOTFLASH) | (1 << R.S_FATIGUE)   # not BREAST (high E2)
    h.symptom(DAY0 + 25, R.S_JOINT, 0)
    assert h.flag(U.R_C3, DAY0 + 25)[4] == (1 << R.S_HOTFLASH) | (1 << R.S_FATIGUE)
    # only symptoms of another direction: C3 still fires (any symptom) and names those
    h = started().lab(DAY0 + 20, R.A_E2, 99).symptom(DAY0 + 21, R.S_HEADACHE, 1)
    assert h.flag(U.R_C3, DAY0 + 21)[4] == 1 << R.S_HEADACHE


def test_c4_persistently_low_needs_28_days():
    h = started().lab(DAY0 + 10, R.A_E2, 190).lab(DAY0 + 37, R.A_E2, 190)
    assert U.R_C4 not in h.rules(DAY0 + 37)
    h = started().lab(DAY0 + 10, R.A_E2, 190).lab(DAY0 + 38, R.A_E2, 199)
    assert U.R_C4 in h.rules(DAY0 + 38)
    h.lab(DAY0 + 60, R.A_E2, 200)                                                   # run broken
    assert U.R_C4 not in h.rules(DAY0 + 60)


def test_c4_shows_the_last_surely_low_result_not_an_unsure_latest():
    h = started().lab(DAY0 + 10, R.A_E2, 190).lab(DAY0 + 40, R.A_E2, 180)
    h.lab(DAY0 + 50, R.A_E2, 240, R.METHOD_IMMUNOASSAY | R.FLAG_BELOW_LLOQ | R.FLAG_CONFIRMED)   # "<24 pg/mL"
    f = h.flag(U.R_C4, DAY0 + 50)
    assert (f[3], f[5] & U.STATUS_BELOW_LLOQ) == (180, 0)
