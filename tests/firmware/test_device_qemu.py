"""The device on MicroPython's qemu Cortex-M3 build (`make firmware`): 32-bit, firmware frozen, a literal
heap. The core tests in 64, 48 and 32 KB, and the whole app in 64 KB: boot, 1,000 entries, a full
clinician pull by a central in another process, the patient's interface, and a reboot from its flash
(littlefs on a host file, kept across qemu runs)."""
import sys

import pytest

from paths import ROOT  # noqa: E402
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from bench import qemu_core_tests  # noqa: E402
from bench.bench_upy32 import ENTRIES, HEAP, run_qemu  # noqa: E402
from bench.device_central import DeviceRunError  # noqa: E402


@pytest.mark.parametrize("heap", ["64K", "48K", "32K"])
def test_core_tests_pass_in_a_literal_32bit_heap(heap):
    passed, failed, report = qemu_core_tests.run(heap)
    assert failed == 0, "\n".join(report)
    assert passed >= 75   # every test function of tests/core ran


def test_whole_app_with_interface_and_reboot_in_64k():
    figures = run_qemu(HEAP, "ui")
    assert figures["upy_pull_records"] == figures["upy_stored_records"] == ENTRIES + 1   # + the clock-set event
    assert figures["upy_reboot_records"] == ENTRIES + 1    # a fresh qemu restores every record from flash
    modules = figures["upy_modules"].split(",")
    assert "device.ui" in modules and "device.runner" in modules and "device.ble_service" in modules
    assert figures["upy_heap_peak_pull_bytes"] > figures["upy_heap_with_interface_bytes"] > \
        figures["upy_heap_after_boot_bytes"] > 0


def test_a_heap_too_small_for_the_app_is_reported():
    with pytest.raises(DeviceRunError, match="MemoryError"):
        run_qemu("12K", entries=10, reboot=False)
