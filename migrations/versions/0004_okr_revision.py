"""workspace.okr_revision: moves with every change the serves matcher reads

Replaces the serves freshness scan (and with it the initiative (team_id, updated_at)
index that scan needed).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN on both backends: batch mode would copy and drop `workspace` on
    # SQLite, which its foreign keys refuse once there is data.
    op.add_column('workspace', sa.Column('okr_revision', sa.Integer(), nullable=False, server_default=sa.text('0')))
    op.drop_index('ix_initiative_team_updated', table_name='initiative')


def downgrade() -> None:
    op.create_index('ix_initiative_team_updated', 'initiative', ['team_id', 'updated_at'], unique=False)
    op.drop_column('workspace', 'okr_revision')  # SQLite 3.35+ drops columns in place
