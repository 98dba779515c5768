"""The whole device on a real 32-bit heap and core: MicroPython's qemu Cortex-M3 build (`make firmware`:
build/firmware/qemu-mps2-an385.elf, firmware frozen as firmware/manifest.py freezes it for a board, run by
bench/qemu_device.py). The device (bench/upy_device_heap.py) boots, takes 1,000 entries and serves a full
clinician pull to a central in another process (bench/device_central.py, the host's own session code);
then a fresh qemu reboots it from the same flash (littlefs on a host file). Heap figures are bytes in use
after a collection, in a literal 64 KB heap (32-bit words and pointers, as on the ESP32 and RP2040).

- upy32_heap_after_boot_bytes, upy32_heap_peak_pull_bytes (sampled at every notification of the pull).
- upy32_heap_peak_pull_with_interface_bytes: with the patient's interface running (bench/upy_interface.py).
- upy32_min_heap_kb, upy32_min_heap_with_interface_kb: the smallest heap, in whole KB, that the whole run
  (boot, entries, pull, reboot) completes in; goal: the device with its interface in 32 KB.
- upy32_instructions_per_record_pull: guest instructions per record pulled, from qemu -icount shift=0
  (1 ns of guest time per instruction): the device's own work for the pull request, sealing, framing
  and notify calls into the stand-in radio (tests/upy_shadow/bluetooth.py) included, waiting not.
- pull_10k_device_s_at_133mhz: that x 10,000 / 133e6, an RP2040 at one instruction per cycle. Optimistic:
  flash wait states (XIP cache misses) and multi-cycle loads, branches and multiplies make a Cortex-M0+
  take more than one cycle per instruction, and the M0+ needs more instructions than this M3 for the
  same C code.
- upy32_device_vs_link_ratio: the device's time for the pull over that pull's ATT bytes at the LE 1M
  PHY's raw 1 Mbit/s (sync_link_limited_s_10k's measure); goal: at most 1.0.
"""
import functools
import os
import shutil
import tempfile

from bench import qemu_device
from bench.bench_sync import LE_1M_BITS_PER_S
from bench.device_central import DeviceRunError, run_device

ENTRIES = 1000
HEAP = "64K"
RP2040_HZ = 133_000_000
INSTRUCTIONS_PER_US = 1000   # -icount shift=0: each instruction is 1 ns of guest time


def run_qemu(heap, mode=None, entries=ENTRIES, reboot=True):
    """Boot, entries and a pull (mode None, "ui" or "speed"), then with reboot a power cycle from that
    flash in a fresh qemu. Returns the figures; raises DeviceRunError."""
    launch = functools.partial(qemu_device.launch, icount=mode == "speed")
    work = tempfile.mkdtemp(prefix="e2mon-qemu-")
    try:
        flash = os.path.join(work, "flash")
        figures = run_device(None, None, heap, [str(entries), flash] + ([mode] if mode else []), launch=launch)
        if reboot:
            figures.update(run_device(None, None, heap, [str(entries), flash, "reboot"], launch=launch))
        return figures
    finally:
        shutil.rmtree(work, ignore_errors=True)


def fits(heap_kb, mode=None):
    try:
        run_qemu("%dK" % heap_kb, mode)
        return True
    except DeviceRunError:
        return False


def smallest_heap_kb(mode=None, low=16, high=64):
    """The smallest heap in whole KB the whole run completes in (high when it needs high or more)."""
    while low < high:
        mid = (low + high) // 2
        if fits(mid, mode):
            high = mid
        else:
            low = mid + 1
    return low


def run():
    plain = run_qemu(HEAP)
    ui = run_qemu(HEAP, "ui")
    speed = run_qemu(HEAP, "speed", reboot=False)
    records = speed["upy_pull_records"]
    per_record = speed["upy_pull_busy_us"] * INSTRUCTIONS_PER_US / records
    device_s = per_record * 10_000 / RP2040_HZ
    link_s = speed["upy_pull_att_bytes"] * 8 / LE_1M_BITS_PER_S * 10_000 / records
    return {
        "upy32_heap_after_boot_bytes": plain["upy_heap_after_boot_bytes"],
        "upy32_heap_after_entries_bytes": plain["upy_heap_after_entries_bytes"],
        "upy32_heap_peak_pull_bytes": plain["upy_heap_peak_pull_bytes"],
        "upy32_heap_after_reboot_bytes": plain["upy_heap_after_reboot_bytes"],
        "upy32_reboot_records": plain["upy_reboot_records"],
        "upy32_heap_with_interface_bytes": ui["upy_heap_with_interface_bytes"],
        "upy32_heap_peak_pull_with_interface_bytes": ui["upy_heap_peak_pull_bytes"],
        "upy32_min_heap_kb": smallest_heap_kb(),
        "upy32_min_heap_with_interface_kb": smallest_heap_kb("ui"),
        "upy32_instructions_per_record_pull": round(per_record),
        "pull_10k_device_s_at_133mhz": round(device_s, 3),
        "upy32_device_vs_link_ratio": round(device_s / link_s, 3),
    }
