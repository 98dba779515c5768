# The durable log on real files (CPython and the MicroPython unix port) and, where the
# interpreter has os.VfsLfs2, on littlefs in a RAM block device. Plain asserts only.
import os

from monitor.records import KIND_DOSE, KIND_EVENT, KIND_LAB, KIND_SYMPTOM, RECORD_SIZE, unpack_record
from monitor.store import STORE_FULL_MESSAGE, Store, StoreFull, rebuild_state


class RamBlocks:
    """A block device in RAM (readblocks/writeblocks/ioctl) so littlefs can be mounted in-process.

    One bytearray per block: no large contiguous allocation in a small, fragmented heap.
    """

    def __init__(self, block_size, blocks):
        self.block_size = block_size
        self.blocks = [bytearray(block_size) for _ in range(blocks)]

    def _span(self, block, offset, buf, write):
        done = 0
        size = self.block_size
        while done < len(buf):
            start = offset % size
            n = min(size - start, len(buf) - done)
            target = memoryview(self.blocks[block + offset // size])
            if write:
                target[start:start + n] = memoryview(buf)[done:done + n]
            else:
                memoryview(buf)[done:done + n] = target[start:start + n]
            done += n
            offset += n

    def readblocks(self, block, buf, offset=0):
        self._span(block, offset, buf, False)

    def writeblocks(self, block, buf, offset=0):
        self._span(block, offset or 0, buf, True)

    def ioctl(self, op, arg):
        if op == 4:
            return len(self.blocks)
        if op == 5:
            return self.block_size
        return 0


def _rmtree(path):
    try:
        names = os.listdir(path)
    except OSError:
        return
    for name in names:
        os.remove(path + "/" + name)
    os.rmdir(path)


def _littlefs_fits():
    """littlefs in RAM needs ~16 KB more than the 64K-heap runner has left; tests/test_powercut.py
    runs this file again on the unix port with a bigger heap so the littlefs pass always runs there."""
    if not hasattr(os, "VfsLfs2"):
        return False
    import gc
    gc.collect()
    return gc.mem_free() > 40000


def _each_fs(fn):
    """Runs fn(directory) on a fresh directory of real files, then on littlefs if available."""
    real = "/tmp/e2mon_store_%s" % "".join("%02x" % b for b in os.urandom(4))
    try:
        fn(real)
    finally:
        _rmtree(real)
    if _littlefs_fits():
        bdev = RamBlocks(256, 32)
        os.VfsLfs2.mkfs(bdev)
        mount_point = "/e2mon_lfs"
        os.mount(os.VfsLfs2(bdev), mount_point)
        try:
            fn(mount_point + "/log")
        finally:
            os.umount(mount_point)


def _entry(i):
    """A deterministic mixed entry for index i: (day, minute, kind, code, value, flags)."""
    kind = (KIND_LAB, KIND_SYMPTOM, KIND_DOSE, KIND_SYMPTOM, KIND_EVENT)[i % 5]
    return (9000 + i // 3, (i * 37) % 1440, kind, i % 13, i * 1000 - 7, i % 256)


def _fill(store, n, start=0):
    return [store.append(*_entry(i)) for i in range(start, start + n)]


def _all(store, from_seq=0, batch=5):
    buf = bytearray(batch * RECORD_SIZE)
    out = []
    seq = from_seq
    while True:
        count, seq = store.read_into(seq, buf)
        if count == 0:
            return out
        for k in range(count):
            out.append(unpack_record(buf, k * RECORD_SIZE))


def _seg(directory, first):
    return "%s/seg_%d.log" % (directory, first)


def _write_bytes(path, data, mode="wb"):
    with open(path, mode) as f:
        f.write(data)


def _read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def test_append_read_and_reopen():
    def check(d):
        store = Store(d, segment_records=8)
        assert _fill(store, 20) == list(range(1, 21))
        got = _all(store)
        assert [r[0] for r in got] == list(range(1, 21))
        for r in got:
            assert r[1:] == _entry(r[0] - 1)
        assert store.count_from(0) == 20 and store.count_from(15) == 6 and store.count_from(21) == 0
        store.close()
        store = Store(d, segment_records=8)
        assert store.next_seq == 21 and store.segments == 3
        assert store.append(*_entry(20)) == 21
        assert [r[0] for r in _all(store, 19)] == [19, 20, 21]
        assert [r[0] for r in store.records(18)] == [18, 19, 20, 21]
        store.close()
    _each_fs(check)


def test_torn_tail_is_cut_and_numbers_not_reused():
    def check(d):
        store = Store(d, segment_records=8)
        _fill(store, 10)
        store.close()
        _write_bytes(_seg(d, 9), b"\x0b\x00\x00\x00\x01\x02\x03", "ab")   # a record cut after 7 bytes
        store = Store(d, segment_records=8)
        assert store.torn_bytes == 7 and store.next_seq == 11
        assert store.append(*_entry(10)) == 11
        store.close()
        # A brand-new segment holding only part of its first record.
        _write_bytes(_seg(d, 12), b"\x0c\x00\x00")
        store = Store(d, segment_records=8)
        assert store.next_seq == 12
        assert _fill(store, 3, 11) == [12, 13, 14]
        store.close()
        store = Store(d, segment_records=8)
        got = _all(store)
        assert [r[0] for r in got] == list(range(1, 15))
        for r in got:
            assert r[1:] == _entry(r[0] - 1)
        store.close()
    _each_fs(check)


def test_bad_record_mid_log_hides_nothing_after_it():
    def check(d):
        store = Store(d, segment_records=8)
        _fill(store, 20)
        store.close()
        raw = bytearray(_read_bytes(_seg(d, 1)))
        raw[4 * RECORD_SIZE + 9] ^= 0x10                                  # bit flip in seq 5
        raw[6 * RECORD_SIZE:7 * RECORD_SIZE] = raw[5 * RECORD_SIZE:6 * RECORD_SIZE]  # seq 6 copied into slot 7
        _write_bytes(_seg(d, 1), raw)
        store = Store(d, segment_records=8)
        seqs = [r[0] for r in _all(store, 0, 3)]
        assert seqs == [1, 2, 3, 4, 6] + list(range(8, 21))
        assert store.count_from(0) == 18
        assert store.append(*_entry(20)) == 21
        store.close()
    _each_fs(check)


def test_truncated_middle_segment():
    def check(d):
        store = Store(d, segment_records=8)
        _fill(store, 24)
        store.close()
        raw = _read_bytes(_seg(d, 9))
        _write_bytes(_seg(d, 9), raw[:3 * RECORD_SIZE + 8])
        store = Store(d, segment_records=8)
        assert [r[0] for r in _all(store)] == list(range(1, 12)) + list(range(17, 25))
        assert store.append(*_entry(24)) == 25
        store.close()
    _each_fs(check)


def test_full_store_refuses_until_synced_then_reclaims_only_acknowledged():
    def check(d):
        store = Store(d, segment_records=4, max_segments=3)
        assert store.room() == 12
        _fill(store, 12)
        assert store.room() == 0
        try:
            store.append(*_entry(12))
            raise AssertionError("append into a full store succeeded")
        except StoreFull as exc:
            assert str(exc) == STORE_FULL_MESSAGE == "storage full, sync now"
        assert store.next_seq == 13
        store.acknowledge(12)
        try:
            store.append(*_entry(12))   # acknowledged, but no snapshot covers it yet
            raise AssertionError("reclaimed segments no snapshot covers")
        except StoreFull:
            pass
        store.save_snapshot(6, b"state-6")
        assert store.room() == 4           # segment 1..4 is acknowledged and covered by the snapshot
        assert store.append(*_entry(12)) == 13    # only segment 1..4 (<= 6) was freed
        assert store.first_seq == 5 and store.segments == 3
        assert [r[0] for r in _all(store)] == list(range(5, 14))
        store.close()
        store = Store(d, segment_records=4, max_segments=3)
        assert store.acked == 12 and store.next_seq == 14 and store.first_seq == 5
        store.close()
    _each_fs(check)


def test_foreign_files_in_the_directory_are_left_alone():
    def check(d):
        store = Store(d, segment_records=8)
        _fill(store, 3)
        store.close()
        for name in ("seg_007.log", "seg_x.log", "notes.txt"):
            _write_bytes(d + "/" + name, b"not a segment")
        store = Store(d, segment_records=8)
        assert store.next_seq == 4 and [r[0] for r in _all(store)] == [1, 2, 3]
        store.close()
    _each_fs(check)


def test_numbers_survive_when_every_old_segment_is_gone():
    def check(d):
        store = Store(d, segment_records=4, max_segments=2)
        _fill(store, 8)
        store.acknowledge(8)
        store.save_snapshot(8, b"s")
        _fill(store, 4, 8)       # frees 1..4 to make room for 9..12
        assert store.first_seq == 5
        store.close()
        for name in os.listdir(d):
            if name.startswith("seg_"):
                os.remove(d + "/" + name)
        store = Store(d, segment_records=4, max_segments=2)
        assert store.next_seq == 9    # from the sync mark: the host has seen 1..8
        assert store.append(*_entry(0)) == 9
        store.close()
    _each_fs(check)


def test_bad_input_gets_clear_errors_and_stores_nothing():
    def check(d):
        store = Store(d, segment_records=8)
        _fill(store, 2)
        bad = ((0, 1440, 0, 0, 1, 0), (0, 0, 4, 0, 1, 0), (0, 0, 0, 64, 1, 0), (-1, 0, 0, 0, 1, 0),
               (0, 0, 0, 0, 0x80000000, 0), (0, 0, 0, 0, 1, 256))
        for args in bad:
            try:
                store.append(*args)
                raise AssertionError("accepted %r" % (args,))
            except ValueError as exc:
                assert "range" in str(exc)
        for fn, args in ((store.acknowledge, (3,)), (store.save_snapshot, (3, b"x")),
                         (store.read_into, (1, bytearray(RECORD_SIZE - 1)))):
            try:
                fn(*args)
                raise AssertionError("accepted %r" % (args,))
            except ValueError:
                pass
        assert store.next_seq == 3 and store.count_from(0) == 2
        store.close()
        try:
            Store(d, segment_records=0)
            raise AssertionError("accepted segment_records=0")
        except ValueError:
            pass
    _each_fs(check)


class _Digest:
    """A small derived state: record count and a running checksum of values."""

    def __init__(self):
        self.count = 0
        self.total = 0

    def apply(self, seq, day, minute, kind, code, value, flags):
        self.count += 1
        self.total = (self.total * 31 + value + seq) % 1000003

    def dump(self):
        return ("%d,%d" % (self.count, self.total)).encode()

    def load(self, blob):
        parts = bytes(blob).decode().split(",")
        if len(parts) != 2:
            raise ValueError("bad digest blob")
        self.count, self.total = int(parts[0]), int(parts[1])


def test_snapshot_falls_back_and_state_rebuilds_the_same():
    def check(d):
        store = Store(d, segment_records=8)
        _fill(store, 5)
        state = _Digest()
        store.replay(0, state.apply)
        store.save_snapshot(3, b"old")
        store.save_snapshot(5, state.dump())
        _fill(store, 7, 5)
        assert store.load_snapshot() == (5, state.dump())
        store.replay(6, state.apply)
        rebuilt, used = rebuild_state(store, _Digest)
        assert used and (rebuilt.count, rebuilt.total) == (12, state.total)
        raw = bytearray(_read_bytes(d + "/snap"))
        raw[-1] ^= 1
        _write_bytes(d + "/snap", raw)
        _write_bytes(d + "/snap.tmp", b"E2SN\x09")                      # a snapshot cut while written
        assert store.load_snapshot() == (3, b"old")
        rebuilt, used = rebuild_state(store, _Digest)                    # b"old" is not a digest blob
        assert not used and (rebuilt.count, rebuilt.total) == (12, state.total)
        os.remove(d + "/snap.old")
        assert store.load_snapshot() is None
        store.close()
    _each_fs(check)


def test_sync_mark_persists_and_never_goes_back():
    def check(d):
        store = Store(d, segment_records=8)
        _fill(store, 6)
        store.acknowledge(5)
        store.acknowledge(3)
        assert store.acked == 5
        store.close()
        store = Store(d, segment_records=8)
        assert store.acked == 5
        store.close()
        raw = bytearray(_read_bytes(d + "/ack"))
        raw[5] ^= 0x40
        _write_bytes(d + "/ack", raw)
        store = Store(d, segment_records=8)
        assert store.acked == 0       # a damaged mark frees nothing; the next sync restores it
        store.close()
    _each_fs(check)
