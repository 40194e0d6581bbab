"""`/okr gaps`: the hygiene report of one period (SPEC §7).

The facts are loaded in two queries whatever the size of the workspace (the
period's objectives, then their KRs with a count of linked initiatives);
domain/hygiene decides what is wrong. Only objectives the actor may see are
looked at, so a private objective never shows up in someone else's report.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from okrbot.domain.hygiene import Gap, KrFacts, ObjectiveFacts, find_gaps
from okrbot.domain.periods import parse_period
from okrbot.services import okrs
from okrbot.services.context import Actor
from okrbot.store.models import KeyResult, KrLink


@dataclass(frozen=True)
class GapReport:
    period: str
    objectives: int  # how many objectives were looked at
    krs: int
    gaps: list[Gap]


def gap_report(session: Session, actor: Actor, period_text: str | None = None) -> GapReport:
    period = okrs.period_or_current(period_text, actor)
    objectives, krs = period_facts(session, actor, period)
    gaps = find_gaps(
        objectives,
        krs,
        period_start=parse_period(period, actor.fiscal_start).first_day,
        today=actor.now.astimezone(actor.tz).date(),
        now=actor.now,
        drafts=parse_period(period, actor.fiscal_start).start_at(actor.tz) > actor.now,
    )
    return GapReport(period=period, objectives=len(objectives), krs=len(krs), gaps=gaps)


def period_facts(session: Session, actor: Actor, period: str) -> tuple[list[ObjectiveFacts], list[KrFacts]]:
    """The active objectives of `period` the actor may see, and their active KRs."""
    objectives = okrs.objectives_in_period(session, actor, period)
    if not objectives:
        return [], []
    numbers = {objective.id: objective.number for objective in objectives}
    links = (
        select(func.count(KrLink.id)).where(KrLink.kr_id == KeyResult.id).correlate(KeyResult).scalar_subquery()
    )
    rows = session.exec(
        select(KeyResult, links)
        .where(col(KeyResult.objective_id).in_(list(numbers)), KeyResult.status == "active")
        .order_by(KeyResult.number)
    ).all()
    krs = [
        KrFacts(
            number=kr.number,
            objective=numbers[kr.objective_id],
            title=kr.title,
            owner=kr.owner,
            metric=kr.metric,
            direction=kr.direction,
            start=kr.start,
            target=kr.target,
            linked_initiatives=linked,
            # Check-ins and done work both set it; an undone check-in puts it back.
            last_checkin_at=kr.last_progress_at,
            created_at=kr.created_at,
        )
        for kr, linked in rows
    ]
    kr_counts = Counter(kr.objective for kr in krs)
    facts = [ObjectiveFacts(number=o.number, title=o.title, owner=o.owner, kr_count=kr_counts[o.number], team=o.team_channel) for o in objectives]
    return facts, krs
