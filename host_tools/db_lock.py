"""The lock one device command holds on the host database, so a second e2mon says who is busy instead of
talking to the same device at once.

SQLite: an flock on `<db>.lock` (one device command per database file; the kernel drops it if the process
dies). PostgreSQL: a session advisory lock per device on a connection held for the command (several
clinicians pull different devices at once; the server drops it with the connection); the holder is named
by its connection's application_name.
"""
import contextlib
import fcntl
import os
import zlib

from host_tools import db_url

LOCK_NAMESPACE = 0x0E2            # the first key of e2mon's two-key advisory locks
APPLICATION_NAME_LIMIT = 63       # PostgreSQL cuts application_name there


class DatabaseBusy(Exception):
    def __init__(self, path, holder):
        self.path = path
        self.holder = holder
        super().__init__("another e2mon (%s) is using the host database %s" % (holder or "unknown", path))


def device_lock_key(device):
    """The advisory lock's second key for a device (any case); 0 stands for 'no device named'."""
    return zlib.crc32((device or "").strip().upper().encode()) & 0x7FFFFFFF if device else 0


@contextlib.contextmanager
def exclusive(target, what, device=None):
    if db_url.backend(target) == "postgresql":
        with _advisory(target, what, device):
            yield
        return
    with _file_lock(target, what):
        yield


@contextlib.contextmanager
def _advisory(target, what, device):
    import sqlalchemy as sa

    holder = ("e2mon pid %d, %s" % (os.getpid(), what))[:APPLICATION_NAME_LIMIT]
    key = device_lock_key(device)
    engine = db_url.engine_for(target).execution_options(isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT set_config('application_name', :name, false)"), {"name": holder})
        if not conn.execute(sa.text("SELECT pg_try_advisory_lock(:ns, :key)"),
                            {"ns": LOCK_NAMESPACE, "key": key}).scalar():
            other = conn.execute(sa.text(
                "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.classid = :ns AND l.objid = :key AND l.granted"),
                {"ns": LOCK_NAMESPACE, "key": key}).scalar()
            raise DatabaseBusy(db_url.shown(target), other)
        try:
            yield
        finally:
            conn.execute(sa.text("SELECT pg_advisory_unlock(:ns, :key)"), {"ns": LOCK_NAMESPACE, "key": key})
    engine.dispose()


@contextlib.contextmanager
def _file_lock(path, what):
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
