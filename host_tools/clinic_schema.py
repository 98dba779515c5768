"""The clinic's own tables (SQLAlchemy Core), beside the host database's patient tables: clinicians and the
device keys wrapped for them (host_tools.clinic_keys), the web page's accounts and sessions
(host_tools.clinic_auth). No key or password is stored in the clear: wrapped keys, public keys, argon2id
hashes and SHA-256 digests of session tokens only.

The tables are on host_tools.schema's `metadata`, created by the migration e2mon_0006 with the rest of
the database's history.

- `engine(db)`: a SQLAlchemy engine on the host database at a path (SQLite) or URL (postgresql://...),
  brought to the current schema first (host_tools.db); a missing database is refused as everywhere.
"""
from sqlalchemy import Column, ForeignKey, Integer, LargeBinary, String, Table, event

from host_tools.schema import metadata

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


TABLES = (clinic_key, clinicians, device_key_wraps, web_users, web_sessions)

_ENGINES = {}


def engine(db):
    from host_tools import db as host_db
    from host_tools import db_url

    key = str(db)
    if key not in _ENGINES:
        host_db.HostDB(db, create=False).close()   # migrated to the current schema, clinic tables included
        made = db_url.engine_for(db)
        if made.dialect.name == "sqlite":
            event.listen(made, "connect", _sqlite_foreign_keys)
        _ENGINES[key] = made
    return _ENGINES[key]


def _sqlite_foreign_keys(conn, _record):
    conn.execute("PRAGMA foreign_keys=ON")   # web_sessions' ON DELETE CASCADE
