"""Schema 6: the clinic's tables (host_tools/clinic_schema.py): the clinic key's generation, clinicians and
the clinic key wrapped for each, device keys sealed under the clinic key, the clinic page's accounts and
sessions. Created from their definitions as they stand at this revision; a later change to them gets a
revision of its own.

Revision ID: e2mon_0006
"""
from alembic import op

revision = "e2mon_0006"
down_revision = "e2mon_0005"
branch_labels = None
depends_on = None


def upgrade():
    from host_tools import clinic_schema

    for table in clinic_schema.TABLES:
        table.create(op.get_bind())


def downgrade():
    from host_tools import clinic_schema

    for table in reversed(clinic_schema.TABLES):
        table.drop(op.get_bind())
