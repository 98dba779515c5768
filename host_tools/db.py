"""The clinician's host database (SQLite): every device's records, keyed by (device, record number).

- `HostDB(path)` opens the database, making it if there is none; `create=False` raises `DatabaseMissing`
  instead (the CLI's way: only `pull` and `e2mon db init` create one); `HostDB.default_path()` is $E2MON_DB or $XDG_DATA_HOME/e2mon/e2mon.sqlite.
  A file that is not SQLite at all (a CSV given by mistake) raises `NotADatabase`; opening runs SQLite's
  quick check (about 1 ms per 10,000 records, bench/bench_host_db.py) and `check()` the full one.
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
- `set_label(device_id, label)`: the clinic's name for a device ("patient 12"); kept on this host only;
  unique in the database, and `find_device(name)` takes an id or a label.
- `bind_key(device_id, key_id)`: a stored history belongs to the key it was pulled with; a device that comes
  with another key (provisioned again, on any computer, or another device under the same id) gets its
  earlier records filed apart (`archive_device`) instead of mixed with the new ones.

Once a device is acknowledged it frees its records, so this file is the only copy: it is created 0600 in
a 0700 directory and refused when others can read it (the key files' rule, host_tools.keys);
`backup(dest)` copies it with SQLite's online backup API, and `auto_backup(reason)` keeps a copy in
`<db>.backups/` before anything rewrites what is stored (a schema migration, archiving a device's log).
A damaged file raises `DatabaseDamaged` naming the newest backup (automatic, or one `e2mon backup` made,
listed in `<db>.backups/elsewhere.txt`); `restore(backup, path)` puts a backup in its place, keeping the
replaced file beside it. `exclusive(what)` is the lock one
device command holds (`DatabaseBusy` names the other process).
"""
import contextlib
import datetime
import fcntl
import glob
import os
import sqlite3
import time
import urllib.parse

from host_tools import keys
from monitor.records import D_TESTOSTERONE, KIND_DOSE

SCHEMA_VERSION = 5
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
CREATE TABLE IF NOT EXISTS device_keys (
    device_id TEXT PRIMARY KEY REFERENCES devices(device_id),
    key_id TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS entries_as_typed (
    device_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    value TEXT NOT NULL,
    unit TEXT NOT NULL,
    time_given INTEGER NOT NULL,
    PRIMARY KEY (device_id, seq)
) WITHOUT ROWID;
"""

# Schema upgrades: from version N to N + 1 (a backup is taken first). Up to version 2, testosterone doses
# were stored in mg; since 3 every dose is in µg, as monitor.records.unpack_record gives a device's records
# (old mg ones included), so a record pulled again matches the row it was stored as. Since 4 a device's
# history is bound to the key its records came with (device_keys: a fingerprint, never the key). Since 5 an
# entry pushed from this host keeps the value and unit as typed, and whether a time of day was given
# (entries_as_typed), for the exports.
MIGRATIONS = {
    1: ("ALTER TABLE devices ADD COLUMN label TEXT",),
    2: ("UPDATE records SET value = value * 1000 WHERE kind = %d AND code = %d" % (KIND_DOSE, D_TESTOSTERONE),),
    3: (SCHEMA[SCHEMA.index("CREATE TABLE IF NOT EXISTS device_keys"):SCHEMA.index("CREATE TABLE IF NOT EXISTS "
                                                                                   "entries_as_typed")]
        .strip().rstrip(";"),),
    4: (SCHEMA[SCHEMA.index("CREATE TABLE IF NOT EXISTS entries_as_typed"):].strip().rstrip(";"),),
}

ROW_FIELDS = ("seq", "day", "minute", "kind", "code", "value", "flags")
DEVICE_FIELDS = ("device_id", "name", "address", "firmware", "profile", "first_seen", "last_pull", "label")


class DatabaseDamaged(Exception):
    def __init__(self, path, detail):
        self.path = path
        self.newest_backup = newest_backup(path)
        detail = str(detail).replace("*** in database main ***", "").strip().splitlines()
        super().__init__("the host database %s is damaged (%s)" % (path, detail[0] if detail else "?"))


class DatabaseMissing(Exception):
    def __init__(self, path):
        self.path = path
        super().__init__("there is no host database at %s" % path)


class NotADatabase(Exception):
    def __init__(self, path, what):
        self.path = path
        super().__init__("%s is not a SQLite database (%s)" % (path, what))


SQLITE_HEADER = b"SQLite format 3\x00"
SNIFF_BYTES = 4096


def sniff(path):
    """Raises NotADatabase when the file at `path` is no SQLite database at all (text, another format);
    a SQLite file with damaged pages, or even a damaged header, is left to the integrity checks."""
    try:
        with open(path, "rb") as f:
            head = f.read(SNIFF_BYTES)
    except FileNotFoundError:
        return
    if not head or head.startswith(SQLITE_HEADER):
        return
    if b"\x00" not in head:
        first = head.split(b"\n", 1)[0].decode("utf-8", "replace")[:40]
        kind = "CSV" if first.count(",") >= 2 or first.count(";") >= 2 else "text"
        raise NotADatabase(path, "it holds %s, starting %r; pass the database with --db" % (kind, first))
    if len(head) < len(SQLITE_HEADER) or head[:6] in (b"PK\x03\x04\x14\x00", b"%PDF-1"):
        raise NotADatabase(path, "another kind of file; pass the database with --db")


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


def automatic_backups(path):
    return sorted(glob.glob(os.path.join(backups_dir(path), "*.sqlite")))


def _elsewhere_list(path):
    return os.path.join(backups_dir(path), "elsewhere.txt")


def newest_backup(path):
    """The most recently written backup of `path` that still exists, or None."""
    found = automatic_backups(path)
    with contextlib.suppress(OSError):
        with open(_elsewhere_list(path), encoding="utf-8") as f:
            found += [line.rstrip("\n") for line in f if line.strip()]
    found = [p for p in found if os.path.isfile(p)]
    return max(found, key=os.path.getmtime) if found else None


def integrity_problems(conn, full=True):
    """SQLite's own check of every page: [] when sound, else its first lines."""
    rows = conn.execute("PRAGMA integrity_check(20)" if full else "PRAGMA quick_check(20)").fetchall()
    lines = [line for (text,) in rows for line in str(text).splitlines() if line.strip()]
    return [] if lines == ["ok"] else [line for line in lines if not line.startswith("***")]


def restore(backup_path, path):
    """Puts a copy of `backup_path` (checked first) at `path`; whatever was at `path` (with its -wal and
    -shm) is kept as `<path>.replaced-<stamp>`. Returns that name, or None when nothing was there."""
    sniff(backup_path)
    if not os.path.isfile(backup_path):
        raise FileNotFoundError(2, "no such file", backup_path)
    source = sqlite3.connect("file:%s?mode=ro" % urllib.parse.quote(os.path.abspath(backup_path)), uri=True)
    try:
        try:
            problems = integrity_problems(source)
        except sqlite3.DatabaseError as exc:
            problems = [str(exc)]
        if problems:
            raise DatabaseDamaged(backup_path, problems[0])
        kept = None
        if os.path.exists(path):
            stamp = datetime.datetime.now().strftime("%Y%m%dT%H%M%S")
            kept = "%s.replaced-%s" % (path, stamp)
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(path + suffix):
                    os.replace(path + suffix, kept + suffix)
        keys.private_directory(os.path.dirname(os.path.abspath(path)))
        copy_database(source, path)
    finally:
        source.close()
    return kept


def copy_database(conn, dest):
    """A consistent copy of the database open on `conn` at `dest` (SQLite's online backup API), written
    through host_tools.outfile (0600, beside it and renamed), so `dest` is never half a database."""
    from host_tools.outfile import private_output_path
    with private_output_path(dest) as part:
        target = sqlite3.connect(part)
        try:
            conn.backup(target)
        finally:
            target.close()
    return dest


class LabelTaken(ValueError):
    def __init__(self, label, holder):
        super().__init__("the label %r already names device %s" % (label, holder))
        self.holder = holder


def _same_name(a, b):
    return " ".join(str(a).split()).upper() == " ".join(str(b).split()).upper()


class RecordConflict(Exception):
    """A record number already stored for this device arrived with different content."""

    def __init__(self, device_id, seq, stored, received):
        super().__init__("device %s record %d: stored %r, received %r" % (device_id, seq, stored, received))
        self.device_id = device_id
        self.seq = seq


class HostDB:
    def __init__(self, path, create=True):
        self.path = path
        self.conn = None
        if path != ":memory:":
            if not create and not os.path.exists(path):
                raise DatabaseMissing(path)
            sniff(path)
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
        except BaseException:
            if self.conn is not None:
                self.conn.close()
            raise

    def check(self, full=True):
        """Raises DatabaseDamaged unless SQLite finds every page sound (full: also indexes, constraints)."""
        problems = integrity_problems(self.conn, full)
        if problems:
            raise DatabaseDamaged(self.path, problems[0])

    def _open(self):
        # Autocommit off at the sqlite level; every write below is an explicit transaction.
        self.conn = sqlite3.connect(self.path, isolation_level=None, timeout=10)
        self.check(full=False)
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
        return copy_database(self.conn, dest)

    def remember_backup(self, dest):
        """Lists a backup made elsewhere (e2mon backup DEST), so a damage message can name it."""
        directory = backups_dir(self.path)
        keys.private_directory(directory)
        with open(_elsewhere_list(self.path), "a", encoding="utf-8") as f:
            f.write(os.path.abspath(dest) + "\n")

    def auto_backup(self, reason):
        """Keeps a copy in `<db>.backups/` before the stored data is rewritten; returns its path."""
        if self.path == ":memory:":
            return None
        directory = backups_dir(self.path)
        keys.private_directory(directory)
        stamp = datetime.datetime.now().strftime("%Y%m%dT%H%M%S.%f")
        dest = self.backup(os.path.join(directory, "%s-%s.sqlite" % (stamp, reason)))
        for old in automatic_backups(self.path)[:-BACKUPS_KEPT]:
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
        """The clinic's own name for a device (None clears it); registers the device if new. A label names
        one device: one held by another device, or another device's id, raises LabelTaken."""
        self.ensure_device(device_id)
        with self.transaction():
            if label:
                for other, other_label in self.conn.execute("SELECT device_id, label FROM devices"):
                    if other != device_id and _same_name(label, other_label or other) or (
                            other != device_id and _same_name(label, other)):
                        raise LabelTaken(label, other)
            self.conn.execute("UPDATE devices SET label=? WHERE device_id=?", (label or None, device_id))

    def find_device(self, name):
        """The device id `name` stands for: a device id (any case), else a label (any case and spacing)."""
        rows = self.conn.execute("SELECT device_id, label FROM devices").fetchall()
        for device_id, _label in rows:
            if _same_name(name, device_id):
                return device_id
        for device_id, label in rows:
            if label and _same_name(name, label):
                return device_id
        return None

    def remove_device(self, device_id):
        """Deletes a device and its records, after an automatic backup (returned)."""
        kept = self.auto_backup("before-remove")
        with self.transaction():
            for table in ("records", "entries_as_typed", "device_keys", "devices"):
                self.conn.execute("DELETE FROM %s WHERE device_id=?" % table, (device_id,))
        return kept

    def key_id(self, device_id):
        row = self.conn.execute("SELECT key_id FROM device_keys WHERE device_id=?", (device_id,)).fetchone()
        return row[0] if row else None

    def bind_key(self, device_id, key_id):
        """Binds the device's stored history to the key it is pulled with now. A history held under another
        key is filed apart first (archive_device); returns that archive's id, else None. A history stored
        before keys were recorded is taken as this key's (the record-number checks still guard it)."""
        self.ensure_device(device_id)
        held = self.key_id(device_id)
        archive = None
        if held is not None and held != key_id:
            archive = self.archive_device(device_id)
        with self.transaction():
            self.conn.execute("INSERT INTO device_keys(device_id, key_id) VALUES (?, ?) "
                              "ON CONFLICT(device_id) DO UPDATE SET key_id=excluded.key_id", (device_id, key_id))
        return archive

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
                "SELECT ?, name, address, firmware, profile, first_seen, last_pull, "
                "label || ' (earlier log %d)' FROM devices WHERE device_id=?" % n,
                (archive, device_id))
            self.conn.execute("INSERT INTO device_keys(device_id, key_id) SELECT ?, key_id FROM device_keys "
                              "WHERE device_id=?", (archive, device_id))
            self.conn.execute("UPDATE records SET device_id=? WHERE device_id=?", (archive, device_id))
            self.conn.execute("UPDATE entries_as_typed SET device_id=? WHERE device_id=?", (archive, device_id))
            self.conn.execute("UPDATE devices SET profile=NULL, last_pull=NULL WHERE device_id=?", (device_id,))
        return archive

    @staticmethod
    def is_archive(device_id):
        """Whether `device_id` is an earlier log kept apart by archive_device (`<id>~<n>`)."""
        return "~" in device_id

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

    def remember_as_typed(self, device_id, seq, value, unit, time_given):
        """An entry pushed from this host: the value and unit as typed, and whether a time of day was given."""
        with self.transaction():
            self.conn.execute("INSERT INTO entries_as_typed(device_id, seq, value, unit, time_given) "
                              "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET value=excluded.value, "
                              "unit=excluded.unit, time_given=excluded.time_given",
                              (device_id, seq, value, unit, int(time_given)))

    def as_typed(self, device_id):
        """{record number: (value text, unit, time given)} of the entries pushed from this host."""
        return {seq: (value, unit, bool(given)) for seq, value, unit, given in self.conn.execute(
            "SELECT seq, value, unit, time_given FROM entries_as_typed WHERE device_id=?", (device_id,))}

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
    """An advisory lock on `<db>.lock` (flock: released by the kernel if the process dies). Where the
    database's folder does not exist there is nothing to share, and no folder is made for the lock."""
    lock_path = os.path.abspath(path) + ".lock"
    if path == ":memory:" or not os.path.isdir(os.path.dirname(lock_path)):
        yield
        return
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
