"""What the App Home shows a person: their OKRs, and what they owe."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, select

from okrbot.domain.commands import Metric
from okrbot.services import okrs
from okrbot.services.context import Actor
from okrbot.services.summaries import KrSummary, ObjectiveSummary, summarise
from okrbot.store.models import Initiative, KrLink

STALE_AFTER = timedelta(days=30)
OPEN_WORK_LIMIT = 10


@dataclass(frozen=True)
class HomeData:
    period: str
    objectives: list[ObjectiveSummary]
    checkins_due: list[KrSummary]  # my KRs with no check-in for 30 days
    open_work: list[Initiative]  # my initiatives not done yet


def home_data(session: Session, actor: Actor) -> HomeData:
    period = okrs.period_or_current(None, actor)
    objectives = summarise(session, okrs.objectives_in_period(session, actor, period, okrs.owned_by(actor.user_id)), actor)
    stale_before = actor.now - STALE_AFTER
    due = [
        kr
        for objective in objectives
        for kr in objective.krs
        if kr.owner == actor.user_id
        and kr.metric is not Metric.MILESTONE
        and (kr.last_progress_at is None or kr.last_progress_at < stale_before)
    ]
    open_work = list(
        session.exec(
            select(Initiative)
            .where(Initiative.team_id == actor.team_id, Initiative.owner == actor.user_id, Initiative.status != "done")
            .where(select(KrLink.id).where(KrLink.initiative_id == Initiative.id).exists())
            .order_by(Initiative.number)
            .limit(OPEN_WORK_LIMIT)
        ).all()
    )
    return HomeData(period=period, objectives=objectives, checkins_due=due, open_work=open_work)
