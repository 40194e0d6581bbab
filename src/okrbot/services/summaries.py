"""Read models: objectives and KRs with progress and health worked out.

Loading is done in a fixed number of queries whatever the size of the
workspace: objectives, their KRs, and the links of milestone KRs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_
from sqlmodel import Session, col, select

from okrbot.domain.commands import Commitment, Direction, Keep, Metric
from okrbot.domain.grading import objective_grade
from okrbot.domain.periods import current_period, parse_period
from okrbot.domain.progress import Health, KrState, LinkedWork, health, kr_progress, objective_progress
from okrbot.services.context import Actor
from okrbot.store.models import Initiative, KeyResult, KrLink, Objective


@dataclass(frozen=True)
class KrSummary:
    id: int
    number: int
    objective_number: int
    title: str
    owner: str
    metric: Metric
    direction: Direction
    keep: Keep | None
    start: float | None
    target: float | None
    current: float | None
    unit: str | None
    weight: float
    confidence: int | None
    progress: float
    health: Health
    has_data: bool
    last_progress_at: datetime | None
    initiatives_done: int
    initiatives_total: int
    commitment: Commitment | None = None
    grade: float | None = None
    grade_source: str | None = None  # owner | suggested (given at close)


@dataclass(frozen=True)
class ObjectiveSummary:
    id: int
    number: int
    title: str
    owner: str
    team_channel: str | None
    period: str
    private: bool
    status: str
    parent_number: int | None
    description: str
    progress: float
    health: Health
    krs: tuple[KrSummary, ...]
    children: tuple[AlignedChild, ...] = ()  # objectives aligned to this one (services/alignment.py)
    carried_from: int | None = None  # O-n this one continues (`/okr carry`)
    carried_to: int | None = None  # O-n that continues this one

    @property
    def grade(self) -> float | None:
        """The weighted mean of its graded KRs (domain/grading.py)."""
        return objective_grade([(kr.grade, kr.weight) for kr in self.krs if kr.grade is not None])


@dataclass(frozen=True)
class AlignedChild:
    """An objective aligned to another, as the viewer may see it: a private one the viewer
    may not see keeps its progress but not its id or title."""

    number: int | None
    title: str | None
    progress: float
    health: Health


def kr_state(kr: KeyResult, linked: Sequence[LinkedWork] = ()) -> KrState:
    return KrState(
        metric=Metric(kr.metric),
        direction=Direction(kr.direction),
        start=kr.start,
        target=kr.target,
        current=kr.current,
        keep=Keep(kr.keep) if kr.keep else None,
        linked=tuple(linked),
    )


def link_done(status: str, done_at_close: bool | None) -> bool:
    """Whether a link counts as done work: as it was at its KR's period close, else as it is now."""
    return done_at_close if done_at_close is not None else status == "done"


def linked_work(session: Session, kr_ids: Iterable[int]) -> dict[int, list[LinkedWork]]:
    """Links of the given KRs with their initiatives' done state, in one query."""
    ids = list(kr_ids)
    found: dict[int, list[LinkedWork]] = defaultdict(list)
    if not ids:
        return found
    rows = session.exec(
        select(KrLink.kr_id, KrLink.weight, Initiative.status, KrLink.done_at_close)
        .join(Initiative, Initiative.id == KrLink.initiative_id)
        .where(col(KrLink.kr_id).in_(ids))
    ).all()
    for kr_id, weight, status, done_at_close in rows:
        found[kr_id].append(LinkedWork(weight=weight, done=link_done(status, done_at_close)))
    return found


def progress_of(session: Session, kr: KeyResult) -> float:
    linked = linked_work(session, [kr.id]) if kr.metric == Metric.MILESTONE else {}
    return kr_progress(kr_state(kr, linked.get(kr.id, ())))


def kr_summary(kr: KeyResult, objective_number: int, expected: float, work: Sequence[LinkedWork] = ()) -> KrSummary:
    """One KR with its progress and health; `work`: its links (milestone KRs move with them)."""
    progress = kr_progress(kr_state(kr, work))
    has_data = kr.last_progress_at is not None
    return KrSummary(
        id=kr.id,
        number=kr.number,
        objective_number=objective_number,
        title=kr.title,
        owner=kr.owner,
        metric=Metric(kr.metric),
        direction=Direction(kr.direction),
        keep=Keep(kr.keep) if kr.keep else None,
        start=kr.start,
        target=kr.target,
        current=kr.current,
        unit=kr.unit,
        weight=kr.weight,
        confidence=kr.confidence,
        progress=progress,
        health=health(progress, expected, has_data),
        has_data=has_data,
        last_progress_at=kr.last_progress_at,
        initiatives_done=sum(1 for item in work if item.done),
        initiatives_total=len(work),
        commitment=Commitment(kr.commitment) if kr.commitment else None,
        grade=kr.grade,
        grade_source=kr.grade_source,
    )


def expected_share(period_text: str, actor: Actor) -> float:
    """How far through its period an objective should be by now (0..1)."""
    return _expected_share(period_text, actor)


def summarise(
    session: Session, objectives: Sequence[Objective], actor: Actor, *, include_archived_krs: bool = False
) -> list[ObjectiveSummary]:
    """Objectives with their KRs' progress and health, in four queries at most."""
    if not objectives:
        return []
    by_id = {objective.id: objective for objective in objectives}
    kr_query = select(KeyResult).where(col(KeyResult.objective_id).in_(list(by_id)))
    if not include_archived_krs:
        kr_query = kr_query.where(KeyResult.status == "active")
    krs = session.exec(kr_query.order_by(KeyResult.number)).all()
    linked = linked_work(session, [kr.id for kr in krs])
    parents, carried_to = _related_numbers(session, objectives)

    expected_by_period = {period: _expected_share(period, actor) for period in {objective.period for objective in objectives}}
    krs_by_objective: dict[int, list[KrSummary]] = defaultdict(list)
    for kr in krs:
        objective = by_id[kr.objective_id]
        expected = expected_by_period[objective.period]
        krs_by_objective[kr.objective_id].append(kr_summary(kr, objective.number, expected, linked.get(kr.id, [])))

    summaries = []
    for objective in objectives:
        kr_summaries = tuple(krs_by_objective.get(objective.id, ()))
        progress = objective_progress([(kr.progress, kr.weight) for kr in kr_summaries])
        has_data = any(kr.has_data for kr in kr_summaries)
        summaries.append(
            ObjectiveSummary(
                id=objective.id,
                number=objective.number,
                title=objective.title,
                owner=objective.owner,
                team_channel=objective.team_channel,
                period=objective.period,
                private=objective.private,
                status=objective.status,
                parent_number=parents.get(objective.parent_id),
                description=objective.description,
                progress=progress,
                health=health(progress, expected_by_period[objective.period], has_data),
                krs=kr_summaries,
                carried_from=parents.get(objective.carried_from_id),
                carried_to=carried_to.get(objective.id),
            )
        )
    return summaries


def _expected_share(period_text: str, actor: Actor) -> float:
    period = parse_period(period_text, actor.fiscal_start) or current_period(actor.now, actor.tz, actor.fiscal_start)
    return period.elapsed_share(actor.now, actor.tz)


def _related_numbers(session: Session, objectives: Sequence[Objective]) -> tuple[dict[int, int], dict[int, int]]:
    """Numbers by id of the objectives' parents and of those they were carried from, and
    the number each was carried to (by the carried objective's id): one query."""
    related = {o.parent_id for o in objectives if o.parent_id} | {o.carried_from_id for o in objectives if o.carried_from_id}
    ids = [objective.id for objective in objectives]
    rows = session.exec(
        select(Objective.id, Objective.number, Objective.carried_from_id).where(
            or_(col(Objective.id).in_(related), col(Objective.carried_from_id).in_(ids))
        )
    ).all()
    numbers = {row_id: number for row_id, number, _ in rows if row_id in related}
    carried_to = {source: number for _, number, source in rows if source in set(ids)}
    return numbers, carried_to
