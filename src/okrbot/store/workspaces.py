"""Workspaces and their short-id counters."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from okrbot.domain.commands import Kind
from okrbot.store.models import Workspace

STATUS_MOVED = "status_moved"  # session.info: workspaces whose status revision this transaction moved
_COUNTERS = {Kind.OBJECTIVE: "next_objective", Kind.KR: "next_kr", Kind.INITIATIVE: "next_initiative"}


def ensure_workspace(session: Session, team_id: str) -> Workspace:
    """The workspace row, created on first use (safe when two processes race)."""
    found = held_workspace(session, team_id)
    if found is None:
        try:
            with session.begin_nested():
                session.add(Workspace(team_id=team_id))
        except IntegrityError:
            pass  # another process created it first
        found = held_workspace(session, team_id)
    return found


def held_workspace(session: Session, team_id: str) -> Workspace | None:
    """The workspace row (None before its first use), read once per unit of work.

    The session holds on to it: its identity map keeps rows only while something refers
    to them, and a unit of work asks for its workspace several times (the request's key,
    the calendar, the status revision, the answer), each a query again once the last
    reference was dropped. Revisions moved in this transaction expire on the row
    (store/revisions.py), so what it says is what this transaction sees."""
    held = session.info.setdefault("workspaces", {})
    found = held.get(team_id)
    if found is None:
        found = session.get(Workspace, team_id)
        if found is not None:
            held[team_id] = found
    return found


def allocate_number(session: Session, team_id: str, kind: Kind) -> int:
    """The next never-used number for O-n, KR-n or I-n in this workspace.

    One atomic UPDATE … RETURNING, so concurrent writers never share a number.
    """
    ensure_workspace(session, team_id)
    column = getattr(Workspace, _COUNTERS[kind])
    result = session.execute(
        update(Workspace)
        .where(Workspace.team_id == team_id)
        .values({column: column + 1})
        .returning(column)
        .execution_options(synchronize_session=False)
    )
    return int(result.scalar_one())


def reserve_numbers(session: Session, team_id: str, kind: Kind, at_least: int) -> None:
    """Make sure future numbers are above `at_least` (after importing kept ids)."""
    ensure_workspace(session, team_id)
    column = getattr(Workspace, _COUNTERS[kind])
    session.execute(
        update(Workspace)
        .where(Workspace.team_id == team_id, column < at_least)
        .values({column: at_least})
        .execution_options(synchronize_session=False)
    )


def only_workspace(session: Session) -> str | None:
    """The single workspace in the database, for offline commands; None if zero or several."""
    team_ids = session.exec(select(Workspace.team_id).limit(2)).all()
    return team_ids[0] if len(team_ids) == 1 else None


def status_revision(session: Session, team_id: str) -> tuple | None:
    """What names the state of everything a status shows, until it changes: the database,
    the workspace, when its row was made (a workspace made again, a test's fresh database,
    never meets an old state) and its status revision (store/revisions.py). None before
    the workspace's first use, and once this transaction moved it: what it reads then may
    still roll back, so nothing shared may be kept under that number."""
    workspace = held_workspace(session, team_id)
    if workspace is None or team_id in session.info.get(STATUS_MOVED, ()):
        return None
    return (str(session.get_bind().url), team_id, workspace.created_at, workspace.status_revision)
