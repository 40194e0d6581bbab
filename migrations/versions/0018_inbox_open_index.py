"""inbound_request: a partial index of the requests not done yet, in claim order

Replaces ix_inbound_request_due (status, lease_until): a claim read that index with a bitmap
scan, which visits every dead entry the queue's status changes leave until vacuum runs.
The partial index is read in order and its dead entries are marked as they are met
(store/models.py, store/inbox.py).

Revision ID: 0018_inbox_open_index
Revises: 0017_serves_change
Create Date: 2026-12-05
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0018_inbox_open_index'
down_revision: str | None = '0017_serves_change'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOT_DONE = sa.text("status <> 'done'")


def upgrade() -> None:
    op.drop_index('ix_inbound_request_due', table_name='inbound_request')
    op.create_index(
        'ix_inbound_request_open',
        'inbound_request',
        [sa.text('answer_wanted DESC'), 'id'],
        unique=False,
        postgresql_where=NOT_DONE,
        sqlite_where=NOT_DONE,
    )


def downgrade() -> None:
    op.drop_index('ix_inbound_request_open', table_name='inbound_request')
    op.create_index('ix_inbound_request_due', 'inbound_request', ['status', 'lease_until'], unique=False)
