# Shared helpers for the core tests (plain Python: runs on CPython and the MicroPython unix port).
# Larger modules first: each compiles from source while the 64K heap is still empty.
from monitor.tracker import Tracker  # noqa: I001
from monitor import units
from monitor import records as R
from monitor.profile import Profile

DAY0 = 9500   # 2026-01-04


class History:
    """A tracker fed through the same validation the device uses; every entry must be accepted."""

    def __init__(self, goal=0, profile=None, **settings):
        self.profile = profile or Profile()
        self.profile.set("GOAL", goal)
        for name in settings:
            self.profile.set(name, settings[name])
        self.tracker = Tracker(self.profile)
        self.seq = 0

    def add(self, day, kind, code, value, flags=0):
        status = self.tracker.check(kind, code, value, flags, day, 0, day)
        assert status == 0, "entry refused: %s" % R.error_name(status)
        self.seq += 1
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


def conventional(analyte, text):
    """Stored value of a lab entered in its conventional unit, e.g. conventional(E2, '60.1')."""
    return R.convert_entry(R.KIND_LAB, analyte, *decimal(text), unit=0)[0]


def decimal(text):
    if "." in text:
        whole, frac = text.split(".")
        return int(whole + frac), len(frac)
    return int(text), 0


def si_entry(analyte, stored):
    """An SI entry (mantissa, decimals, unit index) that converts exactly to `stored`."""
    table = units.LAB_UNITS[analyte]
    index = 1
    while not table[index][3]:
        index += 1
    mul = table[index][1]
    div = table[index][2]
    decimals = 0
    while mul > div * 10 ** decimals:   # one SI step must not exceed one stored unit
        decimals += 1
    guess = stored * div * 10 ** decimals // mul
    for delta in range(-30, 31):
        value, is_si = units.convert_entry(R.KIND_LAB, analyte, guess + delta, decimals, index)
        if value == stored:
            assert is_si
            return guess + delta, decimals, index
    raise AssertionError("no SI entry converts to %d" % stored)


def via_si(analyte, stored):
    """The stored value reached by entering in SI units (asserts the round trip is exact)."""
    mantissa, decimals, index = si_entry(analyte, stored)
    value, _ = units.convert_entry(R.KIND_LAB, analyte, mantissa, decimals, index)
    return value
