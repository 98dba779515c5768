# RECHECK is done only when an E2 and a total T are both logged in its window (clinical-rules §2); each
# entered once in the conventional and once in the SI unit.
from core_helpers import DAY0  # noqa: I001
from recheck_helpers import started, state
from si_helpers import both_units
from monitor import records as R
from monitor import schedule as M


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
