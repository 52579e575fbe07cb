"""cohort revision: a number that changes with every change inside the cohort, so that what
is computed from its thousands of rows can be kept until something changes

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("cohorts") as batch:
        batch.add_column(sa.Column("revision", sa.BigInteger(), nullable=False, server_default="0"))
    # Each existing cohort a number of its own (random, as every later one: never 0, which
    # means "not kept").
    cohorts = sa.table("cohorts", sa.column("id", sa.Integer), sa.column("revision", sa.BigInteger))
    connection = op.get_bind()
    for (cohort_id,) in connection.execute(sa.select(cohorts.c.id)).all():
        connection.execute(
            cohorts.update()
            .where(cohorts.c.id == cohort_id)
            .values(revision=secrets.randbits(62) | 1)
        )


def downgrade():
    with op.batch_alter_table("cohorts") as batch:
        batch.drop_column("revision")
