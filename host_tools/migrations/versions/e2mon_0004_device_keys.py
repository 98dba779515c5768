"""Schema 4: a device's history is bound to the key its records came with (a fingerprint, never the key).

Revision ID: e2mon_0004
"""
import sqlalchemy as sa
from alembic import op

revision = "e2mon_0004"
down_revision = "e2mon_0003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "device_keys",
        sa.Column("device_id", sa.Text, sa.ForeignKey("devices.device_id"), primary_key=True),
        sa.Column("key_id", sa.Text, nullable=False),
    )


def downgrade():
    op.drop_table("device_keys")
