"""The host database shared by a clinic: a PostgreSQL URL wherever a file was given (--db, $E2MON_DB, the
settings file), `e2mon db copy` of a SQLite history into PostgreSQL with nothing lost, the append-only audit
log and `e2mon audit`, and `e2mon backup` through pg_dump."""
import json
import os
import subprocess

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from host_tools import cli as cli_module
from host_tools import failures
from host_tools.db import HostDB
from test_cli_clinic import make_db

NO_SETTINGS = {"E2MON_DB": None, "E2MON_CLINICIAN": None, "E2MON_SETTINGS": "/nonexistent/settings.toml"}


def e2mon(*args, env=None):
    cli_module._register()
    return CliRunner().invoke(cli_module.cli, list(args), env=dict(NO_SETTINGS, **(env or {})),
                              catch_exceptions=False)


def history(target):
    """Everything a host database holds, as plain values (the audit log without its copy entry)."""
    with HostDB(target) as db:
        return {"devices": {d: db.device(d) for d in db.devices()},
                "keys": {d: db.key_id(d) for d in db.devices()},
                "records": {d: list(db.records(d)) for d in db.devices()},
                "audit": [e for e in db.audit_entries() if e["action"] != "db copy"]}


def a_clinic_history(path):
    make_db(path, "dev-a")
    make_db(path, "dev-b")
    with HostDB(str(path)) as db:
        db.set_label("dev-a", "patient 12")
        db.set_profile("dev-b", b"\x00\xffprofile")
        db.bind_key("dev-a", "key-1")
        db.bind_key("dev-a", "key-2")   # files the first history apart as dev-a~1
        db.store_records("dev-a", [(0, 20500, 1, 2, 3, 1, 0)])
        db.audit("pull", "dev-a", "1 new records")
    return str(path)


def test_db_copy_moves_a_sqlite_history_into_postgresql_with_nothing_lost(tmp_path, pg_url):
    source = a_clinic_history(tmp_path / "laptop.sqlite")
    copied = e2mon("--json", "db", "copy", source, pg_url, env={"E2MON_CLINICIAN": "Dr Copy"})
    assert copied.exit_code == 0, copied.output
    report = json.loads(copied.output)
    assert report["same"] is True
    counts = {t["table"]: (t["source_rows"], t["dest_rows"]) for t in report["tables"]}
    assert counts == {"devices": (3, 3), "device_keys": (2, 2), "records": (11, 11), "audit_log": (1, 1)}
    assert all(t["source_sha256"] == t["dest_sha256"] for t in report["tables"])
    assert history(pg_url) == history(source)
    with HostDB(pg_url) as db:
        (entry,) = [e for e in db.audit_entries() if e["action"] == "db copy"]
        assert entry["clinician"] == "Dr Copy" and "laptop.sqlite" in entry["detail"]
        db.audit("pull", "dev-b", "after the copy")   # the log's numbering goes on after the copied entries
    again = e2mon("db", "copy", source, pg_url)
    assert again.exit_code == failures.EXIT_REJECTED and "already holds devices" in again.output
    assert len(history(pg_url)["audit"]) == 2


def test_the_audit_log_refuses_update_and_delete(db_target):
    with HostDB(db_target) as db:
        db.audit("pull", "dev-a", "first")
        for statement in ("UPDATE audit_log SET detail = 'edited'", "DELETE FROM audit_log") + (
                ("TRUNCATE audit_log",) if db.backend == "postgresql" else ()):
            with pytest.raises(sa.exc.DBAPIError, match="append-only"):
                with db.transaction() as conn:
                    conn.execute(sa.text(statement))
        assert [e["detail"] for e in db.audit_entries()] == ["first"]


def test_e2mon_audit_shows_who_did_what_where_and_when(db_target, tmp_path):
    target = db_target if "://" in db_target else str(make_db(db_target))
    if "://" in target:
        with HostDB(target) as db:
            db.ensure_device("dev-a")
    env = {"E2MON_CLINICIAN": "Dr A. Example"}
    assert e2mon("--db", target, "devices", "label", "dev-a", "patient 12", env=env).exit_code == 0
    assert e2mon("--db", target, "devices", "remove", "dev-a", "--yes", env=env).exit_code == 0
    shown = e2mon("--db", target, "--json", "audit", env=env)
    assert shown.exit_code == 0, shown.output
    entries = json.loads(shown.output)
    assert [e["action"] for e in entries] == ["devices label", "devices remove"]
    assert all(e["clinician"] == "Dr A. Example" and e["os_user"] and e["machine"] and e["device_id"] == "dev-a"
               for e in entries)
    text = e2mon("--db", target, "audit", "--device", "dev-a").output
    assert "devices label" in text and "Dr A. Example" in text and "patient 12" in text
    assert json.loads(e2mon("--db", target, "--json", "audit", "--device", "dev-b").output) == []
    assert json.loads(e2mon("--db", target, "--json", "audit", "--since", "2999-01-01").output) == []
    bad = e2mon("--db", target, "audit", "--since", "yesterday")
    assert bad.exit_code == failures.EXIT_USAGE and "YYYY-MM-DD" in bad.output


def test_backup_of_postgresql_is_a_pg_dump_that_restores(pg_url, postgres_server, tmp_path):
    a_clinic_history_path = a_clinic_history(tmp_path / "laptop.sqlite")
    assert e2mon("db", "copy", a_clinic_history_path, pg_url).exit_code == 0
    folder = tmp_path / "backups"
    folder.mkdir()
    result = e2mon("--db", pg_url, "--json", "backup", str(folder))
    assert result.exit_code == 0, result.output
    done = json.loads(result.output)
    assert done["backend"] == "postgresql" and "pg_dump" in done["method"]
    assert done["backup"].endswith(".dump") and oct(os.stat(done["backup"]).st_mode & 0o777) == "0o600"
    text = e2mon("--db", pg_url, "backup", str(folder / "second.dump")).output
    assert "with pg_dump" in text and "pg_restore" in text
    restored = postgres_server.url(postgres_server.new_database())
    subprocess.run([os.path.join(postgres_server.bindir, "pg_restore"), "--no-owner", "--dbname", restored,
                    done["backup"]], check=True, capture_output=True)
    assert history(restored) == history(pg_url)
    refused = e2mon("--db", pg_url, "restore", done["backup"], "--yes")
    assert refused.exit_code == failures.EXIT_REJECTED and "pg_restore" in refused.output


def test_backup_of_sqlite_says_it_used_the_online_backup_api(tmp_path):
    path = str(make_db(tmp_path / "h.sqlite"))
    text = e2mon("--db", path, "backup", str(tmp_path / "copy.sqlite")).output
    assert "SQLite's online backup API" in text and "e2mon restore" in text


def test_a_url_password_is_never_printed(postgres_server, pg_url):
    with_password = pg_url.replace("e2mon@", "e2mon:s3cret-word@")
    for args in (("db", "init"), ("devices",), ("--json", "db", "check")):
        result = e2mon("--db", with_password, *args)
        assert result.exit_code == 0, result.output
        assert "s3cret-word" not in result.output and "***" in result.output or args == ("devices",)
    refused = e2mon("--db", "postgresql://e2mon:s3cret-word@127.0.0.1:1/none", "devices")
    assert refused.exit_code == failures.EXIT_STORAGE and "s3cret-word" not in refused.output


def test_the_settings_file_names_the_database_and_the_clinician(pg_url, tmp_path):
    settings = tmp_path / "settings.toml"
    settings.write_text('database = "%s"\nclinician = "Dr Settings"\n' % pg_url)
    env = {"E2MON_SETTINGS": str(settings)}
    assert e2mon("db", "init", env=env).exit_code == 0
    with HostDB(pg_url) as db:
        db.ensure_device("dev-s")
    assert e2mon("devices", "label", "dev-s", "patient 3", env=env).exit_code == 0
    (entry,) = json.loads(e2mon("--json", "audit", env=env).output)
    assert entry["clinician"] == "Dr Settings"
    settings.write_text('databse = "typo"\n')
    bad = e2mon("devices", env=env)
    assert bad.exit_code == failures.EXIT_REJECTED and "databse" in bad.output


def test_an_empty_postgresql_database_is_no_host_database_yet(pg_url):
    from host_tools.settings import Settings

    assert Settings(db_path=pg_url).db_exists() is False   # a profile change is not recorded into nothing
    missing = e2mon("--db", pg_url, "devices")
    assert missing.exit_code == failures.EXIT_STORAGE and "e2mon db init" in missing.output
    assert e2mon("--db", pg_url, "db", "init").exit_code == 0
    assert Settings(db_path=pg_url).db_exists() is True
    assert "already exists" in e2mon("--db", pg_url, "db", "init").output


def test_a_sqlite_url_is_its_file(tmp_path):
    path = make_db(tmp_path / "h.sqlite")
    listed = e2mon("--json", "--db", "sqlite:///%s" % path, "devices")
    assert listed.exit_code == 0 and json.loads(listed.output)[0]["device_id"] == "dev-a"
    os.chmod(path, 0o644)   # the file's own rule holds through the URL too
    assert e2mon("--db", "sqlite:///%s" % path, "devices").exit_code == failures.EXIT_STORAGE
