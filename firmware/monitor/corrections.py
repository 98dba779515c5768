# Corrections in the open: an entry is never changed or removed; an EVENT_VOID says it no longer counts, an
# EVENT_AMEND says the entry right before it (FLAG_AMENDS) replaces it. The derived state is then rebuilt
# from the log without the corrected entries, from the newest snapshot that predates them (or the whole log).
# Loaded only when a correction is made, or at boot when the log holds one the snapshot does not cover.
#
#     correction_target(kind, code, value) -> record number a record corrects, or -1
#     correct(app, target, reason, entry=None, role=0) -> (status, seq of the correction event or None)
#     request(app, buf, role) -> the same for a host's request (decode_correction)
#     own_today(app) -> the patient's own entries of today the device's menu may void
#     rebuild(app, use_snapshots=True) -> False when the log no longer reaches back far enough to be exact
import struct
from array import array

from monitor import records as R
from monitor import protocol
from monitor.codes import ROLE_PATIENT
from monitor.records import RECORD_SIZE, unpack_record
from monitor.store import StoreFull

def correction_target(kind, code, value):
    if kind == R.KIND_EVENT and (code == R.EVENT_VOID or code == R.EVENT_AMEND):
        return value
    return -1


def _corrections(store):
    """array of (event seq, target) pairs of every correction still in the log."""
    pairs = array("i")

    def seen(seq, day, minute, kind, code, value, flags):
        if kind == R.KIND_EVENT and (code == R.EVENT_VOID or code == R.EVENT_AMEND):
            pairs.append(seq)
            pairs.append(value)
    store.replay(0, seen)
    return pairs


def _covers(pairs, upto):
    # a snapshot up to `upto` is a valid start when no correction after it reaches back to it or before
    for i in range(0, len(pairs), 2):
        if pairs[i] > upto and pairs[i + 1] <= upto:
            return False
    return True


def _start(store, pairs):
    """(upto, blob) of the newest usable snapshot; (0, None): the whole log; None: no exact start."""
    before = store.next_seq
    while True:
        snap = store.load_snapshot(before)
        if snap is None:
            return (0, None) if store.first_seq <= 1 else None
        if _covers(pairs, snap[0]):
            return snap
        before = snap[0]


def rebuild(app, use_snapshots=True):
    """The app's derived state again from the log, skipping every corrected entry. Returns False when no
    exact start was found (the whole remaining log was replayed)."""
    from monitor.tracker import Tracker
    store = app.store
    pairs = _corrections(store)
    start = _start(store, pairs) if use_snapshots else (0, None)
    exact = start is not None
    if start is None:
        start = (0, None)
    budget = app._budget
    if app.tracker.profile is app.profile:
        app.tracker.reset()   # in place: no second state array on a small heap
    else:
        app.tracker = Tracker(app.profile)   # a new profile (app.set_profile)
    app.last_sync_day = R.NO_DAY
    app.last_sync_seq = 0
    app.newest_day = 0
    app.floor_day = R.NO_DAY
    first = 0
    if start[1] is not None and app._load_snapshot_blob(start[1]):
        first = start[0] + 1
    skip = array("i")
    for i in range(0, len(pairs), 2):
        if pairs[i] >= first:
            skip.append(pairs[i + 1])
    observe = app._observe

    def counted(seq, day, minute, kind, code, value, flags):
        for target in skip:   # (MicroPython's array has no `in`)
            if target == seq:
                return   # voided or amended: it no longer counts
        observe(seq, day, minute, kind, code, value, flags)
    store.replay(first, counted)
    app._budget = budget
    return exact


def _read(store, seq):
    buf = bytearray(RECORD_SIZE)
    if seq < store.first_seq or seq >= store.next_seq:
        return None
    count, _ = store.read_into(seq, buf)
    if not count:
        return None
    r = unpack_record(buf, 0)
    return r if r[0] == seq else None


def decode_correction(buf):
    """(op, target record number, reason, corrected entry tuple or None) of a correction request (layout:
    monitor.protocol, entry characteristic); ProtocolError on a bad shape."""
    op = buf[0]
    if op == protocol.CORRECT_VOID and len(buf) == protocol.CORRECT_HEADER:
        entry = None
    elif op == protocol.CORRECT_AMEND and len(buf) == protocol.CORRECT_HEADER + protocol.ENTRY_SIZE:
        entry = protocol.decode_entry(memoryview(buf)[protocol.CORRECT_HEADER:])
    else:
        raise protocol.ProtocolError(protocol.ERR_BAD_LENGTH if op in (protocol.CORRECT_VOID, protocol.CORRECT_AMEND)
                                     else protocol.ERR_BAD_OPCODE)
    target, reason = struct.unpack_from("<IB", buf, 1)
    return op, target, reason, entry


def request(app, buf, role):
    """A host's correction request (decode_correction) -> (status, seq) for the entry reply."""
    _op, target, reason, entry = decode_correction(buf)
    return correct(app, target, reason, entry, role)


def correct(app, target, reason, entry=None, role=0):
    """Voids record `target` (entry None) or amends it with entry (kind, code, value, flags, day, minute).
    role 0: the device's menu, which like a patient's host may void only the patient's own entry of today.
    Returns (status, seq of the EVENT_VOID / EVENT_AMEND or None), as app.submit_entry does."""
    from monitor.catalog import REASONS
    if not 0 <= reason < len(REASONS):
        return protocol.ERR_BAD_VALUE, None
    now = app.clock.now()
    if now is None:
        return R.ERR_CLOCK, None
    store = app.store
    old = _read(store, target)
    if old is None or old[3] == R.KIND_EVENT:
        return protocol.ERR_NO_ENTRY, None
    pairs = _corrections(store)
    for i in range(1, len(pairs), 2):
        if pairs[i] == target:
            return protocol.ERR_CORRECTED, None
    pairs.append(store.next_seq)
    pairs.append(target)
    if _start(store, pairs) is None:
        return protocol.ERR_CORRECT_OLD, None
    del pairs
    if (role == 0 or role == ROLE_PATIENT) and (old[6] & R.FLAG_CLINIC or old[1] != now[0] or entry is not None):
        return protocol.ERR_ROLE, None   # the patient voids only his own entry of today; a clinician amends
    if role and app.room() < 2:
        return protocol.ERR_STORE_FULL, None
    try:
        if entry is not None:
            kind, code, value, flags, day, minute = entry
            if kind != old[3] or code != old[4]:
                return R.ERR_CODE, None   # an amendment corrects the value, date or qualifiers, not what it is
            status = app.tracker.check(kind, code, value, flags, day, minute, now[0],
                                       now[0] * R.MINUTES_PER_DAY + now[1])
            if status:
                return status, None
            if old[6] & R.FLAG_CLINIC or role == protocol.ROLE_CLINICIAN:
                flags |= R.FLAG_CLINIC
            store.append(day, minute, kind, code, value, flags | R.FLAG_AMENDS)
        # straight to the log: the state is right only once rebuilt without the target (and its snapshot with it)
        seq = store.append(now[0], now[1], R.KIND_EVENT, R.EVENT_VOID if entry is None else R.EVENT_AMEND,
                           target, reason)
    except StoreFull:
        return protocol.ERR_STORE_FULL, None
    app.changed += 1
    rebuild(app)
    app.save_snapshot()
    return 0, seq


def own_today(app, limit=6):
    """The patient's own entries of today that still count, newest first, as (seq, minute, kind, code,
    value): what the device's menu may void (device.ui)."""
    now = app.clock.now()
    if now is None:
        return []
    store = app.store
    found = []
    start = store.next_seq - 256   # entry_checks.WINDOW: a day's own entries are among the newest
    for r in store.records(start if start > store.first_seq else store.first_seq):
        if r[3] == R.KIND_EVENT:
            for i in range(len(found)):
                if (r[4] == R.EVENT_VOID or r[4] == R.EVENT_AMEND) and found[i][0] == r[5]:
                    found.pop(i)
                    break
        elif r[1] == now[0] and not r[6] & R.FLAG_CLINIC:
            found.append((r[0], r[2], r[3], r[4], r[5]))
    found.reverse()
    return found[:limit]
