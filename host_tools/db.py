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
- `records(device_id, kind=None)` yields rows in record-number order. Values are in the stored units of
  monitor.catalog (doses in µg; a database from before schema 3 has its testosterone doses converted from mg
  when opened, after a backup).
- `lab_results(device_id, code)` yields one analyte's results as (day, minute, value, below_lloq) in date
  order; below_lloq True means the result was below the lab's limit of quantitation and `value` is that
  limit (show it as "<24 pg/mL": monitor.texts.format_value(KIND_LAB, code, value, flags)).
- Device metadata (name, address, firmware, profile blob) lives in `devices`.
- `archive_device(device_id)`: a re-provisioned device restarts its numbering, so its earlier
  records move to `<id>~<n>` (kept, never mixed with the new log).
- `set_label(device_id, label)`: the clinic's name for a device ("patient 12"); kept on this host only.

Once a device is acknowledged it frees its records, so this file is the only copy: it is created 0600 in
a 0700 directory and refused when others can read it (the key files' rule, host_tools.keys);
`backup(dest)` copies it with SQLite's online backup API, and `auto_backup(reason)` keeps a copy in
`<db>.backups/` before anything rewrites what is stored (a schema migration, archiving a device's log).
A damaged file raises `DatabaseDamaged` naming the newest backup. `exclusive(what)` is the lock one
device command holds (`DatabaseBusy` names the other process).
"""
import contextlib
import datetime
import fcntl
import glob
import os
import sqlite3
import time

from host_tools import keys
from monitor.records import D_TESTOSTERONE, KIND_DOSE

SCHEMA_VERSION = 3
BACKUPS_KEPT = 10      # automatic backups kept per database (the oldest go first)

SCHEMA = """
CREATE TABLE IF NOT EXISTS devices (
    device_id TEXT PRIMARY KEY,
    name TEXT,
    address TEXT,
    firmware TEXT,
    profile BLOB,
    first_seen INTEGER NOT NULL,
    last_pull INTEGER,
    label TEXT
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

# Schema upgrades: from version N to N + 1 (a backup is taken first). Up to version 2, testosterone doses
# were stored in mg; since 3 every dose is in µg, as monitor.records.unpack_record gives a device's records
# (old mg ones included), so a record pulled again matches the row it was stored as.
MIGRATIONS = {
    1: ("ALTER TABLE devices ADD COLUMN label TEXT",),
    2: ("UPDATE records SET value = value * 1000 WHERE kind = %d AND code = %d" % (KIND_DOSE, D_TESTOSTERONE),),
}

ROW_FIELDS = ("seq", "day", "minute", "kind", "code", "value", "flags")
DEVICE_FIELDS = ("device_id", "name", "address", "firmware", "profile", "first_seen", "last_pull", "label")


class DatabaseDamaged(Exception):
    def __init__(self, path, detail):
        self.path = path
        self.newest_backup = newest_backup(path)
        super().__init__("the host database %s is damaged (%s)" % (path, detail))


class DatabaseBusy(Exception):
    def __init__(self, path, holder):
        self.path = path
        self.holder = holder
        super().__init__("another e2mon (%s) is using the host database %s" % (holder or "unknown", path))


class DatabaseTooNew(Exception):
    pass


def backups_dir(path):
    return os.path.abspath(path) + ".backups"


def database_damaged(exc):
    """Whether SQLite's error says the file itself is damaged (or is no database at all)."""
    text = str(exc).lower()
    return "malformed" in text or "not a database" in text or "file is encrypted" in text


def newest_backup(path):
    found = sorted(glob.glob(os.path.join(backups_dir(path), "*.sqlite")))
    return found[-1] if found else None


class RecordConflict(Exception):
    """A record number already stored for this device arrived with different content."""

    def __init__(self, device_id, seq, stored, received):
        super().__init__("device %s record %d: stored %r, received %r" % (device_id, seq, stored, received))
        self.device_id = device_id
        self.seq = seq


class HostDB:
    def __init__(self, path):
        self.path = path
        self.conn = None
        if path != ":memory:":
            keys.private_directory(os.path.dirname(os.path.abspath(path)))
            keys.private_file(path)
            keys.check_private(path, "host database")
        try:
            self._open()
        except sqlite3.DatabaseError as exc:
            if self.conn is not None:
                self.conn.close()
            if database_damaged(exc):
                raise DatabaseDamaged(path, exc) from None
            raise

    def _open(self):
        # Autocommit off at the sqlite level; every write below is an explicit transaction.
        self.conn = sqlite3.connect(self.path, isolation_level=None, timeout=10)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA foreign_keys=ON")
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise DatabaseTooNew("the host database %s was written by a newer e2mon (schema %d, this one "
                                 "knows %d)" % (self.path, version, SCHEMA_VERSION))
        fresh = not self.conn.execute("SELECT 1 FROM sqlite_master WHERE name='devices'").fetchone()
        if version == SCHEMA_VERSION and not fresh:
            return   # nothing to write: opening never waits for another e2mon's transaction
        if version < SCHEMA_VERSION and not fresh:
            self.auto_backup("before-schema-%d" % SCHEMA_VERSION)
            with self.transaction():
                for step in range(max(version, 1), SCHEMA_VERSION):
                    for statement in MIGRATIONS[step]:
                        self.conn.execute(statement)
                self.conn.execute("PRAGMA user_version=%d" % SCHEMA_VERSION)
            return
        with self.transaction():
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    self.conn.execute(statement)
            self.conn.execute("PRAGMA user_version=%d" % SCHEMA_VERSION)

    # Backups and the lock

    def backup(self, dest):
        """A consistent copy of the whole database at `dest` (SQLite's online backup API; 0600)."""
        from host_tools.outfile import private_output_path
        with private_output_path(dest) as part:
            target = sqlite3.connect(part)
            try:
                self.conn.backup(target)
            finally:
                target.close()
        return dest

    def auto_backup(self, reason):
        """Keeps a copy in `<db>.backups/` before the stored data is rewritten; returns its path."""
        if self.path == ":memory:":
            return None
        directory = backups_dir(self.path)
        keys.private_directory(directory)
        stamp = datetime.datetime.now().strftime("%Y%m%dT%H%M%S.%f")
        dest = self.backup(os.path.join(directory, "%s-%s.sqlite" % (stamp, reason)))
        for old in sorted(glob.glob(os.path.join(directory, "*.sqlite")))[:-BACKUPS_KEPT]:
            os.remove(old)
        return dest

    @contextlib.contextmanager
    def exclusive(self, what):
        """Held while one command talks to a device for this database; a second one gets DatabaseBusy."""
        with exclusive(self.path, what):
            yield

    @staticmethod
    def default_path():
        if os.environ.get("E2MON_DB"):
            return os.environ["E2MON_DB"]
        base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
        return os.path.join(base, "e2mon", "e2mon.sqlite")

    def close(self):
        if self.conn is not None:
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
            "SELECT %s FROM devices WHERE device_id=?" % ", ".join(DEVICE_FIELDS), (device_id,))
        row = cur.fetchone()
        if row is None:
            return None
        return dict(zip(DEVICE_FIELDS, row, strict=True))

    def set_label(self, device_id, label):
        """The clinic's own name for a device (None clears it); registers the device if new."""
        self.ensure_device(device_id)
        with self.transaction():
            self.conn.execute("UPDATE devices SET label=? WHERE device_id=?", (label or None, device_id))

    def label(self, device_id):
        row = self.conn.execute("SELECT label FROM devices WHERE device_id=?", (device_id,)).fetchone()
        return row[0] if row else None

    def archive_device(self, device_id):
        """Moves a device's records to a new id `<id>~<n>` (a re-provisioned device starts a new log
        numbered from the beginning); returns the archive id, or None if nothing was stored."""
        if self.count(device_id) == 0:
            return None
        self.auto_backup("before-archive")
        with self.transaction():
            n = 1
            while self.conn.execute("SELECT 1 FROM devices WHERE device_id=?",
                                    ("%s~%d" % (device_id, n),)).fetchone():
                n += 1
            archive = "%s~%d" % (device_id, n)
            self.conn.execute(
                "INSERT INTO devices(device_id, name, address, firmware, profile, first_seen, last_pull, label) "
                "SELECT ?, name, address, firmware, profile, first_seen, last_pull, label FROM devices "
                "WHERE device_id=?",
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


@contextlib.contextmanager
def exclusive(path, what):
    """An advisory lock on `<db>.lock` (flock: released by the kernel if the process dies)."""
    if path == ":memory:":
        yield
        return
    lock_path = os.path.abspath(path) + ".lock"
    keys.private_directory(os.path.dirname(lock_path))
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
            raise DatabaseBusy(path, holder) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, ("pid %d, %s" % (os.getpid(), what)).encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
