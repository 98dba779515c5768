# Lab threshold rules at their boundaries (just below, at, just above), entered in both unit systems.
from core_helpers import DAY0, History, conventional, via_si
from monitor import records as R
from monitor import rules as X

GOAL_EC = 2   # estrogen_control: no goal-specific replacement (C7/C8)


def ids(analyte, value, flags=R.FLAG_CONFIRMED, goal=GOAL_EC, **settings):
    h = History(goal, **settings).lab(DAY0, analyte, value, flags)
    return h.rules(DAY0)


def both_units(analyte, stored):
    # the same stored value reached from a conventional entry and from an SI entry
    conv = conventional(analyte, R.format_value(R.KIND_LAB, analyte, stored).split(" ")[0])
    si = via_si(analyte, stored)
    assert conv == stored and si == stored
    return (conv, si)


def expect(analyte, cases, goal=GOAL_EC, **settings):
    for stored, wanted in cases:
        for value in both_units(analyte, stored):
            got = ids(analyte, value, R.FLAG_CONFIRMED, goal, **settings)
            assert got == wanted, "%s %d: %s != %s" % (R.ANALYTES[analyte], value, got, wanted)


def test_e2_high_ladder():
    expect(R.A_E2, [(399, []), (400, []), (401, [X.R_E2_ABOVE]),
                    (449, [X.R_E2_ABOVE]), (450, [X.R_E2_MILD]), (451, [X.R_E2_MILD]),
                    (599, [X.R_E2_MILD]), (600, [X.R_E2_MILD]), (601, [X.R_E2_HIGH]),
                    (799, [X.R_E2_HIGH]), (800, [X.R_E2_HIGH]), (801, [X.R_E2_SEVERE, X.R_C6])])


def test_e2_mild_on_trt_is_c7():
    expect(R.A_E2, [(449, [X.R_E2_ABOVE]), (450, [X.R_C7]), (600, [X.R_C7]), (601, [X.R_E2_HIGH])], goal=0)


def test_e2_low_ladder():
    expect(R.A_E2, [(261, []), (260, []), (259, [X.R_E2_BONE]),
                    (201, [X.R_E2_BONE]), (200, [X.R_E2_BONE]), (199, [X.R_E2_LOW]),
                    (151, [X.R_E2_LOW]), (150, [X.R_E2_LOW]), (149, [X.R_E2_LOW_SYMPT]),
                    (101, [X.R_E2_LOW_SYMPT]), (100, [X.R_E2_LOW_SYMPT]), (99, [X.R_E2_CRITICAL])])


def test_only_the_most_severe_band_and_examples_from_the_reference():
    assert ids(R.A_E2, 900) == [X.R_E2_SEVERE, X.R_C6]
    assert ids(R.A_E2, 80) == [X.R_E2_CRITICAL]
    assert ids(R.A_E2, 300) == []


def test_total_testosterone():
    expect(R.A_TT, [(299, [X.R_TT_LOW]), (300, [X.R_TT_BELOW_TARGET]), (301, [X.R_TT_BELOW_TARGET]),
                    (499, [X.R_TT_BELOW_TARGET]), (500, []), (501, []),
                    (999, []), (1000, []), (1001, [X.R_TT_ABOVE_TARGET])])


def test_hematocrit_c9_and_optional_warning():
    expect(R.A_HCT, [(519, []), (520, []), (539, []), (540, [X.R_C9]), (541, [X.R_C9])])
    expect(R.A_HCT, [(519, []), (520, [X.R_HCT_WARN]), (539, [X.R_HCT_WARN]), (540, [X.R_C9])],
           LEVEL_HCT_WARN=X.LEVEL_INFO)
    h = History(GOAL_EC).lab(DAY0, R.A_HCT, 545)
    assert h.flag(X.R_C9, DAY0)[1] == X.LEVEL_URGENT


def ratio(tt, e2, goal=GOAL_EC):
    h = History(goal).lab(DAY0, R.A_TT, tt).lab(DAY0, R.A_E2, e2)
    return [r for r in h.rules(DAY0) if r in (X.R_TE_RATIO, X.R_C8)]


def test_te_ratio_boundary_and_c8():
    # T 600 ng/dL : E2 60 pg/mL is exactly 10:1 -> no flag; E2 60.1 -> 9.98:1 -> flag
    for e2 in both_units(R.A_E2, 599) + both_units(R.A_E2, 600):
        assert ratio(600, e2) == []
    for e2 in both_units(R.A_E2, 601):
        assert ratio(600, e2) == [X.R_TE_RATIO]
        assert ratio(600, e2, goal=1) == [X.R_C8]
    for tt in both_units(R.A_TT, 600):
        assert ratio(tt, 600) == []


def test_profile_override_moves_the_threshold():
    expect(R.A_E2, [(549, [X.R_E2_MILD]), (550, [X.R_E2_MILD]), (551, [X.R_E2_HIGH])], E2_HIGH=550)
    expect(R.A_E2, [(900, [X.R_E2_HIGH, X.R_C6])], LEVEL_E2_SEVERE=-1)


def test_below_lloq_is_indeterminate_not_fired():
    blq = R.METHOD_IMMUNOASSAY | R.FLAG_BELOW_LLOQ | R.FLAG_CONFIRMED
    h = History(GOAL_EC).lab(DAY0, R.A_E2, 240, blq)       # "< 24 pg/mL"
    flags = h.tracker.flags(DAY0)
    assert [(f[0], f[5]) for f in flags] == [(X.R_E2_BONE, 0), (X.R_E2_LOW, X.STATUS_INDETERMINATE)]
    # LLOQ at, just above and just below the bone threshold (26 pg/mL)
    assert [(f[0], f[5]) for f in History(GOAL_EC).lab(DAY0, R.A_E2, 260, blq).tracker.flags(DAY0)] == [
        (X.R_E2_BONE, 0), (X.R_E2_LOW, X.STATUS_INDETERMINATE)]
    assert [(f[0], f[5]) for f in History(GOAL_EC).lab(DAY0, R.A_E2, 261, blq).tracker.flags(DAY0)] == [
        (X.R_E2_BONE, X.STATUS_INDETERMINATE)]
    # a sensitive assay with LLOQ 5 pg/mL: below it is surely critical
    assert ids(R.A_E2, 50, R.METHOD_LCMS | R.FLAG_BELOW_LLOQ) == [X.R_E2_CRITICAL]


def test_levels_sources_and_acknowledgement():
    assert X.Profile().level(X.R_C9) == X.LEVEL_URGENT
    assert X.source(X.R_E2_HIGH) == "002, 001"
    h = History(GOAL_EC).lab(DAY0, R.A_E2, 650)
    assert h.flag(X.R_E2_HIGH, DAY0)[5] == 0
    h.event(DAY0 + 1, R.EVENT_ACK, 64 + X.R_E2_HIGH)
    assert h.flag(X.R_E2_HIGH, DAY0 + 1)[5] == X.STATUS_ACKED
    h.lab(DAY0 + 30, R.A_E2, 700)                          # a new result is not acknowledged
    assert h.flag(X.R_E2_HIGH, DAY0 + 30)[5] == 0
