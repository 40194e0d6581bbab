"""outbound_message.payload: compressed with lz4 on PostgreSQL

A status answer's payload is tens of kilobytes of JSON, and PostgreSQL compressed it with
pglz as it was written, about a millisecond of server CPU per answer. lz4 compresses it
several times faster. Only where the server was built with lz4 (PostgreSQL 14 and newer,
as Debian's is); elsewhere, and on SQLite, nothing changes.

Revision ID: 0019_outbox_lz4
Revises: 0018_inbox_open_index
Create Date: 2026-12-05
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0019_outbox_lz4'
down_revision: str | None = '0018_inbox_open_index'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _set_compression(method: str) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    offered = bind.execute(sa.text("SELECT enumvals FROM pg_settings WHERE name = 'default_toast_compression'")).scalar()
    if offered and method in offered:
        op.execute(f"ALTER TABLE outbound_message ALTER COLUMN payload SET COMPRESSION {method}")


def upgrade() -> None:
    _set_compression("lz4")


def downgrade() -> None:
    _set_compression("pglz")
