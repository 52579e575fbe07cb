"""registration deadline in the database, group edits, mentor commitment

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 07:48:20.725607

An interest registration is refused by the database itself when its cohort is not open
or the registration came in after the deadline (a trigger on each backend), so no path
around the form can store a late one.
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

CONDITION = """
    EXISTS (SELECT 1 FROM cohorts c WHERE c.id = NEW.cohort_id AND c.status = 'open'
            AND (c.registration_deadline IS NULL OR NEW.submitted_on <= c.registration_deadline))
"""


def upgrade():
    with op.batch_alter_table("groups", schema=None) as batch_op:
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table("interest_registrations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("submitted_on", sa.Date(), nullable=False))

    with op.batch_alter_table("participations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("mentor_commitment", sa.Boolean(), server_default=sa.false(), nullable=False)
        )

    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION interest_registration_open() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                IF NOT ({CONDITION}) THEN
                    RAISE EXCEPTION 'registration_closed' USING ERRCODE = 'check_violation';
                END IF;
                RETURN NEW;
            END $$
            """
        )
        op.execute(
            "CREATE TRIGGER interest_registration_open BEFORE INSERT ON interest_registrations "
            "FOR EACH ROW EXECUTE FUNCTION interest_registration_open()"
        )
    else:
        op.execute(
            f"""
            CREATE TRIGGER interest_registration_open BEFORE INSERT ON interest_registrations
            WHEN NOT ({CONDITION})
            BEGIN SELECT RAISE(ABORT, 'registration_closed'); END
            """
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER interest_registration_open ON interest_registrations")
        op.execute("DROP FUNCTION interest_registration_open()")
    else:
        op.execute("DROP TRIGGER interest_registration_open")

    with op.batch_alter_table("participations", schema=None) as batch_op:
        batch_op.drop_column("mentor_commitment")

    with op.batch_alter_table("interest_registrations", schema=None) as batch_op:
        batch_op.drop_column("submitted_on")

    with op.batch_alter_table("groups", schema=None) as batch_op:
        batch_op.drop_column("updated_at")
