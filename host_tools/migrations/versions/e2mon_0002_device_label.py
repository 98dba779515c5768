"""Schema 2: the clinic's label for a device ("patient 12").

Revision ID: e2mon_0002
"""
import sqlalchemy as sa
from alembic import op

revision = "e2mon_0002"
down_revision = "e2mon_0001"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("devices", sa.Column("label", sa.Text))


def downgrade():
    op.drop_column("devices", "label")
