"""What a tracker or a metric feed delivers, applied: work marked done or reopened, a
reading recorded as a check-in. The webhook adapters verify and parse; this finds
the work and changes it inside the caller's unit of work."""

from __future__ import annotations

from sqlmodel import Session, select

from okrbot.domain.commands import WorkRef
from okrbot.domain.urls import url_key
from okrbot.services import work
from okrbot.services.context import Actor
from okrbot.store.models import Initiative, KeyResult, Workspace


def work_targets(session: Session, *, url: str | None, number: int | None, team: str | None) -> list[tuple[str, int]]:
    """(team, I-n) of the initiatives a delivery is about: by number in one workspace, or by
    URL — in the workspace the delivery was addressed to, or (on the shared URL) in any."""
    query = select(Initiative.team_id, Initiative.number)
    if number is not None:
        query = query.where(Initiative.number == number)
    else:
        query = query.where(Initiative.url_key == url_key(url or ""))
    if team:
        query = query.where(Initiative.team_id == team)
    rows = session.exec(query.order_by(Initiative.team_id, Initiative.number)).all()
    if number is not None and not team and len({team_id for team_id, _ in rows}) > 1:
        return []  # I-3 exists in several workspaces: without a workspace it is ambiguous
    return [(team_id, n) for team_id, n in rows]


def set_work_status(session: Session, actor: Actor, number: int, status: str) -> work.WorkOutcome:
    initiative = work.find_initiative(session, actor, WorkRef(initiative=number))
    return work.set_status(session, actor, initiative, status)


def metric_team(session: Session, kr_number: int, team: str | None) -> str | None:
    """The workspace a reading on the shared URL is for: the one named, else the only
    workspace that has this KR; None when that is not one workspace."""
    if team:
        return team
    teams = session.exec(select(KeyResult.team_id).where(KeyResult.number == kr_number)).all()
    if len(teams) == 1:
        return teams[0]
    if not teams:
        workspaces = session.exec(select(Workspace.team_id).limit(2)).all()
        return workspaces[0] if len(workspaces) == 1 else None
    return None
