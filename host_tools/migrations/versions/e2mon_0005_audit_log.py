"""Schema 5: the audit log (who, from which machine, when, what), append-only on both backends: a trigger
refuses UPDATE and DELETE (and TRUNCATE on PostgreSQL), whoever connects.

Revision ID: e2mon_0005
"""
import sqlalchemy as sa
from alembic import op

revision = "e2mon_0005"
down_revision = "e2mon_0004"
branch_labels = None
depends_on = None

REFUSAL = "the audit log is append-only"


def upgrade():
    op.create_table(
        "audit_log",
        sa.Column("entry", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
                  autoincrement=True),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.Column("os_user", sa.Text, nullable=False),
        sa.Column("clinician", sa.Text),
        sa.Column("machine", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("device_id", sa.Text),
        sa.Column("detail", sa.Text),
    )
    op.create_index("ix_audit_log_device_id_at", "audit_log", ["device_id", "at"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE FUNCTION e2mon_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS "
                   "$$ BEGIN RAISE EXCEPTION '%s'; END $$" % REFUSAL)
        op.execute("CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
                   "FOR EACH ROW EXECUTE FUNCTION e2mon_audit_append_only()")
        op.execute("CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
                   "FOR EACH STATEMENT EXECUTE FUNCTION e2mon_audit_append_only()")
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute("CREATE TRIGGER audit_log_no_%s BEFORE %s ON audit_log "
                       "BEGIN SELECT RAISE(ABORT, '%s'); END" % (event.lower(), event, REFUSAL))


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_log_no_truncate ON audit_log")
        op.execute("DROP TRIGGER audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION e2mon_audit_append_only()")
    op.drop_table("audit_log")
