# Recheck reminders at their boundaries: window opens, due, overdue, done (E2 and total T); clock unset;
# what reopens one. Acknowledgement and snooze: test_schedule_ack.py; E2 and T in both units:
# test_schedule_panel.py.
from core_helpers import DAY0, History  # noqa: I001
from recheck_helpers import started, state
from monitor import records as R
from monitor import schedule as M


def test_recheck_window_after_a_start():
    h = started()
    assert state(h, DAY0 + 13) == (M.UPCOMING, 28, 0)
    assert state(h, DAY0 + 14) == (M.DUE, 28, 0)
    assert state(h, DAY0 + 42) == (M.DUE, 28, 0)
    assert state(h, DAY0 + 43) == (M.OVERDUE, 28, 0)


def panel(h, day, e2=300, tt=600):
    # an E2 and a total T drawn the same day (both unit systems: test_schedule_panel.py)
    return h.lab(day, R.A_E2, e2).lab(day, R.A_TT, tt)


def test_recheck_after_a_dose_change_and_not_after_the_same_dose():
    h = panel(started(), DAY0 + 30).dose(DAY0 + 40, R.D_ANASTROZOLE, 250)  # dose change
    assert state(h, DAY0 + 41) == (M.UPCOMING, 68, 0)
    h = started().dose(DAY0 + 3, R.D_ANASTROZOLE, 500)                  # same dose
    assert state(h, DAY0 + 14) == (M.DUE, 28, 0)


def test_only_c1_and_c12_reopen_a_recheck():
    h = panel(started(), DAY0 + 50).symptom(DAY0 + 51, R.S_HEADACHE, 2)
    assert state(h, DAY0 + 52)[0] == M.DONE                              # a headache: no recheck
    h = panel(started(), DAY0 + 20).symptom(DAY0 + 50, R.S_JOINT, 2)    # C1: new since the change
    assert state(h, DAY0 + 50) == (M.DUE, 50, 0)
    h.lab(DAY0 + 51, R.A_E2, 250)
    assert state(h, DAY0 + 52) == (M.DUE, 50, 0)                         # E2 alone does not answer it
    h.lab(DAY0 + 52, R.A_TT, 600)
    assert state(h, DAY0 + 52)[0] == M.DONE


def test_c12_asks_from_the_day_it_became_true_until_the_whole_panel():
    # no therapy logged: E2 on day 0, FATIGUE on day 9: C12 from day 43 (no E2 for 42 days)
    h = History(2).lab(DAY0, R.A_E2, 300).symptom(DAY0 + 9, R.S_FATIGUE, 2)
    assert h.reminder(M.M_RECHECK, DAY0 + 42) is None
    assert state(h, DAY0 + 43) == (M.DUE, 43, 0)
    h.lab(DAY0 + 61, R.A_E2, 300)                                        # E2 alone does not answer it
    assert state(h, DAY0 + 61) == (M.OVERDUE, 43, 0)
    h.lab(DAY0 + 61, R.A_TT, 600)
    assert h.reminder(M.M_RECHECK, DAY0 + 103) is None                  # E2 42 days old: not stale yet
    assert state(h, DAY0 + 104) == (M.DUE, 104, 0)
    assert state(h, DAY0 + 190) == (M.OVERDUE, 104, 0)
    h.lab(DAY0 + 191, R.A_E2, 300)                                       # E2 alone
    assert state(h, DAY0 + 192) == (M.OVERDUE, 104, 0)
    h.lab(DAY0 + 192, R.A_TT, 600)
    assert h.reminder(M.M_RECHECK, DAY0 + 193) is None


def test_no_reminder_while_the_clock_is_unset():
    assert started().tracker.reminders(-1) == ()
    assert started().tracker.reminders(DAY0 + 1) != ()


def test_recheck_after_a_severe_result():
    h = History(2).lab(DAY0, R.A_E2, 801)
    assert state(h, DAY0 + 13, M.M_RECHECK_SEVERE) == (M.UPCOMING, 28, 0)
    assert state(h, DAY0 + 14, M.M_RECHECK_SEVERE) == (M.DUE, 28, 0)
    h.lab(DAY0 + 14, R.A_E2, 500)
    assert state(h, DAY0 + 15, M.M_RECHECK_SEVERE)[0] == M.DONE
    assert state(History(2).lab(DAY0, R.A_E2, 800), DAY0, M.M_RECHECK_SEVERE) is None
