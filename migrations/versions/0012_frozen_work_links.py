"""Closed periods keep their KRs still: each link remembers whether its work was
done when the KR's period closed

Existing rows: links of periods already closed are frozen as their work stands
now (the closest there is to the moment they closed); all others stay live (NULL).

Revision ID: 0012
Revises: 0006
Create Date: 2026-12-04
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0012'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN: batch mode would copy and drop a table that rows point at (see 0004).
    op.add_column('kr_link', sa.Column('done_at_close', sa.Boolean(), nullable=True))
    op.execute(
        "UPDATE kr_link SET done_at_close = ("
        " SELECT initiative.status = 'done' FROM initiative WHERE initiative.id = kr_link.initiative_id)"
        " WHERE kr_id IN ("
        "  SELECT key_result.id FROM key_result"
        "  JOIN objective ON objective.id = key_result.objective_id"
        "  JOIN okr_period ON okr_period.team_id = objective.team_id AND okr_period.name = objective.period"
        "  WHERE okr_period.closed_at IS NOT NULL)"
    )


def downgrade() -> None:
    op.drop_column('kr_link', 'done_at_close')
