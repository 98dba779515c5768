"""Backups of a PostgreSQL host database: `pg_dump` in its custom format (restore with `pg_restore`).

The password, if the URL carries one, goes to pg_dump through PGPASSWORD, never on its command line.
"""
import glob
import os
import shutil
import subprocess

import sqlalchemy as sa

DUMP_TIMEOUT_S = 3600


class BackupFailed(Exception):
    pass


def pg_dump_binary():
    """pg_dump on PATH (Debian's wrapper), else the newest one Debian's packages put in their own folder."""
    found = shutil.which("pg_dump")
    if found:
        return found
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_dump"),
                      key=lambda p: int(p.split("/")[-3]) if p.split("/")[-3].isdigit() else 0)
    return versions[-1] if versions else None


def dump_command(url, dest):
    """The pg_dump command line for `url` (a SQLAlchemy URL) into `dest`, and its environment additions."""
    args = ["--format=custom", "--no-owner", "--file", dest]
    env = {}
    if url.host:
        args += ["--host", url.host]
    if url.port:
        args += ["--port", str(url.port)]
    if url.username:
        args += ["--username", url.username]
    for key, value in url.query.items():   # e.g. ?host=/run/postgresql
        if key == "host":
            args += ["--host", value]
    if url.password:
        env["PGPASSWORD"] = url.password
    return args + [url.database or "postgres"], env


def how_to_text(url, dest):
    args, _env = dump_command(url, dest)
    return "pg_dump " + " ".join(args)


def pg_dump(url, dest):
    """Writes a dump of the database at `url` to `dest` (0600; a half-written dump is removed)."""
    url = sa.engine.make_url(url) if isinstance(url, str) else url
    binary = pg_dump_binary()
    if binary is None:
        raise BackupFailed("pg_dump is not installed (Debian: apt-get install postgresql-client); "
                           "run: %s" % how_to_text(url, dest))
    args, env = dump_command(url, dest)
    old_umask = os.umask(0o077)
    try:
        done = subprocess.run([binary] + args, env=dict(os.environ, **env), capture_output=True, text=True,
                              timeout=DUMP_TIMEOUT_S, check=False)
    finally:
        os.umask(old_umask)
    if done.returncode != 0:
        if os.path.exists(dest):
            os.remove(dest)
        raise BackupFailed("pg_dump failed: %s" % (done.stderr.strip().splitlines() or ["?"])[-1])
    return dest
