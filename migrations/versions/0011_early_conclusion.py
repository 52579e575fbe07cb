"""a cohort concluded before its period ended keeps the reason SKR gave

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("cohorts", sa.Column("early_reason", sa.Text(), nullable=True))


def downgrade():
    op.drop_column("cohorts", "early_reason")
