# What counts as a dose change (clinical-rules §2): a start, a new per-dose amount, a STOP of a drug taken,
# and a change of the logged 14-day total by DOSE_CHANGE_PCT (default 50 %) against the 14 days before.
from core_helpers import DAY0, History  # noqa: I001
from monitor import profile as P
from monitor import records as R
from monitor import rules as U
from monitor import schedule as M
from monitor import state as S


def change(h):
    return h.tracker.st[S.LAST_CHANGE] - DAY0


def test_a_start_an_amount_and_a_stop_are_changes():
    h = History(2).dose(DAY0, R.D_ANASTROZOLE, 500)
    assert change(h) == 0
    h.dose(DAY0 + 10, R.D_ANASTROZOLE, 500)
    assert change(h) == 0
    h.dose(DAY0 + 20, R.D_ANASTROZOLE, 250)
    assert change(h) == 20
    h.dose(DAY0 + 30, R.D_ANASTROZOLE, 0)                              # STOP
    assert change(h) == 30 and not U.drug_taken(h.tracker.st, R.D_ANASTROZOLE)
    r = h.reminder(M.M_RECHECK, DAY0 + 44)
    assert (r[M.M_STATE], r[M.M_DUE] - DAY0) == (M.DUE, 58)            # a recheck after the stop
    h.dose(DAY0 + 40, R.D_ANASTROZOLE, 250)                            # a restart, even at the same amount
    assert change(h) == 40 and U.drug_taken(h.tracker.st, R.D_ANASTROZOLE)


def test_a_stop_of_a_drug_not_taken_changes_nothing():
    h = History(2).dose(DAY0, R.D_ANASTROZOLE, 500).dose(DAY0 + 30, R.D_TESTOSTERONE, 0)
    assert change(h) == 0 and h.tracker.st[S.DOSE_STOP + R.D_TESTOSTERONE] == -1
    h.dose(DAY0 + 31, R.D_ANASTROZOLE, 0).dose(DAY0 + 40, R.D_ANASTROZOLE, 0)   # stopped twice
    assert change(h) == 31


def test_twice_weekly_to_daily_is_a_change_of_frequency():
    # 0.5 mg on days 0 and 3 of every week for 8 weeks, then daily
    h = History(2)
    for day in range(96):
        if day >= 56 or day % 7 in (0, 3):
            h.dose(DAY0 + day, R.D_ANASTROZOLE, 500)
    # the 14 days before hold 4 doses (2 mg); the change lands on the first day the last 14 hold 6 (3 mg)
    assert change(h) == 58
    # none while the daily regimen settles (the 27 days after a change), nor once it has
    assert h.tracker.st[S.DRUG_CHANGE + R.D_ANASTROZOLE] == DAY0 + 58


def test_steady_dosing_is_no_change():
    h = History(2)
    for day in range(90):
        h.dose(DAY0 + day, R.D_ANASTROZOLE, 500)                        # daily, days 14-27 included
    assert change(h) == 0
    h = History(0)
    for day in range(0, 120, 7):
        h.dose(DAY0 + day, R.D_TESTOSTERONE, 100000)                    # weekly
    assert change(h) == 0


def judged(before, recent, pct=50):
    # `before` doses of 0.125 mg on days 0.., `recent` on days ..27 (more than 14: the rest on day 27),
    # judged on day 27: the last 14 days against the 14 before. Returns the change day.
    h = History(2, {P.P_DOSE_CHANGE_PCT: pct})
    for k in range(before):
        h.dose(DAY0 + k, R.D_ANASTROZOLE, 125)
    for k in range(recent):
        h.dose(DAY0 + (27 - recent + 1 + k if recent <= 14 else 14 + k if k < 14 else 27), R.D_ANASTROZOLE, 125)
    return change(h)


def test_the_percentage_boundary():
    # 10 doses (1.25 mg) before: 15 is +50 %, a change; 14 is +40 %, none; 5 is -50 %, a change; 6 none
    assert judged(10, 15) == 27 and judged(10, 14) == 0
    assert judged(10, 5) == 27 and judged(10, 6) == 0
    # 33 %: |A - B| * 100 >= 33 * 1250 needs 4 doses more or less (412.5 µg rounds up, never down)
    assert judged(10, 14, 33) == 27 and judged(10, 13, 33) == 0
    assert judged(10, 6, 33) == 27 and judged(10, 7, 33) == 0
    assert judged(10, 20, 100) == 27 and judged(10, 19, 100) == 0


def test_large_daily_doses_stay_small_integers():
    h = History(0)
    for day in range(28):
        for _ in range(10):
            h.dose(DAY0 + day, R.D_TESTOSTERONE, 2000000)                 # 10 x 2 g a day
    st = h.tracker.st
    for i in range(S.STATE_SIZE):
        assert -(1 << 30) < st[i] < (1 << 30)
    assert st[S.DOSE_SLOT_SUM + R.D_TESTOSTERONE * S.DOSE_SLOTS] == 1 << 24
    assert change(h) == 0
