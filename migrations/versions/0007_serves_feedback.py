"""serves_feedback: "Not this one" on a serves answer, negative evidence for the matcher

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-04
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import okrbot.store.types


revision: str = '0007'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'serves_feedback',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('team_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('kr_id', sa.Integer(), nullable=False),
        sa.Column('request', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column('request_key', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column('user_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('created_at', okrbot.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['kr_id'], ['key_result.id'], name=op.f('fk_serves_feedback_kr_id_key_result'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['team_id'], ['workspace.team_id'], name=op.f('fk_serves_feedback_team_id_workspace')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_serves_feedback')),
        sa.UniqueConstraint('kr_id', 'user_id', 'request_key', name=op.f('uq_serves_feedback_kr_id')),
    )
    op.create_index(op.f('ix_serves_feedback_kr_id'), 'serves_feedback', ['kr_id'], unique=False)
    op.create_index(op.f('ix_serves_feedback_team_id'), 'serves_feedback', ['team_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_serves_feedback_team_id'), table_name='serves_feedback')
    op.drop_index(op.f('ix_serves_feedback_kr_id'), table_name='serves_feedback')
    op.drop_table('serves_feedback')
