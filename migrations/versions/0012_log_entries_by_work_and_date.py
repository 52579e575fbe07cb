"""log entries by work and date: the latest entry of each organisation read from the index

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_log_entries_work_date", "log_entries", ["work_id", "entry_date"])


def downgrade():
    op.drop_index("ix_log_entries_work_date", table_name="log_entries")
