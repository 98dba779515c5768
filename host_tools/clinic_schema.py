"""The clinic's own tables (SQLAlchemy Core), beside the host database's patient tables: clinicians and the
device keys wrapped for them (host_tools.clinic_keys), the web page's accounts and sessions
(host_tools.clinic_auth). No key or password is stored in the clear: wrapped keys, public keys, argon2id
hashes and SHA-256 digests of session tokens only.

- `engine(db)`: a SQLAlchemy engine for a database path (SQLite) or URL (postgresql://...), with these
  tables created when missing.
"""
import os

from sqlalchemy import (
    Column, ForeignKey, Integer, LargeBinary, MetaData, String, Table, create_engine, event,
)

metadata = MetaData()

# One row: the clinic key's current generation and a check value (HMAC of a label under the key) by which
# a machine knows it unwrapped the current key. A new generation on every removal of a clinician.
clinic_key = Table(
    "clinic_key", metadata,
    Column("id", Integer, primary_key=True),
    Column("generation", Integer, nullable=False),
    Column("check_value", LargeBinary, nullable=False),
    Column("created", Integer, nullable=False),
)

# A clinician's machine: its X25519 public key, and the clinic key wrapped to it (NULL while it waits to be
# added by a member).
clinicians = Table(
    "clinicians", metadata,
    Column("name", String(64), primary_key=True),
    Column("public_key", LargeBinary, nullable=False),
    Column("wrapped_clinic_key", LargeBinary),
    Column("generation", Integer),
    Column("added_by", String(64)),
    Column("joined", Integer, nullable=False),
)

# A device's host keys (role keys and beacon key, never the device key), each AES-GCM-sealed under the
# clinic key of `generation`, bound to (device, key name, generation) as associated data.
device_key_wraps = Table(
    "device_key_wraps", metadata,
    Column("device_id", String(80), primary_key=True),
    Column("name", String(32), primary_key=True),
    Column("generation", Integer, nullable=False),
    Column("sealed", LargeBinary, nullable=False),
)

# Accounts of the clinic page (e2mon clinic user add) and their sessions.
web_users = Table(
    "web_users", metadata,
    Column("username", String(64), primary_key=True),
    Column("password_hash", String(200), nullable=False),
    Column("created", Integer, nullable=False),
    Column("failed_logins", Integer, nullable=False, server_default="0"),   # wrong passwords in a row
    Column("locked_until", Integer, nullable=False, server_default="0"),
)

web_sessions = Table(
    "web_sessions", metadata,
    Column("token_digest", String(64), primary_key=True),
    Column("username", String(64), ForeignKey("web_users.username", ondelete="CASCADE"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created", Integer, nullable=False),
    Column("expires", Integer, nullable=False),
)


def url_of(db):
    """A database path means SQLite (as everywhere in e2mon); anything with :// is a URL already."""
    return db if "://" in db else "sqlite:///" + os.path.abspath(db)


_ENGINES = {}


def engine(db):
    url = url_of(db)
    if url not in _ENGINES:
        made = create_engine(url)
        if made.dialect.name == "sqlite":
            event.listen(made, "connect", _sqlite_foreign_keys)
        metadata.create_all(made)
        _ENGINES[url] = made
    return _ENGINES[url]


def _sqlite_foreign_keys(conn, _record):
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=10000")
