"""inbound_request: the durable inbox every acknowledged request is written to first

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import okrbot.store.types
import sqlmodel.sql.sqltypes


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'inbound_request',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('route', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('team_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column('body', sa.LargeBinary(), nullable=False),
        sa.Column('headers', sa.JSON(), nullable=False),
        sa.Column('query', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column('answer_wanted', sa.Boolean(), nullable=False),
        sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('worker', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('received_at', okrbot.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column('lease_until', okrbot.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column('done_at', okrbot.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column('answer_status', sa.Integer(), nullable=True),
        sa.Column('answer_body', sa.LargeBinary(), nullable=True),
        sa.Column('answer_headers', sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_inbound_request')),
        sa.UniqueConstraint('key', name=op.f('uq_inbound_request_key')),
    )
    op.create_index('ix_inbound_request_due', 'inbound_request', ['status', 'lease_until'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_inbound_request_due', table_name='inbound_request')
    op.drop_table('inbound_request')
