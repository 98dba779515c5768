# Combination rules C5, C6, C11, C12, C14 at their boundaries.
from core_helpers import DAY0, History  # noqa: I001
from monitor import records as R
from monitor import rules as U

GOAL_EC = 2


def started(goal=GOAL_EC):
    return History(goal).dose(DAY0, R.D_ANASTROZOLE, 500)


def test_c5_estrogen_excess():
    assert U.R_C5 in started().lab(DAY0 + 20, R.A_E2, 601).symptom(DAY0 + 21, R.S_NIPPLE, 1).rules(DAY0 + 21)
    assert U.R_C5 not in started().lab(DAY0 + 20, R.A_E2, 600).symptom(DAY0 + 21, R.S_NIPPLE, 1).rules(DAY0 + 21)
    assert U.R_C5 not in started().lab(DAY0 + 20, R.A_E2, 601).symptom(DAY0 + 21, R.S_JOINT, 1).rules(DAY0 + 21)


def test_c6_gyno_flare_until_recheck():
    h = started().symptom(DAY0 + 30, R.S_GYNO, 1)
    assert h.flag(U.R_C6, DAY0 + 30)[3] == DAY0 + 58                  # recheck day 28 after the flare
    h.lab(DAY0 + 43, R.A_E2, 300)                                      # before the window opens (day 14)
    assert U.R_C6 in h.rules(DAY0 + 43)
    h.lab(DAY0 + 44, R.A_E2, 300)
    assert U.R_C6 not in h.rules(DAY0 + 44)


def in_target(e2=300, tt=600):
    return started().symptom(DAY0 + 1, R.S_FATIGUE, 2).lab(DAY0 + 30, R.A_E2, e2).lab(DAY0 + 30, R.A_TT, tt)


def test_c11_symptoms_persist_with_labs_in_target():
    h = in_target()
    assert U.R_C11 not in h.rules(DAY0 + 42)
    assert U.R_C11 in h.rules(DAY0 + 43)
    h = started().symptom(DAY0 + 1, R.S_MOOD, 1).symptom(DAY0 + 20, R.S_MOOD, 2).lab(DAY0 + 30, R.A_E2, 300)
    h.lab(DAY0 + 30, R.A_TT, 600)
    assert U.R_C11 in h.rules(DAY0 + 43)               # onset is the first day, not the worsening
    assert U.R_C11 not in in_target(e2=401).rules(DAY0 + 50)


def test_c11_labs_in_target_means_no_e2_flag_and_tt_and_hematocrit_in_range():
    # E2 26-40 pg/mL: 24 pg/mL is in the 20-40 band but E2_BONE fires, so labs are not "in target"
    assert U.R_C11 not in in_target(e2=240).rules(DAY0 + 43)
    assert U.R_E2_BONE in in_target(e2=240).rules(DAY0 + 43)
    assert U.R_C11 not in in_target(e2=259).rules(DAY0 + 43)
    assert U.R_C11 in in_target(e2=260).rules(DAY0 + 43)
    assert U.R_C11 in in_target(e2=400).rules(DAY0 + 43)
    # total testosterone 500-1000 ng/dL, and measured
    assert U.R_C11 not in in_target(tt=499).rules(DAY0 + 43)
    assert U.R_C11 in in_target(tt=500).rules(DAY0 + 43)
    assert U.R_C11 in in_target(tt=1000).rules(DAY0 + 43)
    assert U.R_C11 not in in_target(tt=1001).rules(DAY0 + 43)
    h = started().symptom(DAY0 + 1, R.S_FATIGUE, 2).lab(DAY0 + 30, R.A_E2, 300)
    assert U.R_C11 not in h.rules(DAY0 + 43)            # no TT result: not known to be in target
    # no hematocrit flag
    assert U.R_C11 in in_target().lab(DAY0 + 31, R.A_HCT, 539).rules(DAY0 + 43)
    assert U.R_C11 not in in_target().lab(DAY0 + 31, R.A_HCT, 540).rules(DAY0 + 43)
    # a below-LLOQ E2 is never "in target"
    h = started().symptom(DAY0 + 1, R.S_FATIGUE, 2).lab(DAY0 + 30, R.A_E2, 300, R.FLAG_BELOW_LLOQ)
    assert U.R_C11 not in h.lab(DAY0 + 30, R.A_TT, 600).rules(DAY0 + 43)


def test_c12_symptoms_without_a_recent_lab():
    h = History(GOAL_EC).lab(DAY0, R.A_E2, 300).symptom(DAY0 + 50, R.S_HEADACHE, 1)
    assert U.R_C12 not in h.rules(DAY0 + 42)
    assert U.R_C12 in h.rules(DAY0 + 50)
    h = History(GOAL_EC).lab(DAY0 + 8, R.A_E2, 300).symptom(DAY0 + 50, R.S_HEADACHE, 1)
    assert U.R_C12 not in h.rules(DAY0 + 50)                           # lab exactly 42 days ago
    assert U.R_C12 not in h.rules(-1)                                  # clock unset: no time rules


def test_c14_cognition_or_mood():
    assert U.R_C14 in History(GOAL_EC).symptom(DAY0, R.S_COGNITION, 1).rules(DAY0)
    assert U.R_C14 in History(GOAL_EC).symptom(DAY0, R.S_MOOD, 1).rules(DAY0)
    assert U.R_C14 not in History(GOAL_EC).symptom(DAY0, R.S_MOOD, 0).rules(DAY0)


def test_c15_testosterone_while_trying_to_conceive():
    fertility = 1
    h = History(fertility).dose(DAY0, R.D_TESTOSTERONE, 100000)
    assert U.R_C15 in h.rules(DAY0) and h.flag(U.R_C15, DAY0)[2] == DAY0
    h.dose(DAY0 + 10, R.D_TESTOSTERONE, 0)                             # stopped
    assert U.R_C15 not in h.rules(DAY0 + 10)
    assert U.R_C15 not in History(0).dose(DAY0, R.D_TESTOSTERONE, 100000).rules(DAY0)
    # a dose before the fertility goal was set, another after: dated to the one logged under the goal
    h = History(0).dose(DAY0, R.D_TESTOSTERONE, 100000).event(DAY0 + 5, R.EVENT_GOAL, fertility)
    assert U.R_C15 not in h.rules(DAY0 + 5)
    h.dose(DAY0 + 7, R.D_TESTOSTERONE, 100000)
    assert h.flag(U.R_C15, DAY0 + 7)[2] == DAY0 + 7
