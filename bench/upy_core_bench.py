# Runs on the MicroPython unix port (started by bench/bench_core.py, firmware as mpy-cross bytecode):
# heap allocated per evaluation after warm-up, and the cost of an evaluation after 10,000 entries
# against after 10. Prints one line: FIGURES {json}.
import gc
import time

gc.collect()
base = gc.mem_alloc()
from monitor import records as R  # noqa: E402, F401
from monitor.profile import Profile  # noqa: E402, F401
from monitor.tracker import Tracker  # noqa: E402, F401

gc.collect()
resident = gc.mem_alloc() - base
from upy_history import build  # noqa: E402  (after the resident figure: the bench's own code)


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
