"""Power-loss campaign for monitor.store (CPython only).

FaultFS is an in-memory file layer with the store's file-layer methods that journals every durable
change: data reaching the disk at flush, creates, renames, removes. Unflushed data is not durable,
and renaming a file that still has unflushed data is refused (that ordering bug would lose it).
cut_states() materialises the disk as it would be after a power cut before every journal entry and
at every byte offset inside every data write.

run_workload() drives a Store through mixed entries, sync marks, snapshots, reboots and reclaim,
recording what each call returned. check_cut() remounts a cut disk and checks the promises:
every acknowledged append is there and intact (unless the host had acknowledged it and a snapshot
covered it, so it may have been reclaimed), nothing half-written appears, numbers are unique and
increasing and never reused, the sync mark and snapshot never go back past what was returned, and
the derived state rebuilt from snapshot + log equals the state of the records present.
"""
import random
import struct

from monitor.records import (
    KIND_DOSE, KIND_EVENT, KIND_LAB, KIND_SYMPTOM, RECORD_SIZE, pack_record, unpack_record,
)
from monitor.store import Store, StoreFull, rebuild_state


class FaultFS:
    """In-memory file system; journal=None turns journaling off (for remounting a cut state)."""

    def __init__(self, files=None, dirs=None, journal=None, capacity=None):
        self.files = dict(files) if files else {}
        self.dirs = set(dirs) if dirs else set()
        self.journal = journal
        self.writers = {}
        self.capacity = capacity   # bytes of file data; beyond it writes fail with ENOSPC (28)

    def _log(self, op):
        if self.journal is not None:
            self.journal.append(op)

    def open(self, path, mode):
        if mode == "rb":
            if path not in self.files:
                raise OSError(2, "no such file: %s" % path)
            return _ReadFile(bytes(self.files[path]))
        if mode == "wb" or (mode == "ab" and path not in self.files):
            if self.capacity is not None and path not in self.files and self.bytes_used() >= self.capacity:
                raise OSError(28, "no space for %s" % path)
            self._log(("create", path))
            self.files[path] = bytearray()
        elif mode == "ab":
            self.files[path] = bytearray(self.files[path])   # copy on write: states share buffers
        else:
            raise ValueError("mode %r not supported" % mode)
        f = _WriteFile(self, path, len(self.files[path]))
        self.writers[path] = f
        return f

    def listdir(self, path):
        if path not in self.dirs:
            raise OSError(2, "no such directory: %s" % path)
        prefix = path + "/"
        return [p[len(prefix):] for p in self.files if p.startswith(prefix)]

    def size(self, path):
        if path not in self.files:
            raise OSError(2, "no such file: %s" % path)
        return len(self.files[path])

    def rename(self, src, dst):
        if src not in self.files:
            raise OSError(2, "no such file: %s" % src)
        writer = self.writers.get(src)
        if writer is not None and writer.pending:
            raise AssertionError("rename of %s before its data was flushed" % src)
        self._log(("rename", src, dst))
        self.files[dst] = self.files.pop(src)

    def remove(self, path):
        if path not in self.files:
            raise OSError(2, "no such file: %s" % path)
        self._log(("remove", path))
        del self.files[path]

    def mkdir(self, path):
        if path in self.dirs:
            raise OSError(17, "exists: %s" % path)
        self._log(("mkdir", path))
        self.dirs.add(path)

    def sync(self, f):
        f.flush()

    def sync_dir(self, path):
        pass

    def free_bytes(self, path):
        """What statvfs would say is free (monitor/update.py checks it before staging)."""
        return (1 << 30) if self.capacity is None else max(0, self.capacity - self.bytes_used())

    def bytes_used(self, prefix=""):
        return sum(len(v) for k, v in self.files.items() if k.startswith(prefix))


class _ReadFile:
    def __init__(self, data):
        self.data = data
        self.pos = 0

    def seek(self, pos):
        self.pos = pos

    def read(self, n=-1):
        end = len(self.data) if n < 0 else min(len(self.data), self.pos + n)
        out = self.data[self.pos:end]
        self.pos = end
        return out

    def readinto(self, buf):
        n = min(len(buf), len(self.data) - self.pos)
        if n <= 0:
            return 0
        buf[:n] = self.data[self.pos:self.pos + n]
        self.pos += n
        return n

    def close(self):
        pass


class _WriteFile:
    def __init__(self, fs, path, pos):
        self.fs = fs
        self.path = path
        self.pos = pos
        self.pending = []

    def write(self, data):
        self.pending.append(bytes(data))
        return len(data)

    def flush(self):
        if not self.pending:
            return
        data = b"".join(self.pending)
        self.pending = []
        room = None
        if self.fs.capacity is not None:
            room = max(0, self.fs.capacity - self.fs.bytes_used())
            data, full = data[:room], len(data) > room
        self.fs._log(("write", self.path, self.pos, data))
        content = self.fs.files[self.path]
        content[self.pos:self.pos + len(data)] = data
        self.pos += len(data)
        if room is not None and full:
            raise OSError(28, "no space left writing %s" % self.path)

    def close(self):
        self.flush()
        if self.fs.writers.get(self.path) is self:
            del self.fs.writers[self.path]


def _apply(files, dirs, op, upto_bytes=None):
    kind = op[0]
    if kind == "write":
        _, path, offset, data = op
        if upto_bytes is not None:
            data = data[:upto_bytes]
        content = bytearray(files[path])
        content[offset:offset + len(data)] = data
        files[path] = content
    elif kind == "create":
        files[op[1]] = bytearray()
    elif kind == "rename":
        files[op[2]] = files.pop(op[1])
    elif kind == "remove":
        del files[op[1]]
    elif kind == "mkdir":
        dirs.add(op[1])


def count_cut_points(journal):
    return len(journal) + 1 + sum(len(op[3]) - 1 for op in journal if op[0] == "write")


def cut_states(journal, stride=1, offset=0, files=None, dirs=None):
    """Yields (op_index, partial_bytes, files, dirs) for every stride-th power-cut point, starting
    from an empty disk or from the given files and dirs."""
    files = dict(files) if files else {}
    dirs = set(dirs) if dirs else set()
    n = 0
    for i, op in enumerate(journal):
        if n % stride == offset:
            yield i, 0, dict(files), set(dirs)
        n += 1
        if op[0] == "write":
            for k in range(1, len(op[3])):
                if n % stride == offset:
                    partial = dict(files)
                    _apply(partial, dirs, op, k)
                    yield i, k, partial, set(dirs)
                n += 1
        _apply(files, dirs, op)
    if n % stride == offset:
        yield len(journal), 0, dict(files), set(dirs)


# -- the workload ------------------------------------------------------------------------------------
DIRECTORY = "/data/log"


def digest(records):
    """Order-sensitive digest of (seq, value) pairs: the stand-in derived state."""
    total = 0
    for seq, value in records:
        total = (total * 31 + value + seq) % 1000003
    return total


class Digest:
    """Derived state with the Tracker's load/apply shape, for rebuild_state."""

    def __init__(self):
        self.total = 0
        self.count = 0

    def apply(self, seq, day, minute, kind, code, value, flags):
        self.total = (self.total * 31 + value + seq) % 1000003
        self.count += 1

    def load(self, blob):
        blob = bytes(blob)
        if len(blob) < 8:
            raise ValueError("digest blob too short")
        self.total, self.count = struct.unpack_from("<II", blob, 0)


def heavy_user_entries(rng, days):
    """(day, minute, kind, code, value, flags) for `days` days of a heavy user, in time order:
    2 symptoms a day, a dose twice a week, 3 labs a month, and the odd device event."""
    out = []
    for d in range(days):
        day = 9500 + d
        if d % 10 == 3:
            out.append((day, 7 * 60 + rng.randrange(60), KIND_LAB, rng.randrange(16), rng.randrange(10, 4000), 1))
        if d % 7 in (0, 3):
            out.append((day, 8 * 60, KIND_DOSE, rng.randrange(2), rng.choice((250, 500, 1000, 100000)), 0))
        for minute in (9 * 60, 21 * 60):
            out.append((day, minute + rng.randrange(30), KIND_SYMPTOM, rng.randrange(13), rng.randrange(11), 0))
        if rng.random() < 0.05:
            out.append((day, 12 * 60, KIND_EVENT, rng.randrange(1, 3), rng.randrange(20), rng.randrange(8)))
    return out


def run_workload(entries, seed, segment_records, max_segments, ack_every=40, snap_every=64, reboot_every=300):
    """Runs the workload on a journaling FaultFS; returns (journal, oracle dict)."""
    rng = random.Random(seed)
    journal = []
    fs = FaultFS(journal=journal)
    fs.mkdir("/data")
    store = Store(DIRECTORY, fs=fs, segment_records=segment_records, max_segments=max_segments)
    expected = {}        # seq -> the 16 bytes attempted for it
    appends = []         # (seq, journal length when append returned)
    acks = []            # (upto, journal length at call, at return)
    snaps = []           # (upto, blob, journal length at call, at return)
    values = {}
    full_events = 0
    plan = heavy_user_entries(rng, entries)[:entries]
    i = 0
    while i < len(plan):
        entry = plan[i]
        seq = store.next_seq
        rec = bytearray(RECORD_SIZE)
        pack_record(rec, 0, seq, *entry)
        expected[seq] = bytes(rec)
        try:
            got = store.append(*entry)
        except StoreFull:
            full_events += 1
            _sync(store, acks, snaps, values, journal, store.next_seq - 1)
            continue
        assert got == seq
        values[seq] = entry[4]
        appends.append((seq, len(journal)))
        i += 1
        if i % ack_every == 0:
            _ack(store, acks, journal, max(0, store.next_seq - 1 - rng.randrange(25)))
        if i % snap_every == 0:
            _snap(store, snaps, values, journal, store.next_seq - 1 - rng.randrange(3), rng)
        if i % reboot_every == 0:
            store.close()
            store = Store(DIRECTORY, fs=fs, segment_records=segment_records, max_segments=max_segments)
    store.close()
    oracle = {"expected": expected, "appends": appends, "acks": acks, "snaps": snaps, "values": values,
              "segment_records": segment_records, "max_segments": max_segments, "full_events": full_events}
    return journal, oracle


def _ack(store, acks, journal, upto):
    start = len(journal)
    store.acknowledge(upto)
    acks.append((upto, start, len(journal)))


def _snap(store, snaps, values, journal, upto, rng=None):
    total = digest((s, values[s]) for s in sorted(values) if s <= upto)
    blob = struct.pack("<II", total, sum(1 for s in values if s <= upto))
    if rng is not None:
        blob += bytes(rng.randrange(256) for _ in range(rng.randrange(48)))   # tracker-sized blobs vary
    start = len(journal)
    store.save_snapshot(upto, blob)
    snaps.append((upto, blob, start, len(journal)))


def _sync(store, acks, snaps, values, journal, upto):
    _ack(store, acks, journal, upto)
    _snap(store, snaps, values, journal, upto)


# -- checking one cut --------------------------------------------------------------------------------
def check_cut(files, dirs, oracle, op_index, extra_append=True):
    """Remounts a cut disk; returns (entries lost, list of problems)."""
    problems = []
    seg, maxseg = oracle["segment_records"], oracle["max_segments"]
    fs = FaultFS(files, dirs)
    if "/data" not in dirs:
        return 0, []          # cut before the store ever ran
    store = Store(DIRECTORY, fs=fs, segment_records=seg, max_segments=maxseg)
    expected = oracle["expected"]
    acknowledged = [s for s, j in oracle["appends"] if j <= op_index]
    returned_acks = [u for u, _, j in oracle["acks"] if j <= op_index]
    started_acks = [u for u, j, _ in oracle["acks"] if j <= op_index]
    returned_snaps = [(u, b) for u, b, _, j in oracle["snaps"] if j <= op_index]
    started_snaps = [(u, b) for u, b, j, _ in oracle["snaps"] if j <= op_index]
    may_be_reclaimed = _reclaim_bound(oracle, op_index)

    buf = bytearray(RECORD_SIZE * (len(expected) + 4))
    count, _ = store.read_into(0, buf)
    present = []
    last = 0
    for k in range(count):
        rec = bytes(buf[k * RECORD_SIZE:(k + 1) * RECORD_SIZE])
        seq = unpack_record(rec)[0]
        if seq <= last:
            problems.append("seq %d after %d: not increasing" % (seq, last))
        last = seq
        if expected.get(seq) != rec:
            problems.append("seq %d read back different from what was written" % seq)
        present.append(seq)
    present_set = set(present)
    lost = [s for s in acknowledged if s not in present_set and s > may_be_reclaimed]
    if lost:
        problems.append("acknowledged entries lost: %r" % lost[:5])

    if store.acked < max(returned_acks, default=0) or store.acked > max(started_acks, default=0):
        problems.append("sync mark %d outside [%d, %d]" % (store.acked, max(returned_acks, default=0),
                                                           max(started_acks, default=0)))
    snap = store.load_snapshot()
    if returned_snaps and snap is None:
        problems.append("snapshot lost")
    if snap is not None:
        # The newest save that returned, or one started after it.
        newer = started_snaps[len(returned_snaps) - 1:] if returned_snaps else started_snaps
        if (snap[0], snap[1]) not in started_snaps:
            problems.append("snapshot %d is not one that was saved" % snap[0])
        elif (snap[0], snap[1]) not in newer:
            problems.append("snapshot went back to an older save (upto %d)" % snap[0])
    state, _ = rebuild_state(store, Digest)
    want = digest((s, oracle["values"].get(s, struct.unpack_from("<i", expected[s], 9)[0]))
                  for s in range(1, (max(present) if present else 0) + 1))
    if present and state.total != want:
        problems.append("derived state rebuilt from snapshot + log differs (first seq %d)" % store.first_seq)

    if extra_append:
        before = max([last] + acknowledged)
        try:
            seq = store.append(9999, 0, KIND_EVENT, 0, 1, 0)
        except StoreFull:
            seq = None
        store.close()
        if seq is not None:
            if seq <= before:
                problems.append("seq %d reused (had %d)" % (seq, before))
            again = Store(DIRECTORY, fs=fs, segment_records=seg, max_segments=maxseg)
            one = bytearray(RECORD_SIZE)
            n, _ = again.read_into(seq, one)
            if n != 1 or unpack_record(one)[0] != seq:
                problems.append("entry appended after the cut is gone after the next mount")
            again.close()
    return len(lost), problems


def _reclaim_bound(oracle, op_index):
    """Highest seq the store may have reclaimed by this cut: acknowledged and covered by a snapshot
    (counting calls that had started, since their effect may have reached the disk)."""
    acked = max((u for u, j, _ in oracle["acks"] if j <= op_index), default=0)
    snapped = max((u for u, _, j, _ in oracle["snaps"] if j <= op_index), default=0)
    return min(acked, snapped)


def check_recovery_cuts(files, dirs, oracle, op_index):
    """Cuts power again while the store recovers from a cut disk (sealing a torn segment, truncating
    a torn empty one, starting a segment) and appends two entries; returns (points, lost, problems)."""
    seg, maxseg = oracle["segment_records"], oracle["max_segments"]
    if "/data" not in dirs:
        return 0, 0, []
    first = Store(DIRECTORY, fs=FaultFS(files, dirs), segment_records=seg, max_segments=maxseg)
    on_disk = _read_all(first, len(oracle["expected"]))
    bound = _reclaim_bound(oracle, op_index)
    journal = []
    fs = FaultFS(files, dirs, journal=journal)
    store = Store(DIRECTORY, fs=fs, segment_records=seg, max_segments=maxseg)
    returned = []
    for value in (11, 22):
        try:
            seq = store.append(9999, 1, KIND_EVENT, 0, value, 0)
        except StoreFull:
            break
        returned.append((seq, len(journal)))
    store.close()
    points = lost = 0
    problems = []
    for op_index, _, cut_files, cut_dirs in cut_states(journal, files=files, dirs=dirs):
        points += 1
        again = Store(DIRECTORY, fs=FaultFS(cut_files, cut_dirs), segment_records=seg, max_segments=maxseg)
        got = _read_all(again, len(oracle["expected"]) + 2)
        missing = [s for s in on_disk if got.get(s) != on_disk[s] and s > bound]
        missing += [s for s, j in returned if j <= op_index and s not in got]
        lost += len(missing)
        if missing:
            problems.append("recovery cut at op %d lost %r" % (op_index, missing[:5]))
        newest = max(list(on_disk) + [s for s, _ in returned] + [0])
        try:
            seq = again.append(9999, 2, KIND_EVENT, 0, 33, 0)
        except StoreFull:
            seq = None
        if seq is not None and seq <= max(list(got) + [0]):
            problems.append("recovery cut at op %d: seq %d reused" % (op_index, seq))
        if seq is not None and seq <= newest and seq in on_disk:
            problems.append("recovery cut at op %d: seq %d collides with a stored record" % (op_index, seq))
        again.close()
    return points, lost, problems


def run_recovery_cuts(journal, oracle, stride, offset=0):
    """check_recovery_cuts on every stride-th first cut; returns (points, lost, problems)."""
    points = lost = 0
    problems = []
    for op_index, _, files, dirs in cut_states(journal, stride, offset):
        p, n, found = check_recovery_cuts(files, dirs, oracle, op_index)
        points += p
        lost += n
        problems.extend(found[:20 - len(problems)])
    return points, lost, problems


def run_cuts(journal, oracle, stride=1, offset=0, extra_append=True, limit_problems=20):
    """Checks every stride-th cut point; returns (points, entries lost, problems)."""
    points = lost = 0
    problems = []
    for op_index, partial, files, dirs in cut_states(journal, stride, offset):
        n, found = check_cut(files, dirs, oracle, op_index, extra_append)
        points += 1
        lost += n
        for p in found:
            if len(problems) < limit_problems:
                problems.append("cut at op %d +%d bytes: %s" % (op_index, partial, p))
    return points, lost, problems


# -- bit flips and truncated segments ------------------------------------------------------------------
def final_state(journal):
    files, dirs = {}, set()
    for op in journal:
        _apply(files, dirs, op)
    return files, dirs


def _segments(files):
    return sorted((int(p.rsplit("_", 1)[1][:-4]), p) for p in files if p.startswith(DIRECTORY + "/seg_"))


def _read_all(store, size):
    buf = bytearray(RECORD_SIZE * (size + 4))
    count, _ = store.read_into(0, buf)
    return {unpack_record(buf, k * RECORD_SIZE)[0]: bytes(buf[k * RECORD_SIZE:(k + 1) * RECORD_SIZE])
            for k in range(count)}


def bit_flip_campaign(journal, oracle, trials, seed):
    """Flips one bit in a random record slot; returns (trials, undetected, other records lost, problems)."""
    rng = random.Random(seed)
    files, dirs = final_state(journal)
    segs = [(first, path) for first, path in _segments(files) if len(files[path]) >= RECORD_SIZE]
    clean = Store(DIRECTORY, fs=FaultFS(files, dirs), segment_records=oracle["segment_records"],
                  max_segments=oracle["max_segments"])
    baseline = _read_all(clean, len(oracle["expected"]))
    undetected = lost = 0
    problems = []
    for _ in range(trials):
        first, path = rng.choice(segs)
        pos = rng.randrange(len(files[path]) - len(files[path]) % RECORD_SIZE)
        flipped = dict(files)
        content = bytearray(files[path])
        content[pos] ^= 1 << rng.randrange(8)
        flipped[path] = content
        hit = first + pos // RECORD_SIZE
        store = Store(DIRECTORY, fs=FaultFS(flipped, dirs), segment_records=oracle["segment_records"],
                      max_segments=oracle["max_segments"])
        got = _read_all(store, len(oracle["expected"]))
        if hit in got and hit in baseline:
            undetected += 1
        missing = [s for s in baseline if s != hit and got.get(s) != baseline[s]]
        lost += len(missing)
        if missing and len(problems) < 10:
            problems.append("flip in seq %d hid %d other records" % (hit, len(missing)))
    return trials, undetected, lost, problems


def truncation_campaign(journal, oracle, seed):
    """Truncates each middle segment at a random length; returns (cases, records after it lost, problems)."""
    rng = random.Random(seed)
    files, dirs = final_state(journal)
    segs = _segments(files)
    cases = lost = 0
    problems = []
    for first, path in segs[1:-1]:
        cut = rng.randrange(len(files[path]))
        damaged = dict(files)
        damaged[path] = bytearray(files[path][:cut])
        fs = FaultFS(damaged, dirs)
        store = Store(DIRECTORY, fs=fs, segment_records=oracle["segment_records"],
                      max_segments=oracle["max_segments"])
        got = _read_all(store, len(oracle["expected"]))
        kept_before = first + cut // RECORD_SIZE
        later = [s for s in oracle["values"] if s >= first and (s < kept_before or s >= _next_first(segs, first))
                 and s >= store.first_seq]
        missing = [s for s in later if got.get(s) != oracle["expected"][s]]
        cases += 1
        lost += len(missing)
        seq = store.append(9999, 0, KIND_EVENT, 0, 1, 0)
        if seq <= max(oracle["values"]):
            problems.append("seq %d reused after truncating %s" % (seq, path))
        if missing and len(problems) < 10:
            problems.append("truncating %s at %d hid %d records" % (path, cut, len(missing)))
    return cases, lost, problems


def _next_first(segs, first):
    for f, _ in segs:
        if f > first:
            return f
    return 1 << 40
