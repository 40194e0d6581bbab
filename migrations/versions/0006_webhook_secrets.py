"""webhook_secret: each workspace's own webhook URL token and secret per tool

Revision ID: 0006
Revises: 0011
Create Date: 2026-12-04
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import okrbot.store.types
from okrbot.domain.urls import url_key

revision: str = '0006'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('webhook_secret',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('vendor', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('token', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('secret', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('created_at', okrbot.store.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('rotated_at', okrbot.store.types.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['team_id'], ['workspace.team_id'], name=op.f('fk_webhook_secret_team_id_workspace')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_secret')),
    sa.UniqueConstraint('team_id', 'vendor', name=op.f('uq_webhook_secret_team_id')),
    sa.UniqueConstraint('token', name=op.f('uq_webhook_secret_token'))
    )


    _renormalise_work_urls()


def _renormalise_work_urls() -> None:
    """GitLab, Jira and Linear links now share one form with what their webhooks send
    (domain/urls.py): recompute the stored keys so work linked before still matches."""
    connection = op.get_bind()
    initiative = sa.table('initiative', sa.column('id', sa.Integer), sa.column('url', sa.String), sa.column('url_key', sa.String))
    rows = connection.execute(sa.select(initiative.c.id, initiative.c.url, initiative.c.url_key).where(initiative.c.url.is_not(None))).all()
    for row_id, url, old_key in rows:
        new_key = url_key(url)
        if new_key != old_key:
            connection.execute(initiative.update().where(initiative.c.id == row_id).values(url_key=new_key))


def downgrade() -> None:
    op.drop_table('webhook_secret')
