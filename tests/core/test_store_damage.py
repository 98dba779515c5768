# The durable log after damage: torn tails, bad records, truncated segments, foreign files.
from monitor.records import RECORD_SIZE
from monitor.store import Store
from store_fs import each_fs, entry, fill, read_all, read_bytes, seg_path, write_bytes


def test_torn_tail_is_cut_and_numbers_not_reused():
    def check(d):
        store = Store(d, segment_records=8)
        fill(store, 10)
        store.close()
        write_bytes(seg_path(d, 9), b"\x0b\x00\x00\x00\x01\x02\x03", "ab")   # a record cut after 7 bytes
        store = Store(d, segment_records=8)
        assert store.torn_bytes == 7 and store.next_seq == 11
        assert store.append(*entry(10)) == 11
        store.close()
        # A brand-new segment holding only part of its first record.
        write_bytes(seg_path(d, 12), b"\x0c\x00\x00")
        store = Store(d, segment_records=8)
        assert store.next_seq == 12
        assert fill(store, 3, 11) == [12, 13, 14]
        store.close()
        store = Store(d, segment_records=8)
        got = read_all(store)
        assert [r[0] for r in got] == list(range(1, 15))
        for r in got:
            assert r[1:] == entry(r[0] - 1)
        store.close()
    each_fs(check)


def test_bad_record_mid_log_hides_nothing_after_it():
    def check(d):
        store = Store(d, segment_records=8)
        fill(store, 20)
        store.close()
        raw = bytearray(read_bytes(seg_path(d, 1)))
        raw[4 * RECORD_SIZE + 9] ^= 0x10                                  # bit flip in seq 5
        raw[6 * RECORD_SIZE:7 * RECORD_SIZE] = raw[5 * RECORD_SIZE:6 * RECORD_SIZE]  # seq 6 copied into slot 7
        write_bytes(seg_path(d, 1), raw)
        store = Store(d, segment_records=8)
        seqs = [r[0] for r in read_all(store, 0, 3)]
        assert seqs == [1, 2, 3, 4, 6] + list(range(8, 21))
        assert store.count_from(0) == 18
        assert store.append(*entry(20)) == 21
        store.close()
    each_fs(check)


def test_truncated_middle_segment():
    def check(d):
        store = Store(d, segment_records=8)
        fill(store, 24)
        store.close()
        raw = read_bytes(seg_path(d, 9))
        write_bytes(seg_path(d, 9), raw[:3 * RECORD_SIZE + 8])
        store = Store(d, segment_records=8)
        assert [r[0] for r in read_all(store)] == list(range(1, 12)) + list(range(17, 25))
        assert store.append(*entry(24)) == 25
        store.close()
    each_fs(check)


def test_foreign_files_in_the_directory_are_left_alone():
    def check(d):
        store = Store(d, segment_records=8)
        fill(store, 3)
        store.close()
        for name in ("seg_007.log", "seg_x.log", "notes.txt"):
            write_bytes(d + "/" + name, b"not a segment")
        store = Store(d, segment_records=8)
        assert store.next_seq == 4 and [r[0] for r in read_all(store)] == [1, 2, 3]
        store.close()
    each_fs(check)
