"""Schema 1: devices and their records, keyed by (device, record number).

Revision ID: e2mon_0001
"""
import sqlalchemy as sa
from alembic import op

revision = "e2mon_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "devices",
        sa.Column("device_id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text),
        sa.Column("address", sa.Text),
        sa.Column("firmware", sa.Text),
        sa.Column("profile", sa.LargeBinary),
        sa.Column("first_seen", sa.BigInteger, nullable=False),
        sa.Column("last_pull", sa.BigInteger),
    )
    op.create_table(
        "records",
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


def downgrade():
    op.drop_table("records")
    op.drop_table("devices")
