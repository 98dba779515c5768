"""monitor.store against a plain model under random operations (hypothesis state machine).

Operations: append, acknowledge, snapshot, reopen, a torn write at the tail, a bit flip in a
sealed record. The model is a dict of what append returned; invariants after every step: reads are
in increasing seq order and byte-identical to what was appended; nothing unacknowledged (or not
covered by a snapshot) is ever missing unless a flip hit it; StoreFull happens exactly when room()
says 0; numbers are never reused.
"""
import sys

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from paths import ROOT  # noqa: E402
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from bench.powercut import DIRECTORY, FaultFS  # noqa: E402
from monitor.records import D_TESTOSTERONE, FLAG_UG, KIND_DOSE, RECORD_SIZE  # noqa: E402
from monitor.store import Store, StoreFull  # noqa: E402

SEGMENT = 4
MAX_SEGMENTS = 4

# (day, minute, kind, code, value, flags). A testosterone dose's FLAG_UG belongs to the record layer (set when
# packed, taken off when read: monitor.records), so entries do not carry it themselves.
entries = st.tuples(st.integers(0, 0xFFFF), st.integers(0, 1439), st.integers(0, 3), st.integers(0, 63),
                    st.integers(-2 ** 31, 2 ** 31 - 1), st.integers(0, 255)).filter(
    lambda e: not (e[2] == KIND_DOSE and e[3] == D_TESTOSTERONE and e[5] & FLAG_UG))


class StoreModel(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.fs = FaultFS()
        self.fs.mkdir("/data")
        self.store = Store(DIRECTORY, fs=self.fs, segment_records=SEGMENT, max_segments=MAX_SEGMENTS)
        self.appended = {}      # seq -> entry, as returned by append
        self.flipped = set()    # seqs whose bytes a flip damaged
        self.highest = 0        # highest seq ever returned
        self.acked = 0
        self.snapped = []

    def _reopen(self):
        self.store.close()
        self.store = Store(DIRECTORY, fs=self.fs, segment_records=SEGMENT, max_segments=MAX_SEGMENTS)

    @rule(entry=entries)
    def append(self, entry):
        room = self.store.room()
        try:
            seq = self.store.append(*entry)
        except StoreFull:
            assert room == 0, "StoreFull with room() == %d" % room
            return
        assert room > 0
        assert seq > self.highest
        self.highest = seq
        self.appended[seq] = entry

    @precondition(lambda self: self.appended)
    @rule(back=st.integers(0, 6))
    def acknowledge(self, back):
        upto = max(0, self.store.next_seq - 1 - back)
        self.store.acknowledge(upto)
        self.acked = max(self.acked, upto)

    @precondition(lambda self: self.appended)
    @rule(back=st.integers(0, 6), blob=st.binary(max_size=40))
    def snapshot(self, back, blob):
        upto = max(0, self.store.next_seq - 1 - back)
        if upto < self.store.first_seq - 1:
            with pytest.raises(ValueError, match="reclaimed"):
                self.store.save_snapshot(upto, blob)   # could not be replayed from
            return
        self.store.save_snapshot(upto, blob)
        self.snapped.append((upto, blob))
        assert self.store.load_snapshot() == (upto, blob)

    @rule()
    def reopen(self):
        self._reopen()

    @rule(garbage=st.binary(min_size=1, max_size=RECORD_SIZE - 1))
    def torn_write(self, garbage):
        segs = sorted(p for p in self.fs.files if p.startswith(DIRECTORY + "/seg_"))
        if not segs:
            return
        self.store.close()
        last = max(segs, key=lambda p: int(p.rsplit("_", 1)[1][:-4]))
        self.fs.files[last] = bytearray(self.fs.files[last]) + garbage
        self._reopen()

    @rule(data=st.data())
    def bit_flip(self, data):
        live = [s for s in self.appended if s >= self.store.first_seq and s not in self.flipped]
        if not live:
            return
        seq = data.draw(st.sampled_from(sorted(live)))
        firsts = sorted(int(p.rsplit("_", 1)[1][:-4]) for p in self.fs.files if p.startswith(DIRECTORY + "/seg_"))
        first = max(f for f in firsts if f <= seq)
        path = "%s/seg_%d.log" % (DIRECTORY, first)
        bit = data.draw(st.integers(0, RECORD_SIZE * 8 - 1))
        content = bytearray(self.fs.files[path])
        content[(seq - first) * RECORD_SIZE + bit // 8] ^= 1 << (bit % 8)
        self.store.close()
        self.fs.files[path] = content
        self.flipped.add(seq)
        self._reopen()

    @invariant()
    def log_matches_model(self):
        got = list(self.store.records(0))
        seqs = [r[0] for r in got]
        assert seqs == sorted(set(seqs)), "not strictly increasing"
        for r in got:
            assert r[0] in self.appended and r[1:] == self.appended[r[0]], "record %d differs" % r[0]
        floor = min(self.acked, max((u for u, _ in self.snapped), default=0))
        missing = [s for s in self.appended if s not in set(seqs) and s not in self.flipped and s > floor]
        assert not missing, "lost %r" % missing
        assert self.store.count_from(0) == len(got)
        assert self.store.next_seq > self.highest


TestStoreModel = StoreModel.TestCase
TestStoreModel.settings = settings(max_examples=60, stateful_step_count=60, deadline=None,
                                   suppress_health_check=[HealthCheck.too_slow])
