"""Where the host database is: a file path (SQLite, the default) or a database URL (postgresql://…).

`is_url(target)` tells them apart; `engine_for(target)` makes the SQLAlchemy engine (SQLite with
transactions e2mon begins itself, BEGIN IMMEDIATE for writes; PostgreSQL through psycopg 3);
`shown(target)` is the name to print, with any password in a URL hidden.
"""
import re

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.pool import NullPool

URL_PATTERN = re.compile(r"^[a-z][a-z0-9+]*://", re.IGNORECASE)
SQLITE_BUSY_TIMEOUT_S = 10


class UnsupportedDatabase(ValueError):
    pass


def is_url(target):
    return bool(target) and bool(URL_PATTERN.match(str(target)))


def as_target(target):
    """A sqlite:///path URL as its path (so the file gets a path's checks: private, sniffed, backed up
    beside it); anything else as given."""
    if is_url(target) and str(target).lower().startswith("sqlite"):
        return sa.engine.make_url(target).database or ":memory:"
    return target


def backend(target):
    """'postgresql' or 'sqlite' (a path, or a sqlite:// URL); any other URL raises ValueError."""
    if not is_url(target):
        return "sqlite"
    try:
        name = sa.engine.make_url(target).get_backend_name()
    except sa.exc.ArgumentError:
        raise UnsupportedDatabase("URL %s is not understood" % shown_unparsed(target)) from None
    if name not in ("postgresql", "sqlite"):
        raise UnsupportedDatabase("e2mon keeps its records in SQLite (a file path) or PostgreSQL (postgresql://…), "
                         "not %s" % name)
    return name


def shown_unparsed(target):
    """A URL that did not parse, as it may be printed: whatever sits between :// and @ is dropped."""
    scheme, _, rest = str(target).partition("://")
    return "%s://%s" % (scheme, rest.rpartition("@")[2])


def shown(target):
    """The database as it may be printed: a URL's password is never shown."""
    if not is_url(target):
        return target
    return sa.engine.make_url(target).render_as_string(hide_password=True)


def sqlalchemy_url(target):
    """The URL SQLAlchemy opens: a path becomes sqlite:///path; postgresql:// goes through psycopg 3."""
    if not is_url(target):
        return sa.engine.URL.create("sqlite", database=target)
    url = sa.engine.make_url(target)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url


def holds_tables(target):
    """Whether the database at a URL has e2mon's tables (True too when it cannot be asked)."""
    engine = engine_for(target)
    try:
        with engine.connect() as conn:
            return sa.inspect(conn).has_table("devices")
    except sa.exc.DBAPIError:
        return True
    finally:
        engine.dispose()


def engine_for(target):
    url = sqlalchemy_url(target)
    if url.get_backend_name() != "sqlite":
        # One connection per HostDB (a command, a thread): nothing pooled between them.
        return sa.create_engine(url, poolclass=NullPool, connect_args={"application_name": "e2mon"})
    engine = sa.create_engine(url, poolclass=NullPool, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})

    @event.listens_for(engine, "connect")
    def _no_driver_transactions(dbapi_connection, _record):
        dbapi_connection.isolation_level = None   # BEGIN comes from _begin below, not from pysqlite

    @event.listens_for(engine, "begin")
    def _begin(conn):
        # A write takes SQLite's write lock at once (no deadlock between two upgrading readers); a read
        # never waits for another e2mon's transaction.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("writing") else "BEGIN")

    return engine
