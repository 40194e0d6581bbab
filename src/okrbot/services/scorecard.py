"""A period's scorecard (`/okr report [period] [#channel]`, and posted when a period closes):
per team, the objectives with their grades or progress, the grade distribution, what
was carried over, KRs that never had work linked and KRs never checked in.

A fixed number of queries whatever the size of the organisation, with the counts done
in SQL: only what a message names (each team's first objectives and KRs) is loaded.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import exists, func
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from okrbot.domain.grading import Band, band
from okrbot.domain.periods import Period
from okrbot.services import okrs, periods
from okrbot.services.context import Actor
from okrbot.services.errors import NotAllowed
from okrbot.services.summaries import ObjectiveSummary, summarise
from okrbot.store import outbox
from okrbot.store.models import CheckIn, KeyResult, KrLink, Objective, OutboundMessage, Workspace
from okrbot.store.workspaces import ensure_workspace

SCORECARD_KIND, SUMMARY_KIND = "scorecard", "scorecard_summary"
SHOWN = 10  # objectives, carried objectives and KRs a team's section names; the rest are counted


@dataclass(frozen=True)
class FirstOf:
    """The first few of a list (what a message can name) and how many there are in all."""

    items: tuple
    total: int

    def __bool__(self) -> bool:
        return self.total > 0


NONE = FirstOf((), 0)


@dataclass(frozen=True)
class TeamScorecard:
    channel: str | None  # the team's channel; None for objectives with no team
    objectives: FirstOf  # ObjectiveSummary, with grades or progress
    bands: dict[Band, int]  # graded KRs by band, each against its own expectation
    ungraded: int
    carried: FirstOf = NONE  # (O-n, O-m it was carried to)
    no_work: FirstOf = NONE  # KR numbers with no work linked
    never_checked_in: FirstOf = NONE  # KR numbers never checked in


@dataclass(frozen=True)
class Scorecard:
    period: Period
    closed: bool
    teams: tuple[TeamScorecard, ...]

    @property
    def bands(self) -> dict[Band, int]:
        total: Counter = Counter()
        for team in self.teams:
            total.update(team.bands)
        return {kind: total.get(kind, 0) for kind in Band}

    @property
    def ungraded(self) -> int:
        return sum(team.ungraded for team in self.teams)


class ScorecardMessages(Protocol):
    def scorecard(self, card: Scorecard, team: TeamScorecard) -> dict: ...

    def company_summary(self, card: Scorecard) -> dict: ...


def default_period(actor: Actor, after) -> Period:
    """The quarter that just ended while it is being graded (`after` past its end), else this one."""
    now = periods.current(actor)
    previous = _previous(now)
    return previous if actor.now < previous.end_at(actor.tz) + after else now


def _previous(period: Period) -> Period:
    if period.quarter is None:
        return Period(period.year - 1, None, period.start_month)
    if period.quarter == 1:
        return Period(period.year - 1, 4, period.start_month)
    return Period(period.year, period.quarter - 1, period.start_month)


def team_scorecard(session: Session, actor: Actor, period: Period, channel: str | None) -> Scorecard:
    """One team's scorecard (`channel`), or every team's: admins only."""
    if channel is None and not actor.is_admin:
        raise NotAllowed(
            "Every team's scorecard is for okrbot admins.",
            hint="Name a team: `/okr report #channel`, or ask in its channel.",
        )
    condition = (okrs.in_channel(channel),) if channel else ()
    return _scorecard(session, actor, period, condition)


def _scorecard(session: Session, actor: Actor, period: Period, condition: tuple) -> Scorecard:
    """Counted in SQL, team by team; only the objectives and KRs a message names are loaded.

    The same statements whatever the size of the organisation: the first objectives of
    each team (summarised), the carried ones, the grades by band, and the KRs with no work
    or no check-in, each a grouped or windowed query over the period's objectives.
    """
    scope = okrs.in_period(session, select(Objective.id), actor, str(period), *condition)
    shown, objective_totals = _first_objectives(session, scope)
    summaries = summarise(session, shown, actor)
    by_team: dict[str | None, list[ObjectiveSummary]] = defaultdict(list)
    for objective in summaries:
        by_team[objective.team_channel].append(objective)
    carried = _first_per_team(
        session, scope, select(Objective.team_channel, Objective.number, _CARRIED.number).join(_CARRIED, _CARRIED.carried_from_id == Objective.id), Objective.number
    )
    krs = select(Objective.team_channel, KeyResult.number).join(Objective, Objective.id == KeyResult.objective_id).where(KeyResult.status == "active")
    no_work = _first_per_team(session, scope, krs.where(~exists().where(KrLink.kr_id == KeyResult.id)), KeyResult.number)
    unchecked = _first_per_team(session, scope, krs.where(~exists().where(CheckIn.kr_id == KeyResult.id)), KeyResult.number)
    bands, ungraded = _grades_by_team(session, scope)
    teams = tuple(
        TeamScorecard(
            channel=channel,
            objectives=FirstOf(tuple(by_team.get(channel, ())), total),
            bands=bands.get(channel, {kind: 0 for kind in Band}),
            ungraded=ungraded.get(channel, 0),
            carried=carried.get(channel, NONE),
            no_work=no_work.get(channel, NONE),
            never_checked_in=unchecked.get(channel, NONE),
        )
        for channel, total in sorted(objective_totals.items(), key=lambda item: (item[0] is None, item[0] or ""))
    )
    return Scorecard(period=period, closed=periods.is_closed(session, actor.team_id, str(period)), teams=teams)


_CARRIED = aliased(Objective)  # the objective another was carried into


def _first_objectives(session: Session, scope) -> tuple[list[Objective], dict[str | None, int]]:
    """Each team's first objectives (by number) and how many each team has: one query."""
    ranked = select(
        Objective.id,
        func.row_number().over(partition_by=Objective.team_channel, order_by=Objective.number).label("rank"),
        func.count().over(partition_by=Objective.team_channel).label("total"),
    ).where(col(Objective.id).in_(scope)).subquery()
    rows = session.exec(
        select(Objective, ranked.c.total).join(ranked, ranked.c.id == Objective.id).where(ranked.c.rank <= SHOWN).order_by(Objective.number)
    ).all()
    return [objective for objective, _ in rows], {objective.team_channel: total for objective, total in rows}


def _first_per_team(session: Session, scope, query, order) -> dict[str | None, FirstOf]:
    """`query` (team channel, then one or two values) per team: its first SHOWN rows by `order`, and its count."""
    ranked = query.add_columns(
        func.row_number().over(partition_by=Objective.team_channel, order_by=order).label("rank"),
        func.count().over(partition_by=Objective.team_channel).label("total"),
    ).where(col(Objective.id).in_(scope)).subquery()
    channel, *values, rank, total = ranked.c
    found: dict[str | None, list] = defaultdict(list)
    totals: dict[str | None, int] = {}
    for team, count, *value in session.execute(select(channel, total, *values).where(rank <= SHOWN).order_by(channel, rank)).all():
        found[team].append(value[0] if len(value) == 1 else tuple(value))
        totals[team] = count
    return {team: FirstOf(tuple(items), totals[team]) for team, items in found.items()}


def _grades_by_team(session: Session, scope) -> tuple[dict[str | None, dict[Band, int]], dict[str | None, int]]:
    """Graded KRs by band and ungraded ones, per team: counted in SQL by (grade, commitment),
    a few dozen groups a team; the bands come from the one definition in domain/grading."""
    rows = session.exec(
        select(Objective.team_channel, KeyResult.grade, KeyResult.commitment, func.count())
        .join(Objective, Objective.id == KeyResult.objective_id)
        .where(KeyResult.status == "active", col(Objective.id).in_(scope))
        .group_by(Objective.team_channel, KeyResult.grade, KeyResult.commitment)
    ).all()
    bands: dict[str | None, dict[Band, int]] = defaultdict(lambda: {kind: 0 for kind in Band})
    ungraded: dict[str | None, int] = defaultdict(int)
    for channel, grade, commitment, count in rows:
        if grade is None:
            ungraded[channel] += count
        else:
            bands[channel][band(grade, commitment)] += count
    return dict(bands), dict(ungraded)


def queue_scorecards(session: Session, team_id: str, period: Period, now: datetime, tz: ZoneInfo, messages: ScorecardMessages) -> list[int]:
    """When a period closes: each team channel's scorecard, and the company summary to the
    report channel, each posted once (a dedupe key per period and channel)."""
    actor = Actor(team_id=team_id, user_id="okrbot", is_admin=True, tz=tz, now=now, fiscal_start=period.start_month)
    # Private objectives stay out of what a whole channel reads.
    card = _scorecard(session, actor, period, (col(Objective.private).is_(False),))
    posts = [(team.channel, SCORECARD_KIND, messages.scorecard(card, team)) for team in card.teams if team.channel]
    workspace = session.get(Workspace, team_id)
    if workspace is not None and workspace.report_channel and card.teams:
        posts.append((workspace.report_channel, SUMMARY_KIND, messages.company_summary(card)))
    keys = {f"{kind}:{team_id}:{period}:{channel}": (channel, kind, payload) for channel, kind, payload in posts}
    sent = set(session.exec(select(OutboundMessage.dedupe_key).where(col(OutboundMessage.dedupe_key).in_(list(keys)))).all()) if keys else set()
    queued = []
    for key, (channel, kind, payload) in keys.items():
        if key not in sent:  # closed, reopened and closed again: posted once
            queued.append(outbox.enqueue(session, team_id=team_id, kind=kind, channel=channel, payload=payload, now=now, dedupe_key=key).id)
    return queued


def set_report_channel(session: Session, actor: Actor, channel: str) -> str:
    if not actor.is_admin:
        raise NotAllowed(f"Only {periods.ADMINS} can choose where the company scorecard goes.")
    workspace = ensure_workspace(session, actor.team_id)
    workspace.report_channel = okrs.clean_id(channel, field="team")
    session.flush()
    return channel
