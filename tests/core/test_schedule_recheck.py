# Recheck reminders at their boundaries: window opens, due, overdue, done; clock unset; ack and snooze.
from core_helpers import DAY0, History  # noqa: I001
from si_helpers import both_units
from monitor import profile as P
from monitor import records as R
from monitor import schedule as M


def started():
    return History(2).dose(DAY0, R.D_ANASTROZOLE, 500)


def state(h, today, reminder=M.M_RECHECK):
    r = h.reminder(reminder, today)
    return None if r is None else (r[M.M_STATE], r[M.M_DUE] - DAY0, r[M.M_MUTED])


def test_recheck_window_after_a_start():
    h = started()
    assert state(h, DAY0 + 13) == (M.UPCOMING, 28, 0)
    assert state(h, DAY0 + 14) == (M.DUE, 28, 0)
    assert state(h, DAY0 + 42) == (M.DUE, 28, 0)
    assert state(h, DAY0 + 43) == (M.OVERDUE, 28, 0)


def panel(h, day, e2=300, tt=600):
    # an E2 and a total T, each entered once in the conventional and once in the SI unit
    for value in both_units(R.A_E2, e2):
        h.lab(day, R.A_E2, value)
    for value in both_units(R.A_TT, tt):
        h.lab(day, R.A_TT, value)
    return h


def test_recheck_needs_e2_and_total_t_inside_the_window():
    assert state(panel(started(), DAY0 + 13), DAY0 + 20)[0] == M.DUE     # too early
    assert state(panel(started(), DAY0 + 14), DAY0 + 20)[0] == M.DONE
    for value in both_units(R.A_E2, 300):
        h = started().lab(DAY0 + 14, R.A_E2, value)                      # E2 alone: still due
        assert state(h, DAY0 + 20)[0] == M.DUE
    for value in both_units(R.A_TT, 600):
        h.lab(DAY0 + 16, R.A_TT, value)
        assert state(h, DAY0 + 20)[0] == M.DONE
    h = started().lab(DAY0 + 13, R.A_TT, 600).lab(DAY0 + 14, R.A_E2, 300)  # the T before the window
    assert state(h, DAY0 + 20)[0] == M.DUE
    h = started().lab(DAY0 + 14, R.A_E2, 240, R.FLAG_BELOW_LLOQ | R.FLAG_CONFIRMED).lab(DAY0 + 14, R.A_TT, 600)
    assert state(h, DAY0 + 20)[0] == M.DONE                             # "<24 pg/mL" was drawn
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


def test_done_mutes_while_the_result_is_awaited_for_ack_grace_days_at_most():
    h = started().event(DAY0 + 20, R.EVENT_ACK, M.M_RECHECK)         # drawn on day 20, still due
    assert state(h, DAY0 + 33) == (M.DUE, 28, M.MUTED_ACK)
    assert state(h, DAY0 + 34) == (M.DUE, 28, 0)                     # 14 days later: back, no result yet
    h = History(2, {P.P_ACK_GRACE: 7}).dose(DAY0, R.D_ANASTROZOLE, 500).event(DAY0 + 20, R.EVENT_ACK, M.M_RECHECK)
    assert state(h, DAY0 + 26) == (M.DUE, 28, M.MUTED_ACK)
    assert state(h, DAY0 + 27) == (M.DUE, 28, 0)
    h = started().event(DAY0 + 13, R.EVENT_ACK, M.M_RECHECK)         # before the window: not this cycle
    assert state(h, DAY0 + 14) == (M.DUE, 28, 0)


def test_done_before_overdue_escalates_unmuted_when_overdue():
    h = started().event(DAY0 + 40, R.EVENT_ACK, M.M_RECHECK)
    assert state(h, DAY0 + 42) == (M.DUE, 28, M.MUTED_ACK)
    assert state(h, DAY0 + 43) == (M.OVERDUE, 28, 0)


def test_done_while_overdue_returns_overdue_after_the_grace():
    h = started().event(DAY0 + 50, R.EVENT_ACK, M.M_RECHECK)
    assert state(h, DAY0 + 50) == (M.OVERDUE, 28, M.MUTED_ACK)
    assert state(h, DAY0 + 63) == (M.OVERDUE, 28, M.MUTED_ACK)
    assert state(h, DAY0 + 64) == (M.OVERDUE, 28, 0)
    assert state(h, DAY0 + 400) == (M.OVERDUE, 28, 0)


def test_a_cbc_marked_done_without_a_hematocrit_comes_back():
    # on testosterone, the CBC overdue, "Done" pressed, no hematocrit ever logged: not muted for good
    h = History(0).dose(DAY0, R.D_TESTOSTERONE, 100000).event(DAY0 + 110, R.EVENT_ACK, M.M_CBC)
    assert state(h, DAY0 + 110, M.M_CBC) == (M.OVERDUE, 91, M.MUTED_ACK)
    assert state(h, DAY0 + 124, M.M_CBC) == (M.OVERDUE, 91, 0)
    assert state(h, DAY0 + 400, M.M_CBC) == (M.OVERDUE, 91, 0)
    h.lab(DAY0 + 115, R.A_HCT, 450)                                   # the result inside the grace
    assert state(h, DAY0 + 124, M.M_CBC) == (M.UPCOMING, 115 + 91, 0)


def test_snooze_lasts_seven_days_at_most():
    h = started().event(DAY0 + 20, R.EVENT_SNOOZE, M.M_RECHECK, 7)
    assert state(h, DAY0 + 26) == (M.DUE, 28, M.MUTED_SNOOZE)
    assert state(h, DAY0 + 27) == (M.DUE, 28, 0)
    h = started().event(DAY0 + 20, R.EVENT_SNOOZE, M.M_RECHECK, 14)
    assert state(h, DAY0 + 26) == (M.DUE, 28, M.MUTED_SNOOZE)
    assert state(h, DAY0 + 27) == (M.DUE, 28, 0)


def test_a_snooze_never_hides_an_overdue_reminder():
    h = started().event(DAY0 + 40, R.EVENT_SNOOZE, M.M_RECHECK, 7)
    assert state(h, DAY0 + 42) == (M.DUE, 28, M.MUTED_SNOOZE)
    assert state(h, DAY0 + 43) == (M.OVERDUE, 28, 0)
    h = started().event(DAY0 + 50, R.EVENT_SNOOZE, M.M_RECHECK, 7)   # given while overdue
    assert state(h, DAY0 + 50) == (M.OVERDUE, 28, 0)


def test_recheck_after_a_severe_result():
    h = History(2).lab(DAY0, R.A_E2, 801)
    assert state(h, DAY0 + 13, M.M_RECHECK_SEVERE) == (M.UPCOMING, 28, 0)
    assert state(h, DAY0 + 14, M.M_RECHECK_SEVERE) == (M.DUE, 28, 0)
    h.lab(DAY0 + 14, R.A_E2, 500)
    assert state(h, DAY0 + 15, M.M_RECHECK_SEVERE)[0] == M.DONE
    assert state(History(2).lab(DAY0, R.A_E2, 800), DAY0, M.M_RECHECK_SEVERE) is None
