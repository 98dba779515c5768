"""Schema 3: testosterone doses stored in µg, as monitor.records.unpack_record gives every dose (they were
in mg up to schema 2), so a record pulled again matches the row it was stored as.

Revision ID: e2mon_0003
"""
import sqlalchemy as sa
from alembic import op

from monitor.records import D_TESTOSTERONE, KIND_DOSE

revision = "e2mon_0003"
down_revision = "e2mon_0002"
branch_labels = None
depends_on = None


def upgrade():
    op.execute(sa.text("UPDATE records SET value = value * 1000 WHERE kind = :kind AND code = :code")
               .bindparams(kind=KIND_DOSE, code=D_TESTOSTERONE))


def downgrade():
    op.execute(sa.text("UPDATE records SET value = value / 1000 WHERE kind = :kind AND code = :code")
               .bindparams(kind=KIND_DOSE, code=D_TESTOSTERONE))
