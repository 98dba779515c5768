"""Several clinicians at once, on SQLite and on PostgreSQL: pulls of different devices in parallel, two pulls
of one device that never store a record twice or skip one (the record number is the key), a push (profile,
label, audit) interleaved with a pull of the same device, and the per-device lock of a device command."""
import threading

import pytest

from host_tools.cmd_pull import STORE_BATCH
from host_tools.db import DatabaseBusy, HostDB, exclusive

RECORDS = 1200
THREADS = 4


def rows(first, count):
    return [(seq, 9000 + seq // 50, seq % 1440, 2, seq % 13, seq % 4, 0) for seq in range(first, first + count)]


def pull_like(target, device_id, total, batch, errors, added=None, start_barrier=None):
    """The storage calls `e2mon pull` makes (host_tools.cmd_pull.pull_into), from this thread's own
    connection: bind the key, register, resume at next_seq, store batch after batch, note the profile."""
    try:
        with HostDB(target) as db:
            if start_barrier is not None:
                start_barrier.wait()
            db.bind_key(device_id, "key-of-" + device_id)
            db.ensure_device(device_id, firmware="1.0")
            start = db.next_seq(device_id)
            stored = 0
            for first in range(start, total, batch):
                stored += db.store_records(device_id, rows(first, min(batch, total - first)))
            db.set_profile(device_id, b"profile")
            db.audit("pull", device_id, "%d new" % stored)
            if added is not None:
                added.append(stored)
    except Exception as exc:  # noqa: BLE001 - reported by the test thread
        errors.append(exc)


def run_threads(targets):
    threads = [threading.Thread(target=fn, args=args) for fn, args in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads)


def held_seqs(target, device_id):
    with HostDB(target) as db:
        return [r[0] for r in db.records(device_id)]


def test_pulls_of_different_devices_run_in_parallel(db_target):
    HostDB(db_target).close()
    errors = []
    barrier = threading.Barrier(THREADS)
    run_threads([(pull_like, (db_target, "dev-%d" % i, RECORDS, 300, errors, None, barrier)) for i in range(THREADS)])
    assert errors == []
    for i in range(THREADS):
        assert held_seqs(db_target, "dev-%d" % i) == list(range(RECORDS))
    with HostDB(db_target) as db:
        assert sorted(e["device_id"] for e in db.audit_entries()) == ["dev-%d" % i for i in range(THREADS)]


def test_two_pulls_of_one_device_store_each_record_once(db_target):
    """Two clinicians pull the same device at the same moment, in differently sized batches: every record
    is stored exactly once, none is skipped, and the new-record counts add up to the records held."""
    HostDB(db_target).close()
    errors, added = [], []
    barrier = threading.Barrier(2)
    run_threads([(pull_like, (db_target, "dev-x", RECORDS, 250, errors, added, barrier)),
                 (pull_like, (db_target, "dev-x", RECORDS, STORE_BATCH // 5, errors, added, barrier))])
    assert errors == []
    assert held_seqs(db_target, "dev-x") == list(range(RECORDS))
    assert sum(added) == RECORDS


def test_a_push_and_a_pull_of_one_device_interleave(db_target):
    """While one connection stores a device's records batch by batch, another changes its profile and label
    and writes audit entries: neither waits forever, nothing is lost, the last profile written stays."""
    with HostDB(db_target) as db:
        db.ensure_device("dev-p")
    errors = []

    def push_side():
        try:
            with HostDB(db_target) as db:
                for i in range(30):
                    db.set_profile("dev-p", b"profile %d" % i)
                    db.set_label("dev-p", "patient %d" % i)
                    db.audit("profile change", "dev-p", "step %d" % i)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    def pull_side():
        try:
            with HostDB(db_target) as db:
                for first in range(0, RECORDS, 100):
                    db.store_records("dev-p", rows(first, 100))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    run_threads([(push_side, ()), (pull_side, ())])
    assert errors == []
    assert held_seqs(db_target, "dev-p") == list(range(RECORDS))
    with HostDB(db_target) as db:
        assert db.device("dev-p")["profile"] == b"profile 29" and db.label("dev-p") == "patient 29"
        assert len(db.audit_entries("dev-p")) == 30


def test_the_device_lock_on_postgresql_is_per_device(pg_url):
    HostDB(pg_url).close()
    with exclusive(pg_url, "talking to dev-a", "dev-a"):
        with pytest.raises(DatabaseBusy) as busy:
            with exclusive(pg_url, "talking to dev-a", "DEV-A"):
                pass
        assert "talking to dev-a" in busy.value.holder and "pid" in busy.value.holder
        with exclusive(pg_url, "talking to dev-b", "dev-b"):   # another device: another clinician, at once
            pass
    with exclusive(pg_url, "talking to dev-a", "dev-a"):       # released with the command
        pass


def test_the_lock_on_sqlite_is_one_device_command_per_file(tmp_path):
    path = str(tmp_path / "h.sqlite")
    HostDB(path).close()
    with exclusive(path, "talking to dev-a", "dev-a"):
        with pytest.raises(DatabaseBusy):
            with exclusive(path, "talking to dev-b", "dev-b"):
                pass
