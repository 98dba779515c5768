# Runs on the MicroPython unix port (`micropython -X heapsize=64K`, MICROPYPATH=firmware:tests/upy_shadow):
# the whole device app (store, tracker with rules and schedule, protocol, session, BLE service) boots,
# takes N entries, and a loopback central pulls every record over the GATT service with a real session.
# Heap in use is sampled (after a collection) at boot, after the entries, while every notification of the
# pull is in flight, and after a reboot that restores the state from the snapshot.
# Usage: micropython upy_device_heap.py N DIR [reboot | code MODULES] ; prints one line "FIGURES {json}".
# With "reboot", only boots from DIR's existing log and snapshot (a fresh process, like a power cycle).
# With "code FILE", only imports the modules listed in FILE (the full run's sys.modules, comma-separated;
# a file because the unix port dies on a long argv) and reports what they take.
import gc
import json
import micropython
import os
import sys

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
DIR = sys.argv[2] if len(sys.argv) > 2 else "/tmp/e2mon-upy-bench"
REBOOT = len(sys.argv) > 3 and sys.argv[3] == "reboot"
CODE = len(sys.argv) > 4 and sys.argv[3] == "code"
KEY = bytes(range(32))
TODAY = 9800


def heap():
    gc.collect()
    return gc.mem_alloc()


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


if CODE:
    base = heap()
    with open(sys.argv[4]) as f:
        names = f.read().strip().split(",")
    for name in names:
        __import__(name)
    print("FIGURES " + json.dumps({"upy_heap_code_bytes": heap() - base}))
    sys.exit(0)
if not REBOOT:
    wipe(DIR)
    os.mkdir(DIR)
base = heap()   # the interpreter and this script (the central and driver) before any firmware loads
PRELOADED = list(sys.modules)

from monitor import protocol, records, session  # noqa: E402
from monitor.store import Store  # noqa: E402
from device.app import App  # noqa: E402
from device.clock import Clock  # noqa: E402
from device.ble_service import BleService  # noqa: E402
import bluetooth  # noqa: E402



def boot():
    app = App(Store(DIR), Clock(), DIR)
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


def full_pull(svc, stored):
    """A full pull by a loopback central with a clinician session; returns the figures of the pull.

    The central lives in this process but is not the device: it consumes each notification as it arrives
    (as a real central's own memory would), so only the device's frames in flight are counted with it."""
    ble = bluetooth.BLE()
    handles = svc._handles
    channel_of = {}
    for ch in handles:
        channel_of[handles[ch]] = ch
    inbox = []        # handshake replies, read in order by the central
    # peak heap, records pulled, next record number expected, notifications, final control reply, cipher
    st = [0, 0, 1, 0, None, None]

    def on_notify(handle, data):
        h = heap()        # the device's frame and queue are alive right now
        if h > st[0]:
            st[0] = h
        channel = channel_of[handle]
        if st[5] is None:
            inbox.append((channel, data))
            return
        body = st[5].open(channel, data)
        if channel == protocol.CH_RECORDS:
            st[3] += 1
            for off in range(0, len(body), records.RECORD_SIZE):
                assert records.record_ok(body, off), "record check"
                seq = records.unpack_record(body, off)[0]
                assert seq == st[2], "gap or duplicate at %d" % seq
                st[2] += 1
                st[1] += 1
        elif channel == protocol.CH_CONTROL:
            st[4] = bytes(body)

    def take():
        while True:
            svc.tick()        # one tick of the service's loop: a fresh budget of notifications in flight
            if not ble.sim_take():
                return
            h = heap()
            if h > st[0]:
                st[0] = h

    ble.on_notify = on_notify
    before_session = heap()
    role = protocol.ROLE_CLINICIAN
    rkey = session.role_key(KEY, role)
    host_nonce = bytes(range(100, 116))
    ble.sim_connect(247)
    ble.sim_write(handles[protocol.CH_AUTH], bytes((protocol.AUTH_HELLO, role)) + host_nonce)
    take()
    challenge = inbox.pop(0)[1]
    device_nonce = challenge[1:17]
    assert challenge[17:] == session.device_proof(rkey, role, host_nonce, device_nonce), "device proof"
    ble.sim_write(handles[protocol.CH_AUTH],
                  bytes((protocol.AUTH_PROOF,)) + session.host_proof(rkey, role, host_nonce, device_nonce))
    take()
    assert inbox.pop(0)[1] == bytes((protocol.AUTH_OPEN, role)), "session open"
    out = session.FrameCipher(*session.direction_keys(rkey, role, host_nonce, device_nonce,
                                                      session.DIR_HOST_TO_DEVICE), session.DIR_HOST_TO_DEVICE)
    st[5] = session.FrameCipher(*session.direction_keys(rkey, role, host_nonce, device_nonce,
                                                        session.DIR_DEVICE_TO_HOST), session.DIR_DEVICE_TO_HOST)
    session_open = heap() - before_session   # both ends' session state (device and the loopback central)
    st[0] = heap()
    ble.sim_write(handles[protocol.CH_CONTROL],
                  out.seal(protocol.CH_CONTROL, bytes((protocol.RACP_REPORT, protocol.OPERATOR_ALL))))
    take()
    if st[4] is None:
        raise SystemExit("pull stalled after %d records" % st[1])
    assert st[4] == protocol.racp_response(protocol.RACP_REPORT, protocol.RSP_SUCCESS), st[4]
    assert st[1] == stored, (st[1], stored)
    ble.sim_disconnect()
    return {"upy_heap_peak_pull_bytes": st[0], "upy_heap_session_both_ends_bytes": session_open,
            "upy_pull_records": st[1], "upy_pull_notifications": st[3]}


def main():
    app, svc = boot()
    if REBOOT:
        print("FIGURES " + json.dumps({"upy_heap_after_reboot_bytes": heap(),
                                       "upy_reboot_records": app.tracker.last_seq}))
        wipe(DIR)
        return
    app.set_clock(TODAY, 600, 0)
    figures = {"upy_heap_before_app_bytes": base, "upy_heap_after_boot_bytes": heap()}
    boot_modules = ",".join(sorted(m for m in sys.modules if m not in PRELOADED))
    log_entries(app)
    figures["upy_heap_after_entries_bytes"] = heap()
    figures.update(full_pull(svc, app.store.next_seq - 1))
    app.save_snapshot()
    app.store.close()
    print("FIGURES " + json.dumps(figures))
    print("MODULES " + ",".join(sorted(m for m in sys.modules if m not in PRELOADED)))
    print("BOOT_MODULES " + boot_modules)
    micropython.qstr_info()   # "qstr pool: ..." line: the interned names of everything loaded


main()
