"""A period's scorecard (`/okr report [period] [#channel]`, and posted when a period closes):
per team, the objectives with their grades or progress, the grade distribution, what
was carried over, KRs that never had work linked and KRs never checked in.

A fixed number of queries whatever the size of the organisation: the objectives
(those the reader may see), their summaries (services/summaries.py), and which of
their KRs have a check-in.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import exists
from sqlmodel import Session, col, select

from okrbot.domain.grading import Band, band
from okrbot.domain.periods import Period
from okrbot.services import okrs, periods
from okrbot.services.context import Actor
from okrbot.services.errors import NotAllowed
from okrbot.services.summaries import KrSummary, ObjectiveSummary, summarise
from okrbot.store import outbox
from okrbot.store.models import CheckIn, KeyResult, Objective, OutboundMessage, Workspace
from okrbot.store.workspaces import ensure_workspace

SCORECARD_KIND, SUMMARY_KIND = "scorecard", "scorecard_summary"


@dataclass(frozen=True)
class TeamScorecard:
    channel: str | None  # the team's channel; None for objectives with no team
    objectives: tuple[ObjectiveSummary, ...]
    bands: dict[Band, int]  # graded KRs by band, each against its own expectation
    ungraded: int
    carried: tuple[ObjectiveSummary, ...]  # objectives carried into another period
    no_work: tuple[KrSummary, ...]  # KRs with no work linked
    never_checked_in: tuple[KrSummary, ...]


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
    objectives = okrs.objectives_in_period(session, actor, str(period), *condition)
    return _scorecard(session, actor, period, objectives)


def _scorecard(session: Session, actor: Actor, period: Period, objectives: Sequence[Objective]) -> Scorecard:
    summaries = summarise(session, objectives, actor)
    kr_ids = [kr.id for objective in summaries for kr in objective.krs]
    # One index probe per KR (EXISTS) rather than reading every check-in of the period.
    has_checkin = exists().where(CheckIn.kr_id == KeyResult.id)
    checked = set(session.exec(select(KeyResult.id).where(col(KeyResult.id).in_(kr_ids), has_checkin)).all()) if kr_ids else set()
    by_team: dict[str | None, list[ObjectiveSummary]] = defaultdict(list)
    for objective in summaries:
        by_team[objective.team_channel].append(objective)
    teams = tuple(_team(channel, items, checked) for channel, items in sorted(by_team.items(), key=lambda item: (item[0] is None, item[0] or "")))
    return Scorecard(period=period, closed=periods.is_closed(session, actor.team_id, str(period)), teams=teams)


def _team(channel: str | None, objectives: list[ObjectiveSummary], checked: set[int]) -> TeamScorecard:
    krs = [kr for objective in objectives for kr in objective.krs]
    graded = Counter(band(kr.grade, kr.commitment) for kr in krs if kr.grade is not None)
    return TeamScorecard(
        channel=channel,
        objectives=tuple(objectives),
        bands={kind: graded.get(kind, 0) for kind in Band},
        ungraded=sum(1 for kr in krs if kr.grade is None),
        carried=tuple(objective for objective in objectives if objective.carried_to),
        no_work=tuple(kr for kr in krs if kr.initiatives_total == 0),
        never_checked_in=tuple(kr for kr in krs if kr.id not in checked),
    )


def queue_scorecards(session: Session, team_id: str, period: Period, now: datetime, tz: ZoneInfo, messages: ScorecardMessages) -> list[int]:
    """When a period closes: each team channel's scorecard, and the company summary to the
    report channel, each posted once (a dedupe key per period and channel)."""
    actor = Actor(team_id=team_id, user_id="okrbot", is_admin=True, tz=tz, now=now, fiscal_start=period.start_month)
    # Private objectives stay out of what a whole channel reads.
    objectives = [o for o in okrs.objectives_in_period(session, actor, str(period)) if not o.private]
    card = _scorecard(session, actor, period, objectives)
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
