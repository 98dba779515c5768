"""Schema migrations of the host database by Alembic, with the scripts shipped in host_tools/migrations
(no alembic.ini: the configuration is made here).

A database made by e2mon before Alembic (SQLite, `PRAGMA user_version` 1..4, no alembic_version table) is
stamped with the revision its version stands for, then upgraded like any other. On SQLite the user_version
follows the revision number, so an e2mon from before Alembic refuses a newer file instead of misreading it.
"""
import os

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

SCRIPTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "migrations")
# The hand-written schema steps before Alembic, by the user_version they left in a SQLite file.
LEGACY_REVISIONS = {1: "e2mon_0001", 2: "e2mon_0002", 3: "e2mon_0003", 4: "e2mon_0004"}
# Taken (per transaction) by whoever migrates a PostgreSQL database: two e2mon never migrate at once.
MIGRATION_LOCK = 0x0E2D_B001


def config(connection=None):
    cfg = Config()
    cfg.set_main_option("script_location", SCRIPTS)
    cfg.attributes["connection"] = connection
    return cfg


def scripts():
    return ScriptDirectory.from_config(config())


def head():
    return scripts().get_current_head()


def revision_number(revision):
    """e2mon_0005 -> 5 (the schema version it stands for)."""
    return int(revision.rsplit("_", 1)[-1]) if revision else 0


def state(conn):
    """(revision, known): the database's revision (a legacy SQLite file's revision by its user_version;
    None for an empty database) and whether this e2mon knows it (False: written by a newer e2mon)."""
    revision = MigrationContext.configure(conn).get_current_revision()
    if revision is not None:
        return revision, revision in {s.revision for s in scripts().walk_revisions()}
    if conn.dialect.name != "sqlite" or not conn.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE name='devices'").first():
        return None, True
    version = max(conn.exec_driver_sql("PRAGMA user_version").scalar(), 1)
    if version not in LEGACY_REVISIONS:
        return "user_version %d" % version, False
    return LEGACY_REVISIONS[version], True


def upgrade(conn):
    """Brings the database to the head revision, inside the caller's transaction on `conn`."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(%d)" % MIGRATION_LOCK)
    revision, _known = state(conn)   # again, now that this transaction holds the write lock
    cfg = config(conn)
    if revision is not None and MigrationContext.configure(conn).get_current_revision() is None:
        command.stamp(cfg, revision)
    command.upgrade(cfg, "head")
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA user_version=%d" % revision_number(head()))
