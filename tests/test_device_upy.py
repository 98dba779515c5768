"""The device code on the real MicroPython unix port: the UI and app (ui_smoke.py) and the whole app with a
loopback BLE pull (bench/upy_device_heap.py, fewer entries than the bench)."""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
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
    proc = upy(os.path.join(ROOT, "bench", "upy_device_heap.py"), "200", str(tmp_path / "flash"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    line = [x for x in proc.stdout.splitlines() if x.startswith("FIGURES ")][0]
    figures = json.loads(line[8:])
    assert figures["upy_pull_records"] == 201          # 200 entries and the clock-set event
    assert figures["upy_heap_peak_pull_bytes"] > figures["upy_heap_after_boot_bytes"] > 0
    modules = [x for x in proc.stdout.splitlines() if x.startswith("MODULES ")][0][8:].split(",")
    assert "device.app" in modules and "device.ble_service" in modules and "monitor.store" in modules
