"""Append-only durable log of 16-byte records (monitor.records layout) in segment files.

    store = Store(directory, fs=None, segment_records=256, max_segments=120)   # mounts
    seq = store.append(day, minute, kind, code, value, flags)   # returns after flush; raises StoreFull
    count, next_seq = store.read_into(start_seq, buf)           # whole valid records into a bytearray
    store.count_from(seq); store.replay(from_seq, fn); store.records(from_seq)
    store.acknowledge(upto_seq)                                  # host's sync mark
    store.save_snapshot(upto_seq, blob); store.load_snapshot() -> (upto_seq, blob) or None
    store.next_seq, store.first_seq, store.acked, store.room(), store.close()
    state, from_snapshot = rebuild_state(store, make_state)     # snapshot + replay, or the whole log

Files in the directory:
  seg_<first_seq>.log   records only, no header: slot i holds seq first_seq + i, so a record is
                        accepted only if its CRC is good AND its seq matches its position.
  ack                   the host's sync mark; snap and snap.old: the two newest snapshots.
  *.tmp                 a small file being replaced: written, flushed, then renamed (atomic on littlefs).

Durability: a record is stored once its write is flushed (file.flush() is the durability point on
littlefs; os.fsync is used where it exists). At mount a torn tail (a partial slot) is cut by sealing
the segment: the next append opens a new segment. A bad record anywhere is skipped by readers and
never hides the records after it; its number is not reused. Record numbers start at 1, only grow
(also across reclaim: the sync mark remembers them) and stay below 2**30.

Snapshots: load_snapshot() returns the most recent whole save (snap.tmp if a save was cut after
writing it, else snap, else snap.old); rebuild_state() falls back to the whole log if it is refused.

Space: reclaim removes only whole segments that the host has acknowledged and that every kept
snapshot covers (so the derived state can still be rebuilt); unsynced records are never evicted.
When max_segments is reached and nothing can be reclaimed, append raises StoreFull ("storage full,
sync now"). The device app must save a snapshot after a sync for acknowledged segments to be freed.
room() says how many more records fit, for a "sync soon" hint before that. The file layer and the
sync-mark/snapshot file format are in monitor.store_files.
"""
import struct
import sys

from monitor.records import RECORD_SIZE, pack_record, record_ok, unpack_record
from monitor.store_files import OsFiles, no_space, read_small, write_small

from micropython import const

SEGMENT_RECORDS = const(256)      # 256 x 16 bytes = 4096 bytes, exactly one littlefs block
MAX_SEGMENTS = const(120)         # 120 x 4 KB: a 512 KB partition less metadata, snapshots and headroom
STORE_FULL_MESSAGE = "storage full, sync now"

SEG_PREFIX = "seg_"
SEG_SUFFIX = ".log"
ACK_FILE = "ack"
SNAP_FILE = "snap"
SNAP_OLD_FILE = "snap.old"
TMP_SUFFIX = ".tmp"

ACK_MAGIC = b"E2AK"
SNAP_MAGIC = b"E2SN"

MAX_SEQ = const(0x3FFFFFFF)       # record numbers stay small ints on the boards (below 2**30)
SCAN_RECORDS = const(16)          # records per read when counting or replaying


class StoreFull(Exception):
    """Raised by append when unsynced records fill the store; the device shows it as an alert."""


if getattr(sys.implementation, "_mpy", 0) >> 10 > 2:   # .mpy arch of a board's core, not CPython's or x86's
    from monitor.native import filter   # the same check in native code (named as a builtin: no new name)
else:
    def filter(buf, count, seq):
        """Keeps, in order at the front of buf, the count records read into it (the first numbered seq)
        that are whole (record_ok) and numbered for their slot; returns how many."""
        kept = 0
        for k in range(count):
            off = k * RECORD_SIZE
            if record_ok(buf, off) and struct.unpack_from("<I", buf, off)[0] == seq + k:
                if kept != k:
                    buf[kept * RECORD_SIZE:(kept + 1) * RECORD_SIZE] = buf[off:off + RECORD_SIZE]
                kept += 1
        return kept


class Store:
    def __init__(self, directory, fs=None, segment_records=SEGMENT_RECORDS, max_segments=MAX_SEGMENTS):
        if segment_records < 1:
            raise ValueError("segment_records must be at least 1")
        if max_segments < 2:
            raise ValueError("max_segments must be at least 2 (one to fill, one to reclaim into)")
        self.fs = fs if fs is not None else OsFiles()
        self.directory = directory.rstrip("/") or "/"
        self.segment_records = segment_records
        self.max_segments = max_segments
        self._firsts = []          # first seq of each segment, ascending
        self._counts = []          # slots in each segment (records, good or bad)
        self._valid = []           # good records in each sealed segment once counted, else -1
        self._active = None        # open file of the last segment while appending
        self._reading = None       # (first seq, open file) of the segment read last: a pull reads on in it
        self._read_at = -1         # the seq that file stands at, when the last read ended inside it
        self._read_end = 0         # and the end of that segment's slots
        self._appendable = False   # the last segment ends on a whole slot at next_seq
        self._record = bytearray(RECORD_SIZE)
        self.acked = 0
        self.next_seq = 1
        self.torn_bytes = 0        # bytes of a partial slot found at mount (diagnostic)
        self._mount()

    # -- mount ----------------------------------------------------------------------------------------
    def _path(self, name):
        return self.directory + "/" + name

    def _segment_path(self, first):
        return self._path("%s%d%s" % (SEG_PREFIX, first, SEG_SUFFIX))

    def _mount(self):
        try:
            names = self.fs.listdir(self.directory)
        except OSError:
            self.fs.mkdir(self.directory)
            names = []
        firsts = []
        for name in names:
            if name.startswith(SEG_PREFIX) and name.endswith(SEG_SUFFIX):
                try:
                    first = int(name[len(SEG_PREFIX):-len(SEG_SUFFIX)])
                except ValueError:
                    continue
                # Only the names the store writes itself ("seg_007.log" would not be found again).
                if 1 <= first <= MAX_SEQ and name == "%s%d%s" % (SEG_PREFIX, first, SEG_SUFFIX):
                    firsts.append(first)
        firsts.sort()
        counts = []
        size = 0
        for i in range(len(firsts)):
            size = self.fs.size(self._segment_path(firsts[i]))
            slots = size // RECORD_SIZE
            if i + 1 < len(firsts) and firsts[i] + slots > firsts[i + 1]:
                slots = firsts[i + 1] - firsts[i]   # a later segment owns those numbers
            counts.append(slots)
        self._firsts = firsts
        self._counts = counts
        self._valid = [-1] * len(firsts)
        self.acked = self._read_ack()
        end = firsts[-1] + counts[-1] if firsts else 1
        self.next_seq = max(end, self.acked + 1)
        if firsts:
            self.torn_bytes = size - counts[-1] * RECORD_SIZE if size > counts[-1] * RECORD_SIZE else 0
            self._appendable = (self.torn_bytes == 0 and end == self.next_seq
                                and counts[-1] < self.segment_records)

    def _read_ack(self):
        best = 0
        for name in (ACK_FILE, ACK_FILE + TMP_SUFFIX):
            got = read_small(self.fs, self._path(name), ACK_MAGIC, False)
            if got is not None and got[0] > best:
                best = got[0]
        return best

    # -- appending ------------------------------------------------------------------------------------
    def append(self, day, minute, kind, code, value, flags):
        """Stores one record; returns its seq once flushed. Raises ValueError or StoreFull."""
        if not 0 <= day <= 0xFFFF:
            raise ValueError("day out of range 0..65535: %r" % (day,))
        if not 0 <= minute <= 1439:
            raise ValueError("minute out of range 0..1439: %r" % (minute,))
        if not 0 <= kind <= 3:
            raise ValueError("kind out of range 0..3: %r" % (kind,))
        if not 0 <= code <= 63:
            raise ValueError("code out of range 0..63: %r" % (code,))
        if not -0x80000000 <= value <= 0x7FFFFFFF:
            raise ValueError("value out of int32 range: %r" % (value,))
        if not 0 <= flags <= 0xFF:
            raise ValueError("flags out of range 0..255: %r" % (flags,))
        seq = self.next_seq
        if seq > MAX_SEQ:
            raise StoreFull("record numbers exhausted")
        if self._reading is not None:
            self._close_active()   # a reader opened before this write need not see it (littlefs)
        if self._active is None or not self._appendable or self._counts[-1] >= self.segment_records:
            self._open_segment()
        pack_record(self._record, 0, seq, day, minute, kind, code, value, flags)
        try:
            self._active.write(self._record)
            self.fs.sync(self._active)
        except OSError as exc:
            # The slot may hold part of this record. The first slot of a segment is simply written
            # again (the segment is recreated, truncated); a later slot retires its number and seals
            # the segment, so repeated failures neither leak files nor burn numbers.
            if self._counts[-1] > 0:
                self._counts[-1] += 1
                self.next_seq = seq + 1
            self._close_active()
            self._appendable = False
            if no_space(exc):
                raise StoreFull(STORE_FULL_MESSAGE) from None   # MicroPython warns on chaining
            raise
        self._counts[-1] += 1
        self.next_seq = seq + 1
        return seq

    def _open_segment(self):
        """Opens the last segment for appending, or starts a new one at next_seq."""
        self._close_active()
        if self._appendable and self._counts[-1] < self.segment_records:
            self._active = self.fs.open(self._segment_path(self._firsts[-1]), "ab")
            return
        if len(self._firsts) >= self.max_segments:
            self.reclaim()
            if len(self._firsts) >= self.max_segments:
                raise StoreFull(STORE_FULL_MESSAGE)
        try:
            self._create_segment()
        except OSError as exc:
            if not no_space(exc):
                raise
            if not self.reclaim():
                raise StoreFull(STORE_FULL_MESSAGE) from None   # MicroPython warns on chaining
            try:
                self._create_segment()
            except OSError as exc2:
                if no_space(exc2):
                    raise StoreFull(STORE_FULL_MESSAGE) from None   # MicroPython warns on chaining
                raise

    def _create_segment(self):
        first = self.next_seq
        f = self.fs.open(self._segment_path(first), "wb")
        if self._firsts and self._firsts[-1] == first:
            self._counts[-1] = 0     # only a partial, never-returned record was there
        else:
            self._firsts.append(first)
            self._counts.append(0)
            self._valid.append(-1)
        self._active = f
        self._appendable = True
        self.fs.sync_dir(self.directory)

    def _close_active(self):
        """Closes the segment open for appending and the one kept open for reading."""
        self._read_at = -1
        if self._reading is not None:
            f = self._reading[1]
            self._reading = None
            try:
                f.close()
            except OSError:
                pass
        if self._active is not None:
            f = self._active
            self._active = None
            try:
                f.close()
            except OSError:
                pass

    def close(self):
        self._close_active()

    def wipe(self):
        """Erases the log: the snapshots first (they describe records), then the segments, the sync mark
        last. A cut part-way leaves fewer records, never a snapshot of records that are gone."""
        self._close_active()
        for name in (SNAP_FILE + TMP_SUFFIX, SNAP_FILE, SNAP_OLD_FILE):
            self._remove(self._path(name))
        for first in self._firsts:
            self._remove(self._segment_path(first))
        for name in (ACK_FILE + TMP_SUFFIX, ACK_FILE):
            self._remove(self._path(name))
        self.fs.sync_dir(self.directory)
        self._appendable = False
        self.torn_bytes = 0
        self._mount()

    def _remove(self, path):
        try:
            self.fs.remove(path)
        except OSError:
            pass   # not there

    # -- sync mark and reclaim ------------------------------------------------------------------------
    def acknowledge(self, upto_seq):
        """Stores the host's sync mark: every record up to upto_seq is safe on the host."""
        if not 0 <= upto_seq < self.next_seq:
            raise ValueError("acknowledge %r: no such record (next seq is %d)" % (upto_seq, self.next_seq))
        if upto_seq <= self.acked:
            return
        tmp = self._path(ACK_FILE + TMP_SUFFIX)
        write_small(self.fs, tmp, ACK_MAGIC, upto_seq, b"")
        self.fs.rename(tmp, self._path(ACK_FILE))
        self.fs.sync_dir(self.directory)
        self.acked = upto_seq

    def reclaim(self):
        """Removes the oldest segments that are acknowledged and covered by every kept snapshot; returns count."""
        floor = self.acked
        if len(self._firsts) > 1 and self._firsts[1] - 1 <= floor:
            floor = min(floor, self._snapshot_floor())
        removed = 0
        while len(self._firsts) > 1 and self._firsts[1] - 1 <= floor:
            if not removed:
                self._close_active()   # the reader may be on a segment removed here
            self.fs.remove(self._segment_path(self._firsts[0]))
            self._firsts.pop(0)
            self._counts.pop(0)
            self._valid.pop(0)
            removed += 1
        return removed

    def room(self):
        """Records that can still be appended before StoreFull (counting segments reclaim could free)."""
        free = (self.max_segments - len(self._firsts)) * self.segment_records
        if self._appendable and self._firsts:
            free += self.segment_records - self._counts[-1]
        floor = 0
        if len(self._firsts) > 1 and self._firsts[1] - 1 <= self.acked:
            floor = min(self.acked, self._snapshot_floor())
        for i in range(len(self._firsts) - 1):
            if self._firsts[i + 1] - 1 > floor:
                break
            free += self.segment_records
        return max(0, free)

    def _snapshot_floor(self):
        low = None
        for name in (SNAP_FILE, SNAP_OLD_FILE, SNAP_FILE + TMP_SUFFIX):
            got = read_small(self.fs, self._path(name), SNAP_MAGIC, False)
            if got is None:
                continue
            if low is None or got[0] < low:
                low = got[0]
        return 0 if low is None else low

    # -- snapshot -------------------------------------------------------------------------------------
    def save_snapshot(self, upto_seq, blob):
        """Keeps blob as the derived state covering every record up to upto_seq (previous one kept as old)."""
        if not 0 <= upto_seq < self.next_seq:
            raise ValueError("snapshot upto %r: no such record (next seq is %d)" % (upto_seq, self.next_seq))
        if upto_seq < self.first_seq - 1:
            raise ValueError("snapshot upto %d: records after it were reclaimed" % upto_seq)
        tmp = self._path(SNAP_FILE + TMP_SUFFIX)
        write_small(self.fs, tmp, SNAP_MAGIC, upto_seq, blob)
        path = self._path(SNAP_FILE)
        try:
            self.fs.size(path)
            has_current = True
        except OSError:
            has_current = False
        if has_current:
            self.fs.rename(path, self._path(SNAP_OLD_FILE))
        self.fs.rename(tmp, path)
        self.fs.sync_dir(self.directory)

    def load_snapshot(self, before=MAX_SEQ + 1):
        """Returns (upto_seq, blob) of the most recently saved whole snapshot, or None if there is none;
        with `before`, the most recent one covering fewer records than that (monitor.corrections).

        A whole snap.tmp is newer than snap (a save was cut before its renames); snap.old is older.
        """
        for name in (SNAP_FILE + TMP_SUFFIX, SNAP_FILE, SNAP_OLD_FILE):
            got = read_small(self.fs, self._path(name), SNAP_MAGIC, True)
            if got is not None and got[0] < self.next_seq and got[0] < before:
                return got
        return None

    # -- reading --------------------------------------------------------------------------------------
    @property
    def first_seq(self):
        return self._firsts[0] if self._firsts else self.next_seq

    @property
    def segments(self):
        return len(self._firsts)

    def read_into(self, start_seq, buf):
        """Copies whole valid records with seq >= start_seq into buf; returns (count, seq to resume at).

        count is 0 only when there is nothing more to read. Bad records are skipped.
        """
        cap = len(buf) // RECORD_SIZE
        if start_seq == self._read_at and start_seq + cap <= self._read_end:
            # A pull reading on: a whole buffer of the segment it stopped in, from where the file stands.
            try:
                got = self._reading[1].readinto(buf) or 0  # pyright: ignore[reportOptionalSubscript, reportAttributeAccessIssue]  (_read_at is set only with a reader; stubs' IO lacks readinto)
            except OSError:
                self._close_active()
                raise
            if got == cap * RECORD_SIZE:
                count = filter(buf, cap, start_seq)
                if count:
                    self._read_at = start_seq + cap
                    return count, start_seq + cap
            # Short, or every record bad: the general path reads it again.
        if cap == 0:
            raise ValueError("buffer smaller than one record (%d bytes)" % RECORD_SIZE)
        seq = start_seq if start_seq > 0 else 0
        firsts = self._firsts
        counts = self._counts
        # The last segment whose first seq is <= seq (binary search).
        lo, hi = 0, len(firsts)
        while lo < hi:
            mid = (lo + hi) // 2
            if firsts[mid] <= seq:
                lo = mid + 1
            else:
                hi = mid
        i = lo - 1 if lo > 0 else 0
        mv = memoryview(buf)
        count = 0
        at = -1
        while count < cap and i < len(firsts):
            first = firsts[i]
            end = first + counts[i]
            if seq < first:
                seq = first
            if seq >= end:
                i += 1
                continue
            if self._reading is None or self._reading[0] != first:
                self._close_active()
                self._reading = (first, self.fs.open(self._segment_path(first), "rb"))
            f = self._reading[1]
            try:
                f.seek((seq - first) * RECORD_SIZE)
                while count < cap and seq < end:
                    want = min(cap - count, end - seq)
                    got = f.readinto(mv[count * RECORD_SIZE:(count + want) * RECORD_SIZE]) or 0  # pyright: ignore[reportAttributeAccessIssue]  (stubs' IO lacks readinto)
                    whole = got // RECORD_SIZE
                    count += filter(mv[count * RECORD_SIZE:], whole, seq)
                    seq += whole
                    at = seq
                    if whole < want:
                        seq = end      # the file is shorter than its slots: truncated in place
                        at = -1
            except OSError:
                self._close_active()
                raise
            self._read_end = end
            i += 1
        self._read_at = at
        if count < cap and self._reading is not None:   # read to the end: its buffers go back to the heap
            f = self._reading[1]
            self._reading = None
            self._read_at = -1
            f.close()
        return count, seq

    def records(self, from_seq):
        """Yields (seq, day, minute, kind, code, value, flags) for each valid record from from_seq on."""
        buf = bytearray(SCAN_RECORDS * RECORD_SIZE)
        seq = from_seq
        while True:
            count, seq = self.read_into(seq, buf)
            if count == 0:
                return
            for k in range(count):
                yield unpack_record(buf, k * RECORD_SIZE)

    def replay(self, from_seq, fn):
        """Calls fn(seq, day, minute, kind, code, value, flags) for every valid record from from_seq on."""
        buf = bytearray(SCAN_RECORDS * RECORD_SIZE)
        seq = from_seq
        total = 0
        while True:
            count, seq = self.read_into(seq, buf)
            if count == 0:
                return total
            for k in range(count):
                r = unpack_record(buf, k * RECORD_SIZE)
                fn(r[0], r[1], r[2], r[3], r[4], r[5], r[6])
            total += count

    def count_from(self, seq):
        """Number of valid records with seq >= the given one.

        Reads the records (CRC-checked) but remembers the count of each sealed segment it read whole,
        so repeated counts only read the segment being written.
        """
        buf = bytearray(SCAN_RECORDS * RECORD_SIZE)
        total = 0
        last = len(self._firsts) - 1
        for i in range(last + 1):
            first = self._firsts[i]
            end = first + self._counts[i]
            if end <= seq:
                continue
            if seq <= first and i < last:
                if self._valid[i] < 0:
                    self._valid[i] = self._count_range(first, end, buf)
                total += self._valid[i]
            else:
                total += self._count_range(seq if seq > first else first, end, buf)
        return total

    def _count_range(self, seq, end, buf):
        total = 0
        while seq < end:
            count, next_seq = self.read_into(seq, buf)
            if count == 0:
                break
            for k in range(count):
                if struct.unpack_from("<I", buf, k * RECORD_SIZE)[0] < end:
                    total += 1
            seq = next_seq
        return total


def rebuild_state(store, make_state):
    """Derived state from the newest snapshot plus the records after it, or from the whole log.

    make_state() returns a fresh object with load(blob) (raising ValueError on a bad blob) and
    apply(seq, day, minute, kind, code, value, flags). Returns (state, True if a snapshot was used).
    """
    state = make_state()
    start = 0
    used = False
    snap = store.load_snapshot()
    if snap is not None:
        try:
            state.load(snap[1])
            start = snap[0] + 1
            used = True
        except ValueError:
            state = make_state()
    store.replay(start, state.apply)
    return state, used
