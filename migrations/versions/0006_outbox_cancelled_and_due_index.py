"""the outbox: a message staff cancel, and a partial index of what is waiting

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _status(*values):
    return sa.Enum(
        *values, name="outbox_status", native_enum=False, create_constraint=True, length=32
    )


OLD = _status("pending", "sending", "sent", "failed")
NEW = _status("pending", "sending", "sent", "failed", "cancelled")


def upgrade():
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.alter_column("status", existing_type=OLD, type_=NEW, existing_nullable=False)
        batch_op.create_index(
            "ix_outbox_messages_waiting",
            ["id"],
            unique=False,
            sqlite_where=sa.text("status IN ('pending', 'sending')"),
            postgresql_where=sa.text("status IN ('pending', 'sending')"),
        )


def downgrade():
    op.execute("UPDATE outbox_messages SET status = 'failed' WHERE status = 'cancelled'")
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_messages_waiting")
        batch_op.alter_column("status", existing_type=NEW, type_=OLD, existing_nullable=False)
