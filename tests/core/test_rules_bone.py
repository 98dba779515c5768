# Bone density (clinical-rules §1 BMD_OSTEOPENIA / BMD_OSTEOPOROSIS, §2 DEXA_BASELINE / DEXA_REPEAT) at their
# boundaries. The T-score has one unit (SD), entered signed: test_records.py checks "-2.5 SD" converts exactly.
import boundaries as B  # noqa: I001  (compiled first, while the heap is empty)
from core_helpers import DAY0, History
from monitor import profile as P
from monitor import records as R
from monitor import rules as U
from monitor import schedule as M


def bmd_rules(t, settings=None):
    return [r for r in History(2, settings).lab(DAY0, R.A_BMD_T, t).rules(DAY0)
            if r in (U.R_BMD_OSTEOPENIA, U.R_BMD_OSTEOPOROSIS)]


def test_bmd_ladder_reports_the_most_severe_band():
    for stored, wanted in B.BMD:
        assert bmd_rules(stored) == wanted, "T %d: %s != %s" % (stored, bmd_rules(stored), wanted)


def test_bmd_levels_and_words():
    h = History(2).lab(DAY0, R.A_BMD_T, -25)
    f = h.flag(U.R_BMD_OSTEOPOROSIS, DAY0)
    assert f[1] == P.LEVEL_DISCUSS and f[3] == -25 and f[4] == -25
    assert History(2).lab(DAY0, R.A_BMD_T, -18).flag(U.R_BMD_OSTEOPENIA, DAY0)[1] == P.LEVEL_INFO


def test_bmd_texts_name_an_aromatase_inhibitor_only_for_a_man_taking_one():
    f = History(0).dose(DAY0, R.D_TESTOSTERONE, 100000).lab(DAY0, R.A_BMD_T, -18).flag(U.R_BMD_OSTEOPENIA, DAY0)
    assert not f[5] & U.STATUS_ON_AI
    f = History(2).dose(DAY0, R.D_ANASTROZOLE, 500).lab(DAY0, R.A_BMD_T, -18).flag(U.R_BMD_OSTEOPENIA, DAY0)
    assert f[5] & U.STATUS_ON_AI


def test_bmd_rules_follow_the_profile():
    off = P.LEVEL_OFF
    # under 50 a clinician may switch both off
    assert bmd_rules(-30, {P.P_LEVELS + U.R_BMD_OSTEOPENIA: off, P.P_LEVELS + U.R_BMD_OSTEOPOROSIS: off}) == []
    # with osteoporosis off, the lower band reports (a ladder, like the E2 ladders)
    assert bmd_rules(-30, {P.P_LEVELS + U.R_BMD_OSTEOPOROSIS: off}) == [U.R_BMD_OSTEOPENIA]
    assert bmd_rules(-20, {P.P_BMD_OSTEOPOROSIS: -20}) == [U.R_BMD_OSTEOPOROSIS]
    assert bmd_rules(-19, {P.P_BMD_OSTEOPOROSIS: -20}) == [U.R_BMD_OSTEOPENIA]


def test_latest_scan_counts():
    h = History(2).lab(DAY0, R.A_BMD_T, -27).lab(DAY0 + 400, R.A_BMD_T, -5)
    assert [r for r in h.rules(DAY0 + 400) if r in (U.R_BMD_OSTEOPENIA, U.R_BMD_OSTEOPOROSIS)] == []


def repeat(t, settings=None, today=DAY0 + 1):
    r = History(2, settings).lab(DAY0, R.A_BMD_T, t).reminder(M.M_DEXA_REPEAT, today)
    return r[M.M_DUE] - DAY0


def test_repeat_dexa_yearly_while_the_last_t_score_is_in_either_band():
    assert repeat(-9) == 730
    assert repeat(-10) == 730                    # -1.0 is normal (WHO)
    assert repeat(-11) == 365
    assert repeat(-25) == 365
    assert repeat(-40) == 365
    # the interval follows the rules being on: both off -> every two years again
    assert repeat(-30, {P.P_LEVELS + U.R_BMD_OSTEOPENIA: P.LEVEL_OFF,
                        P.P_LEVELS + U.R_BMD_OSTEOPOROSIS: P.LEVEL_OFF}) == 730
    # a later scan back above -1.0 returns to two years from that scan
    h = History(2).lab(DAY0, R.A_BMD_T, -15).lab(DAY0 + 365, R.A_BMD_T, -8)
    assert h.reminder(M.M_DEXA_REPEAT, DAY0 + 366)[M.M_DUE] == DAY0 + 365 + 730


def baseline(scan_day, t=-5):
    h = History(2, {P.P_FRACTURE_HISTORY: 1}).lab(scan_day, R.A_BMD_T, t).dose(DAY0, R.D_ANASTROZOLE, 500)
    return h.reminder(M.M_DEXA_BASELINE, DAY0), h.reminder(M.M_DEXA_REPEAT, DAY0)


def test_a_scan_in_the_24_months_before_the_start_is_the_baseline():
    base, rep = baseline(DAY0 - 730)
    assert base[M.M_STATE] == M.DONE
    assert rep[M.M_DUE] == DAY0 - 730 + 730 and rep[M.M_STATE] == M.DUE     # the repeat runs from that scan
    base, rep = baseline(DAY0 - 731)
    assert base[M.M_STATE] == M.DUE
    assert rep is None                   # one scan answers both: not a baseline and a repeat at once
    base, rep = baseline(DAY0 - 100, t=-12)
    assert base[M.M_STATE] == M.DONE and rep[M.M_DUE] == DAY0 - 100 + 365


def test_the_lowest_site_of_the_latest_scan_day_counts():
    spine, hip, neck = R.A_BMD_T, R.A_BMD_T_HIP, R.A_BMD_T_FN
    for first, second in ((spine, hip), (hip, spine)):              # same day, either order
        values = {spine: -8, hip: -26}
        h = History(2).lab(DAY0, first, values[first]).lab(DAY0, second, values[second])
        f = h.flag(U.R_BMD_OSTEOPOROSIS, DAY0)
        assert f is not None and f[3] == -26
    h = History(2).lab(DAY0, spine, -8).lab(DAY0, neck, -18).lab(DAY0, hip, -12)
    assert h.flag(U.R_BMD_OSTEOPENIA, DAY0)[3] == -18
    h.lab(DAY0 + 400, spine, -5)                                     # a later scan, spine only: normal
    assert [r for r in h.rules(DAY0 + 400) if r in (U.R_BMD_OSTEOPENIA, U.R_BMD_OSTEOPOROSIS)] == []
    h.lab(DAY0 + 10, hip, -30)                                       # a back-dated site is ignored
    assert [r for r in h.rules(DAY0 + 400) if r in (U.R_BMD_OSTEOPENIA, U.R_BMD_OSTEOPOROSIS)] == []
    assert h.reminder(M.M_DEXA_REPEAT, DAY0 + 401)[M.M_DUE] == DAY0 + 400 + 730
