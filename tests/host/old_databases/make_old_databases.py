"""Writes schema-N.sqlite here with host_tools/db.py as it was when the host's schema was N (1..4), before
Alembic: real files from the code that wrote them, for tests/host/test_host_db_upgrade.py.

    .venv/bin/python tests/host/old_databases/make_old_databases.py   (from the repository, with git history)
"""
import importlib.util
import os
import sqlite3
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
# The commit that introduced each schema version of host_tools/db.py (git log -S "SCHEMA_VERSION = N").
COMMITS = {1: "7614393", 2: "8c9ea4e", 3: "d19cd82", 4: "040fb38"}
DOSE_T = (1, 1)       # (kind, code): KIND_DOSE, D_TESTOSTERONE (monitor.records)


def old_module(version):
    source = subprocess.run(["git", "show", "%s:host_tools/db.py" % COMMITS[version]], check=True,
                            capture_output=True, text=True, cwd=HERE).stdout
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(source)
    spec = importlib.util.spec_from_file_location("old_db_%d" % version, f.name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    os.remove(f.name)
    return module


def write(version):
    path = os.path.join(HERE, "schema-%d.sqlite" % version)
    if os.path.exists(path):
        os.remove(path)
    db = old_module(version).HostDB(path)
    db.ensure_device("C0:E2:00:00:00:01", name="e2mon-1", firmware="0.%d" % version)
    # Testosterone doses in the unit that schema stored them in (mg up to 2, µg since 3), a lab and a symptom.
    dose = 100 if version < 3 else 100000
    db.store_records("C0:E2:00:00:00:01", [
        (0, 20400, 480, 0, 1, 640, 0), (1, 20401, 490, DOSE_T[0], DOSE_T[1], dose, 1),
        (2, 20402, 500, 1, 0, 500, 1), (3, 20403, 510, 2, 2, 2, 0)])
    db.set_profile("C0:E2:00:00:00:01", b"\x01profile")
    if version >= 2:
        db.set_label("C0:E2:00:00:00:01", "patient 12")
    if version >= 4:
        db.bind_key("C0:E2:00:00:00:01", "fingerprint-1")
    db.close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=DELETE")   # one file, no -wal beside it
    conn.close()
    os.chmod(path, 0o600)


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(HERE))))
    for v in COMMITS:
        write(v)
