"""Host database: keyed by (device, record number), atomic batches, devices never mix. Each test runs on
SQLite and on PostgreSQL (db_target, tests/postgres_fixture.py)."""
import pytest
import sqlalchemy.exc

from host_tools.db import HostDB, RecordConflict


def rows(first, count, value=100):
    return [(seq, 9000 + seq // 10, seq % 1440, 0, 0, value + seq, 0) for seq in range(first, first + count)]


def test_repull_never_duplicates(db_target):
    db = HostDB(db_target)
    db.ensure_device("dev-a")
    assert db.store_records("dev-a", rows(0, 50)) == 50
    assert db.store_records("dev-a", rows(0, 60)) == 10
    assert db.count("dev-a") == 60
    assert db.next_seq("dev-a") == 60
    assert [r[0] for r in db.records("dev-a")] == list(range(60))


def test_two_devices_never_mix(db_target):
    db = HostDB(db_target)
    db.ensure_device("dev-a")
    db.ensure_device("dev-b")
    db.store_records("dev-a", rows(0, 10, value=100))
    db.store_records("dev-b", rows(0, 5, value=900))
    assert db.count("dev-a") == 10 and db.count("dev-b") == 5
    assert all(r[5] < 900 for r in db.records("dev-a"))
    assert all(r[5] >= 900 for r in db.records("dev-b"))
    assert db.next_seq("dev-b") == 5
    assert db.devices() == ["dev-a", "dev-b"]


def test_conflicting_record_rejects_whole_batch(db_target):
    db = HostDB(db_target)
    db.ensure_device("dev-a")
    db.store_records("dev-a", rows(0, 10))
    bad = rows(5, 10)
    bad[2] = (7, 1, 1, 0, 0, 12345, 0)  # record 7 with different content
    with pytest.raises(RecordConflict):
        db.store_records("dev-a", bad)
    # Nothing of the failed batch was kept (records 10..14 are absent).
    assert db.count("dev-a") == 10
    assert db.next_seq("dev-a") == 10


def test_failure_mid_batch_leaves_nothing(db_target):
    db = HostDB(db_target)
    db.ensure_device("dev-a")
    batch = rows(0, 10) + [(10, None, 0, 0, 0, 0, 0)]  # NOT NULL violation on the last row
    with pytest.raises(sqlalchemy.exc.IntegrityError):
        db.store_records("dev-a", batch)
    assert db.count("dev-a") == 0


def test_unknown_device_is_refused(db_target):
    db = HostDB(db_target)
    with pytest.raises(sqlalchemy.exc.IntegrityError):
        db.store_records("nobody", rows(0, 1))


def test_survives_reopen_and_profile(db_target):
    path = db_target
    with HostDB(path) as db:
        db.ensure_device("dev-a", name="e2mon-1", firmware="0.1")
        db.store_records("dev-a", rows(0, 3))
        db.set_profile("dev-a", b"\x01\x02")
    with HostDB(path) as db:
        info = db.device("dev-a")
        assert info["name"] == "e2mon-1" and info["firmware"] == "0.1" and info["profile"] == b"\x01\x02"
        assert db.count("dev-a") == 3
        assert db.device("other") is None


def test_archive_keeps_old_log_apart(db_target):
    db = HostDB(db_target)
    db.ensure_device("dev-a", name="one")
    assert db.archive_device("dev-a") is None          # nothing stored: nothing to keep apart
    db.store_records("dev-a", rows(0, 5))
    assert db.archive_device("dev-a") == "dev-a~1"
    assert db.count("dev-a") == 0 and db.count("dev-a~1") == 5 and db.next_seq("dev-a") == 0
    db.store_records("dev-a", rows(0, 2, value=700))   # the new log reuses record numbers
    assert db.archive_device("dev-a") == "dev-a~2"
    assert [r[5] for r in db.records("dev-a~1")] == [100, 101, 102, 103, 104]
    assert db.device("dev-a~2")["name"] == "one"
