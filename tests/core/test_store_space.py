# The durable log's space and derived state: StoreFull, reclaim of acknowledged segments, snapshots.
import os

from monitor.store import STORE_FULL_MESSAGE, Store, StoreFull, rebuild_state
from store_fs import each_fs, entry, fill, read_all, read_bytes, write_bytes


def test_full_store_refuses_until_synced_then_reclaims_only_acknowledged():
    def check(d):
        store = Store(d, segment_records=4, max_segments=3)
        assert store.room() == 12
        fill(store, 12)
        assert store.room() == 0
        try:
            store.append(*entry(12))
            raise AssertionError("append into a full store succeeded")
        except StoreFull as exc:
            assert str(exc) == STORE_FULL_MESSAGE == "storage full, sync now"
        assert store.next_seq == 13
        store.acknowledge(12)
        try:
            store.append(*entry(12))   # acknowledged, but no snapshot covers it yet
            raise AssertionError("reclaimed segments no snapshot covers")
        except StoreFull:
            pass
        store.save_snapshot(6, b"state-6")
        assert store.room() == 4           # segment 1..4 is acknowledged and covered by the snapshot
        assert store.append(*entry(12)) == 13    # only segment 1..4 (<= 6) was freed
        assert store.first_seq == 5 and store.segments == 3
        assert [r[0] for r in read_all(store)] == list(range(5, 14))
        store.close()
        store = Store(d, segment_records=4, max_segments=3)
        assert store.acked == 12 and store.next_seq == 14 and store.first_seq == 5
        store.close()
    each_fs(check)


def test_numbers_survive_when_every_old_segment_is_gone():
    def check(d):
        store = Store(d, segment_records=4, max_segments=2)
        fill(store, 8)
        store.acknowledge(8)
        store.save_snapshot(8, b"s")
        fill(store, 4, 8)       # frees 1..4 to make room for 9..12
        assert store.first_seq == 5
        store.close()
        for name in os.listdir(d):
            if name.startswith("seg_"):
                os.remove(d + "/" + name)
        store = Store(d, segment_records=4, max_segments=2)
        assert store.next_seq == 9    # from the sync mark: the host has seen 1..8
        assert store.append(*entry(0)) == 9
        store.close()
    each_fs(check)


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
        fill(store, 5)
        state = _Digest()
        store.replay(0, state.apply)
        store.save_snapshot(3, b"old")
        store.save_snapshot(5, state.dump())
        fill(store, 7, 5)
        assert store.load_snapshot() == (5, state.dump())
        store.replay(6, state.apply)
        rebuilt, used = rebuild_state(store, _Digest)
        assert used and (rebuilt.count, rebuilt.total) == (12, state.total)
        raw = bytearray(read_bytes(d + "/snap"))
        raw[-1] ^= 1
        write_bytes(d + "/snap", raw)
        write_bytes(d + "/snap.tmp", b"E2SN\x09")                      # a snapshot cut while written
        assert store.load_snapshot() == (3, b"old")
        rebuilt, used = rebuild_state(store, _Digest)                    # b"old" is not a digest blob
        assert not used and (rebuilt.count, rebuilt.total) == (12, state.total)
        os.remove(d + "/snap.old")
        assert store.load_snapshot() is None
        store.close()
    each_fs(check)
