# Testosterone doses written in mg by firmware from before µg doses (records without FLAG_UG) read as the
# same dose in µg as new records: the record itself, its text, the state rebuilt from a log holding both
# (the week's total of the >400 mg/week confirm band, no false dose change), and a snapshot from before.
import struct
from binascii import crc32

from core_helpers import DAY0, History
from monitor import records as R
from monitor import state as S
from store_fs import each_fs, write_bytes

FLAGS_AT = 13   # offset of the flags byte in a record: seq 4, day 2, minute 2, kind/code 1, value 4


def old_record(buf, offset, seq, day, value_mg, flags=R.FLAG_CONFIRMED):
    # the bytes earlier firmware wrote for a testosterone dose: the value in mg, no FLAG_UG
    struct.pack_into(R.RECORD_FORMAT, buf, offset, seq, day, 0, R.kindcode(R.KIND_DOSE, R.D_TESTOSTERONE),
                     value_mg, flags)
    struct.pack_into("<H", buf, offset + R.RECORD_BODY, R.record_check(buf, offset))


def test_an_old_mg_record_and_a_new_ug_record_of_one_dose_read_the_same():
    old = bytearray(R.RECORD_SIZE)
    new = bytearray(R.RECORD_SIZE)
    old_record(old, 0, 1, DAY0, 100)
    R.pack_record(new, 0, 1, DAY0, 0, R.KIND_DOSE, R.D_TESTOSTERONE, 100000, R.FLAG_CONFIRMED)
    assert R.record_ok(old) and R.record_ok(new)
    assert new[FLAGS_AT] == R.FLAG_CONFIRMED | R.FLAG_UG and old[FLAGS_AT] == R.FLAG_CONFIRMED
    want = (1, DAY0, 0, R.KIND_DOSE, R.D_TESTOSTERONE, 100000, R.FLAG_CONFIRMED)
    assert R.unpack_record(old) == want and R.unpack_record(new) == want
    old_record(old, 0, 2, DAY0, 20, 0)        # 20 mg, unconfirmed
    assert R.unpack_record(old)[5:] == (20000, 0)
    # anastrozole was always stored in µg: written and read as it is, without the flag
    R.pack_record(new, 0, 3, DAY0, 0, R.KIND_DOSE, R.D_ANASTROZOLE, 500, 0)
    assert new[FLAGS_AT] == 0 and R.unpack_record(new)[5:] == (500, 0)
    from monitor.texts import format_value
    assert format_value(R.KIND_DOSE, R.D_TESTOSTERONE, R.unpack_record(old)[5]) == "20 mg"


def test_a_log_from_earlier_firmware_rebuilds_its_doses_in_ug():
    from monitor.store import Store, rebuild_state

    def check(d):
        import os
        os.mkdir(d)
        log = bytearray(2 * R.RECORD_SIZE)    # earlier firmware's segment: 100 mg on day 0 and day 3
        old_record(log, 0, 1, DAY0, 100)
        old_record(log, R.RECORD_SIZE, 2, DAY0 + 3, 100)
        write_bytes(d + "/seg_1.log", log)
        store = Store(d, segment_records=8)
        assert store.append(DAY0 + 5, 0, R.KIND_DOSE, R.D_TESTOSTERONE, 100000, R.FLAG_CONFIRMED) == 3
        h = History(0)
        t = h.tracker
        t.reset()
        state, from_snapshot = rebuild_state(store, lambda: t)
        assert state is t and not from_snapshot and t.last_seq == 3
        assert t.week_total(R.D_TESTOSTERONE, DAY0 + 6) == 300000
        assert t.st[S.DOSE_AMT + R.D_TESTOSTERONE] == 100000
        assert t.st[S.LAST_CHANGE] == DAY0     # the same 100 mg throughout: no dose change
        # the 400 mg/week confirm band counts the old doses at their real size
        assert t.check(R.KIND_DOSE, R.D_TESTOSTERONE, 100000, 0, DAY0 + 6, 0, DAY0 + 6) == 0
        assert t.check(R.KIND_DOSE, R.D_TESTOSTERONE, 100500, 0, DAY0 + 6, 0, DAY0 + 6) == R.ERR_CONFIRM_WEEK
        store.close()
    each_fs(check)


def test_a_snapshot_from_before_loads_its_testosterone_doses_in_ug():
    from monitor import snapshot
    t = History(0).tracker
    # the state earlier firmware held: testosterone in mg (applied as stored, bypassing validation)
    for seq, day, amount in ((1, DAY0, 100), (2, DAY0 + 3, 100), (3, DAY0 + 4, 50)):
        t.apply(seq, day, 0, R.KIND_DOSE, R.D_TESTOSTERONE, amount, R.FLAG_CONFIRMED)
    t.apply(4, DAY0 + 4, 0, R.KIND_DOSE, R.D_ANASTROZOLE, 500, R.FLAG_CONFIRMED)
    blob = t.dump_into(bytearray(snapshot.SIZE))
    blob[4] = 1                                # version 1, the CRC made again as earlier firmware did
    struct.pack_into("<I", blob, snapshot.SIZE - 4, crc32(memoryview(blob)[:snapshot.SIZE - 4]) & 0xFFFFFFFF)
    t.reset()
    for seq, day, amount in ((1, DAY0, 100000), (2, DAY0 + 3, 100000), (3, DAY0 + 4, 50000)):
        t.apply(seq, day, 0, R.KIND_DOSE, R.D_TESTOSTERONE, amount, R.FLAG_CONFIRMED)
    t.apply(4, DAY0 + 4, 0, R.KIND_DOSE, R.D_ANASTROZOLE, 500, R.FLAG_CONFIRMED)
    want = bytes(t.st)
    t.reset()
    t.load(blob)
    assert bytes(t.st) == want
    assert t.week_total(R.D_TESTOSTERONE, DAY0 + 6) == 250000 and t.week_total(R.D_ANASTROZOLE, DAY0 + 6) == 500
    blob[4] = snapshot.VERSION + 1             # a newer layout is still refused
    struct.pack_into("<I", blob, snapshot.SIZE - 4, crc32(memoryview(blob)[:snapshot.SIZE - 4]) & 0xFFFFFFFF)
    loaded = True
    try:
        t.load(blob)
    except ValueError:
        loaded = False
    assert not loaded, "a newer snapshot version was loaded"
