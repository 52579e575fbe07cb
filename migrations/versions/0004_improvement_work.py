"""improvement work: baselines, entries on the result chain, shared indicators, mentor sessions

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 00:27:02.031200

The baseline ("Kommunfakta") per participation; improvement work with target groups and
an owner; log entries with evidence, lessons, the indicator behind a step-4 claim, the
expected results they show and their good-example status; indicators a group shares;
mentor sessions with the organisations that took part and follow-ups.
"""

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('shared_indicators',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('unit', sa.String(length=50), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('population', sa.Enum('adults', 'children', name='shared_indicator_population', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('kolada_kpi', sa.String(length=20), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_shared_indicators_group_id_groups'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shared_indicators'))
    )
    with op.batch_alter_table('shared_indicators', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shared_indicators_group_id'), ['group_id'], unique=False)

    op.create_table('baselines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('participation_id', sa.Integer(), nullable=False),
    sa.Column('mandate_decision', sa.Text(), nullable=True),
    sa.Column('mandate_date', sa.Date(), nullable=True),
    sa.Column('responsible', sa.String(length=300), nullable=True),
    sa.Column('demography', sa.Text(), nullable=True),
    sa.Column('organisation_text', sa.Text(), nullable=True),
    sa.Column('goals', sa.Text(), nullable=True),
    sa.Column('priority_areas', sa.Text(), nullable=True),
    sa.Column('functions', sa.JSON(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['participation_id'], ['participations.id'], name=op.f('fk_baselines_participation_id_participations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_baselines_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_baselines')),
    sa.UniqueConstraint('participation_id', name=op.f('uq_baselines_participation_id'))
    )
    with op.batch_alter_table('improvement_works', schema=None) as batch_op:
        batch_op.add_column(sa.Column('target_groups', sa.JSON(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('target_groups_other', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('owner', sa.String(length=200), nullable=True))

    with op.batch_alter_table('indicators', schema=None) as batch_op:
        batch_op.add_column(sa.Column('population', sa.Enum('adults', 'children', name='indicator_population', native_enum=False, create_constraint=True, length=32), server_default='adults', nullable=False))
        batch_op.add_column(sa.Column('shared_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_indicators_shared_id'), ['shared_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_indicators_shared_id_shared_indicators'), 'shared_indicators', ['shared_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('log_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('evidence_link', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('evidence_filename', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('evidence_stored_name', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('evidence_mimetype', sa.String(length=127), nullable=True))
        batch_op.add_column(sa.Column('learned', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('obstacles', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('next_steps', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('indicator_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('expected_results', sa.JSON(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('good_example', sa.Enum('proposed', 'approved', 'declined', name='good_example_status', native_enum=False, create_constraint=True, length=32), nullable=True))
        batch_op.add_column(sa.Column('good_example_decided_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('good_example_decided_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))
        batch_op.create_index(batch_op.f('ix_log_entries_entry_date'), ['entry_date'], unique=False)
        batch_op.create_index('ix_log_entries_good_example', ['good_example'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_log_entries_good_example_decided_by_id_users'), 'users', ['good_example_decided_by_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_log_entries_indicator_id_indicators'), 'indicators', ['indicator_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('mentor_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('follow_ups', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('organisation_ids', sa.JSON(), server_default='[]', nullable=False))



def downgrade():
    with op.batch_alter_table('mentor_sessions', schema=None) as batch_op:
        batch_op.drop_column('organisation_ids')
        batch_op.drop_column('follow_ups')

    with op.batch_alter_table('log_entries', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_log_entries_indicator_id_indicators'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_log_entries_good_example_decided_by_id_users'), type_='foreignkey')
        batch_op.drop_index('ix_log_entries_good_example')
        batch_op.drop_index(batch_op.f('ix_log_entries_entry_date'))
        batch_op.drop_column('version')
        batch_op.drop_column('updated_at')
        batch_op.drop_column('good_example_decided_by_id')
        batch_op.drop_column('good_example_decided_at')
        batch_op.drop_column('good_example')
        batch_op.drop_column('expected_results')
        batch_op.drop_column('indicator_id')
        batch_op.drop_column('next_steps')
        batch_op.drop_column('obstacles')
        batch_op.drop_column('learned')
        batch_op.drop_column('evidence_mimetype')
        batch_op.drop_column('evidence_stored_name')
        batch_op.drop_column('evidence_filename')
        batch_op.drop_column('evidence_link')

    with op.batch_alter_table('indicators', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_indicators_shared_id_shared_indicators'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_indicators_shared_id'))
        batch_op.drop_column('shared_id')
        batch_op.drop_column('population')

    with op.batch_alter_table('improvement_works', schema=None) as batch_op:
        batch_op.drop_column('owner')
        batch_op.drop_column('target_groups_other')
        batch_op.drop_column('target_groups')

    op.drop_table('baselines')
    with op.batch_alter_table('shared_indicators', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shared_indicators_group_id'))

    op.drop_table('shared_indicators')
