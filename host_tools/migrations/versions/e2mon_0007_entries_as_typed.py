"""Schema 7: entries_as_typed, an entry pushed from this host as typed (its value and unit before an SI
conversion, and whether a time of day was given), for the exports.

Revision ID: e2mon_0007
"""
import sqlalchemy as sa
from alembic import op

revision = "e2mon_0007"
down_revision = "e2mon_0006"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "entries_as_typed",
        sa.Column("device_id", sa.Text, primary_key=True),
        sa.Column("seq", sa.BigInteger, primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("unit", sa.Text, nullable=False),
        sa.Column("time_given", sa.Integer, nullable=False),
    )


def downgrade():
    op.drop_table("entries_as_typed")
