# Testosterone doses written in mg by firmware from before µg doses (records without FLAG_UG) read as the
# same dose in µg as new records: the record itself, the state replayed from a log holding both (the week's
# total of the >400 mg/week confirm band, no false dose change); a snapshot from before is refused (the
# log is replayed instead). On the real
# store and app: tests/firmware/test_device_app.py (the store and the tracker do not both fit this 64K heap).
BUFFER = bytearray(1280)   # the snapshot's, made before the imports while the 64K heap is empty
import struct  # noqa: E402,I001
from binascii import crc32  # noqa: E402

from core_helpers import DAY0, History  # noqa: E402
from monitor import state as S  # noqa: E402
from monitor import records as R  # noqa: E402
from monitor import snapshot  # noqa: E402
from old_records import old_record  # noqa: E402

FLAGS_AT = 13   # offset of the flags byte in a record: seq 4, day 2, minute 2, kind/code 1, value 4


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


def test_a_log_from_earlier_firmware_replays_its_doses_in_ug():
    log = bytearray(3 * R.RECORD_SIZE)    # earlier firmware's records: 100 mg on day 0 and day 3, then a new one
    old_record(log, 0, 1, DAY0, 100)
    old_record(log, R.RECORD_SIZE, 2, DAY0 + 3, 100)
    R.pack_record(log, 2 * R.RECORD_SIZE, 3, DAY0 + 5, 0, R.KIND_DOSE, R.D_TESTOSTERONE, 100000, R.FLAG_CONFIRMED)
    t = History(0).tracker
    for k in range(3):                    # as monitor.store's replay reads a segment
        assert R.record_ok(log, k * R.RECORD_SIZE)
        t.apply(*R.unpack_record(log, k * R.RECORD_SIZE))
    assert t.last_seq == 3 and t.week_total(R.D_TESTOSTERONE, DAY0 + 6) == 300000
    assert t.st[S.DOSE_AMT + R.D_TESTOSTERONE] == 100000
    assert t.st[S.LAST_CHANGE] == DAY0     # the same 100 mg throughout: no dose change
    # the 400 mg/week confirm band counts the old doses at their real size
    assert t.check(R.KIND_DOSE, R.D_TESTOSTERONE, 100000, 0, DAY0 + 6, 0, DAY0 + 6) == 0
    assert t.check(R.KIND_DOSE, R.D_TESTOSTERONE, 100500, 0, DAY0 + 6, 0, DAY0 + 6) == R.ERR_CONFIRM_WEEK


def test_a_snapshot_of_an_older_version_is_refused_and_the_replay_reads_ug():
    t = History(0).tracker
    for seq, day, amount in ((1, DAY0, 100000), (2, DAY0 + 3, 100000), (3, DAY0 + 4, 50000)):
        t.apply(seq, day, 0, R.KIND_DOSE, R.D_TESTOSTERONE, amount, R.FLAG_CONFIRMED)
    t.apply(4, DAY0 + 4, 0, R.KIND_DOSE, R.D_ANASTROZOLE, 500, R.FLAG_CONFIRMED)
    blob = memoryview(t.dump_into(BUFFER))[:snapshot.SIZE]
    want = bytes(t.st)
    t.reset()
    t.load(blob)
    assert bytes(t.st) == want
    assert t.week_total(R.D_TESTOSTERONE, DAY0 + 6) == 250000 and t.week_total(R.D_ANASTROZOLE, DAY0 + 6) == 500
    for version in (snapshot.VERSION - 1, snapshot.VERSION + 1):   # another layout: replay the log instead
        blob[4] = version
        struct.pack_into("<I", blob, snapshot.SIZE - 4, crc32(memoryview(blob)[:snapshot.SIZE - 4]) & 0xFFFFFFFF)
        loaded = True
        try:
            t.load(blob)
        except ValueError:
            loaded = False
        assert not loaded, "snapshot version %d was loaded" % version
