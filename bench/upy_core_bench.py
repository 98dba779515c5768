# Runs on the MicroPython unix port (started by bench/bench_core.py, firmware as mpy-cross bytecode):
# heap allocated per evaluation after warm-up, and the cost of an evaluation after 10,000 entries
# against after 10. Prints one line: FIGURES {json}.
import gc
import time

gc.collect()
base = gc.mem_alloc()
from monitor import records as R  # noqa: E402
from monitor.profile import P_BIRTH_YEAR, P_GOAL, Profile  # noqa: E402
from monitor.tracker import Tracker  # noqa: E402

gc.collect()
resident = gc.mem_alloc() - base
DAY0 = 9500
# One cycle of 10 entries (labs, doses with a change, symptoms, an acknowledgement): the 10-entry history
# is one cycle and the 10,000-entry one a thousand, so both end in the same kind of state.
KINDS = ((R.KIND_DOSE, 0, 500, 0), (R.KIND_DOSE, 1, 100000, 0), (R.KIND_LAB, R.A_TT, 550, 0),
         (R.KIND_LAB, R.A_HCT, 545, 0), (R.KIND_SYMPTOM, R.S_GYNO, 1, 0), (R.KIND_LAB, R.A_E2, 650, 2),
         (R.KIND_SYMPTOM, R.S_JOINT, 2, 0), (R.KIND_SYMPTOM, R.S_MOOD, 1, 0), (R.KIND_EVENT, R.EVENT_ACK, 2, 0),
         (R.KIND_DOSE, 0, 250, 0))


def build(entries):
    profile = Profile()
    profile.params[P_GOAL] = R.GOAL_TRT
    profile.params[P_BIRTH_YEAR] = 1968
    t = Tracker(profile)
    for i in range(entries):
        kind, code, value, flags = KINDS[i % len(KINDS)]
        # the last cycle falls on the same days in both histories; older ones go back in time
        t.apply(i + 1, DAY0 + (i - entries + len(KINDS)) // 8, 0, kind, code, value, flags)
    return t, DAY0 + 4


def heap_per_eval(t, today, n):
    t.evaluate(today)                 # warm-up
    gc.collect()
    gc.disable()
    before = gc.mem_alloc()
    for _ in range(n):
        t.evaluate(today)
    after = gc.mem_alloc()
    gc.enable()
    return (after - before) / n


def ticks(t, today, n):
    start = time.ticks_us()
    for _ in range(n):
        t.evaluate(today)
    return time.ticks_diff(time.ticks_us(), start)


small, small_today = build(10)
large, large_today = build(10000)
flags_small = small.evaluate(small_today)
flags_large = large.evaluate(large_today)
heap = heap_per_eval(small, small_today, 1000)
heap_large = heap_per_eval(large, large_today, 1000)
best_small = best_large = None
for _ in range(7):
    a = ticks(small, small_today, 2000)
    b = ticks(large, large_today, 2000)
    best_small = a if best_small is None or a < best_small else best_small
    best_large = b if best_large is None or b < best_large else best_large
print("FIGURES {\"upy_heap_bytes_per_eval\": %s, \"upy_heap_bytes_per_eval_10k\": %s, "
      "\"eval_cost_ratio_10k_vs_10\": %s, \"upy_eval_us\": %s, \"upy_core_resident_bytes\": %d, "
      "\"upy_flags_10\": %d, \"upy_flags_10k\": %d, \"upy_reminders_10k\": %d}" % (
          heap, heap_large, "%.3f" % (best_large / best_small), "%.1f" % (best_small / 2000), resident,
          flags_small, flags_large, large.reminder_count))
