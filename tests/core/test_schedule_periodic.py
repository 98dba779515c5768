# Periodic and one-off reminders at their boundaries: CBC, lipids, DEXA, semen, fertility review, taper.
from core_helpers import DAY0, History  # noqa: I001
from monitor import profile as P
from monitor import records as R
from monitor import schedule as M


def state(h, reminder, today):
    r = h.reminder(reminder, today)
    return None if r is None else (r[M.M_STATE], r[M.M_DUE] - DAY0)


def on_trt():
    return History(0).dose(DAY0, R.D_TESTOSTERONE, 100000)


def test_cbc_every_three_months_from_the_start_then_from_the_last_count():
    h = on_trt()
    assert state(h, M.M_CBC, DAY0 + 76) == (M.UPCOMING, 91)
    assert state(h, M.M_CBC, DAY0 + 77) == (M.DUE, 91)
    assert state(h, M.M_CBC, DAY0 + 105) == (M.DUE, 91)
    assert state(h, M.M_CBC, DAY0 + 106) == (M.OVERDUE, 91)
    h.lab(DAY0 + 100, R.A_HCT, 480)
    assert state(h, M.M_CBC, DAY0 + 101) == (M.UPCOMING, 191)
    assert state(History(2).dose(DAY0, R.D_ANASTROZOLE, 500), M.M_CBC, DAY0) is None   # no TRT


def test_cbc_starts_with_testosterone_not_with_another_drug():
    # anastrozole from day 0, testosterone from day 200: the CBC is due 91 days after the testosterone
    for goal in (R.GOAL_TRT, R.GOAL_ESTROGEN_CONTROL):
        h = History(goal).dose(DAY0, R.D_ANASTROZOLE, 500).dose(DAY0 + 200, R.D_TESTOSTERONE, 100000)
        assert state(h, M.M_CBC, DAY0 + 210) == (M.UPCOMING, 291)
        assert state(h, M.M_CBC, DAY0 + 305) == (M.DUE, 291)
    h = History(R.GOAL_ESTROGEN_CONTROL).dose(DAY0, R.D_ANASTROZOLE, 500)
    assert state(h, M.M_CBC, DAY0 + 300) is None


def test_cbc_stops_with_testosterone_and_restarts_with_it():
    h = on_trt().dose(DAY0 + 7, R.D_TESTOSTERONE, 100000).dose(DAY0 + 50, R.D_TESTOSTERONE, 0)   # a STOP
    assert state(h, M.M_CBC, DAY0 + 120) is None
    h.dose(DAY0 + 150, R.D_TESTOSTERONE, 100000)                       # a new course: a new anchor
    assert state(h, M.M_CBC, DAY0 + 160) == (M.UPCOMING, 241)


def test_cbc_from_the_trt_goal_or_the_start_without_a_testosterone_dose():
    h = History(R.GOAL_ESTROGEN_CONTROL).dose(DAY0, R.D_ANASTROZOLE, 500).event(DAY0 + 30, R.EVENT_GOAL, R.GOAL_TRT)
    assert state(h, M.M_CBC, DAY0 + 40) == (M.UPCOMING, 121)            # the goal's date
    h.dose(DAY0 + 60, R.D_TESTOSTERONE, 100000)
    assert state(h, M.M_CBC, DAY0 + 70) == (M.UPCOMING, 121)            # whichever is first
    h = History(R.GOAL_TRT).dose(DAY0, R.D_ANASTROZOLE, 500)          # the goal from the profile only
    assert state(h, M.M_CBC, DAY0 + 10) == (M.UPCOMING, 91)
    h.dose(DAY0 + 20, R.D_TESTOSTERONE, 100000)
    assert state(h, M.M_CBC, DAY0 + 30) == (M.UPCOMING, 111)


def test_lipids_every_six_months():
    h = on_trt()
    assert state(h, M.M_LIPIDS, DAY0 + 167) == (M.UPCOMING, 182)
    assert state(h, M.M_LIPIDS, DAY0 + 168) == (M.DUE, 182)
    h.lab(DAY0 + 170, R.A_LDL, 120)
    assert state(h, M.M_LIPIDS, DAY0 + 171) == (M.UPCOMING, 352)


def dexa(**settings):
    values = {P.P_BIRTH_YEAR: settings.get("birth", 0), P.P_FRACTURE_HISTORY: settings.get("fracture", 0),
              P.P_PLANNED_MONTHS: settings.get("months", 0)}
    h = History(2, values).dose(DAY0, R.D_ANASTROZOLE, 500)
    return state(h, M.M_DEXA_BASELINE, DAY0)


def test_baseline_dexa_conditions():
    assert dexa(birth=1975) == (M.DUE, 0)        # 51 at the 2026 start: over 50
    assert dexa(birth=1976) is None              # 50: not over 50
    assert dexa(fracture=1) == (M.DUE, 0)
    assert dexa(months=12) == (M.DUE, 0)
    assert dexa(months=11) is None
    # a scan in the 24 months before the start is the baseline (test_rules_bone.py has the edges)
    h = History(2, {P.P_FRACTURE_HISTORY: 1}).lab(DAY0 - 61, R.A_BMD_T, -10).dose(DAY0, R.D_ANASTROZOLE, 500)
    assert state(h, M.M_DEXA_BASELINE, DAY0) == (M.DONE, 0)
    h = History(2, {P.P_FRACTURE_HISTORY: 1, P.P_DEXA_PRIOR_DAYS: 60}).lab(DAY0 - 61, R.A_BMD_T, -10)
    h.dose(DAY0, R.D_ANASTROZOLE, 500)
    assert state(h, M.M_DEXA_BASELINE, DAY0) == (M.DUE, 0)


def test_age_over_50_uses_the_birth_date_when_known():
    from monitor import dates
    born = {P.P_BIRTH_YEAR: 1975, P.P_BIRTH_MONTH_DAY: 615}
    for start, wanted in (((2026, 6, 14), None), ((2026, 6, 15), M.DUE)):   # 50 the day before, 51 on it
        day = dates.days_from_civil(*start)
        h = History(2, born).dose(day, R.D_ANASTROZOLE, 500)
        r = h.reminder(M.M_DEXA_BASELINE, day)
        assert (None if r is None else r[M.M_STATE]) == wanted, start
    # the year alone: the difference of years (51 on 2026-01-02)
    day = dates.days_from_civil(2026, 1, 2)
    assert History(2, {P.P_BIRTH_YEAR: 1975}).dose(day, R.D_ANASTROZOLE, 500).reminder(M.M_DEXA_BASELINE, day)
    # born on February 29: the birthday counts from March 1 in other years
    feb29 = {P.P_BIRTH_YEAR: 1972, P.P_BIRTH_MONTH_DAY: 229}
    for start, wanted in (((2023, 2, 28), None), ((2023, 3, 1), M.DUE)):
        day = dates.days_from_civil(*start)
        r = History(2, feb29).dose(day, R.D_ANASTROZOLE, 500).reminder(M.M_DEXA_BASELINE, day)
        assert (None if r is None else r[M.M_STATE]) == wanted, start
    for y, m, d in ((2000, 1, 1), (2024, 2, 29), (2026, 12, 31), (2100, 3, 1)):
        assert dates.month_day_of_day(dates.days_from_civil(y, m, d)) == m * 100 + d


def test_repeat_dexa_every_two_years_or_yearly_while_e2_stays_low():
    h = History(2).lab(DAY0, R.A_BMD_T, -9)        # T-score above -1.0: no BMD band
    assert state(h, M.M_DEXA_REPEAT, DAY0 + 1) == (M.UPCOMING, 730)
    h.lab(DAY0 + 10, R.A_E2, 150).lab(DAY0 + 38, R.A_E2, 150)     # persistently < 20 pg/mL
    assert state(h, M.M_DEXA_REPEAT, DAY0 + 40) == (M.UPCOMING, 365)


def test_semen_analysis_and_fertility_review_on_the_fertility_goal():
    h = History(1).dose(DAY0, R.D_ANASTROZOLE, 1000)
    assert state(h, M.M_SEMEN, DAY0 + 76) == (M.UPCOMING, 91)
    assert state(h, M.M_SEMEN, DAY0 + 77) == (M.DUE, 91)
    assert state(h, M.M_FERTILITY_REVIEW, DAY0 + 104) == (M.UPCOMING, 112)
    assert state(h, M.M_FERTILITY_REVIEW, DAY0 + 105) == (M.DUE, 112)
    h.event(DAY0 + 104, R.EVENT_ACK, M.M_FERTILITY_REVIEW)       # before the window: not done
    assert state(h, M.M_FERTILITY_REVIEW, DAY0 + 105) == (M.DUE, 112)
    h.event(DAY0 + 105, R.EVENT_ACK, M.M_FERTILITY_REVIEW)
    assert state(h, M.M_FERTILITY_REVIEW, DAY0 + 106) == (M.DONE, 112)
    assert state(History(0).dose(DAY0, R.D_ANASTROZOLE, 500), M.M_SEMEN, DAY0 + 80) is None


def test_goal_event_starts_the_fertility_course():
    h = History(0).dose(DAY0, R.D_TESTOSTERONE, 100000).event(DAY0 + 10, R.EVENT_GOAL, R.GOAL_FERTILITY)
    h.dose(DAY0 + 12, R.D_ANASTROZOLE, 1000)
    assert state(h, M.M_SEMEN, DAY0 + 20) == (M.UPCOMING, 101)
    assert state(h, M.M_FERTILITY_REVIEW, DAY0 + 20) == (M.UPCOMING, 124)


def test_labs_every_two_weeks_during_a_step_down():
    h = History(2).dose(DAY0, R.D_ANASTROZOLE, 1000).event(DAY0 + 30, R.EVENT_TAPER_START, 0)
    assert state(h, M.M_TAPER_LABS, DAY0 + 40) == (M.UPCOMING, 44)
    assert state(h, M.M_TAPER_LABS, DAY0 + 41) == (M.DUE, 44)
    assert state(h, M.M_TAPER_LABS, DAY0 + 48) == (M.OVERDUE, 44)
    h.lab(DAY0 + 40, R.A_E2, 300)
    assert state(h, M.M_TAPER_LABS, DAY0 + 41) == (M.UPCOMING, 54)
    h.event(DAY0 + 45, R.EVENT_TAPER_END, 0)
    assert state(h, M.M_TAPER_LABS, DAY0 + 46) is None
