# "On TRT" has one meaning (clinical-rules §2 CBC, §4 C7): testosterone taken, or the TRT goal with
# testosterone not stopped. C7's band boundaries in both unit systems.
from core_helpers import DAY0, History  # noqa: I001
from si_helpers import both_units
from monitor import records as R
from monitor import rules as U


def test_c7_means_on_trt_as_for_the_cbc():
    # testosterone taken under the estrogen-control goal is TRT too; stopped, it is not
    for stored, wanted in ((449, [U.R_E2_ABOVE]), (450, [U.R_C7]), (600, [U.R_C7]), (601, [U.R_E2_HIGH])):
        for value in both_units(R.A_E2, stored):
            h = History(R.GOAL_ESTROGEN_CONTROL).dose(DAY0, R.D_TESTOSTERONE, 100000).lab(DAY0, R.A_E2, value)
            assert h.rules(DAY0) == wanted, (stored, h.rules(DAY0))
    h = History(R.GOAL_TRT).dose(DAY0, R.D_TESTOSTERONE, 100000).dose(DAY0 + 1, R.D_TESTOSTERONE, 0)
    assert h.lab(DAY0 + 2, R.A_E2, 450).rules(DAY0 + 2) == [U.R_E2_MILD]
