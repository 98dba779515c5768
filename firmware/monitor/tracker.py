# Incremental derived state over the record log: rules + schedule in one object.
#
#     t = Tracker(profile)
#     t.apply(seq, day, minute, kind, code, value, flags)   # every stored record, in log order
#     n = t.evaluate(today)      # fills t.flag_buf / t.reminder_buf; no allocation, O(1) in history length
#     t.flags(today), t.reminders(today)   # the same as tuples (allocates; for hosts and display)
#     blob = t.dump(); t.load(blob)        # snapshot of the state (refuses another profile's snapshot)
#
# `today` is a day number, or -1 when the clock is unset (then there are no reminders, and the
# time-based rules C11/C12 stay quiet). The state depends on the profile (E2_LOW and E2_SEVERE thresholds
# are applied as records arrive): after a profile change, build a new Tracker and replay the log.
from array import array

# The largest modules first (compile order for the 64K heap, see monitor.ingest).
from monitor import records as R  # noqa: I001
from monitor.ingest import apply_dose, apply_event, apply_lab, apply_symptom
from monitor.reminders import evaluate_reminders
from monitor.evaluate import evaluate_flags
from monitor import schedule
from monitor import rules
from monitor import profile as P
from monitor.state import fresh_state
from monitor import state as S



class Tracker:
    def __init__(self, profile):
        self.profile = profile
        self.p = profile.params
        self.st = fresh_state(profile.params[P.P_GOAL])
        self.flag_buf = array("i", bytes(4 * rules.MAX_FLAGS * rules.FLAG_FIELDS))
        self.reminder_buf = array("i", bytes(4 * schedule.REMINDER_COUNT * schedule.REMINDER_FIELDS))
        self.flag_count = 0
        self.reminder_count = 0

    def reset(self):
        # Back to an empty log, in place (no allocation): for a replay after a profile change.
        S.reset_state(self.st, self.p[P.P_GOAL])
        self.flag_count = 0
        self.reminder_count = 0

    @property
    def last_seq(self):
        return self.st[S.LAST_SEQ]

    def latest(self, analyte):
        # (value, day, flags) of the latest result of an analyte, or None.
        if self.st[S.LAT_DAY + analyte] < 0:
            return None
        return self.st[S.LAT_VAL + analyte], self.st[S.LAT_DAY + analyte], self.st[S.LAT_FLAGS + analyte]

    def week_total(self, drug, day):
        # Doses of a drug logged for the 7 days ending on `day` (for validate.check_entry).
        st = self.st
        total = 0
        base = S.DOSE_SLOT_DAY + drug * S.DOSE_SLOTS
        for i in range(S.DOSE_SLOTS):
            d = st[base + i]
            if 0 <= day - d < S.WEEK_DAYS:
                total += st[base + i + (S.DOSE_SLOT_SUM - S.DOSE_SLOT_DAY)]
        return total

    def check(self, kind, code, value, flags, day, minute, today, now=-1):
        # validate.check_entry with this history's context (latest TT, the week's doses); now: the device's
        # time in minutes since 2000-01-01 (-1: days only).
        tt = self.st[S.LAT_VAL + R.A_TT] if self.st[S.LAT_DAY + R.A_TT] >= 0 else 0
        week = self.week_total(code, day) if kind == R.KIND_DOSE and 0 <= code < R.DRUG_COUNT else 0
        from monitor.validate import check_entry
        return check_entry(kind, code, value, flags, day, minute, today, tt, week, now)

    def apply(self, seq, day, minute, kind, code, value, flags):
        st = self.st
        if seq > st[S.LAST_SEQ]:
            st[S.LAST_SEQ] = seq
        if kind == R.KIND_LAB:
            apply_lab(st, self.p, day, code, value, flags)
        elif kind == R.KIND_DOSE:
            apply_dose(st, self.p, day, code, value)
        elif kind == R.KIND_SYMPTOM:
            apply_symptom(st, day, code, value)
        elif kind == R.KIND_EVENT:
            apply_event(st, day, code, value, flags)

    def evaluate(self, today):
        # Fills flag_buf and reminder_buf; returns the number of flags. Allocates nothing.
        self.flag_count = evaluate_flags(self.st, self.p, today, self.flag_buf)
        self.reminder_count = evaluate_reminders(self.st, self.p, today, self.reminder_buf)
        return self.flag_count

    def flags(self, today):
        # ((rule, level, day, value, value2, status), ...) most severe band per ladder.
        self.evaluate(today)
        f = rules.FLAG_FIELDS
        return tuple(tuple(self.flag_buf[i * f:(i + 1) * f]) for i in range(self.flag_count))

    def reminders(self, today):
        # ((reminder, state, due_day, muted), ...); empty while the clock is unset.
        self.evaluate(today)
        f = schedule.REMINDER_FIELDS
        return tuple(tuple(self.reminder_buf[i * f:(i + 1) * f]) for i in range(self.reminder_count))

    def dump(self):
        # Snapshot bytes of the state (monitor.snapshot).
        from monitor.snapshot import dump
        return dump(self)

    def dump_into(self, buf):
        # The same snapshot written into a caller's bytearray of monitor.snapshot.SIZE bytes.
        from monitor.snapshot import dump_into
        return dump_into(self, buf)

    def load(self, blob):
        # Restores a dump(); raises ValueError if damaged or from another profile or layout.
        from monitor.snapshot import load
        load(self, blob)
