"""The host database's tables, one definition for SQLite and PostgreSQL (SQLAlchemy Core).

Other modules (the clinic's accounts and keys) add their tables to the same `metadata`, so one Alembic
history (host_tools/migrations) covers everything in the database. Values are integers in the stored
units of monitor.catalog; times are Unix seconds (UTC).
"""
import sqlalchemy as sa

# Names for constraints and indexes, so a migration can refer to them on either backend.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = sa.MetaData(naming_convention=NAMING)

devices = sa.Table(
    "devices", metadata,
    sa.Column("device_id", sa.Text, primary_key=True),
    sa.Column("name", sa.Text),
    sa.Column("address", sa.Text),
    sa.Column("firmware", sa.Text),
    sa.Column("profile", sa.LargeBinary),
    sa.Column("first_seen", sa.BigInteger, nullable=False),
    sa.Column("last_pull", sa.BigInteger),
    sa.Column("label", sa.Text),
)

# The device's record number is the key: a record pulled twice (two clinicians at once, a resumed pull)
# is stored once (INSERT .. ON CONFLICT DO NOTHING on this primary key).
records = sa.Table(
    "records", metadata,
    sa.Column("device_id", sa.Text, sa.ForeignKey("devices.device_id"), primary_key=True),
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("day", sa.Integer, nullable=False),
    sa.Column("minute", sa.Integer, nullable=False),
    sa.Column("kind", sa.Integer, nullable=False),
    sa.Column("code", sa.Integer, nullable=False),
    sa.Column("value", sa.BigInteger, nullable=False),
    sa.Column("flags", sa.Integer, nullable=False),
    sqlite_with_rowid=False,
)

# The fingerprint of the key a device's history was pulled with (never the key itself).
device_keys = sa.Table(
    "device_keys", metadata,
    sa.Column("device_id", sa.Text, sa.ForeignKey("devices.device_id"), primary_key=True),
    sa.Column("key_id", sa.Text, nullable=False),
)

# An entry pushed from this host: the value and unit as typed (an SI value before conversion) and whether a
# time of day was given, for the exports (migration e2mon_0007). Kept beside the record it describes.
entries_as_typed = sa.Table(
    "entries_as_typed", metadata,
    sa.Column("device_id", sa.Text, primary_key=True),
    sa.Column("seq", sa.BigInteger, primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("unit", sa.Text, nullable=False),
    sa.Column("time_given", sa.Integer, nullable=False),
)

# Who changed what, from where, when. Append-only: e2mon only inserts, and a trigger on either backend
# refuses UPDATE and DELETE (migration e2mon_0005). No foreign key: the log outlives a removed device.
audit_log = sa.Table(
    "audit_log", metadata,
    sa.Column("entry", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("at", sa.BigInteger, nullable=False),
    sa.Column("os_user", sa.Text, nullable=False),
    sa.Column("clinician", sa.Text),
    sa.Column("machine", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("device_id", sa.Text),
    sa.Column("detail", sa.Text),
    sa.Index("ix_audit_log_device_id_at", "device_id", "at"),
)

# What e2mon db copy moves, parents first, with the columns that order each table's rows.
COPIED = ((devices, ("device_id",)), (device_keys, ("device_id",)), (records, ("device_id", "seq")),
          (audit_log, ("entry",)))
