"""Nudges people control: per-objective review cadence, skip-after-check-in days, review
cycles per rhythm, workspace holidays, personal pauses, and the ledger of unprompted DMs
that the weekly cap counts.

Existing rows keep their meaning: no cadence is the workspace's schedule, a cycle with no
schedule is the workspace's own, and no skip days means the default (5).

Revision ID: 0016
Revises: 0006
Create Date: 2026-12-04
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import okrbot.store.types


revision: str = '0016'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WHEN = okrbot.store.types.UtcDateTime(timezone=True)


def upgrade() -> None:
    # Plain ADD COLUMNs: batch mode would copy and drop tables that rows point at (see 0004).
    op.add_column('objective', sa.Column('review_cadence', sa.String(length=16), nullable=True))
    op.add_column('workspace', sa.Column('review_skip_days', sa.Integer(), nullable=True))
    op.add_column('review_cycle', sa.Column('schedule', sa.String(length=200), nullable=True))
    op.create_table(
        'review_holiday',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('team_id', sa.String(length=32), nullable=False),
        sa.Column('first_day', sa.Date(), nullable=False),
        sa.Column('last_day', sa.Date(), nullable=False),
        sa.Column('added_by', sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(['team_id'], ['workspace.team_id'], name=op.f('fk_review_holiday_team_id_workspace')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_review_holiday')),
        sa.UniqueConstraint('team_id', 'first_day', 'last_day', name=op.f('uq_review_holiday_team_id')),
    )
    op.create_table(
        'review_pause',
        sa.Column('team_id', sa.String(length=32), nullable=False),
        sa.Column('user_id', sa.String(length=32), nullable=False),
        sa.Column('paused_until', sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(['team_id'], ['workspace.team_id'], name=op.f('fk_review_pause_team_id_workspace')),
        sa.PrimaryKeyConstraint('team_id', 'user_id', name=op.f('pk_review_pause')),
    )
    op.create_table(
        'unprompted_dm',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('team_id', sa.String(length=32), nullable=False),
        sa.Column('user_id', sa.String(length=32), nullable=False),
        sa.Column('at', _WHEN, nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('dedupe_key', sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(['team_id'], ['workspace.team_id'], name=op.f('fk_unprompted_dm_team_id_workspace')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_unprompted_dm')),
        sa.UniqueConstraint('dedupe_key', name=op.f('uq_unprompted_dm_dedupe_key')),
    )
    op.create_index('ix_unprompted_dm_person', 'unprompted_dm', ['team_id', 'user_id', 'at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_unprompted_dm_person', table_name='unprompted_dm')
    op.drop_table('unprompted_dm')
    op.drop_table('review_pause')
    op.drop_table('review_holiday')
    op.drop_column('review_cycle', 'schedule')
    op.drop_column('workspace', 'review_skip_days')
    op.drop_column('objective', 'review_cadence')
