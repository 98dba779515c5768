"""A throw-away PostgreSQL cluster for the tests: Debian's `postgresql` package (upy/postgres-tools.sh
installs it), `initdb` and `pg_ctl` on a free port in a temporary directory, stopped and removed at the
end of the session. Run as root (CI), the server runs as the `postgres` user the package creates (a
cluster refuses to run as root); the tests connect over TCP on 127.0.0.1 as the cluster's superuser.

Fixtures: `postgres_server` (the cluster, one per session), `pg_url` (a new empty database per test),
`db_target` (parametrized: a SQLite path, then a PostgreSQL URL; the storage tests run on both).
"""
import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile

import pytest

SERVER_USER = "postgres"     # made by Debian's postgresql-common; the server refuses to run as root
SUPERUSER = "e2mon"
START_TIMEOUT_S = 60


def postgres_bin():
    """The folder with initdb and pg_ctl: Debian keeps them out of PATH, in /usr/lib/postgresql/N/bin."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(p.split("/")[-3]) if p.split("/")[-3].isdigit() else 0)
    if found:
        return os.path.dirname(found[-1])
    initdb = shutil.which("initdb")
    return os.path.dirname(initdb) if initdb else None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, bindir, base, port, as_user):
        self.bindir = bindir
        self.base = base
        self.port = port
        self.as_user = as_user
        self.data = os.path.join(base, "data")
        self.names = itertools.count(1)

    def run(self, *args):
        command = [os.path.join(self.bindir, args[0])] + list(args[1:])
        if self.as_user:
            command = ["runuser", "-u", self.as_user, "--"] + command
        return subprocess.run(command, capture_output=True, text=True, timeout=START_TIMEOUT_S, check=False)

    def url(self, database="postgres"):
        return "postgresql://%s@127.0.0.1:%d/%s" % (SUPERUSER, self.port, database)

    def admin(self, statement):
        import psycopg
        with psycopg.connect(host="127.0.0.1", port=self.port, user=SUPERUSER, dbname="postgres",
                             autocommit=True) as conn:
            conn.execute(statement)

    def new_database(self):
        name = "e2mon_test_%d" % next(self.names)
        self.admin("CREATE DATABASE %s" % name)
        return name


@pytest.fixture(scope="session")
def postgres_server():
    bindir = postgres_bin()
    if bindir is None:
        pytest.fail("PostgreSQL is not installed: run upy/postgres-tools.sh (as root it installs Debian's "
                    "postgresql package)")
    as_user = SERVER_USER if os.geteuid() == 0 else None
    base = tempfile.mkdtemp(prefix="e2mon-pg-")
    if as_user:
        entry = pwd.getpwnam(as_user)
        os.chown(base, entry.pw_uid, entry.pw_gid)
    server = Server(bindir, base, free_port(), as_user)
    done = server.run("initdb", "-D", server.data, "-A", "trust", "-U", SUPERUSER, "-E", "UTF8",
                      "--locale=C", "--no-sync")
    assert done.returncode == 0, done.stderr
    # fsync off: a test cluster is thrown away; the socket in the temp dir, not /var/run/postgresql.
    options = "-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" % (
        server.port, base)
    done = server.run("pg_ctl", "-D", server.data, "-l", os.path.join(base, "server.log"), "-o", options,
                      "-w", "-t", str(START_TIMEOUT_S), "start")
    if done.returncode != 0:
        with open(os.path.join(base, "server.log"), encoding="utf-8", errors="replace") as f:
            log = f.read()
        pytest.fail("PostgreSQL did not start: %s\n%s" % (done.stderr, log[-2000:]))
    try:
        yield server
    finally:
        server.run("pg_ctl", "-D", server.data, "-m", "fast", "-w", "stop")
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def pg_url(postgres_server, tmp_path, monkeypatch):
    """A new, empty database on the session's cluster; its automatic backups (pg_dump) go under tmp_path."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    name = postgres_server.new_database()
    yield postgres_server.url(name)
    postgres_server.admin("DROP DATABASE IF EXISTS %s WITH (FORCE)" % name)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_target(request, tmp_path):
    """Where a storage test keeps its host database: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "h.sqlite")
    return request.getfixturevalue("pg_url")
