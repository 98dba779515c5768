"""Rule core figures from the real MicroPython unix port (64K heap, firmware as mpy-cross bytecode).

- upy_heap_bytes_per_eval: heap allocated per Tracker.evaluate() after warm-up (gc.mem_alloc with the
  collector off; goal 0: flags and reminders go into preallocated buffers), with 10 entries applied;
  upy_heap_bytes_per_eval_10k the same after 10,000.
- eval_cost_ratio_10k_vs_10: best-of-7 time of 2,000 evaluations after 10,000 entries divided by the
  same after 10 (goal <= 1.1: the derived state is fixed-size, so history length does not matter).
- upy_eval_us: microseconds per evaluation; upy_core_resident_bytes: heap held by the loaded core.
- core_mpy_bytes_armv6m / core_mpy_bytes_xtensawin: sum of firmware/monitor/*.mpy per architecture.
"""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from compile_mpy import compile_all  # noqa: E402
from host_tools.deploy import compile_firmware  # noqa: E402

BIN = os.path.dirname(sys.executable)


def mpy_sizes():
    figures = {}
    for arch in ("armv6m", "xtensawin"):
        sizes = compile_all(arch)
        figures["core_mpy_bytes_" + arch] = sum(v for k, v in sizes.items() if k.startswith("monitor/"))
    return figures


def upy_figures():
    with tempfile.TemporaryDirectory() as tmp:
        compile_firmware("armv6m", tmp)   # the device build, as deployed
        proc = subprocess.run([os.path.join(BIN, "micropython"), "-X", "heapsize=64K",
                               os.path.join(HERE, "upy_core_bench.py")],
                              env=dict(os.environ, MICROPYPATH=tmp), capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        raise RuntimeError("upy_core_bench failed:\n" + proc.stdout + proc.stderr)
    line = [x for x in proc.stdout.splitlines() if x.startswith("FIGURES ")][0]
    figures = json.loads(line[8:])
    return {k: (float(v) if isinstance(v, str) else v) for k, v in figures.items()}


def run():
    figures = upy_figures()
    figures.update(mpy_sizes())
    return figures


if __name__ == "__main__":
    for key, value in run().items():
        print("%s: %s" % (key, value))
