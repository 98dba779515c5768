"""The device code on the real MicroPython unix port: the UI and app (ui_smoke.py) and the whole app with a
BLE pull by a central in another process (bench/upy_device_heap.py and bench/device_central.py, fewer
entries than the bench)."""
import os
import subprocess
import sys

import pytest

from paths import ROOT  # noqa: E402
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from bench.bench_device import HEAP_BUDGET, compile_bytecode  # noqa: E402
from host_tools.deploy import romfs_image  # noqa: E402
from bench.device_central import DeviceRunError, device_env, run_device  # noqa: E402
UPY = os.path.join(os.path.dirname(sys.executable), "micropython")
# ui_smoke.py runs from source (parsed on the port), with room to spare.
HEAP = "256K"
INTERFACE_HEAP = "88wK"     # the app with its interface: about 81wK measured, see bench_device
ROMFS_HEAP_KB = 78          # the app from ROMFS, besides the image: 77 KB measured (smallest whole KB that serves the pull) after the corrections and the pull work; 1 KB margin


def upy(script, *args, path="firmware:tests/upy_shadow"):
    # ".frozen" keeps the port's built-in asyncio reachable next to our paths.
    env = dict(os.environ, MICROPYPATH=".frozen:" + ":".join(os.path.join(ROOT, p) for p in path.split(":")))
    return subprocess.run([UPY, "-X", "heapsize=" + HEAP, script] + list(args), env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def test_ui_app_and_runner_on_micropython(tmp_path):
    proc = upy(os.path.join(ROOT, "tests", "upy_device", "ui_smoke.py"), str(tmp_path / "flash"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("OK ")


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    """The device build as e2mon deploy compiles it, with the bench's harness."""
    out = str(tmp_path_factory.mktemp("upy") / "mpy")
    compile_bytecode(out)
    return out


def _env(build, romfs=None):
    env = device_env(build, os.path.join(ROOT, "tests", "upy_shadow"))
    if romfs:
        env["E2MON_ROMFS"] = romfs
    return env


def test_whole_app_pull_on_micropython(build, tmp_path):
    """The device build boots, takes 200 entries and serves a full pull to a central in another process,
    inside the word-adjusted 64 KB heap (bench_device.HEAP_BUDGET)."""
    figures = run_device(UPY, _env(build), HEAP_BUDGET, ["200", str(tmp_path / "flash")])
    assert figures["upy_pull_records"] == figures["upy_stored_records"] == 201   # 200 entries and the clock-set event
    assert figures["upy_heap_peak_pull_bytes"] > figures["upy_heap_after_boot_bytes"] > 0
    modules = figures["upy_modules"].split(",")
    assert "monitor.app" in modules and "device.ble_service" in modules and "monitor.store" in modules
    assert "device.ui" not in modules and "monitor.texts" not in modules
    # a power cycle restores every record from that flash, in the same budget
    reboot = run_device(UPY, _env(build), HEAP_BUDGET, ["200", str(tmp_path / "flash"), "reboot"])
    assert reboot["upy_reboot_records"] == 201


def test_app_with_the_patients_interface_on_micropython(build, tmp_path):
    """The interface too (runner, screens in plain words) before the pull. It needs more than the 64wK
    budget (bench: upy_min_heap_with_interface_wkb); INTERFACE_HEAP keeps it from growing unnoticed."""
    figures = run_device(UPY, _env(build), INTERFACE_HEAP, ["200", str(tmp_path / "flash"), "ui"])
    assert figures["upy_pull_records"] == 201
    modules = figures["upy_modules"].split(",")
    assert "device.ui" in modules and "device.runner" in modules and "monitor.texts" in modules
    assert figures["upy_heap_with_interface_bytes"] > figures["upy_heap_after_entries_bytes"]


def test_app_from_a_romfs_image_on_micropython(build, tmp_path):
    """The e2mon deploy --romfs image: the same run with the firmware executing in place takes much less
    heap than from .mpy files (the image's own bytes, flash on a board, are left out of the figures)."""
    image = romfs_image(build)
    path = str(tmp_path / "firmware.romfs")
    with open(path, "wb") as f:
        f.write(image)
    heap = "%d" % (ROMFS_HEAP_KB * 1024 + len(image) + 2048)   # + the mount's own objects
    rom = run_device(UPY, _env(build, path), heap, ["200", str(tmp_path / "rom")])
    plain = run_device(UPY, _env(build), HEAP_BUDGET, ["200", str(tmp_path / "plain")])
    assert rom["upy_pull_records"] == plain["upy_pull_records"] == 201
    assert rom["upy_romfs_heap_bytes"] >= len(image)
    assert rom["upy_heap_after_boot_bytes"] < 0.75 * plain["upy_heap_after_boot_bytes"]


def test_device_run_reports_a_heap_that_is_too_small(build, tmp_path):
    with pytest.raises(DeviceRunError, match="MemoryError"):
        run_device(UPY, _env(build), "24K", ["200", str(tmp_path / "flash")])
