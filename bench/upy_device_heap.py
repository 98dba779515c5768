# Runs on the MicroPython unix port (`micropython -X heapsize=64K`, MICROPYPATH=<build>:tests/upy_shadow):
# the whole device app (store, tracker with rules and schedule, protocol, session, BLE service) boots and
# takes N entries; then it serves its GATT service to a central in another process (bench/device_central.py,
# CPython with the host's own session code) over stdin/stdout, the radio of tests/upy_shadow/bluetooth.py.
# The central is not in this process, so the heap measured is the device's alone (plus that stand-in radio).
# Heap in use is sampled (after a collection) at boot, after the entries, and while every notification
# of a pull is in flight.
#
# Started by bench/upy_launch.py (module _launch), which can mount the firmware from a ROMFS image first.
# Usage: micropython -m _launch N DIR          boot, N entries, serve until the central says quit
#        micropython -m _launch N DIR ui       the same with the patient's interface running too: the
#                                              runner and its UI on a 128x64 framebuf, the flag and
#                                              reminder screens drawn in plain words before the pull
#        micropython -m _launch N DIR reboot   boot from DIR's log and snapshot only (a power cycle)
#        micropython -m _launch 0 - code FILE  import the modules listed in FILE (comma-separated) only
#        micropython -m _launch N DIR speed    the same as serve without heap sampling: reports the device's
#                                              own time handling the central's writes and ticks
#                                              (on qemu with -icount shift=0, 1 us = 1,000 instructions)
# Messages both ways: kind (1 byte), handle (1 byte), length (2 bytes, little-endian), payload.
#   central -> device: C connect (payload: MTU), W write, T take what is in flight, D disconnect, Q quit
#   device -> central: N notification, I indication, . nothing more in flight, F figures (JSON)
import gc
import json
import micropython
import os
import struct
import sys

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
DIR = sys.argv[2] if len(sys.argv) > 2 else "/tmp/e2mon-upy-bench"
MODE = sys.argv[3] if len(sys.argv) > 3 else "serve"
KEY = bytes(range(32))
TODAY = 9800


from _launch import ROM_BYTES  # noqa: E402  bench/upy_launch.py: the ROMFS image's bytes, 0 without one


def heap():
    gc.collect()
    return gc.mem_alloc() - ROM_BYTES


def wipe(path):
    try:
        names = os.listdir(path)
    except OSError:
        return
    for name in names:
        child = path + "/" + name
        if os.stat(child)[0] & 0x4000:   # S_IFDIR
            wipe(child)
        else:
            os.remove(child)
    os.rmdir(path)


def send(kind, handle, payload):
    out = sys.stdout.buffer
    out.write(struct.pack("<BBH", kind, handle, len(payload)))
    out.write(payload)


def flush():
    out = sys.stdout.buffer
    if hasattr(out, "flush"):   # the unix port buffers; a board's UART (and qemu's) writes through
        out.flush()


def send_figures(figures):
    send(70, 0, json.dumps(figures).encode())   # "F"
    flush()


def read_exactly(n):
    data = b""
    while len(data) < n:
        chunk = sys.stdin.buffer.read(n - len(data))
        if not chunk:
            raise SystemExit("central went away")
        data += chunk
    return data


if MODE == "code":
    base = heap()
    with open(sys.argv[4]) as f:
        names = f.read().strip().split(",")
    for name in names:
        __import__(name)
    send_figures({"upy_heap_code_bytes": heap() - base})
    sys.exit(0)
if MODE in ("serve", "ui", "speed"):
    wipe(DIR)
    os.mkdir(DIR)
from device import memory  # noqa: E402
memory.tune()   # as main.py does first on a board
base = heap()   # the interpreter and this script before any firmware loads

from monitor import records  # noqa: E402
from monitor.store import Store  # noqa: E402
from monitor.app import App  # noqa: E402
from monitor.clock import Clock  # noqa: E402
from device.ble_service import BleService  # noqa: E402
import bluetooth  # noqa: E402


def boot():
    from device.soft_rtc import SoftRTC   # the ports the bench runs on (unix, qemu) have no machine.RTC
    app = App(Store(DIR), Clock(SoftRTC()), DIR)
    app.boot()
    svc = BleService(bluetooth.BLE(), app, key=KEY, random_bytes=os.urandom)
    svc.start()
    return app, svc


def log_entries(app):
    # N entries, as a patient and a clinician log them: symptoms, doses, labs
    first_day = TODAY - N // 8
    for i in range(N):
        day = first_day + i // 8
        r = i % 8
        if r < 4:
            entry = (records.KIND_SYMPTOM, i % records.SYMPTOM_COUNT, i % 4, 0)
        elif r < 6:
            entry = (records.KIND_DOSE, records.D_ANASTROZOLE, 500, 0)
        elif r == 6:
            entry = (records.KIND_LAB, records.A_E2, 150 + (i * 7) % 300, records.METHOD_LCMS)
        else:
            entry = (records.KIND_LAB, records.A_TT, 400 + (i * 3) % 500, 0)
        status, _seq = app.submit_entry(entry[0], entry[1], entry[2], entry[3], day, (i * 37) % 1440)
        if status:
            raise SystemExit("entry %d refused: %s" % (i, records.error_message(status)))


def serve(svc):
    """The radio: the central's writes in, what the service notifies out. Returns the peak heap seen
    while frames were in flight (sampled unless MODE is "speed"), the count of notifications the central
    took, and the device's own time in microseconds for its longest request, the pull: the central's write
    and the ticks until everything was taken (time waiting for the central left out)."""
    import time
    ble = bluetooth.BLE()
    st = [heap(), 0, 0]
    sample = MODE != "speed"

    def on_notify(handle, data, indication=False):
        if sample:
            h = heap()        # the device's frame and queue are alive right now
            if h > st[0]:
                st[0] = h
        st[1] += 1
        send(73 if indication else 78, handle, data)   # "I" / "N"

    ble.on_notify = on_notify
    busy = 0   # since the last "T"
    while True:
        kind, handle, length = struct.unpack("<BBH", read_exactly(4))
        payload = read_exactly(length) if length else b""
        start = time.ticks_us()
        if kind == 67:      # "C"
            ble.sim_connect(struct.unpack("<H", payload)[0])
        elif kind == 87:    # "W"
            ble.sim_write(handle, payload)
        elif kind == 84:    # "T": ticks of the service's loop until nothing is in flight
            while True:
                svc.tick()
                if not ble.sim_take():
                    break
            busy += time.ticks_diff(time.ticks_us(), start)
            st[2] = max(st[2], busy)
            busy = 0
            send(46, 0, b"")   # "."
            flush()
            continue
        elif kind == 68:    # "D"
            ble.sim_disconnect()
        elif kind == 81:    # "Q"
            return st[0], st[1], st[2]
        else:
            raise SystemExit("unknown message %d" % kind)
        busy += time.ticks_diff(time.ticks_us(), start)


def main():
    app, svc = boot()
    if MODE == "reboot":
        send_figures({"upy_heap_after_reboot_bytes": heap(), "upy_reboot_records": app.tracker.last_seq})
        wipe(DIR)
        return
    app.set_clock(TODAY, 600, 0)
    figures = {"upy_heap_before_app_bytes": base, "upy_heap_after_boot_bytes": heap(), "upy_romfs_heap_bytes": ROM_BYTES,
               "upy_boot_modules": ",".join(sorted(m for m in sys.modules if m[0] != "_"))}   # the harness's names start with "_"
    log_entries(app)
    figures["upy_heap_after_entries_bytes"] = heap()
    figures["upy_stored_records"] = app.store.next_seq - 1
    handles = {}   # what a central's service discovery finds: channel -> value handle
    for channel in svc._handles:
        handles[str(channel)] = svc._handles[channel]
    figures["handles"] = handles
    runner = None
    if MODE == "ui":
        from _interface import use_interface   # bench/upy_interface.py: loaded (and its names interned) only here
        runner = use_interface(app, svc)
    figures["upy_heap_with_interface_bytes"] = heap()
    send_figures(figures)     # the central learns how many records to expect
    peak, notifications, busy_us = serve(svc)
    del runner
    app.save_snapshot()
    app.store.close()
    figures = {"upy_heap_peak_pull_bytes": peak, "upy_pull_notifications": notifications, "upy_pull_busy_us": busy_us,
               "upy_modules": ",".join(sorted(m for m in sys.modules if m[0] != "_"))}   # the harness's names start with "_"
    send_figures(figures)
    micropython.qstr_info()   # "qstr pool: ..." on stdout after the last message: the interned names


main()
