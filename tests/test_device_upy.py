"""The device code on the real MicroPython unix port: the UI and app (ui_smoke.py) and the whole app with a
BLE pull by a central in another process (bench/upy_device_heap.py and bench/device_central.py, fewer
entries than the bench)."""
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from bench.bench_device import HEAP_BUDGET, compile_bytecode  # noqa: E402
from bench.device_central import DeviceRunError, device_env, run_device  # noqa: E402
UPY = os.path.join(os.path.dirname(sys.executable), "micropython")
# The whole app's code does not fit a 64 KB heap on the 64-bit unix port yet (see bench_device);
# these behaviour tests run with room to spare.
HEAP = "256K"


def upy(script, *args, path="firmware:tests/upy_shadow"):
    # ".frozen" keeps the port's built-in asyncio reachable next to our paths.
    env = dict(os.environ, MICROPYPATH=".frozen:" + ":".join(os.path.join(ROOT, p) for p in path.split(":")))
    return subprocess.run([UPY, "-X", "heapsize=" + HEAP, script] + list(args), env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def test_ui_app_and_runner_on_micropython(tmp_path):
    proc = upy(os.path.join(ROOT, "tests", "upy_device", "ui_smoke.py"), str(tmp_path / "flash"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("OK ")


def test_whole_app_pull_on_micropython(tmp_path):
    """The device build (as e2mon deploy compiles it) boots, takes 200 entries and serves a full pull to a
    central in another process, inside the word-adjusted 64 KB heap (bench_device.HEAP_BUDGET)."""
    build = str(tmp_path / "mpy")
    compile_bytecode(build)
    env = device_env(build, os.path.join(ROOT, "tests", "upy_shadow"))
    figures = run_device(UPY, env, HEAP_BUDGET, ["200", str(tmp_path / "flash")])
    assert figures["upy_pull_records"] == figures["upy_stored_records"] == 201   # 200 entries and the clock-set event
    assert figures["upy_heap_peak_pull_bytes"] > figures["upy_heap_after_boot_bytes"] > 0
    modules = figures["upy_modules"].split(",")
    assert "device.app" in modules and "device.ble_service" in modules and "monitor.store" in modules
    # a power cycle restores every record from that flash, in the same budget
    reboot = run_device(UPY, env, HEAP_BUDGET, ["200", str(tmp_path / "flash"), "reboot"])
    assert reboot["upy_reboot_records"] == 201


def test_device_run_reports_a_heap_that_is_too_small(tmp_path):
    build = str(tmp_path / "mpy")
    compile_bytecode(build)
    env = device_env(build, os.path.join(ROOT, "tests", "upy_shadow"))
    with pytest.raises(DeviceRunError, match="MemoryError"):
        run_device(UPY, env, "24K", ["200", str(tmp_path / "flash")])
