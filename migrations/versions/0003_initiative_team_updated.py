"""initiative (team_id, updated_at) index: the serves freshness check reads its newest edit

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""
from collections.abc import Sequence

from alembic import op


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_initiative_team_updated', 'initiative', ['team_id', 'updated_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_initiative_team_updated', table_name='initiative')
