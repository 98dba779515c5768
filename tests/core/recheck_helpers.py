# Shared by the recheck reminder tests: a therapy started on DAY0, and a reminder's (state, due, muted).
from core_helpers import DAY0, History  # noqa: I001
from monitor import records as R
from monitor import schedule as M


def started():
    return History(2).dose(DAY0, R.D_ANASTROZOLE, 500)


def state(h, today, reminder=M.M_RECHECK):
    r = h.reminder(reminder, today)
    return None if r is None else (r[M.M_STATE], r[M.M_DUE] - DAY0, r[M.M_MUTED])
