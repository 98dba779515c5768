# Every stored value at a rule boundary (boundaries.py) is reached exactly from a conventional entry and
# from an SI entry, so the boundary tests hold in both unit systems.
import boundaries as B  # noqa: I001
from si_helpers import both_units
from monitor import records as R


def test_every_boundary_value_in_both_unit_systems():
    checked = 0
    for analyte in (R.A_E2, R.A_TT, R.A_HCT):
        for stored in B.stored_values(analyte):
            assert both_units(analyte, stored) == (stored, stored)
            checked += 1
    assert checked >= 40


def test_familiar_si_values_at_the_boundaries():
    from monitor import units
    # 220.3 pmol/L is 60.01 pg/mL (E2_HIGH at), 10.40 nmol/L is 299.94 ng/dL (TT_LOW at), 0.540 L/L
    assert units.convert_entry(R.KIND_LAB, R.A_E2, 2203, 1, "pmol/L") == (600, True)
    assert units.convert_entry(R.KIND_LAB, R.A_TT, 1040, 2, "nmol/L") == (300, True)
    assert units.convert_entry(R.KIND_LAB, R.A_HCT, 540, 3, "L/L") == (540, True)


def test_an_si_limit_of_quantitation_rounds_up():
    from monitor import units
    lab = R.KIND_LAB
    # "<95.5 pmol/L" is <26.01 pg/mL: stored as 26.1, so E2_BONE (26) stays indeterminate (test_rules_lloq)
    assert units.convert_entry(lab, R.A_E2, 955, 1, "pmol/L", 1) == (261, True)
    assert units.convert_entry(lab, R.A_E2, 955, 1, "pmol/L") == (260, True)        # a result: half up
    assert units.convert_entry(lab, R.A_E2, 954, 1, "pmol/L", 1) == (260, True)     # 25.99 pg/mL
    assert units.convert_entry(lab, R.A_E2, 26, 0, "pg/mL", 1) == (260, False)      # exact: unchanged
    assert units.convert_entry(lab, R.A_TT, 1041, 2, "nmol/L", 1) == (301, True)    # 300.22 ng/dL
    assert units.convert_entry(lab, R.A_TT, 1041, 2, "nmol/L") == (300, True)
