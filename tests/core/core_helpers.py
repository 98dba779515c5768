# Shared helpers for the core tests (plain Python: runs on CPython and the MicroPython unix port).
from monitor.tracker import Tracker  # noqa: I001  (the largest import first: least fragmentation)
from monitor import records as R
from monitor.profile import P_GOAL, Profile

# One Profile and Tracker, reset in place for each History, made before anything else fragments the
# 64K heap (the state and result buffers are the largest blocks a test needs).
_PROFILE = Profile()
_TRACKER = Tracker(_PROFILE)

from monitor import validate  # noqa: E402,F401  (loaded up front, not between allocations mid-test)

DAY0 = 9500   # 2026-01-04


class History:
    """A tracker fed through the same validation the device uses; every entry must be accepted.

    Histories share one tracker: creating a new one ends the previous one (using it then fails)."""

    generation = 0

    def __init__(self, goal=0, settings=None):
        # settings: {profile parameter index: value}, written directly (bounds are test_profile's job;
        # setting by name would load the names table, which a 64K heap cannot spare here)
        self.profile = _PROFILE
        self.profile.reset()
        self.profile.params[P_GOAL] = goal
        if settings:
            for index in settings:
                self.profile.params[index] = settings[index]
        self._tracker = _TRACKER
        self._tracker.reset()
        History.generation += 1
        self.generation = History.generation
        self.seq = 0

    @property
    def tracker(self):
        assert self.generation == History.generation, "a newer History has replaced this one"
        return self._tracker

    def add(self, day, kind, code, value, flags=0):
        status = self.tracker.check(kind, code, value, flags, day, 0, day)
        if status:
            from monitor import catalog   # the names only when a test fails
            raise AssertionError("entry refused: %s" % catalog.error_name(status))
        self.seq += 1
        if kind == R.KIND_LAB:
            flags |= R.FLAG_CLINIC       # results from the clinic (the device sets it in a clinician session)
        self.tracker.apply(self.seq, day, 0, kind, code, value, flags)
        return self

    def lab(self, day, analyte, value, flags=R.FLAG_CONFIRMED):
        return self.add(day, R.KIND_LAB, analyte, value, flags)

    def dose(self, day, drug, amount):
        return self.add(day, R.KIND_DOSE, drug, amount, R.FLAG_CONFIRMED)

    def symptom(self, day, code, severity):
        return self.add(day, R.KIND_SYMPTOM, code, severity)

    def event(self, day, code, value, flags=0):
        self.seq += 1
        self.tracker.apply(self.seq, day, 0, R.KIND_EVENT, code, value, flags)
        return self

    def rules(self, today):
        return [f[0] for f in self.tracker.flags(today)]

    def flag(self, rule, today):
        for f in self.tracker.flags(today):
            if f[0] == rule:
                return f
        return None

    def reminder(self, reminder, today):
        for r in self.tracker.reminders(today):
            if r[0] == reminder:
                return r
        return None
