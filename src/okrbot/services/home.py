"""What the App Home shows a person: their OKRs, and what they owe."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_
from sqlmodel import Session, col, select

from okrbot.domain.commands import Metric
from okrbot.services import okrs
from okrbot.services.context import Actor
from okrbot.services.summaries import KrSummary, ObjectiveSummary, expected_share, kr_summary, summarise
from okrbot.store.models import Initiative, KeyResult, KrLink, Objective

STALE_AFTER = timedelta(days=30)
OPEN_WORK_LIMIT = 10
CHECKINS_DUE_LIMIT = 10  # the App Home lists this many
HOME_OBJECTIVES = 48  # cards of at least 2 blocks after 4 others: more never fit in the App Home's 100 blocks


@dataclass(frozen=True)
class HomeData:
    period: str
    objectives: list[ObjectiveSummary]
    checkins_due: list[KrSummary]  # my KRs with no check-in for 30 days
    open_work: list[Initiative]  # my initiatives not done yet
    more_objectives: int = 0  # mine beyond those loaded (the view points to `/okr status me`)


def home_data(session: Session, actor: Actor) -> HomeData:
    """A fixed number of queries, and only what the App Home can show (someone who owns
    hundreds of objectives in a large workspace is not read in full on every visit)."""
    period = okrs.period_or_current(None, actor)
    shown, total = okrs.first_objectives_in_period(session, actor, period, okrs.owned_by(actor.user_id), limit=HOME_OBJECTIVES)
    objectives = summarise(session, shown, actor)
    stale_before = actor.now - STALE_AFTER
    # My KRs with nothing new for 30 days, in all my objectives (not only the ones shown).
    stale = session.exec(
        select(KeyResult, Objective.number, Objective.period)
        .join(Objective, Objective.id == KeyResult.objective_id)
        .where(Objective.team_id == actor.team_id, Objective.period == period, Objective.status == "active")
        .where(KeyResult.owner == actor.user_id, KeyResult.status == "active", KeyResult.metric != Metric.MILESTONE.value)
        .where(or_(col(KeyResult.last_progress_at).is_(None), col(KeyResult.last_progress_at) < stale_before))
        .order_by(Objective.number, KeyResult.number)
        .limit(CHECKINS_DUE_LIMIT)
    ).all()
    due = [kr_summary(kr, number, expected_share(kr_period, actor)) for kr, number, kr_period in stale]
    open_work = list(
        session.exec(
            select(Initiative)
            .where(Initiative.team_id == actor.team_id, Initiative.owner == actor.user_id, Initiative.status != "done")
            .where(select(KrLink.id).where(KrLink.initiative_id == Initiative.id).exists())
            .order_by(Initiative.number)
            .limit(OPEN_WORK_LIMIT)
        ).all()
    )
    return HomeData(period=period, objectives=objectives, checkins_due=due, open_work=open_work, more_objectives=total - len(shown))
