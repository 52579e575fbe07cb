"""cohorts recorded as history (SKR's past cohorts: no meetings, mail or reminders)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN, not a batch: SQLite would rebuild the table, and the trigger on
    # interest registrations that reads cohorts would break on the way.
    op.add_column(
        "cohorts", sa.Column("is_history", sa.Boolean(), server_default=sa.false(), nullable=False)
    )


def downgrade():
    op.drop_column("cohorts", "is_history")  # SQLite 3.35 and later drop a column in place
