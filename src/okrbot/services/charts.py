"""What a chart shows: a KR's check-ins over time against the pace from start to target.

Pure data for okrbot.charts to draw; nothing here knows about images or Slack.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlmodel import Session, col, select

from okrbot.domain.commands import Direction, Metric
from okrbot.domain.formatting import format_value
from okrbot.domain.ids import kr_id, objective_id
from okrbot.domain.periods import current_period, parse_period
from okrbot.domain.progress import format_percent, kr_progress
from okrbot.services.context import Actor
from okrbot.services.summaries import kr_state, progress_of, summarise
from okrbot.services.work import objective_of
from okrbot.store.models import Change, ChangeKr, CheckIn, KeyResult, Objective

MOST_POINTS = 1000  # the latest check-ins drawn; more would not show at chart size
MOST_KRS = 6  # KRs side by side on an objective's chart


@dataclass(frozen=True)
class Trend:
    """One line: values (or progress in %) over time, the pace line and the target."""

    ident: str  # KR-3
    title: str
    unit: str  # what the y axis counts ("days", "%")
    points: tuple[tuple[datetime, float], ...]
    start: float  # the pace line runs from (period start, start) to (period end, target)
    target: float | None
    period_start: datetime
    period_end: datetime
    now: datetime
    threshold: bool = False  # a "keep above/below" KR: the target is a level to hold, no pace
    progress: float = 0.0  # the KR's progress now, as a ratio
    line: str = "check-ins"  # what the line is, for the legend

    @property
    def in_progress(self) -> bool:
        """The line is progress in % (0 to 100), not the KR's own numbers."""
        return self.unit == "%" and self.start == 0.0 and self.target == 100.0 and not self.threshold

    def shown(self, value: float | None) -> str:
        if self.in_progress and value is not None:
            return format_percent(value / 100)  # as progress is shown everywhere: 64%, never 64.5%
        return format_value(value, self.unit, Metric.NUMERIC)


@dataclass(frozen=True)
class ObjectiveTrends:
    ident: str  # O-2
    title: str
    period: str
    progress: float
    krs: tuple[Trend, ...]  # each in progress %, so that they compare
    more: int  # KRs left out


def kr_trend(session: Session, actor: Actor, kr: KeyResult, *, in_progress: bool = False) -> Trend:
    """The KR's own numbers; `in_progress` (and yes/no or milestone KRs): progress in %."""
    objective = objective_of(session, kr)
    begin, end = _period_bounds(objective, actor)
    metric, direction = Metric(kr.metric), Direction(kr.direction)
    progress = progress_of(session, kr)
    as_progress = in_progress or metric in (Metric.BOOLEAN, Metric.MILESTONE)
    if as_progress:
        points = _progress_points(session, kr, metric, begin)
        line = "progress" if metric is Metric.MILESTONE or in_progress else "check-ins"
        return Trend(kr_id(kr.number), kr.title, "%", points, 0.0, 100.0, begin, end, actor.now, direction is Direction.MAINTAIN, progress, line)
    checkins = _checkins(session, kr)
    if direction is Direction.MAINTAIN:
        return Trend(kr_id(kr.number), kr.title, kr.unit or "", checkins, kr.target or 0.0, kr.target, begin, end, actor.now, True, progress)
    start = kr.start if kr.start is not None else 0.0
    origin = max(begin, kr.created_at) if kr.created_at else begin
    if not checkins or checkins[0][0] > origin:
        checkins = ((origin, start), *checkins)
    unit = "%" if metric is Metric.PERCENTAGE and not kr.unit else (kr.unit or "")
    return Trend(kr_id(kr.number), kr.title, unit, checkins, start, kr.target, begin, end, actor.now, False, progress)


def objective_trends(session: Session, actor: Actor, objective: Objective) -> ObjectiveTrends:
    summary = summarise(session, [objective], actor)[0]
    krs = session.exec(
        select(KeyResult).where(KeyResult.objective_id == objective.id, KeyResult.status == "active").order_by(KeyResult.number)
    ).all()
    shown = tuple(kr_trend(session, actor, kr, in_progress=True) for kr in krs[:MOST_KRS])
    return ObjectiveTrends(objective_id(objective.number), objective.title, objective.period, summary.progress, shown, max(0, len(krs) - MOST_KRS))


def _period_bounds(objective: Objective, actor: Actor) -> tuple[datetime, datetime]:
    period = parse_period(objective.period) or current_period(actor.now, actor.tz)
    return period.start_at(actor.tz), period.end_at(actor.tz)


def _checkins(session: Session, kr: KeyResult) -> tuple[tuple[datetime, float], ...]:
    rows = session.exec(
        select(CheckIn.at, CheckIn.value)
        .where(CheckIn.kr_id == kr.id, col(CheckIn.value).is_not(None))
        .order_by(CheckIn.at.desc(), CheckIn.id.desc())
        .limit(MOST_POINTS)
    ).all()
    return tuple((at, value) for at, value in reversed(rows))


def _progress_points(session: Session, kr: KeyResult, metric: Metric, begin: datetime) -> tuple[tuple[datetime, float], ...]:
    """Progress in % after each change: milestone KRs move with work, the others with check-ins."""
    origin = max(begin, kr.created_at) if kr.created_at else begin
    if metric is Metric.MILESTONE:
        rows = session.exec(
            select(Change.at, ChangeKr.after)
            .join(ChangeKr, ChangeKr.change_id == Change.id)
            .where(ChangeKr.kr_id == kr.id)
            .order_by(Change.at.desc(), Change.id.desc())
            .limit(MOST_POINTS)
        ).all()
        moves = [(at, 100.0 * (after or 0.0)) for at, after in reversed(rows)]
    else:
        base = kr_state(kr)
        moves = [(at, 100.0 * kr_progress(replace(base, current=value))) for at, value in _checkins(session, kr)]
    if not moves or moves[0][0] > origin:
        moves.insert(0, (origin, 0.0))
    return tuple(moves)
