"""workspace.status_revision: moves with every change to what /okr status shows

A rendered status is reused until it moves (services/status_cache.py).

Revision ID: 0012_speed
Revises: 0006
Create Date: 2026-12-04
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0012_speed'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN, as 0004 did: batch mode would copy `workspace` on SQLite.
    op.add_column('workspace', sa.Column('status_revision', sa.Integer(), nullable=False, server_default=sa.text('0')))


def downgrade() -> None:
    op.drop_column('workspace', 'status_revision')
