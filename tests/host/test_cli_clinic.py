"""The CLI in a clinic without a device: the host database as patient data (private, backed up, locked, damage
explained), errors that say what happened (one line, JSON with --json, one exit code per cause, quiet on a
closed pipe), and what a clinic expects of the CLI (labels, dates, --since/--until, options anywhere)."""
import csv
import io
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys

import pytest
from click.testing import CliRunner

from host_tools import cli as cli_module
from host_tools import failures, keys
from host_tools.db import HostDB, exclusive
from monitor import dates, records

from paths import ROOT  # noqa: E402
E2MON = os.path.join(os.path.dirname(sys.executable), "e2mon")
DAY = dates.days_from_civil(2026, 9, 1)


def make_db(path, device="dev-a"):
    with HostDB(str(path)) as db:
        db.ensure_device(device)
        db.store_records(device, [
            (0, DAY, 480, records.KIND_DOSE, records.D_ANASTROZOLE, 500, 0),
            (1, DAY + 30, 540, records.KIND_LAB, records.A_E2, 180, records.METHOD_LCMS),
            (2, DAY + 31, 600, records.KIND_EVENT, records.EVENT_CLOCK_SET, 3 * 86400 + 7200, 0),
            (3, DAY + 31, 601, records.KIND_EVENT, records.EVENT_PROFILE_SET, 0x1234ABCD, 0),
            (4, DAY + 60, 541, records.KIND_LAB, records.A_HCT, 544, 0),
        ])
    return path


def e2mon(*args, env=None):
    cli_module._register()
    return CliRunner().invoke(cli_module.cli, list(args), env=env, catch_exceptions=False)


def error_lines(result):
    return [line for line in result.output.splitlines() if line.startswith("Error:")]


# ---- the database is patient data ---------------------------------------------------------------------

def test_database_is_created_private_and_a_readable_one_is_refused(tmp_path):
    data_home = tmp_path / "data"
    result = e2mon("db", "init", env={"XDG_DATA_HOME": str(data_home), "E2MON_DB": None})
    assert result.exit_code == 0, result.output
    db_file = data_home / "e2mon" / "e2mon.sqlite"
    assert "created the host database %s" % db_file in result.output
    assert oct(db_file.stat().st_mode & 0o777) == "0o600"
    assert oct(db_file.parent.stat().st_mode & 0o777) == "0o700"
    os.chmod(db_file, 0o644)
    refused = e2mon("--db", str(db_file), "devices")
    assert refused.exit_code == failures.EXIT_STORAGE
    assert "readable by other users" in error_lines(refused)[0] and "chmod 600" in refused.output


def test_backup_uses_a_consistent_copy_and_never_overwrites(tmp_path):
    db_path = make_db(tmp_path / "h.sqlite")
    dest = tmp_path / "copy.sqlite"
    # A writer holds an open transaction meanwhile: the backup still gets the committed state.
    writer = sqlite3.connect(str(db_path), isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("DELETE FROM records")
    try:
        result = e2mon("--db", str(db_path), "--json", "backup", str(dest))
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["records"] == {"dev-a": 5}
    assert oct(dest.stat().st_mode & 0o777) == "0o600"
    with HostDB(str(dest)) as copy:
        assert [r[0] for r in copy.records("dev-a")] == [0, 1, 2, 3, 4]
    again = e2mon("--db", str(db_path), "backup", str(dest))
    assert again.exit_code == failures.EXIT_STORAGE and "already exists" in error_lines(again)[0]
    into_dir = e2mon("--db", str(db_path), "--json", "backup", str(tmp_path))
    assert into_dir.exit_code == 0 and os.path.exists(json.loads(into_dir.output)["backup"])


# ---- every file with patient data in it is private and replaces only a regular file ---------------------

OUTPUTS = [("export", "--format", "csv", "--out"), ("export", "--format", "json", "--out"),
           ("export", "--format", "fhir", "--out"), ("export", "--format", "history", "--out"),
           ("report", "--out")]


def out_name(command, name="out"):
    return name + (".png" if command[0] == "report" else ".txt")


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_exports_reports_and_backups_are_0600(tmp_path, umask_022):
    db_path = make_db(tmp_path / "h.sqlite")
    for command in OUTPUTS:
        out = tmp_path / out_name(command, "out-%s" % command[-2])
        assert e2mon("--db", str(db_path), *command, str(out)).exit_code == 0
        assert oct(out.stat().st_mode & 0o777) == "0o600", command
    html = tmp_path / "report.html"
    assert e2mon("--db", str(db_path), "report", "--out", str(html)).exit_code == 0
    assert oct(html.stat().st_mode & 0o777) == "0o600"
    assert e2mon("--db", str(db_path), "backup", str(tmp_path / "b.sqlite")).exit_code == 0
    assert oct((tmp_path / "b.sqlite").stat().st_mode & 0o777) == "0o600"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []


def test_a_planted_part_symlink_is_never_written_through(tmp_path):
    db_path = make_db(tmp_path / "h.sqlite")
    victim = tmp_path / "victim"
    for command in OUTPUTS:
        out = tmp_path / out_name(command)
        victim.write_text("precious")
        for planted in (str(out) + ".part", str(out) + ".tmp"):
            if os.path.lexists(planted):
                os.remove(planted)
            os.symlink(victim, planted)
        assert e2mon("--db", str(db_path), *command, str(out)).exit_code == 0, command
        assert victim.read_text() == "precious" and out.stat().st_size > 0 and not out.is_symlink()
    dest = tmp_path / "copy.sqlite"
    os.symlink(victim, str(dest) + ".part")
    assert e2mon("--db", str(db_path), "backup", str(dest)).exit_code == 0
    assert victim.read_text() == "precious" and HostDB(str(dest)).count("dev-a") == 5


def test_a_device_or_pipe_target_is_written_through_not_replaced(tmp_path):
    """`--out /dev/null` (tested on a FIFO and, where allowed, a character device made here: never the
    machine's own /dev/null) writes through; a directory is refused; nothing is renamed over either."""
    import stat
    import threading
    db_path = make_db(tmp_path / "h.sqlite")
    fifo = tmp_path / "pipe.png"          # report wants a .png or .html name
    os.mkfifo(fifo)
    for command in OUTPUTS:
        got = []
        reader = threading.Thread(target=lambda got=got: got.append(open(fifo, "rb").read()), daemon=True)
        reader.start()
        result = e2mon("--db", str(db_path), *command, str(fifo))
        reader.join(30)
        assert result.exit_code == 0, (command, result.output)
        assert stat.S_ISFIFO(os.stat(fifo).st_mode) and got[0], command
    null = tmp_path / "null.png"
    try:
        os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except PermissionError:
        null = None
    if null is not None:
        for command in OUTPUTS:
            assert e2mon("--db", str(db_path), *command, str(null)).exit_code == 0, command
            assert stat.S_ISCHR(os.stat(null).st_mode)
    folder = tmp_path / "folder.png"
    folder.mkdir()
    for command in OUTPUTS:
        refused = e2mon("--db", str(db_path), *command, str(folder))
        assert refused.exit_code == failures.EXIT_REJECTED and "not a regular file" in error_lines(refused)[0]
        assert folder.is_dir()
    assert e2mon("--db", str(db_path), "backup", str(fifo)).exit_code == failures.EXIT_STORAGE   # it exists
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


OLD_SCHEMA = """
CREATE TABLE devices (device_id TEXT PRIMARY KEY, name TEXT, address TEXT, firmware TEXT, profile BLOB,
                      first_seen INTEGER NOT NULL, last_pull INTEGER);
CREATE TABLE records (device_id TEXT NOT NULL REFERENCES devices(device_id), seq INTEGER NOT NULL,
                      day INTEGER NOT NULL, minute INTEGER NOT NULL, kind INTEGER NOT NULL, code INTEGER NOT NULL,
                      value INTEGER NOT NULL, flags INTEGER NOT NULL, PRIMARY KEY (device_id, seq)) WITHOUT ROWID;
INSERT INTO devices(device_id, first_seen) VALUES ('dev-old', 1);
INSERT INTO records VALUES ('dev-old', 0, 9000, 0, 1, 0, 500, 0);
PRAGMA user_version=1;
"""


def test_a_schema_upgrade_keeps_a_backup_of_the_old_file_first(tmp_path):
    db_path = tmp_path / "old.sqlite"
    fd = os.open(db_path, os.O_CREAT | os.O_WRONLY, 0o600)
    os.close(fd)
    old = sqlite3.connect(str(db_path))
    old.executescript(OLD_SCHEMA)
    old.close()
    assert e2mon("--db", str(db_path), "devices", "label", "dev-old", "patient 7").exit_code == 0
    backups = os.listdir(str(db_path) + ".backups")
    assert len(backups) == 1 and "before-schema" in backups[0]
    kept = sqlite3.connect(os.path.join(str(db_path) + ".backups", backups[0]))
    assert kept.execute("PRAGMA user_version").fetchone()[0] == 1
    assert kept.execute("SELECT COUNT(*) FROM records").fetchone()[0] == 1
    with HostDB(str(db_path)) as db:
        assert db.label("dev-old") == "patient 7" and db.count("dev-old") == 1


def test_archiving_a_device_log_takes_a_backup_first(tmp_path):
    db_path = make_db(tmp_path / "h.sqlite")
    with HostDB(str(db_path)) as db:
        assert db.archive_device("dev-a") == "dev-a~1"
    (backup,) = os.listdir(str(db_path) + ".backups")
    with HostDB(os.path.join(str(db_path) + ".backups", backup)) as copy:
        assert copy.count("dev-a") == 5 and copy.devices() == ["dev-a"]


def test_a_damaged_database_says_how_to_restore_it(tmp_path):
    db_path = make_db(tmp_path / "h.sqlite")
    with HostDB(str(db_path)) as db:
        newest = db.auto_backup("test")
    with open(db_path, "r+b") as f:
        f.write(b"this is no longer a database" * 40)
    result = e2mon("--db", str(db_path), "export")
    assert result.exit_code == failures.EXIT_STORAGE
    (line,) = error_lines(result)
    assert "damaged" in line and "Restore the newest backup" in line and newest in line


def _overwrite_pages(path, pages=10, nbytes=200):
    """What a failing disk does: bytes overwritten in several pages in the middle of the file."""
    page_size = 4096
    count = os.path.getsize(path) // page_size
    with open(path, "r+b") as f:
        for k in range(pages):
            f.seek((count // 2 - pages // 2 + k) * page_size + 1000)
            f.write(bytes((k * 37 + i * 11) % 256 for i in range(nbytes)))


def test_damaged_pages_stop_every_command_and_name_the_backup_that_restores_it(tmp_path):
    db_path = str(tmp_path / "h.sqlite")
    with HostDB(db_path) as db:
        db.ensure_device("dev-a")
        db.store_records("dev-a", [(i, DAY + i // 20, i % 1440, records.KIND_SYMPTOM, 0, i % 4, 0)
                                   for i in range(20000)])
    manual = str(tmp_path / "before.sqlite")
    assert e2mon("--db", db_path, "backup", manual).exit_code == 0
    _overwrite_pages(db_path)
    for args in (["devices"], ["export"], ["report", "--out", str(tmp_path / "r.png")],
                 ["backup", str(tmp_path / "copy.sqlite")], ["db", "check"], ["--sim", "pull"]):
        result = e2mon("--db", db_path, *args, env={"E2MON_SIM_TRANSPORT": "127.0.0.1:9"})
        assert result.exit_code == failures.EXIT_STORAGE, (args, result.output)
        (line,) = error_lines(result)
        assert "is damaged" in line and "e2mon --db %s restore %s --yes" % (db_path, manual) in line, line
    assert not os.path.exists(tmp_path / "copy.sqlite") and not os.path.exists(tmp_path / "r.png")
    refused = e2mon("--db", db_path, "restore", manual)
    assert refused.exit_code == failures.EXIT_REJECTED and "--yes" in error_lines(refused)[0]
    restored = e2mon("--db", db_path, "--json", "restore", manual, "--yes")
    assert restored.exit_code == 0, restored.output
    kept = json.loads(restored.output)["replaced_kept_as"]
    assert os.path.exists(kept) and oct(os.stat(db_path).st_mode & 0o777) == "0o600"
    assert json.loads(e2mon("--db", db_path, "--json", "devices").output)[0]["records"] == 20000
    assert "is sound: 20000 records" in e2mon("--db", db_path, "db", "check").output


def test_damage_without_any_backup_says_so_and_a_damaged_backup_is_not_restored(tmp_path):
    db_path = str(tmp_path / "h.sqlite")
    make_db(db_path)
    with HostDB(db_path) as db:
        db.ensure_device("dev-b")
        db.store_records("dev-b", [(i, DAY, 0, records.KIND_SYMPTOM, 0, 1, 0) for i in range(5000)])
    _overwrite_pages(db_path, pages=4)
    result = e2mon("--db", db_path, "export", "--device", "dev-b")
    assert result.exit_code == failures.EXIT_STORAGE
    assert "No backup of it exists" in result.output and ".backups/" not in result.output
    other = str(tmp_path / "other.sqlite")
    make_db(other)
    assert e2mon("--db", other, "restore", db_path, "--yes").exit_code == failures.EXIT_STORAGE
    assert e2mon("--db", other, "db", "check").exit_code == 0


def test_a_file_that_is_no_database_is_named_as_such(tmp_path):
    csv_file = tmp_path / "labs.csv"
    csv_file.write_text("date,analyte,value\n2026-09-01,E2,38\n")
    for args in (["devices"], ["export"], ["db", "check"]):
        result = e2mon("--db", str(csv_file), *args)
        assert result.exit_code == failures.EXIT_STORAGE
        (line,) = error_lines(result)
        assert "is not a SQLite database (it holds CSV" in line and "damaged" not in line
    assert csv_file.read_text().startswith("date,analyte")


def test_a_mistyped_db_path_creates_nothing(tmp_path):
    typo = tmp_path / "e2mno" / "e2mon.sqlite"
    env = {"E2MON_SIM_TRANSPORT": "127.0.0.1:9"}
    for args in (["devices"], ["export"], ["report", "--out", str(tmp_path / "r.png")], ["db", "check"],
                 ["backup", str(tmp_path / "b.sqlite")], ["devices", "label", "dev-a", "patient 1"]):
        result = e2mon("--db", str(typo), *args, env=env)
        assert result.exit_code == failures.EXIT_STORAGE, (args, result.output)
        assert "there is no host database at %s" % typo in error_lines(result)[0]
    assert e2mon("--db", str(typo), "--sim", "alerts", env=env).exit_code == failures.EXIT_NOT_FOUND
    assert not typo.parent.exists()
    assert e2mon("--db", str(typo), "db", "init").exit_code == 0 and typo.exists()
    again = e2mon("--db", str(typo), "db", "init")
    assert again.exit_code == 0 and "already exists" in again.output


def test_a_second_e2mon_on_the_same_database_says_another_is_running(tmp_path):
    db_path = str(tmp_path / "h.sqlite")
    with exclusive(db_path, "pulling"):
        result = e2mon("--db", db_path, "--sim", "pull", env={"E2MON_SIM_TRANSPORT": "127.0.0.1:9"})
    assert result.exit_code == failures.EXIT_BUSY
    (line,) = error_lines(result)
    assert "another e2mon (pid %d, pulling)" % os.getpid() in line and "Wait for it" in line
    after = e2mon("--db", db_path, "--sim", "pull", env={"E2MON_SIM_TRANSPORT": "127.0.0.1:9"})
    assert after.exit_code == failures.EXIT_NOT_FOUND   # the lock went with the first one


# ---- errors that say what happened --------------------------------------------------------------------

def test_a_closed_output_pipe_ends_quietly(tmp_path):
    db_path = make_db(tmp_path / "h.sqlite")
    for args in (["export"], ["devices"], ["--json", "devices"]):
        proc = subprocess.Popen([E2MON, "--db", str(db_path)] + args, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        proc.stdout.close()    # the reader is gone before e2mon writes (`e2mon ... | head -0`)
        err = proc.stderr.read()
        proc.wait(60)
        assert err == b"", err
        assert proc.returncode == cli_module.EXIT_OUTPUT_CLOSED


def test_an_empty_or_short_key_file_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("E2MON_CONFIG", str(tmp_path))
    monkeypatch.setenv("E2MON_NO_KEYRING", "1")
    path = keys.save_key("C0:E2:00:00:00:01", "clinician", bytes(32))
    for content, words in (("", "is empty"), ("abcd\n", "damaged (2 bytes, a key has 32)")):
        with open(path, "w") as f:
            f.write(content)
        with pytest.raises(keys.KeyMissing, match=re.escape(words)):
            keys.load_key("C0:E2:00:00:00:01", "clinician")


def test_evaluate_refuses_non_utf8_and_deep_nesting_in_one_line(tmp_path):
    latin = tmp_path / "latin1.json"
    latin.write_bytes('{"entries": [], "note": "Müller"}'.encode("latin-1"))
    deep = tmp_path / "deep.json"
    deep.write_text('{"entries": ' * 100000 + "[]" + "}" * 100000)
    for path, words in ((latin, "not UTF-8"), (deep, "nested too deeply")):
        result = e2mon("evaluate", str(path))
        assert result.exit_code == failures.EXIT_REJECTED, result.output
        assert words in error_lines(result)[0] and "Traceback" not in result.output
        profile = e2mon("profile", "check", str(path))
        assert profile.exit_code == failures.EXIT_REJECTED, profile.output
        assert words in error_lines(profile)[0]


def test_profile_check_does_not_echo_a_huge_line(tmp_path):
    huge = tmp_path / "huge.profile"
    huge.write_text("X" * 100000 + "\n")
    result = e2mon("profile", "check", str(huge))
    assert result.exit_code == failures.EXIT_REJECTED
    assert len(result.output) < 400 and "100000 characters" in result.output


def test_json_errors_are_json_on_stderr(tmp_path):
    missing = tmp_path / "none.json"
    runner = CliRunner()
    cli_module._register()
    result = runner.invoke(cli_module.cli, ["evaluate", str(missing), "--json"])
    assert result.exit_code == failures.EXIT_STORAGE
    error = json.loads(result.stderr)
    assert error == {"error": "storage", "exit_code": 7, "message": error["message"]}
    assert "cannot read" in error["message"] and result.stdout == ""
    usage = runner.invoke(cli_module.cli, ["--json", "export", "--format", "xml"])
    assert usage.exit_code == failures.EXIT_USAGE
    assert json.loads(usage.stderr)["error"] == "usage"


def test_the_same_failure_has_the_same_exit_code_in_every_command(tmp_path):
    missing = str(tmp_path / "none.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert {e2mon("evaluate", missing).exit_code, e2mon("profile", "check", missing).exit_code} == {7}
    assert {e2mon("evaluate", str(bad)).exit_code, e2mon("profile", "check", str(bad)).exit_code} == {6}
    db_path = make_db(tmp_path / "h.sqlite")
    bad_dates = [e2mon("--db", str(db_path), "export", "--since", "yesterday"),
                 e2mon("--db", str(db_path), "report", "--out", str(tmp_path / "r.png"), "--today", "x"),
                 e2mon("--sim", "push", "lab", "E2", "38", "pg/mL", "--date", "x")]
    assert {r.exit_code for r in bad_dates} == {failures.EXIT_REJECTED}


def test_entry_refusals_state_the_range_and_how_to_enter_a_result_below_the_limit():
    env = {"E2MON_SIM_TRANSPORT": "127.0.0.1:9"}   # refused here, before any radio traffic
    high = e2mon("--sim", "push", "lab", "E2", "99999", "pg/mL", env=env)
    assert high.exit_code == failures.EXIT_REJECTED
    (line,) = error_lines(high)
    assert "outside the possible range, 0 pg/mL to 2000 pg/mL" in line and line.count("check the number") + \
        line.count("Check the number") == 1
    below = e2mon("--sim", "push", "lab", "E2", "<24", "pg/mL", env=env)
    assert below.exit_code == failures.EXIT_REJECTED
    assert "--below-lloq" in error_lines(below)[0] and "push lab E2 24 pg/mL --below-lloq" in below.output
    negative = e2mon("--sim", "push", "dose", "anastrozole", "-1", "mg", env=env)
    assert negative.exit_code == failures.EXIT_REJECTED, negative.output
    assert "No such option" not in negative.output and "0.001 mg to 10 mg" in error_lines(negative)[0]


def test_profile_limits_are_in_the_files_units(tmp_path):
    low = tmp_path / "low.profile"
    low.write_text("E2_LOW = -5 pg/mL\n")
    result = e2mon("profile", "check", str(low))
    assert result.exit_code == failures.EXIT_REJECTED
    (line,) = error_lines(result)
    assert "E2_LOW = -5 pg/mL is outside 0 pg/mL to " in line and "-50" not in line


def test_exit_codes_are_listed_in_help_and_readme():
    help_text = e2mon("--help").output
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    for code, name, meaning in failures.EXIT_CODES:
        assert re.search(r"^\s*%d\s+%s" % (code, re.escape(meaning)), help_text, re.M), (code, help_text)
        assert re.search(r"^\| %d \| `%s` \|" % (code, name), readme, re.M), (code, name)


def test_library_logging_stays_off_the_terminal_unless_verbose(tmp_path):
    # bumble warns through `logging` ("!!! ..." in ANSI red); Python prints such records to stderr when
    # nobody configured logging. The simulator link here fails after bumble has warned.
    script = (
        "import logging, sys\n"
        "from host_tools import sim_link\n"
        "async def failing_open(self):\n"
        "    logging.getLogger('bumble.device').warning('\\x1b[31m!!! no pending transaction\\x1b[0m')\n"
        "    logging.getLogger('bleak.backends').error('bleak says no')\n"
        "    raise ConnectionRefusedError(111, 'refused')\n"
        "sim_link.TcpCentral.open = failing_open\n"
        "from host_tools.cli import main\n"
        "main(sys.argv[1:])\n")
    env = dict(os.environ, E2MON_DB=str(tmp_path / "h.sqlite"), E2MON_CONFIG=str(tmp_path))
    quiet = subprocess.run([sys.executable, "-c", script, "--sim", "alerts"], capture_output=True, text=True,
                           env=env, timeout=60, cwd=ROOT)
    assert quiet.returncode == failures.EXIT_NOT_FOUND
    assert quiet.stderr.count("\n") == 1 and quiet.stderr.startswith("Error: the simulator is not running")
    loud = subprocess.run([sys.executable, "-c", script, "alerts", "--sim", "--verbose"], capture_output=True,
                          text=True, env=env, timeout=60, cwd=ROOT)
    assert "!!! no pending transaction" in loud.stderr and "bleak says no" in loud.stderr


# ---- what a clinic expects ----------------------------------------------------------------------------

def test_export_since_until_and_events_in_words(tmp_path):
    db_path = make_db(tmp_path / "h.sqlite")
    result = e2mon("--db", str(db_path), "export", "--since", "2026-10-01", "--until", "2026-10-02")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [r["seq"] for r in rows] == ["1", "2", "3"]
    clock, profile = rows[1], rows[2]
    assert clock["name"] == "CLOCK_SET"
    assert clock["value"] == ("clock set to 2026-10-02 10:00; it moved forward 3 days 2 h "
                              "(it read 2026-09-29 08:00)")
    assert profile["value"] == "rule profile set (CRC 1234abcd)"
    assert clock["raw_value"] == str(3 * 86400 + 7200)    # the integer is still there
    with HostDB(str(db_path)) as db:    # a release staged, confirmed, then an older one allowed and staged
        db.store_records("dev-a", [(5, DAY + 61, 0, records.KIND_EVENT, records.EVENT_UPDATE, 12, 1),
                                   (6, DAY + 62, 0, records.KIND_EVENT, records.EVENT_UPDATE, 12, 3),
                                   (7, DAY + 63, 0, records.KIND_EVENT, records.EVENT_UPDATE, 11, 0x80),
                                   (8, DAY + 63, 1, records.KIND_EVENT, records.EVENT_UPDATE, 11, 1)])
    updates = [r["value"] for r in csv.DictReader(io.StringIO(e2mon("--db", str(db_path), "export").output))
               if r["name"] == "UPDATE"]
    assert updates == ["update to release 12 staged, from the version deployed over USB",
                       "update to release 12 confirmed, from the version deployed over USB",
                       "downgrade to release 11 allowed by the clinician, from release 12",
                       "update to release 11 staged, from release 12"]
    fhir = e2mon("--db", str(db_path), "export", "--format", "fhir", "--until", "2026-09-01")
    assert fhir.exit_code == 0 and len(json.loads(fhir.output)["entry"]) == 3   # patient, device, one dose
    backwards = e2mon("--db", str(db_path), "export", "--since", "2026-10-02", "--until", "2026-10-01")
    assert backwards.exit_code == failures.EXIT_REJECTED and "after --until" in error_lines(backwards)[0]


def test_labels_stay_on_the_host_and_show_in_devices_and_reports(tmp_path):
    db_path = make_db(tmp_path / "h.sqlite")
    assert e2mon("--db", str(db_path), "devices", "label", "dev-a", "patient 12").exit_code == 0
    listed = e2mon("--db", str(db_path), "devices")
    assert "patient 12 (dev-a)" in listed.output
    assert json.loads(e2mon("devices", "--json", "--db", str(db_path)).output)[0]["label"] == "patient 12"
    out = tmp_path / "r.html"
    assert e2mon("--db", str(db_path), "report", "--out", str(out), "--today", "2026-11-01").exit_code == 0
    assert "patient 12 (dev-a)" in out.read_text()
    bad = e2mon("--db", str(db_path), "devices", "label", "dev-a", "x" * 500)
    assert bad.exit_code == failures.EXIT_REJECTED and len(bad.output) < 300
    assert e2mon("--db", str(db_path), "devices", "label", "dev-a", "--clear").exit_code == 0
    assert "patient 12" not in e2mon("--db", str(db_path), "devices").output


def test_a_label_selects_its_device_everywhere_and_names_one_device(tmp_path):
    db_path = str(make_db(tmp_path / "h.sqlite"))
    make_db(db_path, "dev-b")
    assert e2mon("--db", db_path, "devices", "label", "dev-a", "patient 12").exit_code == 0
    by_label = e2mon("--db", db_path, "--json", "export", "--format", "json", "--device", "Patient  12")
    by_id = e2mon("--db", db_path, "--json", "export", "--format", "json", "--device", "dev-a")
    assert by_label.exit_code == 0 and by_label.output == by_id.output
    out = tmp_path / "r.html"
    assert e2mon("--db", db_path, "report", "--out", str(out), "--device", "patient 12").exit_code == 0
    taken = e2mon("--db", db_path, "devices", "label", "dev-b", "PATIENT 12")
    assert taken.exit_code == failures.EXIT_REJECTED and "already names device dev-a" in error_lines(taken)[0]
    as_id = e2mon("--db", db_path, "devices", "label", "dev-b", "dev-a")
    assert as_id.exit_code == failures.EXIT_REJECTED
    unknown = e2mon("--db", db_path, "devices", "label", "C0:E2:00:00:00:09", "patient 13")
    assert unknown.exit_code == failures.EXIT_NOT_FOUND and "first pull" in error_lines(unknown)[0]
    assert [d["device_id"] for d in json.loads(e2mon("--db", db_path, "--json", "devices").output)] == \
        ["dev-a", "dev-b"]
    # An archived log keeps a label of its own: the label still names one device.
    with HostDB(db_path) as db:
        archive = db.archive_device("dev-a")
        assert db.label(archive) == "patient 12 (earlier log 1)" and db.find_device("patient 12") == "dev-a"


def test_removing_a_device_asks_and_keeps_a_backup(tmp_path):
    db_path = str(make_db(tmp_path / "h.sqlite"))
    make_db(db_path, "dev-b")
    e2mon("--db", db_path, "devices", "label", "dev-b", "patient 3")
    unasked = e2mon("--db", db_path, "devices", "remove", "patient 3")
    assert unasked.exit_code == failures.EXIT_REJECTED and "--yes" in error_lines(unasked)[0]
    removed = e2mon("--db", db_path, "--json", "devices", "remove", "patient 3", "--yes")
    assert removed.exit_code == 0, removed.output
    backup = json.loads(removed.output)["backup"]
    with HostDB(backup) as copy:
        assert copy.count("dev-b") == 5
    with HostDB(db_path) as db:
        assert db.devices() == ["dev-a"] and db.count("dev-b") == 0
    gone = e2mon("--db", db_path, "devices", "remove", "dev-b", "--yes")
    assert gone.exit_code == failures.EXIT_NOT_FOUND


def test_the_worklist_lists_every_patient_from_pulled_data_without_a_device(tmp_path):
    db_path = str(make_db(tmp_path / "h.sqlite"))
    with HostDB(db_path) as db:
        db.ensure_device("dev-b")
        db.store_records("dev-b", [(0, DAY, 480, records.KIND_LAB, records.A_E2, 900, records.METHOD_LCMS)])
        db.set_label("dev-b", "patient 12")
    env = {"E2MON_SIM_TRANSPORT": "127.0.0.1:9"}   # no device, no simulator: nothing is reached
    result = e2mon("--db", db_path, "alerts", "--all", env=env)
    assert result.exit_code == 0, result.output
    text = result.output
    assert "patient 12 (dev-b), last pulled 20" in text and "dev-a, last pulled 20" in text
    assert "E2" in text.split("patient 12 (dev-b)")[1]   # 90 pg/mL above the default band: a flag
    listed = json.loads(e2mon("--db", db_path, "--json", "alerts", "--all", env=env).output)
    assert [r["label"] for r in listed] == [None, "patient 12"] and listed[1]["flags"]
    reminders = json.loads(e2mon("--db", db_path, "--json", "reminders", "--all", env=env).output)
    assert [sorted(r) for r in reminders] == [["device_id", "label", "last_pull", "reminders"]] * 2
    both = e2mon("--db", db_path, "alerts", "--all", "--device", "dev-a")
    assert both.exit_code == failures.EXIT_USAGE


def test_global_options_work_before_or_after_the_command(tmp_path):
    db_path = make_db(tmp_path / "h.sqlite")
    before = e2mon("--json", "--db", str(db_path), "--device", "DEV-A", "export", "--format", "json")
    after = e2mon("export", "--format", "json", "--json", "--device=dev-a", "--db", str(db_path))
    assert before.exit_code == after.exit_code == 0, after.output
    assert json.loads(before.output) == json.loads(after.output)
    assert e2mon("export", "--db", str(db_path), "--device", "dev-b").exit_code == failures.EXIT_NOT_FOUND


def _help_rows(text):
    # "  name  summary" rows of a Commands section, continuation lines joined.
    rows, section = {}, False
    for line in text.splitlines():
        if line.strip() == "Commands:":
            section = True
            continue
        if section and not line.strip():
            break
        if section:
            match = re.match(r"^  (\S+)\s+(.*)$", line)
            if match:
                name = match.group(1)
                rows[name] = match.group(2)
            else:
                rows[name] += " " + line.strip()
    return rows


def test_help_summaries_are_whole_and_device_is_given_one_way():
    cli_module._register()
    groups = [("e2mon", cli_module.cli)] + [(name, cmd) for name, cmd in cli_module.cli.commands.items()
                                             if hasattr(cmd, "commands")]
    for name, group in groups:
        args = ["--help"] if name == "e2mon" else [name, "--help"]
        rows = _help_rows(e2mon(*args).output)
        for sub, command in group.commands.items():
            first = " ".join(command.help.split("\n\n")[0].split())
            assert rows[sub] == first, (name, sub, rows[sub])
    assert "A dose taken, e.g. `push dose anastrozole 0.5 mg`." in e2mon("push", "--help").output
    for args in (["pull"], ["alerts"], ["time", "sync"], ["push", "lab"], ["profile", "show"], ["export"]):
        shown = e2mon(*args, "--help").output
        # No positional DEVICE and no command-local --device: the one global --device, named in the epilog.
        assert "DEVICE" not in shown.splitlines()[0] and not re.search(r"^\s+--device", shown, re.M)
        assert "--device ADDRESS" in " ".join(shown.split())
    assert "--device ADDRESS" in e2mon("--help").output


# ---- the simulator ------------------------------------------------------------------------------------

def test_sim_cli_documents_only_options_that_exist():
    from sim import cli as sim_cli

    parser = sim_cli._parser()
    subparsers = parser._subparsers._group_actions[0].choices
    for line in sim_cli.__doc__.splitlines():
        match = re.match(r"^\s+python -m sim (\w+)(.*)$", line)
        if match:
            known = {opt for action in subparsers[match.group(1)]._actions for opt in action.option_strings}
            for option in re.findall(r"--[\w-]+", match.group(2)):
                assert option in known, (match.group(1), option)


def test_sim_serve_refuses_a_busy_flash_or_port_before_touching_the_flash(tmp_path):
    from sim.serve import claim_flash

    flash = tmp_path / "flash"
    flash.mkdir()
    (flash / "device.key").write_bytes(b"k" * 32)
    lock = claim_flash(str(flash))     # as a running simulator holds it
    try:
        busy_flash = subprocess.run([sys.executable, "-m", "sim", "serve", "--flash", str(flash), "--port", "0",
                                     "--scenario", "trt_oversuppressed", "--no-keyboard"], capture_output=True,
                                    text=True, timeout=60, cwd=ROOT, stdin=subprocess.DEVNULL)
    finally:
        os.close(lock)
    assert busy_flash.returncode == 2 and "another simulator (pid %d)" % os.getpid() in busy_flash.stderr
    lock = claim_flash(str(flash))
    try:
        run = subprocess.run([sys.executable, "-m", "sim", "run", "trt_oversuppressed", "--flash", str(flash),
                              "--quiet"], capture_output=True, text=True, timeout=60, cwd=ROOT)
    finally:
        os.close(lock)
    assert run.returncode == 2 and "another simulator" in run.stderr
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    try:
        busy_port = subprocess.run([sys.executable, "-m", "sim", "serve", "--flash", str(flash), "--port",
                                    str(listener.getsockname()[1]), "--scenario", "trt_oversuppressed",
                                    "--no-keyboard"], capture_output=True, text=True, timeout=60, cwd=ROOT,
                                   stdin=subprocess.DEVNULL)
    finally:
        listener.close()
    assert busy_port.returncode == 2 and "is taken" in busy_port.stderr
    assert sorted(os.listdir(flash)) == ["device.key"]    # nothing wiped
