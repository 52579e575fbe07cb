"""reminder deliveries per due instant: a meeting moved after its reminder went out is
reminded of again

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("reminder_deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("due_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE reminder_deliveries SET due_at = (SELECT s.due_at FROM scheduled_reminders s "
        "WHERE s.id = reminder_deliveries.scheduled_id)"
    )
    with op.batch_alter_table("reminder_deliveries", schema=None) as batch_op:
        batch_op.alter_column("due_at", existing_type=sa.DateTime(timezone=True), nullable=False)
        batch_op.drop_constraint("uq_reminder_deliveries_rule_id_meeting_id_recipient", "unique")
        batch_op.create_unique_constraint(
            "uq_reminder_deliveries_rule_id_meeting_id_recipient_due_at",
            ["rule_id", "meeting_id", "recipient", "due_at"],
        )


def downgrade():
    with op.batch_alter_table("reminder_deliveries", schema=None) as batch_op:
        batch_op.drop_constraint(
            "uq_reminder_deliveries_rule_id_meeting_id_recipient_due_at", "unique"
        )
        batch_op.create_unique_constraint(
            "uq_reminder_deliveries_rule_id_meeting_id_recipient",
            ["rule_id", "meeting_id", "recipient"],
        )
        batch_op.drop_column("due_at")
