# "Done" (drawn) and snooze (clinical-rules §2): muted while the result is awaited, ACK_GRACE days at most;
# escalation when overdue; a snooze of 7 days at most that never hides an overdue reminder.
from core_helpers import DAY0, History  # noqa: I001
from recheck_helpers import started, state
from monitor import profile as P
from monitor import records as R
from monitor import schedule as M


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
