# Estradiol ladders at their boundaries (just below, at, just above); the same stored values entered in
# pg/mL and pmol/L are checked in test_units_boundaries.py.
import boundaries as B  # noqa: I001  (compiled first, while the heap is empty)
from core_helpers import DAY0, History
from monitor import profile as P
from monitor import records as R
from monitor import rules as U


def ids(analyte, value, goal=2, settings=None):
    return History(goal, settings).lab(DAY0, analyte, value).rules(DAY0)


def expect(analyte, cases, goal=2, settings=None):
    for stored, wanted in cases:
        got = ids(analyte, stored, goal, settings)
        assert got == wanted, "analyte %d value %d: %s != %s" % (analyte, stored, got, wanted)


def test_e2_high_ladder():
    expect(R.A_E2, B.E2_HIGH)


def test_e2_mild_on_trt_is_c7():
    expect(R.A_E2, B.E2_MILD_ON_TRT, goal=0)


def test_e2_low_ladder():
    expect(R.A_E2, B.E2_LOW)


def test_only_the_most_severe_band_as_in_the_reference():
    assert ids(R.A_E2, 900) == [U.R_E2_SEVERE, U.R_C6]    # 90 pg/mL: severe alone (+ its recheck)
    assert ids(R.A_E2, 80) == [U.R_E2_CRITICAL]           # 8 pg/mL: critical alone
    assert ids(R.A_E2, 300) == []                         # 30 pg/mL: nothing


def test_profile_override_moves_the_threshold():
    expect(R.A_E2, B.E2_HIGH_AT_55, settings={P.P_E2_HIGH: 550})
    expect(R.A_E2, [(900, [U.R_E2_HIGH, U.R_C6])], settings={P.P_LEVELS + U.R_E2_SEVERE: -1})


def test_e2_above_follows_an_edited_target():
    expect(R.A_E2, B.E2_ABOVE_AT_35, settings={P.P_E2_TARGET_HIGH: 350})


def test_other_labs():
    expect(R.A_TT, B.TT)
    expect(R.A_HCT, B.HCT)
    expect(R.A_HCT, B.HCT_WITH_WARNING, settings={P.P_LEVELS + U.R_HCT_WARN: P.LEVEL_INFO})
    assert History(2).lab(DAY0, R.A_HCT, 545).flag(U.R_C9, DAY0)[1] == P.LEVEL_URGENT


def ratio(tt, e2, goal=2):
    h = History(goal).lab(DAY0, R.A_TT, tt).lab(DAY0, R.A_E2, e2)
    return [r for r in h.rules(DAY0) if r in (U.R_TE_RATIO, U.R_C8)]


def test_te_ratio_boundary_and_c8():
    # T 600 ng/dL : E2 60 pg/mL is exactly 10:1 -> no flag; E2 60.1 -> 9.98:1 -> flag
    assert [ratio(600, e2) for e2 in B.RATIO_E2] == [[], [], [U.R_TE_RATIO]]
    assert ratio(600, 601, goal=1) == [U.R_C8]
    assert [ratio(tt, 600) for tt in B.RATIO_TT] == [[U.R_TE_RATIO], []]
