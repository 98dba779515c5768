"""The clinician's host database (SQLite): every device's records, keyed by (device, record number).

- `HostDB(path)` opens (creating) the database; `HostDB.default_path()` is
  $E2MON_DB or $XDG_DATA_HOME/e2mon/e2mon.sqlite.
- `store_records(device_id, rows)` stores one batch of unpacked records
  `(seq, day, minute, kind, code, value, flags)` in one transaction: a batch is
  stored whole or not at all. Re-storing a record already held is a no-op; a
  record number that comes back with different content raises `RecordConflict`
  (and nothing of that batch is kept), so two devices never mix under one id.
- `next_seq(device_id)` is where an incremental pull resumes (one past the
  highest record number stored).
- `records(device_id, kind=None)` yields rows in record-number order.
- `lab_results(device_id, code)` yields one analyte's results as (day, minute, value, below_lloq) in date
  order; below_lloq True means the result was below the lab's limit of quantitation and `value` is that
  limit (show it as "<24 pg/mL": monitor.records.format_value(KIND_LAB, code, value, flags)).
- Device metadata (name, address, firmware, profile blob) lives in `devices`.
- `archive_device(device_id)`: a re-provisioned device restarts its numbering, so its earlier
  records move to `<id>~<n>` (kept, never mixed with the new log).
"""
import os
import sqlite3
import time

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS devices (
    device_id TEXT PRIMARY KEY,
    name TEXT,
    address TEXT,
    firmware TEXT,
    profile BLOB,
    first_seen INTEGER NOT NULL,
    last_pull INTEGER
);
CREATE TABLE IF NOT EXISTS records (
    device_id TEXT NOT NULL REFERENCES devices(device_id),
    seq INTEGER NOT NULL,
    day INTEGER NOT NULL,
    minute INTEGER NOT NULL,
    kind INTEGER NOT NULL,
    code INTEGER NOT NULL,
    value INTEGER NOT NULL,
    flags INTEGER NOT NULL,
    PRIMARY KEY (device_id, seq)
) WITHOUT ROWID;
"""

ROW_FIELDS = ("seq", "day", "minute", "kind", "code", "value", "flags")


class RecordConflict(Exception):
    """A record number already stored for this device arrived with different content."""

    def __init__(self, device_id, seq, stored, received):
        super().__init__("device %s record %d: stored %r, received %r" % (device_id, seq, stored, received))
        self.device_id = device_id
        self.seq = seq


class HostDB:
    def __init__(self, path):
        self.path = path
        if path != ":memory:":
            directory = os.path.dirname(os.path.abspath(path))
            os.makedirs(directory, exist_ok=True)
        # Autocommit off at the sqlite level; every write below is an explicit transaction.
        self.conn = sqlite3.connect(path, isolation_level=None, timeout=10)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA foreign_keys=ON")
        with self.transaction():
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    self.conn.execute(statement)
            self.conn.execute("PRAGMA user_version=%d" % SCHEMA_VERSION)

    @staticmethod
    def default_path():
        if os.environ.get("E2MON_DB"):
            return os.environ["E2MON_DB"]
        base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
        return os.path.join(base, "e2mon", "e2mon.sqlite")

    def close(self):
        self.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def transaction(self):
        return _Transaction(self.conn)

    # Devices

    def ensure_device(self, device_id, name=None, address=None, firmware=None):
        """Registers a device (or refreshes its name/address/firmware when given)."""
        if not device_id:
            raise ValueError("empty device id")
        with self.transaction():
            self.conn.execute(
                "INSERT INTO devices(device_id, first_seen) VALUES (?, ?) ON CONFLICT DO NOTHING",
                (device_id, int(time.time())))
            for column, value in (("name", name), ("address", address), ("firmware", firmware)):
                if value is not None:
                    self.conn.execute("UPDATE devices SET %s=? WHERE device_id=?" % column, (value, device_id))

    def set_profile(self, device_id, blob):
        with self.transaction():
            self.conn.execute("UPDATE devices SET profile=? WHERE device_id=?", (bytes(blob), device_id))

    def device(self, device_id):
        cur = self.conn.execute(
            "SELECT device_id, name, address, firmware, profile, first_seen, last_pull FROM devices "
            "WHERE device_id=?", (device_id,))
        row = cur.fetchone()
        if row is None:
            return None
        keys = ("device_id", "name", "address", "firmware", "profile", "first_seen", "last_pull")
        return dict(zip(keys, row, strict=True))

    def archive_device(self, device_id):
        """Moves a device's records to a new id `<id>~<n>` (a re-provisioned device starts a new log
        numbered from the beginning); returns the archive id, or None if nothing was stored."""
        if self.count(device_id) == 0:
            return None
        with self.transaction():
            n = 1
            while self.conn.execute("SELECT 1 FROM devices WHERE device_id=?",
                                    ("%s~%d" % (device_id, n),)).fetchone():
                n += 1
            archive = "%s~%d" % (device_id, n)
            self.conn.execute(
                "INSERT INTO devices(device_id, name, address, firmware, profile, first_seen, last_pull) "
                "SELECT ?, name, address, firmware, profile, first_seen, last_pull FROM devices WHERE device_id=?",
                (archive, device_id))
            self.conn.execute("UPDATE records SET device_id=? WHERE device_id=?", (archive, device_id))
            self.conn.execute("UPDATE devices SET profile=NULL, last_pull=NULL WHERE device_id=?", (device_id,))
        return archive

    def devices(self):
        cur = self.conn.execute("SELECT device_id FROM devices ORDER BY device_id")
        return [r[0] for r in cur.fetchall()]

    # Records

    def store_records(self, device_id, rows):
        """Stores a batch atomically; returns how many records were new."""
        rows = rows if isinstance(rows, list) else list(rows)
        if not rows:
            return 0
        with self.transaction():
            before = self.conn.total_changes
            self.conn.executemany(
                "INSERT INTO records(device_id, seq, day, minute, kind, code, value, flags) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [(device_id,) + tuple(r) for r in rows])
            added = self.conn.total_changes - before
            if added != len(rows):
                self._check_duplicates(device_id, rows)
            self.conn.execute("UPDATE devices SET last_pull=? WHERE device_id=?",
                              (int(time.time()), device_id))
        return added

    def _check_duplicates(self, device_id, rows):
        # Only on re-delivery: every already-held record must be identical.
        seqs = [r[0] for r in rows]
        stored = {}
        for i in range(0, len(seqs), 500):
            chunk = seqs[i:i + 500]
            cur = self.conn.execute(
                "SELECT seq, day, minute, kind, code, value, flags FROM records WHERE device_id=? "
                "AND seq IN (%s)" % ",".join("?" * len(chunk)), [device_id] + chunk)
            for row in cur:
                stored[row[0]] = row
        for row in rows:
            held = stored.get(row[0])
            if held is not None and tuple(held) != tuple(row):
                raise RecordConflict(device_id, row[0], tuple(held), tuple(row))

    def next_seq(self, device_id):
        cur = self.conn.execute("SELECT MAX(seq) FROM records WHERE device_id=?", (device_id,))
        top = cur.fetchone()[0]
        return 0 if top is None else top + 1

    def count(self, device_id, kind=None):
        if kind is None:
            cur = self.conn.execute("SELECT COUNT(*) FROM records WHERE device_id=?", (device_id,))
        else:
            cur = self.conn.execute("SELECT COUNT(*) FROM records WHERE device_id=? AND kind=?",
                                    (device_id, kind))
        return cur.fetchone()[0]

    def records(self, device_id, kind=None):
        """Yields (seq, day, minute, kind, code, value, flags) in record-number order."""
        if kind is None:
            cur = self.conn.execute(
                "SELECT seq, day, minute, kind, code, value, flags FROM records WHERE device_id=? "
                "ORDER BY seq", (device_id,))
        else:
            cur = self.conn.execute(
                "SELECT seq, day, minute, kind, code, value, flags FROM records WHERE device_id=? "
                "AND kind=? ORDER BY seq", (device_id, kind))
        return iter(cur)

    def lab_results(self, device_id, code):
        """One analyte's results as (day, minute, value, below_lloq) in date order (stored integer units)."""
        from monitor.records import FLAG_BELOW_LLOQ, KIND_LAB
        cur = self.conn.execute(
            "SELECT day, minute, value, flags FROM records WHERE device_id=? AND kind=? AND code=? "
            "ORDER BY day, minute, seq", (device_id, KIND_LAB, code))
        for day, minute, value, flags in cur:
            yield day, minute, value, bool(flags & FLAG_BELOW_LLOQ)


class _Transaction:
    """BEGIN IMMEDIATE .. COMMIT, or ROLLBACK on any exception (nothing partial is kept)."""

    def __init__(self, conn):
        self.conn = conn

    def __enter__(self):
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.conn.execute("COMMIT")
        else:
            self.conn.execute("ROLLBACK")
        return False
