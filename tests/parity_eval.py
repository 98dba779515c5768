# Evaluates a corpus of histories with the rule core and prints one line per history; runs unchanged on
# CPython (imported by tests/firmware/test_parity.py) and on the MicroPython unix port (as a script), so the two
# outputs can be compared byte for byte. Corpus lines (integers, space-separated):
#   H goal birth_year fracture planned_months [param_index value]...   a new history and its profile
#   R day minute kind code value flags                                 one entry, validated then applied
#   E today                                                            evaluate and print
# Output per history: flags | reminders | reminders with the clock unset | rejected entry codes |
# snapshot CRC (the whole derived state, its bytes before the trailing CRC) | profile CRC.
import sys
from binascii import crc32

from monitor.profile import P_BIRTH_YEAR, P_FRACTURE_HISTORY, P_GOAL, P_PLANNED_MONTHS, Profile
from monitor.tracker import Tracker


class Evaluator:
    def __init__(self):
        self.profile = Profile()
        self.tracker = Tracker(self.profile)   # reset in place per history: no heap churn
        self.seq = 0
        self.rejected = []
        from monitor.snapshot import SIZE
        self.snapshot = bytearray(SIZE)

    def start(self, fields):
        p = self.profile
        p.reset()
        p.params[P_GOAL] = fields[0]
        p.params[P_BIRTH_YEAR] = fields[1]
        p.params[P_FRACTURE_HISTORY] = fields[2]
        p.params[P_PLANNED_MONTHS] = fields[3]
        for i in range(4, len(fields) - 1, 2):
            p.params[fields[i]] = fields[i + 1]
        self.tracker.reset()
        self.seq = 0
        self.rejected = []

    def entry(self, f, today):
        day, minute, kind, code, value, flags = f[0], f[1], f[2], f[3], f[4], f[5]
        status = self.tracker.check(kind, code, value, flags, day, minute, today)
        if status:
            self.rejected.append(status)
            return
        self.seq += 1
        self.tracker.apply(self.seq, day, minute, kind, code, value, flags)

    def finish(self, today):
        t = self.tracker
        parts = [" ".join([",".join([str(x) for x in f]) for f in t.flags(today)]),
                 " ".join([",".join([str(x) for x in r]) for r in t.reminders(today)]),
                 " ".join([",".join([str(x) for x in r]) for r in t.reminders(-1)]),
                 ",".join([str(c) for c in self.rejected]),
                 str(crc32(memoryview(t.dump_into(self.snapshot))[:-4]) & 0xFFFFFFFF),
                 str(self.profile.crc())]
        return "|".join(parts)


def evaluate_lines(lines, emit):
    ev = Evaluator()
    pending = []
    for line in lines:
        words = line.split()
        if not words:
            continue
        tag = words[0]
        nums = [int(w) for w in words[1:]]
        if tag == "H":
            ev.start(nums)
            pending = []
        elif tag == "R":
            pending.append(nums)
        elif tag == "E":
            today = nums[0]
            for f in pending:   # entries are checked against the evaluation day (future ones refused)
                ev.entry(f, today)
            emit(ev.finish(today))


def main():
    with open(sys.argv[1]) as f:
        evaluate_lines(f, print)


if __name__ == "__main__":
    main()
