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

# The largest modules first: each is compiled from source before the smaller ones fill the heap.
from monitor.reminders import evaluate_reminders  # noqa: I001
from monitor.evaluate import evaluate_flags
from monitor import schedule
from monitor import records as R
from monitor import rules
from monitor.profile import P_E2_LOW, P_E2_SEVERE, P_GOAL
from monitor.state import (
    DOSE_AMT, DOSE_DAY, DOSE_START, E2_RUN_LAST, E2_RUN_START, FERT_START, GOAL, GOAL_DAY, LAST_CHANGE,
    LAST_SEQ, LAT_DAY, LAT_FLAGS, LAT_VAL, REM_ACK_DAY, REM_SNOOZE_DAY, REM_SNOOZE_UNTIL, RULE_ACK_DAY,
    SEVERE_DAY, SYM_DAY, SYM_ONSET, SYM_RISE, SYM_SEV, TAPER_DAY, TAPER_ON, THERAPY_START,
    WEEK_DAY, WEEK_SLOTS, WEEK_SUM, fresh_state,
)

ACK_RULE_BASE = 64   # EVENT_ACK value: reminder index below this, 64 + rule index for a flag


class Tracker:
    def __init__(self, profile):
        self.profile = profile
        self.p = profile.params
        self.st = fresh_state(profile.params[P_GOAL])
        self.flag_buf = array("i", [0] * (rules.MAX_FLAGS * rules.FLAG_FIELDS))
        self.reminder_buf = array("i", [0] * (schedule.REMINDER_COUNT * schedule.REMINDER_FIELDS))
        self.flag_count = 0
        self.reminder_count = 0

    @property
    def last_seq(self):
        return self.st[LAST_SEQ]

    def latest(self, analyte):
        # (value, day, flags) of the latest result of an analyte, or None.
        if self.st[LAT_DAY + analyte] < 0:
            return None
        return self.st[LAT_VAL + analyte], self.st[LAT_DAY + analyte], self.st[LAT_FLAGS + analyte]

    def week_total(self, drug, day):
        # Doses of a drug logged for the 7 days ending on `day` (for records.check_entry).
        st = self.st
        total = 0
        base = WEEK_DAY + drug * WEEK_SLOTS
        for i in range(WEEK_SLOTS):
            d = st[base + i]
            if 0 <= day - d < WEEK_SLOTS:
                total += st[WEEK_SUM + drug * WEEK_SLOTS + i]
        return total

    def check(self, kind, code, value, flags, day, minute, today):
        # records.check_entry with this history's context (latest TT, the week's doses).
        tt = self.st[LAT_VAL + R.A_TT] if self.st[LAT_DAY + R.A_TT] >= 0 else 0
        week = self.week_total(code, day) if kind == R.KIND_DOSE and 0 <= code < R.DRUG_COUNT else 0
        return R.check_entry(kind, code, value, flags, day, minute, today, tt, week)

    def apply(self, seq, day, minute, kind, code, value, flags):
        st = self.st
        if seq > st[LAST_SEQ]:
            st[LAST_SEQ] = seq
        if kind == R.KIND_LAB:
            self._lab(day, code, value, flags)
        elif kind == R.KIND_DOSE:
            self._dose(day, code, value)
        elif kind == R.KIND_SYMPTOM:
            self._symptom(day, code, value)
        elif kind == R.KIND_EVENT:
            self._event(day, code, value, flags)

    def _lab(self, day, code, value, flags):
        st = self.st
        if not (0 <= code < R.ANALYTE_COUNT) or day < st[LAT_DAY + code]:
            return   # a back-dated result does not replace a later one
        st[LAT_VAL + code] = value
        st[LAT_DAY + code] = day
        st[LAT_FLAGS + code] = flags
        if code != R.A_E2:
            return
        p = self.p
        below = flags & R.FLAG_BELOW_LLOQ
        if (value <= p[P_E2_LOW]) if below else (value < p[P_E2_LOW]):
            if st[E2_RUN_START] < 0:
                st[E2_RUN_START] = day
            st[E2_RUN_LAST] = day
        elif not below:
            st[E2_RUN_START] = -1
            st[E2_RUN_LAST] = -1
        if not below and value > p[P_E2_SEVERE]:
            st[SEVERE_DAY] = day

    def _dose(self, day, drug, amount):
        st = self.st
        if not (0 <= drug < R.DRUG_COUNT):
            return
        if st[THERAPY_START] < 0 or day < st[THERAPY_START]:
            st[THERAPY_START] = day
        if st[DOSE_START + drug] < 0 or day < st[DOSE_START + drug]:
            st[DOSE_START + drug] = day
        if st[GOAL] == R.GOAL_FERTILITY and st[FERT_START] < 0:
            st[FERT_START] = day
        slot = WEEK_DAY + drug * WEEK_SLOTS + day % WEEK_SLOTS
        if st[slot] == day:
            st[slot + (WEEK_SUM - WEEK_DAY)] += amount
        elif day > st[slot]:
            st[slot] = day
            st[slot + (WEEK_SUM - WEEK_DAY)] = amount
        if day < st[DOSE_DAY + drug]:
            return   # back-dated: not a change of the current regimen
        if st[DOSE_AMT + drug] != amount:
            if day > st[LAST_CHANGE]:
                st[LAST_CHANGE] = day
        st[DOSE_AMT + drug] = amount
        st[DOSE_DAY + drug] = day

    def _symptom(self, day, code, severity):
        st = self.st
        if not (0 <= code < R.SYMPTOM_COUNT) or day < st[SYM_DAY + code]:
            return
        before = st[SYM_SEV + code]
        if severity > 0 and before == 0:
            st[SYM_ONSET + code] = day
            st[SYM_RISE + code] = day
        elif severity > before:
            st[SYM_RISE + code] = day
        elif severity == 0:
            st[SYM_ONSET + code] = -1
            st[SYM_RISE + code] = -1
        st[SYM_SEV + code] = severity
        st[SYM_DAY + code] = day

    def _event(self, day, code, value, flags):
        st = self.st
        if code == R.EVENT_ACK:
            if 0 <= value < schedule.REMINDER_COUNT:
                if day > st[REM_ACK_DAY + value]:
                    st[REM_ACK_DAY + value] = day
            elif 0 <= value - ACK_RULE_BASE < rules.RULE_COUNT:
                if day > st[RULE_ACK_DAY + value - ACK_RULE_BASE]:
                    st[RULE_ACK_DAY + value - ACK_RULE_BASE] = day
        elif code == R.EVENT_SNOOZE:
            if 0 <= value < schedule.REMINDER_COUNT and flags > 0:
                st[REM_SNOOZE_DAY + value] = day
                st[REM_SNOOZE_UNTIL + value] = day + flags
        elif code == R.EVENT_GOAL:
            if 0 <= value < len(R.GOALS) and value != st[GOAL]:
                st[GOAL] = value
                st[GOAL_DAY] = day
                st[FERT_START] = -1
        elif code == R.EVENT_TAPER_START:
            st[TAPER_ON] = 1
            st[TAPER_DAY] = day
        elif code == R.EVENT_TAPER_END:
            st[TAPER_ON] = 0

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

    def load(self, blob):
        # Restores a dump(); raises ValueError if damaged or from another profile or layout.
        from monitor.snapshot import load
        load(self, blob)
