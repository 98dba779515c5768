"""Figures from the Pico W firmware image (build/firmware/e2mon-pico_w.uf2) on the emulated RP2040 (rp2040js:
a Cortex-M0+ that counts cycles; simulated time is 8 ns a cycle, 125 MHz).

- rp2040_boot_ms: power-on reset to the app's home screen on the SSD1306 (the first frame drawn, buttons
  and USB live), simulated time. Goal <= 1000. rp2040_boot_cycles: instruction cycles in that time (the
  rest is the core idling in WFI while the SDK and MicroPython wait on timers).
- rp2040_heap_free_after_boot_bytes: gc.mem_free() after main.py built the app (store mounted, state
  restored, BLE and USB services made), as main.py prints it on the USB port.
- rp2040_eval_cycles: one Tracker.evaluate() of the 10-entry benchmark history (bench/upy_history.py).
- rp2040_cycles_per_record_pull: the device's Endpoint serving a pull from the chip's littlefs (store read,
  records framed and sealed: AES-CTR + HMAC-SHA256 tag), cycles per notification / records it holds (14).
- rp2040_pull_10k_device_s: 10,000 records at that rate at 125 MHz; rp2040_pull_vs_link_ratio: that
  over the same pull's LE 1M link time (sync_link_limited_s_10k's notifications at 1 Mbit/s). Goal <= 1.0.
"""
import json
import math
import os

from bench.bench_sync import LE_1M_BITS_PER_S
from monitor import protocol, records
from monitor import session as sessions
from sim import rp2040

HERE = os.path.dirname(os.path.abspath(__file__))
CHIP_SCRIPT = os.path.join(HERE, "rp2040_chip.py")
HISTORY = os.path.join(HERE, "upy_history.py")
PULL_RECORDS = 10_000


def link_seconds(n_records):
    """The pull's notifications (MTU 247) on LE 1M at its raw bit rate, as sync_link_limited_s_10k counts."""
    per_frame = protocol.records_per_frame(protocol.MAX_MTU, sessions.FRAME_OVERHEAD, records.RECORD_SIZE)
    frame_bytes = protocol.ATT_HEADER + sessions.FRAME_OVERHEAD + per_frame * records.RECORD_SIZE
    return math.ceil(n_records / per_frame) * frame_bytes * 8 / LE_1M_BITS_PER_S


def run():
    problem = rp2040.missing()
    if problem:
        raise SystemExit("bench rp2040: %s" % problem)
    with rp2040.Rp2040() as chip:
        boot = chip.wait_for_home()
        ready = chip.read_until(b"bytes free", timeout=300).decode("utf-8", "replace")
        heap_free = int(ready.rsplit("ready,", 1)[1].split()[0])
        chip.reboot(hold="A")                       # safe mode: the REPL is free, the flash kept
        chip.raw_repl()
        chip.put_file(HISTORY, "upy_history.py")
        with open(CHIP_SCRIPT) as f:
            out = chip.raw_exec(f.read(), timeout=900)
        chip.raw_exec("import os; os.remove('upy_history.py')")
    chip_figures = json.loads(out.split("FIGURES", 1)[1])
    cycles_per_us = rp2040.CLOCK_HZ // 1_000_000
    per_record = chip_figures["pull_us"] * cycles_per_us / chip_figures["pull_records"]
    pull_s = per_record * PULL_RECORDS / rp2040.CLOCK_HZ
    figures = {
        "rp2040_boot_ms": round(boot["ms"], 1),
        "rp2040_boot_cycles": boot["cycles"],
        "rp2040_heap_free_after_boot_bytes": heap_free,
        "rp2040_eval_cycles": round(chip_figures["eval_us"] * cycles_per_us),
        "rp2040_cycles_per_record_pull": round(per_record),
        "rp2040_pull_10k_device_s": round(pull_s, 3),
        "rp2040_pull_vs_link_ratio": round(pull_s / link_seconds(PULL_RECORDS), 3),
    }
    _measured.update(figures)
    return figures


_measured = {}


def measured():
    """run()'s figures, measured once per process (bench_rp2040_energy, run after it, reuses them)."""
    if not _measured:
        run()
    return _measured
