# The durable log's basics on real files (and littlefs where it fits): append, read, reopen, errors.
from monitor.records import RECORD_SIZE
from monitor.store import Store
from store_fs import each_fs, entry, fill, read_all, read_bytes, write_bytes


def test_append_read_and_reopen():
    def check(d):
        store = Store(d, segment_records=8)
        assert fill(store, 20) == list(range(1, 21))
        got = read_all(store)
        assert [r[0] for r in got] == list(range(1, 21))
        for r in got:
            assert r[1:] == entry(r[0] - 1)
        assert store.count_from(0) == 20 and store.count_from(15) == 6 and store.count_from(21) == 0
        store.close()
        store = Store(d, segment_records=8)
        assert store.next_seq == 21 and store.segments == 3
        assert store.append(*entry(20)) == 21
        assert [r[0] for r in read_all(store, 19)] == [19, 20, 21]
        assert [r[0] for r in store.records(18)] == [18, 19, 20, 21]
        store.close()
    each_fs(check)


def test_bad_input_gets_clear_errors_and_stores_nothing():
    def check(d):
        store = Store(d, segment_records=8)
        fill(store, 2)
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
    each_fs(check)


def test_sync_mark_persists_and_never_goes_back():
    def check(d):
        store = Store(d, segment_records=8)
        fill(store, 6)
        store.acknowledge(5)
        store.acknowledge(3)
        assert store.acked == 5
        store.close()
        store = Store(d, segment_records=8)
        assert store.acked == 5
        store.close()
        raw = bytearray(read_bytes(d + "/ack"))
        raw[5] ^= 0x40
        write_bytes(d + "/ack", raw)
        store = Store(d, segment_records=8)
        assert store.acked == 0       # a damaged mark frees nothing; the next sync restores it
        store.close()
    each_fs(check)
