# Combination rules C1..C14 at their boundaries.
from core_helpers import DAY0, History
from monitor import records as R
from monitor import rules as X

GOAL_EC = 2


def started(goal=GOAL_EC):
    return History(goal).dose(DAY0, R.D_ANASTROZOLE, 500)


def test_c1_new_symptom_after_a_change():
    assert X.R_C1 not in started().symptom(DAY0, R.S_JOINT, 2).rules(DAY0)          # same day: not "after"
    assert X.R_C1 in started().symptom(DAY0 + 1, R.S_JOINT, 2).rules(DAY0 + 1)
    assert X.R_C1 not in started().symptom(DAY0 + 1, R.S_HEADACHE, 2).rules(DAY0 + 1)
    h = started().symptom(DAY0 + 5, R.S_LIBIDO, 1).lab(DAY0 + 5, R.A_E2, 300)   # E2 since the symptom
    assert X.R_C1 not in h.rules(DAY0 + 5)
    h = started().symptom(DAY0 + 5, R.S_LIBIDO, 1).lab(DAY0 + 4, R.A_E2, 300)   # E2 before it
    assert X.R_C1 in h.rules(DAY0 + 5)
    h = started().symptom(DAY0 + 5, R.S_LIBIDO, 1).symptom(DAY0 + 6, R.S_LIBIDO, 0)
    assert X.R_C1 not in h.rules(DAY0 + 6)


def test_c2_c3_raise_the_low_e2_ladder():
    def run(e2, symptom):
        return started().lab(DAY0 + 20, R.A_E2, e2).symptom(DAY0 + 21, symptom, 2).rules(DAY0 + 21)
    assert X.R_C2 in run(149, R.S_JOINT) and X.R_C1 not in run(149, R.S_JOINT)
    assert X.R_C2 not in run(150, R.S_JOINT) and X.R_C1 in run(150, R.S_JOINT)
    assert X.R_C3 in run(99, R.S_HEADACHE) and X.R_C2 not in run(99, R.S_JOINT)
    assert X.R_C3 not in run(100, R.S_HEADACHE)
    assert X.R_C2 not in run(149, R.S_HEADACHE)


def test_c4_persistently_low_needs_28_days():
    h = started().lab(DAY0 + 10, R.A_E2, 190).lab(DAY0 + 37, R.A_E2, 190)
    assert X.R_C4 not in h.rules(DAY0 + 37)
    h = started().lab(DAY0 + 10, R.A_E2, 190).lab(DAY0 + 38, R.A_E2, 199)
    assert X.R_C4 in h.rules(DAY0 + 38)
    h.lab(DAY0 + 60, R.A_E2, 200)                                                   # run broken
    assert X.R_C4 not in h.rules(DAY0 + 60)


def test_c5_estrogen_excess():
    assert X.R_C5 in started().lab(DAY0 + 20, R.A_E2, 601).symptom(DAY0 + 21, R.S_NIPPLE, 1).rules(DAY0 + 21)
    assert X.R_C5 not in started().lab(DAY0 + 20, R.A_E2, 600).symptom(DAY0 + 21, R.S_NIPPLE, 1).rules(DAY0 + 21)
    assert X.R_C5 not in started().lab(DAY0 + 20, R.A_E2, 601).symptom(DAY0 + 21, R.S_JOINT, 1).rules(DAY0 + 21)


def test_c6_gyno_flare_until_recheck():
    h = started().symptom(DAY0 + 30, R.S_GYNO, 1)
    assert h.flag(X.R_C6, DAY0 + 30)[3] == DAY0 + 58                  # recheck day 28 after the flare
    h.lab(DAY0 + 43, R.A_E2, 300)                                      # before the window opens (day 14)
    assert X.R_C6 in h.rules(DAY0 + 43)
    h.lab(DAY0 + 44, R.A_E2, 300)
    assert X.R_C6 not in h.rules(DAY0 + 44)


def test_c11_symptoms_persist_with_labs_in_target():
    h = started().symptom(DAY0 + 1, R.S_FATIGUE, 2).lab(DAY0 + 30, R.A_E2, 300)
    assert X.R_C11 not in h.rules(DAY0 + 42)
    assert X.R_C11 in h.rules(DAY0 + 43)
    h = started().symptom(DAY0 + 1, R.S_FATIGUE, 2).lab(DAY0 + 30, R.A_E2, 401)
    assert X.R_C11 not in h.rules(DAY0 + 50)


def test_c12_symptoms_without_a_recent_lab():
    h = History(GOAL_EC).lab(DAY0, R.A_E2, 300).symptom(DAY0 + 50, R.S_HEADACHE, 1)
    assert X.R_C12 not in h.rules(DAY0 + 42)
    assert X.R_C12 in h.rules(DAY0 + 50)
    h = History(GOAL_EC).lab(DAY0 + 8, R.A_E2, 300).symptom(DAY0 + 50, R.S_HEADACHE, 1)
    assert X.R_C12 not in h.rules(DAY0 + 50)                           # lab exactly 42 days ago
    assert X.R_C12 not in h.rules(-1)                                  # clock unset: no time rules


def test_c14_cognition_or_mood():
    assert X.R_C14 in History(GOAL_EC).symptom(DAY0, R.S_COGNITION, 1).rules(DAY0)
    assert X.R_C14 in History(GOAL_EC).symptom(DAY0, R.S_MOOD, 1).rules(DAY0)
    assert X.R_C14 not in History(GOAL_EC).symptom(DAY0, R.S_MOOD, 0).rules(DAY0)


def test_profile_encode_decode_and_damage():
    p = X.Profile()
    p.set("E2_HIGH", 550)
    p.set("GOAL", 1)
    blob = p.encode()
    q = X.Profile.decode(blob)
    assert list(q.params) == list(p.params) and q.encode() == blob
    for bad in (blob[:-1], blob[:-1] + bytes([blob[-1] ^ 1]), b"XXXX" + blob[4:], b""):
        try:
            X.Profile.decode(bad)
        except ValueError:
            continue
        raise AssertionError("damaged profile accepted")
    try:
        p.set("E2_HIGH", 20001)
    except ValueError:
        pass
    else:
        raise AssertionError("out of bounds accepted")
