"""Schema migrations of the host database by Alembic, with the scripts shipped in host_tools/migrations
(no alembic.ini: the configuration is made here).

Revision ids are `e2mon_NNNN`, numbered in order, one file each (`e2mon_NNNN_what.py`): which revisions
exist and which is the head come from the file names, so opening a database that is up to date does not
load Alembic (tests/host/test_host_db_upgrade.py checks Alembic's own view agrees). A database made by e2mon
before Alembic (SQLite, `PRAGMA user_version` 1..4, no alembic_version table) is stamped with the revision
its version stands for, then upgraded like any other. On SQLite the user_version follows the revision
number, so an e2mon from before Alembic refuses a newer file instead of misreading it.
"""
import functools
import os
import re

import sqlalchemy as sa

SCRIPTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "migrations")
REVISION_FILE = re.compile(r"^(e2mon_\d{4})_\w+\.py$")
# The hand-written schema steps before Alembic, by the user_version they left in a SQLite file.
LEGACY_REVISIONS = {1: "e2mon_0001", 2: "e2mon_0002", 3: "e2mon_0003", 4: "e2mon_0004"}
# Taken (per transaction) by whoever migrates a PostgreSQL database: two e2mon never migrate at once.
MIGRATION_LOCK = 0x0E2D_B001


def config(connection=None):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", SCRIPTS)
    cfg.attributes["connection"] = connection
    return cfg


@functools.cache
def known_revisions():
    """Every revision id shipped, oldest first (from the file names in migrations/versions)."""
    names = os.listdir(os.path.join(SCRIPTS, "versions"))
    return tuple(sorted(m.group(1) for m in map(REVISION_FILE.match, names) if m))


def head():
    return known_revisions()[-1]


def revision_number(revision):
    """e2mon_0005 -> 5 (the schema version it stands for)."""
    return int(revision.rsplit("_", 1)[-1]) if revision else 0


def _stamped(conn):
    if not sa.inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def state(conn):
    """(revision, known): the database's revision (a legacy SQLite file's revision by its user_version;
    None for an empty database) and whether this e2mon knows it (False: written by a newer e2mon)."""
    revision = _stamped(conn)
    if revision is not None:
        return revision, revision in known_revisions()
    if conn.dialect.name != "sqlite" or not conn.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE name='devices'").first():
        return None, True
    version = max(conn.exec_driver_sql("PRAGMA user_version").scalar(), 1)
    if version not in LEGACY_REVISIONS:
        return "user_version %d" % version, False
    return LEGACY_REVISIONS[version], True


def upgrade(conn):
    """Brings the database to the head revision, inside the caller's transaction on `conn`."""
    from alembic import command

    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(%d)" % MIGRATION_LOCK)
    revision, _known = state(conn)   # again, now that this transaction holds the write lock
    cfg = config(conn)
    if revision is not None and _stamped(conn) is None:
        command.stamp(cfg, revision)
    command.upgrade(cfg, "head")
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA user_version=%d" % revision_number(head()))
