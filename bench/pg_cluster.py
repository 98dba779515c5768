"""A throw-away PostgreSQL cluster (Debian's `postgresql` package; upy/postgres-tools.sh installs it):
`initdb` and `pg_ctl` on a free port in a temporary directory, removed when done. Run as root (CI), the
server runs as the `postgres` user the package creates (a cluster refuses to run as root). Used by the
tests (tests/postgres_fixture.py) and bench/bench_clinic.py; clients connect over TCP on 127.0.0.1 as the
cluster's superuser, trusted (nothing else can reach it).
"""
import contextlib
import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile

SERVER_USER = "postgres"     # made by Debian's postgresql-common
SUPERUSER = "e2mon"
START_TIMEOUT_S = 60


class ClusterUnavailable(RuntimeError):
    pass


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


class Cluster:
    def __init__(self, bindir, base, port, as_user):
        self.bindir = bindir
        self.base = base
        self.port = port
        self.as_user = as_user
        self.data = os.path.join(base, "data")
        self.log = os.path.join(base, "server.log")
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

    def new_database(self, prefix="e2mon_test"):
        name = "%s_%d" % (prefix, next(self.names))
        self.admin("CREATE DATABASE %s" % name)
        return name

    def drop_database(self, name):
        self.admin("DROP DATABASE IF EXISTS %s WITH (FORCE)" % name)

    def start(self, max_connections=200):
        done = self.run("initdb", "-D", self.data, "-A", "trust", "-U", SUPERUSER, "-E", "UTF8", "--locale=C",
                        "--no-sync")
        if done.returncode != 0:
            raise ClusterUnavailable("initdb failed: %s" % done.stderr.strip())
        # fsync off: the cluster is thrown away; its socket in the temp dir, not /var/run/postgresql.
        options = "-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=%d" % (
            self.port, self.base, max_connections)
        done = self.run("pg_ctl", "-D", self.data, "-l", self.log, "-o", options, "-w", "-t",
                        str(START_TIMEOUT_S), "start")
        if done.returncode != 0:
            with open(self.log, encoding="utf-8", errors="replace") as f:
                raise ClusterUnavailable("PostgreSQL did not start: %s\n%s" % (done.stderr, f.read()[-2000:]))

    def stop(self):
        self.run("pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")


@contextlib.contextmanager
def throwaway_cluster(max_connections=200):
    bindir = postgres_bin()
    if bindir is None:
        raise ClusterUnavailable("PostgreSQL is not installed: run upy/postgres-tools.sh (as root it installs "
                                 "Debian's postgresql package)")
    as_user = SERVER_USER if os.geteuid() == 0 else None
    base = tempfile.mkdtemp(prefix="e2mon-pg-")
    try:
        if as_user:
            entry = pwd.getpwnam(as_user)
            os.chown(base, entry.pw_uid, entry.pw_gid)
        cluster = Cluster(bindir, base, free_port(), as_user)
        cluster.start(max_connections)
        try:
            yield cluster
        finally:
            cluster.stop()
    finally:
        shutil.rmtree(base, ignore_errors=True)
