"""Host databases written by e2mon before Alembic (tests/host/old_databases: real files from each schema's
own db.py) upgrade in place after an automatic backup, to the same schema a new database gets."""
import os
import shutil
import sqlite3

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from host_tools import clinic_schema, migrate, schema  # noqa: F401  (clinic_schema: its tables join schema.metadata)
from host_tools.db import SCHEMA_VERSION, DatabaseTooNew, HostDB

OLD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "old_databases")
DEVICE = "C0:E2:00:00:00:01"
EXPECTED_RECORDS = [(0, 20400, 480, 0, 1, 640, 0), (1, 20401, 490, 1, 1, 100000, 1),   # testosterone in µg
                    (2, 20402, 500, 1, 0, 500, 1), (3, 20403, 510, 2, 2, 2, 0)]


def schema_differences(db):
    """What Alembic's autogenerate finds between the database and host_tools.schema ([] when the same).
    Two differences that are none to SQLite are left out: INTEGER for BIGINT (both 64-bit integers there)
    and a TEXT primary key the old CREATE TABLE left nullable (e2mon never stores a NULL id)."""
    with db.engine.connect() as conn:
        found = compare_metadata(MigrationContext.configure(conn), schema.metadata)
    if db.backend != "sqlite":
        return found
    return [change for change in found if not (
        isinstance(change, list) and change[0][0] == "modify_type"
        and {type(change[0][5]).__name__, type(change[0][6]).__name__} == {"INTEGER", "BigInteger"}
        or isinstance(change, list) and change[0][0] == "modify_nullable" and change[0][3] == "device_id")]


def old_copy(tmp_path, version):
    folder = tmp_path / "db"
    folder.mkdir(mode=0o700)
    path = folder / ("schema-%d.sqlite" % version)
    shutil.copy(os.path.join(OLD, "schema-%d.sqlite" % version), path)
    os.chmod(path, 0o600)
    return str(path)


@pytest.mark.parametrize("version", [1, 2, 3, 4])
def test_a_real_old_file_upgrades_in_place_after_a_backup(tmp_path, version):
    path = old_copy(tmp_path, version)
    with HostDB(path) as db:
        assert db.schema_revision() == migrate.head()
        assert list(db.records(DEVICE)) == EXPECTED_RECORDS
        assert db.device(DEVICE)["profile"] == b"\x01profile" and db.device(DEVICE)["firmware"] == "0.%d" % version
        assert db.label(DEVICE) == ("patient 12" if version >= 2 else None)
        assert db.key_id(DEVICE) == ("fingerprint-1" if version >= 4 else None)
        assert schema_differences(db) == []
        db.audit("pull", DEVICE, "after the upgrade")
        assert [e["detail"] for e in db.audit_entries()] == ["after the upgrade"]
    (backup,) = os.listdir(path + ".backups")
    assert "before-schema-%d" % SCHEMA_VERSION in backup
    kept = sqlite3.connect(os.path.join(path + ".backups", backup))
    assert kept.execute("PRAGMA user_version").fetchone()[0] == version   # the file as it was
    kept.close()
    upgraded = sqlite3.connect(path)
    assert upgraded.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION   # older e2mon refuse it
    upgraded.close()
    with HostDB(path) as db:   # opened again: nothing more to do, no second backup
        assert list(db.records(DEVICE)) == EXPECTED_RECORDS
    assert len(os.listdir(path + ".backups")) == 1


def test_a_new_database_has_the_schema_module_tables(db_target):
    with HostDB(db_target) as db:
        assert db.schema_revision() == migrate.head() == "e2mon_%04d" % SCHEMA_VERSION
        assert schema_differences(db) == []


def test_a_database_from_a_newer_e2mon_is_refused_untouched(db_target):
    with HostDB(db_target) as db:
        with db.transaction() as conn:
            conn.execute(sa.text("UPDATE alembic_version SET version_num = 'e2mon_9999'"))
    with pytest.raises(DatabaseTooNew, match="newer e2mon"):
        HostDB(db_target)


def test_the_revision_files_are_alembics_one_line_of_history():
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(migrate.config())
    assert scripts.get_heads() == [migrate.head()]
    assert [s.revision for s in reversed(list(scripts.walk_revisions()))] == list(migrate.known_revisions())
    assert migrate.known_revisions() == tuple("e2mon_%04d" % n for n in range(1, SCHEMA_VERSION + 1))


def test_a_postgresql_database_at_an_older_revision_upgrades_after_a_pg_dump(pg_url, tmp_path):
    from alembic import command

    from host_tools import db_url
    from host_tools.db import automatic_backups

    engine = db_url.engine_for(pg_url)
    with engine.begin() as conn:
        command.upgrade(migrate.config(conn), "e2mon_0004")
        conn.execute(sa.text("INSERT INTO devices(device_id, first_seen) VALUES ('dev-a', 1)"))
        conn.execute(sa.text("INSERT INTO records VALUES ('dev-a', 0, 9000, 0, 1, 1, 100000, 0)"))
    engine.dispose()
    with HostDB(pg_url) as db:
        assert db.schema_revision() == migrate.head() and list(db.records("dev-a")) == [(0, 9000, 0, 1, 1, 100000, 0)]
        db.audit("pull", "dev-a")
    (backup,) = automatic_backups(pg_url)
    assert "before-schema-%d" % SCHEMA_VERSION in backup and os.path.getsize(backup) > 0
    assert str(tmp_path) in backup   # under $XDG_DATA_HOME (the fixture's), never beside a URL
