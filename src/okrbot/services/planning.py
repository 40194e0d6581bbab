"""Planning the next period: from OKRBOT_PLANNING_LEAD_DAYS before it starts, each team
channel with objectives this period but none drafted for the next is told, once.

Drafts are ordinary objectives of the coming period: they show as "next quarter" in
status, review nudges and grading leave them alone until their period, and
`/okr gaps next` holds them to the planning checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from okrbot.domain.periods import Period, current_period
from okrbot.services import periods
from okrbot.services.grading import GradingPolicy
from okrbot.services.reviews import workspace_tz
from okrbot.store import outbox
from okrbot.store.models import Objective, OutboundMessage, Workspace

PLANNING_KIND = "planning"


@dataclass(frozen=True)
class PlanningNote:
    channel: str
    current: Period
    coming: Period
    starts_at: datetime
    tz: ZoneInfo
    objectives: tuple[int, ...]  # O-n numbers of the team's objectives this period, to carry over


class PlanningMessages(Protocol):
    def planning(self, note: PlanningNote) -> dict: ...


def tell_teams_to_plan(session: Session, team_id: str, now: datetime, policy: GradingPolicy, messages: PlanningMessages) -> list[int]:
    workspace = session.get(Workspace, team_id)
    if workspace is None:
        return []
    tz = workspace_tz(workspace, policy.default_tz)
    current = current_period(now, tz, periods.fiscal_start(workspace, policy.fiscal_start))
    coming = current.next()
    starts_at = coming.start_at(tz)
    if not starts_at - policy.planning_lead <= now < starts_at:
        return []
    rows = session.exec(
        select(Objective.team_channel, Objective.period, Objective.number).where(
            Objective.team_id == team_id,
            Objective.status == "active",
            col(Objective.team_channel).is_not(None),
            col(Objective.period).in_([str(current), str(coming)]),
        )
    ).all()
    planned = {channel for channel, period, _ in rows if period == str(coming)}
    now_objectives: dict[str, list[int]] = {}
    for channel, period, number in rows:
        if period == str(current) and channel not in planned:
            now_objectives.setdefault(channel, []).append(number)
    keys = {f"{PLANNING_KIND}:{team_id}:{coming}:{channel}": channel for channel in sorted(now_objectives)}
    told = set(session.exec(select(OutboundMessage.dedupe_key).where(col(OutboundMessage.dedupe_key).in_(list(keys)))).all()) if keys else set()
    queued = []
    for key, channel in keys.items():
        if key in told:
            continue  # told once per coming period
        note = PlanningNote(channel, current, coming, starts_at, tz, tuple(sorted(now_objectives[channel])))
        queued.append(outbox.enqueue(session, team_id=team_id, kind=PLANNING_KIND, channel=channel, payload=messages.planning(note), now=now, dedupe_key=key).id)
    return queued
