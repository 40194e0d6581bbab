"""Periods and grading: fiscal year start, committed/aspirational KRs, grades,
carried-over lineage, closed periods and the grading DM claims

Existing rows keep their meaning: their periods are calendar names (2026-Q4),
which read the same whatever fiscal year a workspace sets; new columns are empty.

Revision ID: 0011
Revises: 0007
Create Date: 2026-12-04
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import okrbot.store.types


revision: str = '0011'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WHEN = okrbot.store.types.UtcDateTime(timezone=True)


def upgrade() -> None:
    # Plain ADD COLUMNs: batch mode would copy and drop tables that rows point at (see 0004).
    op.add_column('workspace', sa.Column('fiscal_year_start', sa.Integer(), nullable=True))
    op.add_column('workspace', sa.Column('report_channel', sa.String(length=32), nullable=True))
    op.add_column('key_result', sa.Column('commitment', sa.String(length=16), nullable=True))
    op.add_column('key_result', sa.Column('grade', sa.Float(), nullable=True))
    op.add_column('key_result', sa.Column('grade_note', sa.String(length=3000), nullable=False, server_default=''))
    op.add_column('key_result', sa.Column('grade_source', sa.String(length=16), nullable=True))
    op.add_column('key_result', sa.Column('graded_by', sa.String(length=32), nullable=True))
    op.add_column('key_result', sa.Column('graded_at', _WHEN, nullable=True))
    # Lineage ids without a foreign key: SQLite cannot add one to an existing table.
    for table in ('key_result', 'objective'):
        op.add_column(table, sa.Column('carried_from_id', sa.Integer(), nullable=True))
        op.create_index(f'ix_{table}_carried_from_id', table, ['carried_from_id'], unique=True)
    op.create_table(
        'okr_period',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('team_id', sa.String(length=32), nullable=False),
        sa.Column('name', sa.String(length=16), nullable=False),
        sa.Column('closed_at', _WHEN, nullable=True),
        sa.Column('closed_by', sa.String(length=32), nullable=True),
        sa.Column('reopened_at', _WHEN, nullable=True),
        sa.ForeignKeyConstraint(['team_id'], ['workspace.team_id'], name=op.f('fk_okr_period_team_id_workspace')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_okr_period')),
        sa.UniqueConstraint('team_id', 'name', name=op.f('uq_okr_period_team_id')),
    )
    op.create_table(
        'grading_dm',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('team_id', sa.String(length=32), nullable=False),
        sa.Column('period', sa.String(length=16), nullable=False),
        sa.Column('owner', sa.String(length=32), nullable=False),
        sa.Column('channel', sa.String(length=32), nullable=True),
        sa.Column('ts', sa.String(length=32), nullable=True),
        sa.Column('claimed_at', _WHEN, nullable=False),
        sa.ForeignKeyConstraint(['team_id'], ['workspace.team_id'], name=op.f('fk_grading_dm_team_id_workspace')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_grading_dm')),
        sa.UniqueConstraint('team_id', 'period', 'owner', name=op.f('uq_grading_dm_team_id')),
    )
    op.create_index(op.f('ix_grading_dm_ts'), 'grading_dm', ['ts'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_grading_dm_ts'), table_name='grading_dm')
    op.drop_table('grading_dm')
    op.drop_table('okr_period')
    for table in ('objective', 'key_result'):
        op.drop_index(f'ix_{table}_carried_from_id', table_name=table)
        op.drop_column(table, 'carried_from_id')
    for column in ('graded_at', 'graded_by', 'grade_source', 'grade_note', 'grade', 'commitment'):
        op.drop_column('key_result', column)
    op.drop_column('workspace', 'report_channel')
    op.drop_column('workspace', 'fiscal_year_start')
