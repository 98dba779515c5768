"""What a device's corrections say about the records pulled from it (monitor.corrections writes them).

A voided entry (records.EVENT_VOID names it) and an amended one (EVENT_AMEND; the record right before the
event, FLAG_AMENDS set, is the corrected entry) stay in the log and in every export; the rules, the report
and the history export leave them out; CSV says which and why; FHIR marks them entered-in-error, or gives
the corrected entry the original's identity with status amended.

- `Corrections.of(events)`: from a device's EVENT records (seq, day, minute, kind, code, value, flags)
- `.voided(seq)`, `.amended(seq)`, `.replaces(seq)` (the target a corrected entry replaces), `.counts(seq)`
- `.note(seq)`: the words CSV shows for a record a correction touches ("" for the others)
- `reason_text(code)`, `event_text(code, target, reason, seq)`
"""
from monitor import catalog, dates, records
from monitor.corrections import correction_target


def reason_text(code):
    return catalog.REASONS[code].replace("_", " ") if 0 <= code < len(catalog.REASONS) else "reason %d" % code


def event_text(code, target, reason, seq):
    """An EVENT_VOID / EVENT_AMEND in words (export.event_text)."""
    if code == records.EVENT_VOID:
        return "record %d voided: %s" % (target, reason_text(reason))
    return "record %d amended by record %d: %s" % (target, seq - 1, reason_text(reason))


class Corrections:
    def __init__(self):
        self.by_target = {}        # target seq -> (event seq, event day, code, reason)
        self.replacing = {}        # corrected entry's seq -> target seq

    @classmethod
    def of(cls, events):
        found = cls()
        for seq, day, _minute, kind, code, value, flags in events:
            target = correction_target(kind, code, value)
            if target < 0 or target in found.by_target:
                continue
            found.by_target[target] = (seq, day, code, flags)
            if code == records.EVENT_AMEND:
                found.replacing[seq - 1] = target
        return found

    def __bool__(self):
        return bool(self.by_target)

    def voided(self, seq):
        c = self.by_target.get(seq)
        return c is not None and c[2] == records.EVENT_VOID

    def amended(self, seq):
        c = self.by_target.get(seq)
        return c is not None and c[2] == records.EVENT_AMEND

    def replaces(self, seq):
        """The record a corrected entry replaces, or None."""
        return self.replacing.get(seq)

    def counts(self, seq):
        """False for an entry a correction took back (voided, or replaced by its amendment)."""
        return seq not in self.by_target

    def reason(self, target):
        return reason_text(self.by_target[target][3])

    def status(self, seq):
        if self.voided(seq):
            return "entered-in-error"
        if self.amended(seq):
            return "amended"
        if seq in self.replacing:
            return "amendment"
        return "final"

    def note(self, seq):
        c = self.by_target.get(seq)
        if c is not None:
            event_seq, day, code, reason = c
            if code == records.EVENT_VOID:
                return "voided on %s (record %d): %s" % (dates.format_day(day), event_seq, reason_text(reason))
            return "amended on %s: record %d replaces it (record %d): %s" % (
                dates.format_day(day), event_seq - 1, event_seq, reason_text(reason))
        target = self.replacing.get(seq)
        if target is not None:
            return "replaces record %d: %s" % (target, self.reason(target))
        return ""
