"""PostgreSQL for the storage tests: a throw-away cluster per session (bench/pg_cluster.py: Debian's
`postgresql` package, initdb and pg_ctl on a free port in a temporary directory; as root the server runs as
the package's `postgres` user).

Fixtures: `postgres_server` (the cluster), `pg_url` (a new empty database per test), `db_target`
(parametrized: a SQLite path, then a PostgreSQL URL; the storage tests run on both).
"""
import pytest

from bench.pg_cluster import ClusterUnavailable, throwaway_cluster


@pytest.fixture(scope="session")
def postgres_server():
    try:
        with throwaway_cluster() as cluster:
            yield cluster
    except ClusterUnavailable as exc:
        pytest.fail(str(exc))


@pytest.fixture
def pg_url(postgres_server, tmp_path, monkeypatch):
    """A new, empty database on the session's cluster; its automatic backups (pg_dump) go under tmp_path."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    name = postgres_server.new_database()
    yield postgres_server.url(name)
    postgres_server.drop_database(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_target(request, tmp_path):
    """Where a storage test keeps its host database: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "h.sqlite")
    return request.getfixturevalue("pg_url")
