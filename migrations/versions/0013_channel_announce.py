"""channel announce: per-channel announce modes (every, thread, daily), weekly threads, digest items;
outbound_message.parent_id for replies that wait for their parent's ts

Revision ID: 0013
Revises: 0006
Create Date: 2026-12-04
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import okrbot.store.types


revision: str = '0013'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # First, while no table refers to outbound_message (SQLite rebuilds it to add the key).
    with op.batch_alter_table('outbound_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('parent_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_outbound_message_parent_id'), ['parent_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_outbound_message_parent_id_outbound_message'), 'outbound_message', ['parent_id'], ['id'], ondelete='SET NULL')

    op.create_table('channel_announce',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('mode', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('digest_minute', sa.Integer(), nullable=True),
    sa.Column('set_by', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('set_at', okrbot.store.types.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['workspace.team_id'], name=op.f('fk_channel_announce_team_id_workspace')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_channel_announce')),
    sa.UniqueConstraint('team_id', 'channel', name=op.f('uq_channel_announce_team_id'))
    )
    op.create_table('announce_thread',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('objective_id', sa.Integer(), nullable=False),
    sa.Column('week', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['outbound_message.id'], name=op.f('fk_announce_thread_message_id_outbound_message'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['objective_id'], ['objective.id'], name=op.f('fk_announce_thread_objective_id_objective'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['team_id'], ['workspace.team_id'], name=op.f('fk_announce_thread_team_id_workspace')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_announce_thread')),
    sa.UniqueConstraint('team_id', 'channel', 'objective_id', 'week', name=op.f('uq_announce_thread_team_id'))
    )
    with op.batch_alter_table('announce_thread', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_announce_thread_message_id'), ['message_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_announce_thread_objective_id'), ['objective_id'], unique=False)

    op.create_table('digest_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('change_id', sa.Integer(), nullable=True),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(length=3000), nullable=False),
    sa.Column('created_at', okrbot.store.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['change_id'], ['change.id'], name=op.f('fk_digest_item_change_id_change'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['message_id'], ['outbound_message.id'], name=op.f('fk_digest_item_message_id_outbound_message'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['team_id'], ['workspace.team_id'], name=op.f('fk_digest_item_team_id_workspace')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_digest_item'))
    )
    with op.batch_alter_table('digest_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_digest_item_change_id'), ['change_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_digest_item_message_id'), ['message_id'], unique=False)
        batch_op.create_index('ix_digest_item_waiting', ['team_id', 'channel', 'message_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('outbound_message', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_outbound_message_parent_id_outbound_message'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_outbound_message_parent_id'))
        batch_op.drop_column('parent_id')

    with op.batch_alter_table('digest_item', schema=None) as batch_op:
        batch_op.drop_index('ix_digest_item_waiting')
        batch_op.drop_index(batch_op.f('ix_digest_item_message_id'))
        batch_op.drop_index(batch_op.f('ix_digest_item_change_id'))

    op.drop_table('digest_item')
    with op.batch_alter_table('announce_thread', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_announce_thread_objective_id'))
        batch_op.drop_index(batch_op.f('ix_announce_thread_message_id'))

    op.drop_table('announce_thread')
    op.drop_table('channel_announce')
