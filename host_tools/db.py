"""The clinician's host database: every device's records, keyed by (device, record number), in SQLite (a
file path, one clinician's laptop) or PostgreSQL (a URL, a clinic's server). One schema (host_tools.schema)
and one set of queries (SQLAlchemy Core) serve both; migrations are Alembic's (host_tools.migrate).

- `HostDB(target)` opens the database, making it if there is none; `create=False` raises `DatabaseMissing`
  instead (the CLI's way: only `pull` and `e2mon db init` create one); `HostDB.default_path()` is $E2MON_DB,
  the settings file's `database`, else $XDG_DATA_HOME/e2mon/e2mon.sqlite.
  A file that is not SQLite at all (a CSV given by mistake) raises `NotADatabase`; opening a SQLite file runs
  its quick check (about 1 ms per 10,000 records, bench/bench_host_db.py) and `check()` the full one.
- `store_records(device_id, rows)` stores one batch of unpacked records
  `(seq, day, minute, kind, code, value, flags)` in one transaction: a batch is
  stored whole or not at all. Re-storing a record already held is a no-op (INSERT .. ON CONFLICT DO NOTHING
  on the record number, so two pulls of one device at once store each record once); a
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
- `audit(action, device_id, detail)` appends to the audit log (who, from which machine, when, what);
  `audit_entries(device_id, since)` reads it. Nothing in e2mon updates or deletes it, and a trigger refuses
  to on either backend.

Once a device is acknowledged it frees its records, so this database is the only copy. A SQLite file is
created 0600 in a 0700 directory and refused when others can read it (the key files' rule, host_tools.keys);
`backup(dest)` copies it with SQLite's online backup API, and `auto_backup(reason)` keeps a copy in
`<db>.backups/` before anything rewrites what is stored (a schema migration, archiving a device's log); on
PostgreSQL both go through pg_dump (host_tools.pg_backup).
A damaged file raises `DatabaseDamaged` naming the newest backup (automatic, or one `e2mon backup` made,
listed in `<db>.backups/elsewhere.txt`); `restore(backup, path)` puts a backup in its place, keeping the
replaced file beside it. `exclusive(what)` is the lock one
device command holds (`DatabaseBusy` names the other process; host_tools.db_lock).
"""
import contextlib
import datetime
import functools
import glob
import os
import sqlite3
import time
import urllib.parse

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect

from host_tools import db_url, keys, migrate
from host_tools.db_lock import DatabaseBusy, exclusive  # noqa: F401 - the lock's home for its callers
from host_tools.schema import audit_log, device_keys, devices, entries_as_typed, records

SCHEMA_VERSION = migrate.revision_number(migrate.head())
BACKUPS_KEPT = 10      # automatic backups kept per database (the oldest go first)

ROW_FIELDS = ("seq", "day", "minute", "kind", "code", "value", "flags")
STORE_COLUMNS = ("device_id",) + ROW_FIELDS
DEVICE_FIELDS = ("device_id", "name", "address", "firmware", "profile", "first_seen", "last_pull", "label")
AUDIT_FIELDS = ("entry", "at", "os_user", "clinician", "machine", "action", "device_id", "detail")
SEQ_CHUNK = 500        # record numbers per IN (...) list


class DatabaseDamaged(Exception):
    def __init__(self, path, detail):
        self.path = path
        self.newest_backup = newest_backup(path)
        path = db_url.shown(path)
        detail = str(detail).replace("*** in database main ***", "").strip().splitlines()
        super().__init__("the host database %s is damaged (%s)" % (path, detail[0] if detail else "?"))


class DatabaseMissing(Exception):
    def __init__(self, path):
        self.path = path
        super().__init__("there is no host database at %s" % db_url.shown(path))


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


class DatabaseTooNew(Exception):
    pass


def backups_dir(path):
    """Where automatic backups go: beside a SQLite file; for a PostgreSQL database, in this user's data
    folder, one folder per server and database."""
    if db_url.is_url(path):
        url = sa.engine.make_url(path)
        name = "%s-%s-%s" % (url.host or "local", url.port or 5432, url.database or "postgres")
        return os.path.join(os.path.dirname(HostDB.default_path()), "backups", "".join(
            c if c.isalnum() or c in "-." else "_" for c in name))
    return os.path.abspath(path) + ".backups"


def database_damaged(exc):
    """Whether SQLite's error says the file itself is damaged (or is no database at all)."""
    text = str(exc).lower()
    return "malformed" in text or "not a database" in text or "file is encrypted" in text


def automatic_backups(path):
    return sorted(glob.glob(os.path.join(backups_dir(path), "*.sqlite" if not db_url.is_url(path) else "*.dump")))


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
    def __init__(self, path, create=True, actor=None):
        path = db_url.as_target(path)
        self.target = path
        self.backend = db_url.backend(path)
        self.path = db_url.shown(path)   # as printed: a URL's password never shows
        self.actor = actor
        self.created = False   # whether opening made the database (its tables)
        self.engine = None
        self.conn = None
        if self.backend == "sqlite" and path != ":memory:":
            if not create and not os.path.exists(path):
                raise DatabaseMissing(path)
            sniff(path)
            keys.private_directory(os.path.dirname(os.path.abspath(path)))
            keys.private_file(path)
            keys.check_private(path, "host database")
        try:
            self.engine = db_url.engine_for(path)
            self.conn = self.engine.connect()
            self._open(create)
        except sa.exc.DBAPIError as exc:
            self.close()
            if self.backend == "sqlite" and database_damaged(exc.orig):
                raise DatabaseDamaged(path, exc.orig) from None
            raise
        except sqlite3.DatabaseError as exc:
            self.close()
            if database_damaged(exc):
                raise DatabaseDamaged(path, exc) from None
            raise
        except BaseException:
            self.close()
            raise

    def _driver(self):
        """The driver's own connection (sqlite3 for the integrity checks and the online backup API)."""
        return self.conn.connection.driver_connection

    def check(self, full=True):
        """Raises DatabaseDamaged unless the database is sound: SQLite checks every page (full: also indexes,
        constraints); PostgreSQL (which checks its own pages) that every record belongs to a device."""
        if self.backend == "sqlite":
            problems = integrity_problems(self._driver(), full)
        else:
            with self._read() as conn:
                orphans = conn.execute(sa.select(sa.func.count()).select_from(records).where(
                    ~sa.exists().where(devices.c.device_id == records.c.device_id))).scalar()
            problems = ["%d records without their device" % orphans] if orphans else []
        if problems:
            raise DatabaseDamaged(self.target, problems[0])

    def _open(self, create):
        if self.backend == "sqlite":
            driver = self._driver()
            problems = integrity_problems(driver, full=False)
            if problems:
                raise DatabaseDamaged(self.target, problems[0])
            driver.execute("PRAGMA journal_mode=WAL")
            driver.execute("PRAGMA synchronous=NORMAL")
            driver.execute("PRAGMA foreign_keys=ON")
        with self._read() as conn:
            revision, known = migrate.state(conn)
        if not known:
            raise DatabaseTooNew("the host database %s was written by a newer e2mon (schema %s, this one "
                                 "knows %d)" % (self.path, revision, SCHEMA_VERSION))
        if revision == migrate.head():
            return   # nothing to write: opening never waits for another e2mon's transaction
        if revision is None and not create:
            raise DatabaseMissing(self.target)
        self.created = revision is None
        if revision is not None:
            self.auto_backup("before-schema-%d" % SCHEMA_VERSION)
        with self.transaction() as conn:
            migrate.upgrade(conn)

    def schema_revision(self):
        with self._read() as conn:
            return migrate.state(conn)[0]

    # Backups and the lock

    def backup(self, dest):
        """A consistent copy of the whole database at `dest` (0600): SQLite's online backup API, or pg_dump."""
        if self.backend == "postgresql":
            from host_tools import pg_backup
            return pg_backup.pg_dump(db_url.sqlalchemy_url(self.target), dest)
        return copy_database(self._driver(), dest)

    def remember_backup(self, dest):
        """Lists a backup made elsewhere (e2mon backup DEST), so a damage message can name it."""
        directory = backups_dir(self.target)
        keys.private_directory(directory)
        with open(_elsewhere_list(self.target), "a", encoding="utf-8") as f:
            f.write(os.path.abspath(dest) + "\n")

    def auto_backup(self, reason):
        """Keeps a copy in the backups folder before the stored data is rewritten; returns its path. On
        PostgreSQL a failing pg_dump raises pg_backup.BackupFailed, and nothing is rewritten."""
        if self.target == ":memory:":
            return None
        directory = backups_dir(self.target)
        keys.private_directory(directory)
        stamp = datetime.datetime.now().strftime("%Y%m%dT%H%M%S.%f")
        suffix = "dump" if self.backend == "postgresql" else "sqlite"
        dest = self.backup(os.path.join(directory, "%s-%s.%s" % (stamp, reason, suffix)))
        for old in automatic_backups(self.target)[:-BACKUPS_KEPT]:
            os.remove(old)
        return dest

    @contextlib.contextmanager
    def exclusive(self, what, device=None):
        """Held while one command talks to a device for this database; a second one gets DatabaseBusy."""
        with exclusive(self.target, what, device):
            yield

    @staticmethod
    def default_path():
        if os.environ.get("E2MON_DB"):
            return os.environ["E2MON_DB"]
        from host_tools import settings_file
        configured = settings_file.load().get("database")
        if configured:
            return configured
        base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
        return os.path.join(base, "e2mon", "e2mon.sqlite")

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None
        if self.engine is not None:
            self.engine.dispose()
            self.engine = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @contextlib.contextmanager
    def transaction(self):
        """A write transaction (SQLite: BEGIN IMMEDIATE); committed at the end, rolled back on any exception
        (nothing partial is kept)."""
        self.conn.info["writing"] = True
        try:
            with self.conn.begin():
                yield self.conn
        finally:
            self.conn.info["writing"] = False

    @contextlib.contextmanager
    def _read(self):
        with self.conn.begin():
            yield self.conn

    def _insert(self, table):
        return (pg_dialect.insert if self.backend == "postgresql" else sqlite_dialect.insert)(table)

    # Devices

    def ensure_device(self, device_id, name=None, address=None, firmware=None):
        """Registers a device (or refreshes its name/address/firmware when given)."""
        if not device_id:
            raise ValueError("empty device id")
        with self.transaction() as conn:
            conn.execute(self._insert(devices).values(device_id=device_id, first_seen=int(time.time()))
                         .on_conflict_do_nothing(index_elements=["device_id"]))
            given = {k: v for k, v in (("name", name), ("address", address), ("firmware", firmware))
                     if v is not None}
            if given:
                conn.execute(devices.update().where(devices.c.device_id == device_id).values(**given))

    def set_profile(self, device_id, blob):
        with self.transaction() as conn:
            conn.execute(devices.update().where(devices.c.device_id == device_id).values(profile=bytes(blob)))

    def device(self, device_id):
        with self._read() as conn:
            row = conn.execute(sa.select(*(devices.c[f] for f in DEVICE_FIELDS))
                               .where(devices.c.device_id == device_id)).first()
        if row is None:
            return None
        return dict(zip(DEVICE_FIELDS, row, strict=True))

    def _ids_and_labels(self, conn):
        return conn.execute(sa.select(devices.c.device_id, devices.c.label)).all()

    def set_label(self, device_id, label):
        """The clinic's own name for a device (None clears it); registers the device if new. A label names
        one device: one held by another device, or another device's id, raises LabelTaken."""
        self.ensure_device(device_id)
        with self.transaction() as conn:
            if label:
                for other, other_label in self._ids_and_labels(conn):
                    if other != device_id and _same_name(label, other_label or other) or (
                            other != device_id and _same_name(label, other)):
                        raise LabelTaken(label, other)
            conn.execute(devices.update().where(devices.c.device_id == device_id).values(label=label or None))

    def find_device(self, name):
        """The device id `name` stands for: a device id (any case), else a label (any case and spacing)."""
        with self._read() as conn:
            rows = self._ids_and_labels(conn)
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
        with self.transaction() as conn:
            for table in (records, entries_as_typed, device_keys, devices):
                conn.execute(table.delete().where(table.c.device_id == device_id))
        return kept

    def key_id(self, device_id):
        with self._read() as conn:
            return conn.execute(sa.select(device_keys.c.key_id).where(device_keys.c.device_id == device_id)).scalar()

    def bind_key(self, device_id, key_id):
        """Binds the device's stored history to the key it is pulled with now. A history held under another
        key is filed apart first (archive_device); returns that archive's id, else None. A history stored
        before keys were recorded is taken as this key's (the record-number checks still guard it)."""
        self.ensure_device(device_id)
        held = self.key_id(device_id)
        archive = None
        if held is not None and held != key_id:
            archive = self.archive_device(device_id)
        with self.transaction() as conn:
            upsert = self._insert(device_keys).values(device_id=device_id, key_id=key_id)
            conn.execute(upsert.on_conflict_do_update(index_elements=["device_id"],
                                                      set_={"key_id": upsert.excluded.key_id}))
        return archive

    def label(self, device_id):
        with self._read() as conn:
            return conn.execute(sa.select(devices.c.label).where(devices.c.device_id == device_id)).scalar()

    def archive_device(self, device_id):
        """Moves a device's records to a new id `<id>~<n>` (a re-provisioned device starts a new log
        numbered from the beginning); returns the archive id, or None if nothing was stored."""
        if self.count(device_id) == 0:
            return None
        self.auto_backup("before-archive")
        with self.transaction() as conn:
            if self.backend == "postgresql":   # the device's row, locked: two archivings never pick one id
                conn.execute(sa.select(devices.c.device_id).where(devices.c.device_id == device_id)
                             .with_for_update())
            n = 1
            while conn.execute(sa.select(devices.c.device_id).where(
                    devices.c.device_id == "%s~%d" % (device_id, n))).first():
                n += 1
            archive = "%s~%d" % (device_id, n)
            copied = ("name", "address", "firmware", "profile", "first_seen", "last_pull")
            conn.execute(devices.insert().from_select(
                ("device_id",) + copied + ("label",),
                sa.select(sa.literal(archive, sa.Text), *(devices.c[c] for c in copied),
                          devices.c.label + sa.literal(" (earlier log %d)" % n, sa.Text))
                .where(devices.c.device_id == device_id)))
            conn.execute(device_keys.insert().from_select(
                ("device_id", "key_id"), sa.select(sa.literal(archive, sa.Text), device_keys.c.key_id)
                .where(device_keys.c.device_id == device_id)))
            conn.execute(records.update().where(records.c.device_id == device_id).values(device_id=archive))
            conn.execute(entries_as_typed.update().where(entries_as_typed.c.device_id == device_id)
                         .values(device_id=archive))
            conn.execute(devices.update().where(devices.c.device_id == device_id)
                         .values(profile=None, last_pull=None))
        return archive

    @staticmethod
    def is_archive(device_id):
        """Whether `device_id` is an earlier log kept apart by archive_device (`<id>~<n>`)."""
        return "~" in device_id

    def devices(self):
        with self._read() as conn:
            return self.devices_in(conn)

    @staticmethod
    def devices_in(conn):
        return list(conn.execute(sa.select(devices.c.device_id).order_by(devices.c.device_id)).scalars())

    # Records

    def store_records(self, device_id, rows):
        """Stores a batch atomically; returns how many records were new."""
        rows = sorted(rows, key=lambda r: r[0])   # one order for every writer: no deadlock between two
        if not rows:
            return 0
        with self.transaction() as conn:
            if self.backend == "sqlite":
                # The statement compiled once, run by the driver's executemany on plain tuples (SQLAlchemy's
                # dict per row took 7 times as long); BEGIN IMMEDIATE makes this the only writer, so the
                # connection's change counter is exactly the rows this batch added.
                driver = self._driver()
                before = driver.total_changes
                conn.exec_driver_sql(self._sqlite_store, [(device_id,) + tuple(r) for r in rows])
                added = driver.total_changes - before
            else:
                # Other writers may commit meanwhile: RETURNING names exactly the rows this one inserted.
                added = len(conn.execute(self._store_statement().returning(records.c.seq),
                                         [dict(zip(STORE_COLUMNS, (device_id,) + tuple(r), strict=True))
                                          for r in rows]).all())
            if added != len(rows):
                self._check_duplicates(conn, device_id, rows)
            conn.execute(devices.update().where(devices.c.device_id == device_id).values(last_pull=int(time.time())))
        return added

    def _store_statement(self):
        """INSERT one record, or nothing when its (device, record number) is held already."""
        return self._insert(records).values({c: sa.bindparam(c) for c in STORE_COLUMNS}).on_conflict_do_nothing(
            index_elements=["device_id", "seq"])

    @functools.cached_property
    def _sqlite_store(self):
        compiled = self._store_statement().compile(dialect=self.engine.dialect)
        assert tuple(compiled.positiontup) == STORE_COLUMNS   # the tuples' order
        return str(compiled)

    def _check_duplicates(self, conn, device_id, rows):
        # Only on re-delivery: every already-held record must be identical.
        seqs = [r[0] for r in rows]
        stored = {}
        columns = [records.c[f] for f in ROW_FIELDS]
        for i in range(0, len(seqs), SEQ_CHUNK):
            chunk = seqs[i:i + SEQ_CHUNK]
            for row in conn.execute(sa.select(*columns).where(records.c.device_id == device_id,
                                                              records.c.seq.in_(chunk))):
                stored[row[0]] = tuple(row)
        for row in rows:
            held = stored.get(row[0])
            if held is not None and held != tuple(row):
                raise RecordConflict(device_id, row[0], held, tuple(row))

    def next_seq(self, device_id):
        with self._read() as conn:
            top = conn.execute(sa.select(sa.func.max(records.c.seq)).where(records.c.device_id == device_id)).scalar()
        return 0 if top is None else top + 1

    def count(self, device_id, kind=None):
        query = sa.select(sa.func.count()).select_from(records).where(records.c.device_id == device_id)
        if kind is not None:
            query = query.where(records.c.kind == kind)
        with self._read() as conn:
            return conn.execute(query).scalar()

    def records(self, device_id, kind=None):
        """Yields (seq, day, minute, kind, code, value, flags) in record-number order."""
        query = sa.select(*(records.c[f] for f in ROW_FIELDS)).where(records.c.device_id == device_id)
        if kind is not None:
            query = query.where(records.c.kind == kind)
        with self._read() as conn:
            return iter([tuple(row) for row in conn.execute(query.order_by(records.c.seq))])

    def remember_as_typed(self, device_id, seq, value, unit, time_given):
        """An entry pushed from this host: the value and unit as typed, and whether a time of day was given."""
        with self.transaction() as conn:
            upsert = self._insert(entries_as_typed).values(device_id=device_id, seq=seq, value=value, unit=unit,
                                                           time_given=int(time_given))
            conn.execute(upsert.on_conflict_do_update(
                index_elements=["device_id", "seq"],
                set_={c: upsert.excluded[c] for c in ("value", "unit", "time_given")}))

    def as_typed(self, device_id):
        """{record number: (value text, unit, time given)} of the entries pushed from this host."""
        t = entries_as_typed
        with self._read() as conn:
            return {seq: (value, unit, bool(given)) for seq, value, unit, given in conn.execute(
                sa.select(t.c.seq, t.c.value, t.c.unit, t.c.time_given).where(t.c.device_id == device_id))}

    def lab_results(self, device_id, code):
        """One analyte's results as (day, minute, value, below_lloq) in date order (stored integer units)."""
        from monitor.records import FLAG_BELOW_LLOQ, KIND_LAB
        query = (sa.select(records.c.day, records.c.minute, records.c.value, records.c.flags)
                 .where(records.c.device_id == device_id, records.c.kind == KIND_LAB, records.c.code == code)
                 .order_by(records.c.day, records.c.minute, records.c.seq))
        with self._read() as conn:
            found = conn.execute(query).all()
        for day, minute, value, flags in found:
            yield day, minute, value, bool(flags & FLAG_BELOW_LLOQ)

    # The audit log

    def audit(self, action, device_id=None, detail=None):
        """Appends who (this HostDB's actor), from where, when and what to the audit log."""
        from host_tools.audit import Actor
        actor = self.actor or Actor.here()
        with self.transaction() as conn:
            conn.execute(audit_log.insert().values(
                at=int(time.time()), os_user=actor.os_user, clinician=actor.clinician, machine=actor.machine,
                action=action, device_id=device_id, detail=detail))

    def audit_entries(self, device_id=None, since=None):
        """The audit log oldest first as dicts (AUDIT_FIELDS); `since` in Unix seconds."""
        query = sa.select(*(audit_log.c[f] for f in AUDIT_FIELDS)).order_by(audit_log.c.entry)
        if device_id is not None:
            query = query.where(audit_log.c.device_id == device_id)
        if since is not None:
            query = query.where(audit_log.c.at >= since)
        with self._read() as conn:
            return [dict(zip(AUDIT_FIELDS, row, strict=True)) for row in conn.execute(query)]
