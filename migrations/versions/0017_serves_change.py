"""serves_change: per OKR revision, the KRs whose "serves" evidence it changed

A cached "serves" index re-reads only those KRs after a change (services/serves.py).

Revision ID: 0017_serves_change
Revises: 0012_speed
Create Date: 2026-12-05
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op


revision: str = '0017_serves_change'
down_revision: str | None = '0012_speed'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'serves_change',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('team_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('revision', sa.Integer(), nullable=False),
        sa.Column('kr_id', sa.Integer(), nullable=True),
        sa.Column('every_kr', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['team_id'], ['workspace.team_id'], name=op.f('fk_serves_change_team_id_workspace')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_serves_change')),
    )
    op.create_index('ix_serves_change_team_revision', 'serves_change', ['team_id', 'revision'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_serves_change_team_revision', table_name='serves_change')
    op.drop_table('serves_change')
