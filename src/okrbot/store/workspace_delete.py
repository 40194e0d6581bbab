"""`okrbot workspace delete T…`: every row of one workspace, and nothing else.

Tables are found from the schema, not listed by hand: a table with a `team_id` column loses
that workspace's rows; a table without one loses the rows that point at a row being deleted
(change_kr → change). Children go before their parents, the workspace row last, all in the
caller's one transaction. An Enterprise Grid organisation's org-wide install (team_id empty)
belongs to the organisation and stays."""

from __future__ import annotations

from sqlalchemy import Table, delete, func, or_, select
from sqlmodel import Session

from okrbot.store.models import Workspace, metadata


def workspace_tables() -> list[Table]:
    return [table for table in metadata.sorted_tables if "team_id" in table.c]


def rows_of(table: Table, team_id: str):
    """The condition that picks this workspace's rows of `table`; None: it holds none."""
    if "team_id" in table.c:
        return table.c.team_id == team_id
    owners = [
        (fk.parent, fk.column)
        for fk in table.foreign_keys
        if "team_id" in fk.column.table.c and fk.column.table is not table
    ]
    if not owners:
        return None
    return or_(*[child.in_(select(parent).where(parent.table.c.team_id == team_id)) for child, parent in owners])


def count_rows(session: Session, team_id: str) -> dict[str, int]:
    counts = {}
    for table in metadata.sorted_tables:
        where = rows_of(table, team_id)
        if where is not None:
            counts[table.name] = int(session.execute(select(func.count()).select_from(table).where(where)).scalar_one())
    return counts


def delete_workspace(session: Session, team_id: str) -> dict[str, int]:
    """Delete every row of the workspace; returns how many rows went, by table."""
    deleted: dict[str, int] = {}
    workspace = Workspace.__table__
    for table in reversed(metadata.sorted_tables):  # children before the rows they point at
        where = rows_of(table, team_id)
        if where is None or table is workspace:
            continue
        deleted[table.name] = int(session.execute(delete(table).where(where)).rowcount or 0)
    deleted[workspace.name] = int(session.execute(delete(workspace).where(workspace.c.team_id == team_id)).rowcount or 0)
    return {name: count for name, count in deleted.items() if count}
