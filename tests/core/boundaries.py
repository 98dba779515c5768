# Boundary cases of the lab rules: (stored value, rule IDs expected) with the default profile.
# test_rules_*.py run them through the tracker; test_units_boundaries.py enters every one of these
# stored values in the conventional and in the SI unit and checks both convert to exactly it, so each
# boundary holds in both unit systems (the rules only ever see the stored integer).
from monitor import records as R
from monitor import rules as U

E2_HIGH = [(399, []), (400, []), (401, [U.R_E2_ABOVE]),
           (449, [U.R_E2_ABOVE]), (450, [U.R_E2_MILD]), (451, [U.R_E2_MILD]),
           (599, [U.R_E2_MILD]), (600, [U.R_E2_MILD]), (601, [U.R_E2_HIGH]),
           (799, [U.R_E2_HIGH]), (800, [U.R_E2_HIGH]), (801, [U.R_E2_SEVERE, U.R_C6])]
E2_MILD_ON_TRT = [(449, [U.R_E2_ABOVE]), (450, [U.R_C7]), (600, [U.R_C7]), (601, [U.R_E2_HIGH])]
E2_LOW = [(261, []), (260, []), (259, [U.R_E2_BONE]),
          (201, [U.R_E2_BONE]), (200, [U.R_E2_BONE]), (199, [U.R_E2_LOW]),
          (151, [U.R_E2_LOW]), (150, [U.R_E2_LOW]), (149, [U.R_E2_LOW_SYMPT]),
          (101, [U.R_E2_LOW_SYMPT]), (100, [U.R_E2_LOW_SYMPT]), (99, [U.R_E2_CRITICAL])]
# E2_ABOVE follows the top of the target band: with the target edited to 20-35 pg/mL
E2_ABOVE_AT_35 = [(350, []), (351, [U.R_E2_ABOVE]), (370, [U.R_E2_ABOVE])]
E2_HIGH_AT_55 = [(549, [U.R_E2_MILD]), (550, [U.R_E2_MILD]), (551, [U.R_E2_HIGH])]
TT = [(299, [U.R_TT_LOW]), (300, [U.R_TT_BELOW_TARGET]), (301, [U.R_TT_BELOW_TARGET]),
      (499, [U.R_TT_BELOW_TARGET]), (500, []), (501, []),
      (999, []), (1000, []), (1001, [U.R_TT_ABOVE_TARGET])]
HCT = [(519, []), (520, []), (539, []), (540, [U.R_C9]), (541, [U.R_C9])]
HCT_WITH_WARNING = [(519, []), (520, [U.R_HCT_WARN]), (539, [U.R_HCT_WARN]), (540, [U.R_C9])]
# DEXA T-score (0.1 SD, signed; one unit, SD): BMD_OSTEOPENIA -2.5 < T < -1.0 (WHO: -1.0 is normal),
# BMD_OSTEOPOROSIS T <= -2.5
BMD = [(-9, []), (-10, []), (-11, [U.R_BMD_OSTEOPENIA]),
       (-24, [U.R_BMD_OSTEOPENIA]), (-25, [U.R_BMD_OSTEOPOROSIS]), (-26, [U.R_BMD_OSTEOPOROSIS]),
       (-80, [U.R_BMD_OSTEOPOROSIS]), (0, []), (60, [])]
# C11's "labs in target": E2 26-40 pg/mL, TT 500-1000 ng/dL, hematocrit below the action level
C11_E2 = [(259, False), (260, True), (400, True), (401, False)]
C11_TT = [(499, False), (500, True), (1000, True), (1001, False)]
C11_HCT = [(539, True), (540, False)]
# T:E2 ratio: T 600 ng/dL against E2 59.9 / 60.0 / 60.1 pg/mL, and T 599 / 600 against E2 60.0
RATIO_E2 = (599, 600, 601)
RATIO_TT = (599, 600)

ANALYTE_CASES = ((R.A_E2, (E2_HIGH, E2_MILD_ON_TRT, E2_LOW, E2_HIGH_AT_55, E2_ABOVE_AT_35)), (R.A_TT, (TT,)),
                 (R.A_HCT, (HCT, HCT_WITH_WARNING)))


def stored_values(analyte):
    values = []
    for code, tables in ANALYTE_CASES:
        if code == analyte:
            for table in tables:
                values.extend(stored for stored, _ in table)
    c11 = {R.A_E2: C11_E2, R.A_TT: C11_TT, R.A_HCT: C11_HCT}
    values.extend(stored for stored, _ in c11.get(analyte, ()))
    if analyte == R.A_E2:
        values.extend(RATIO_E2)
    if analyte == R.A_TT:
        values.extend(RATIO_TT)
    return sorted(set(values))
