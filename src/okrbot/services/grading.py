"""Grading a period's KRs and closing the period.

From OKRBOT_GRADING_LEAD_DAYS before a period ends until OKRBOT_GRADING_WINDOW_DAYS
after it, KR owners grade their KRs (0.0–1.0, with a retro note): with
`/okr grade`, the buttons and modal of their grading DM, or a reply in its thread.
At the end of that window (or earlier with `/okr close`) the period closes:
ungraded KRs take their suggested grade, marked as such, and the period is frozen.

Exactly once, as for review nudges: each owner's DM is one INSERT of
(workspace, period, owner) that only one process wins, with the DM queued in the
outbox in the same transaction.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from okrbot.domain.commands import Commitment, Direction, Keep
from okrbot.domain.grading import GradeReplyError, GradingWindow, Reading, grading_window, held_share, parse_grade_reply, suggested_grade
from okrbot.domain.ids import kr_id
from okrbot.domain.periods import Period, parse_period
from okrbot.services import dm_cap, periods, permissions
from okrbot.services.context import Actor
from okrbot.services.errors import Invalid, NotAllowed, NotFound
from okrbot.domain.text import clean_text
from okrbot.services.okrs import get_kr
from okrbot.services.reviews import workspace_tz
from okrbot.services.scorecard import ScorecardMessages, queue_scorecards
from okrbot.services.summaries import KrSummary, ObjectiveSummary, summarise
from okrbot.store import outbox
from okrbot.store.models import CheckIn, GradingDm, KeyResult, Objective, OkrPeriod, Workspace
from okrbot.store.workspaces import ensure_workspace

GRADING_KIND = "grading"
SLACK_USER = re.compile(r"^[UW][A-Z0-9]+$")
OWNER, SUGGESTED = "owner", "suggested"
NOTE_LIMIT = 3000


@dataclass(frozen=True)
class GradingPolicy:
    lead: timedelta = timedelta(days=10)
    after: timedelta = timedelta(days=14)
    default_tz: ZoneInfo = ZoneInfo("UTC")
    fiscal_start: int = 1
    planning_lead: timedelta = timedelta(days=14)

    @classmethod
    def from_settings(cls, settings) -> GradingPolicy:
        return cls(
            lead=timedelta(days=settings.grading_lead_days),
            after=timedelta(days=settings.grading_window_days),
            default_tz=settings.tz,
            fiscal_start=settings.fiscal_start_month,
            planning_lead=timedelta(days=settings.planning_lead_days),
        )

    def window(self, period: Period, tz: ZoneInfo) -> GradingWindow:
        return grading_window(period, tz, self.lead, self.after)


@dataclass(frozen=True)
class KrToGrade:
    kr: KrSummary
    objective: ObjectiveSummary
    suggested: float


@dataclass(frozen=True)
class GradingView:
    """One owner's KRs of one period, as their grading DM shows them."""

    dm_id: int
    owner: str
    period: Period
    window: GradingWindow
    tz: ZoneInfo
    krs: tuple[KrToGrade, ...]


class GradingMessages(Protocol):
    """Message payloads ({"text", "blocks"}); the Slack views implement this."""

    def grading_dm(self, view: GradingView) -> dict: ...


# --------------------------------------------------------------------------- what to grade


def krs_to_grade(session: Session, team_id: str, period: Period, now: datetime, tz: ZoneInfo, owner: str | None = None) -> list[KrToGrade]:
    """The period's active KRs (one owner's, or everyone's) with the grade each is offered: a fixed number of queries."""
    query = select(Objective).where(Objective.team_id == team_id, Objective.period == str(period), Objective.status == "active")
    if owner is not None:
        query = query.where(col(Objective.id).in_(select(KeyResult.objective_id).where(KeyResult.team_id == team_id, KeyResult.owner == owner)))
    objectives = session.exec(query.order_by(Objective.number)).all()
    viewer = Actor(team_id=team_id, user_id="okrbot", is_admin=True, tz=tz, now=now, fiscal_start=period.start_month)
    summaries = summarise(session, objectives, viewer)
    krs = [(kr, objective) for objective in summaries for kr in objective.krs if owner is None or kr.owner == owner]
    held = _held_shares(session, [kr for kr, _ in krs], period, now, tz)
    return [
        KrToGrade(kr=kr, objective=objective, suggested=suggested_grade(kr.metric, kr.direction, kr.progress, held.get(kr.id)))
        for kr, objective in krs
    ]


def _held_shares(session: Session, krs: Sequence[KrSummary], period: Period, now: datetime, tz: ZoneInfo) -> dict[int, float]:
    """For maintain KRs: the share of the period (so far) each was held, from its check-ins."""
    maintained = {kr.id: kr for kr in krs if kr.direction is Direction.MAINTAIN and kr.target is not None}
    if not maintained:
        return {}
    readings: dict[int, list[Reading]] = defaultdict(list)
    rows = session.exec(
        select(CheckIn.kr_id, CheckIn.at, CheckIn.value).where(col(CheckIn.kr_id).in_(list(maintained)), col(CheckIn.value).is_not(None))
    ).all()
    for kr_row_id, at, value in rows:
        readings[kr_row_id].append(Reading(at, value))
    start, end = period.start_at(tz), min(period.end_at(tz), now)
    shares = {}
    for kr_row_id, kr in maintained.items():
        share = held_share(readings[kr_row_id], kr.target, kr.keep or Keep.ABOVE, start, end)
        if share is not None:
            shares[kr_row_id] = share
    return shares


# --------------------------------------------------------------------------- grading


@dataclass(frozen=True)
class Graded:
    number: int
    title: str
    grade: float
    commitment: Commitment | None
    note: str


def grade_kr(session: Session, actor: Actor, number: int, grade: float, note: str | None, policy: GradingPolicy) -> Graded:
    """`/okr grade KR-n 0.7 ["note"]`, the modal, a thread reply: set one KR's grade."""
    kr = get_kr(session, actor, number)
    objective = session.get(Objective, kr.objective_id)
    permissions.require_kr(actor, objective, kr, f"grade {kr_id(number)}")
    if not 0.0 <= grade <= 1.0:
        raise Invalid("A grade goes from 0.0 to 1.0.", hint=f"For example: `/okr grade {kr_id(number)} 0.7`.", field="grade")
    _require_grading_open(session, actor, objective.period, policy)
    note = clean_text(note or "", lines=True).strip()
    if len(note) > NOTE_LIMIT:
        raise Invalid(f"The note is {len(note)} characters; keep it under {NOTE_LIMIT}.", field="note")
    kr.grade, kr.grade_source, kr.graded_by, kr.graded_at = round(grade, 4), OWNER, actor.user_id, actor.now
    kr.grade_note = note or kr.grade_note
    session.flush()
    return Graded(kr.number, kr.title, kr.grade, Commitment(kr.commitment) if kr.commitment else None, kr.grade_note)


def _require_grading_open(session: Session, actor: Actor, period_name: str, policy: GradingPolicy) -> None:
    periods.require_open(session, actor.team_id, period_name, "grade its KRs")
    period = parse_period(period_name, actor.fiscal_start)
    if period is None:
        return  # a name no calendar reads (imported by hand): grade it whenever
    window = policy.window(period, actor.tz)
    if actor.now < window.opens_at:
        opens = window.opens_at.astimezone(actor.tz)
        raise Invalid(
            f"Grading {period} opens on {opens:%A} {opens.day} {opens:%B %Y}, {policy.lead.days} days before it ends.",
            hint="Until then, record progress with `/okr checkin`.",
        )


def accept_suggestions(session: Session, actor: Actor, dm_id: int, policy: GradingPolicy) -> list[Graded]:
    """The "Accept suggested grades" button: each of the owner's ungraded KRs takes its suggestion."""
    dm = _own_dm(session, actor, dm_id)
    period = periods.resolve(dm.period, actor)
    _require_grading_open(session, actor, dm.period, policy)
    graded = []
    for item in krs_to_grade(session, actor.team_id, period, actor.now, actor.tz, owner=dm.owner):
        if item.kr.grade is not None:
            continue
        graded.append(grade_kr(session, actor, item.kr.number, item.suggested, None, policy))
    return graded


def answer_in_thread(session: Session, actor: Actor, dm_id: int, text: str, policy: GradingPolicy) -> list[Graded]:
    """A reply in the grading DM's thread: `0.7 what worked`, or `KR-3 0.7 note` per line."""
    dm = _own_dm(session, actor, dm_id)
    period = periods.resolve(dm.period, actor)
    owned = [item.kr.number for item in krs_to_grade(session, actor.team_id, period, actor.now, actor.tz, owner=dm.owner)]
    try:
        replies = parse_grade_reply(text, owned)
    except GradeReplyError as error:
        raise Invalid(str(error)) from None
    return [grade_kr(session, actor, reply.kr, reply.grade, reply.note, policy) for reply in replies]


def _own_dm(session: Session, actor: Actor, dm_id: int) -> GradingDm:
    dm = session.get(GradingDm, dm_id)
    if dm is None or dm.team_id != actor.team_id:
        raise NotFound("This grading message is out of date.", hint="Grade with `/okr grade KR-n 0.7`.")
    if dm.owner != actor.user_id:
        raise NotAllowed(f"These grades are for <@{dm.owner}>.")
    return dm


def find_dm(session: Session, team_id: str, channel: str, ts: str) -> GradingDm | None:
    return session.exec(select(GradingDm).where(GradingDm.team_id == team_id, GradingDm.ts == ts, GradingDm.channel == channel)).first()


def dm_delivered(session: Session, dedupe_key: str | None, channel: str | None, ts: str | None) -> None:
    """The outbox sent a grading DM: keep where it landed, so thread replies find it."""
    if not dedupe_key or not dedupe_key.startswith(f"{GRADING_KIND}:"):
        return
    dm_id = dedupe_key.split(":", 1)[1]
    dm = session.get(GradingDm, int(dm_id)) if dm_id.isdigit() else None
    if dm is not None:
        dm.channel, dm.ts = channel, ts
        session.flush()


# --------------------------------------------------------------------------- the tick: DMs and closing


def _workspace_periods(session: Session, team_id: str, start_month: int) -> list[Period]:
    """The periods that have active objectives, oldest first."""
    names = session.exec(select(Objective.period).where(Objective.team_id == team_id, Objective.status == "active").distinct()).all()
    found = [period for name in names if (period := parse_period(name, start_month)) is not None and str(period) == name]
    return sorted(found, key=lambda period: (period.end_day, period.first_day))


def send_due_dms(session: Session, team_id: str, now: datetime, policy: GradingPolicy, messages: GradingMessages) -> list[int]:
    """Claim and queue a grading DM for each owner of each period now being graded."""
    workspace = session.get(Workspace, team_id)
    if workspace is None:
        return []
    tz = workspace_tz(workspace, policy.default_tz)
    start_month = periods.fiscal_start(workspace, policy.fiscal_start)
    closed = periods.closed_names(session, team_id)
    queued: list[int] = []
    for period in _workspace_periods(session, team_id, start_month):
        window = policy.window(period, tz)
        if str(period) in closed or not window.is_open(now):
            continue
        already = set(session.exec(select(GradingDm.owner).where(GradingDm.team_id == team_id, GradingDm.period == str(period))).all())
        by_owner: dict[str, list[KrToGrade]] = defaultdict(list)
        for item in krs_to_grade(session, team_id, period, now, tz):
            # Only Slack users get a DM (an imported owner such as github:alice cannot).
            if item.kr.owner not in already and SLACK_USER.match(item.kr.owner):
                by_owner[item.kr.owner].append(item)
        for owner in sorted(by_owner):  # one order: no deadlocks between replicas
            dm = _claim(session, team_id, str(period), owner, now)
            if dm is None:
                continue  # another process won this owner
            view = GradingView(dm.id, owner, period, window, tz, tuple(by_owner[owner]))
            key = f"{GRADING_KIND}:{dm.id}"
            # An unprompted DM: it waits for the weekly cap (services/dm_cap.py).
            send_at = dm_cap.book(session, team_id, [dm_cap.DmToBook(owner, GRADING_KIND, key)], now)[key]
            message = outbox.enqueue(
                session, team_id=team_id, kind=GRADING_KIND, channel=owner, payload=messages.grading_dm(view), now=now, dedupe_key=key, send_at=send_at
            )
            queued.append(message.id)
    return queued


def _claim(session: Session, team_id: str, period: str, owner: str, now: datetime) -> GradingDm | None:
    try:
        with session.begin_nested():
            dm = GradingDm(team_id=team_id, period=period, owner=owner, claimed_at=now)
            session.add(dm)
    except IntegrityError:
        return None
    return dm


@dataclass
class Closed:
    periods: list[str]
    queued: list[int]  # the scorecards, to deliver after commit


def close_due_periods(session: Session, team_id: str, now: datetime, policy: GradingPolicy, messages: ScorecardMessages) -> Closed:
    """Close every period whose grading window has ended (a reopened period stays open),
    and queue its scorecards."""
    workspace = session.get(Workspace, team_id)
    if workspace is None:
        return Closed([], [])
    tz = workspace_tz(workspace, policy.default_tz)
    start_month = periods.fiscal_start(workspace, policy.fiscal_start)
    rows = {row.name: row for row in session.exec(select(OkrPeriod).where(OkrPeriod.team_id == team_id)).all()}
    closed = Closed([], [])
    for period in _workspace_periods(session, team_id, start_month):
        row = rows.get(str(period))
        if row is not None and (row.closed_at is not None or row.reopened_at is not None):
            continue
        if now >= policy.window(period, tz).closes_at:
            _close(session, team_id, period, now, tz, closed_by="okrbot")
            closed.periods.append(str(period))
            closed.queued += queue_scorecards(session, team_id, period, now, tz, messages)
    return closed


# --------------------------------------------------------------------------- close and reopen (admins)


@dataclass(frozen=True)
class Closing:
    period: str
    graded_by_suggestion: int
    graded_by_owners: int


def close_period(session: Session, actor: Actor, name: str, messages: ScorecardMessages) -> tuple[Closing, list[int]]:
    """`/okr close <period>`: grade what is ungraded with its suggestion, then freeze the period."""
    if not actor.is_admin:
        raise NotAllowed(f"Only {periods.ADMINS} can close a period.")
    period = periods.resolve(name, actor)
    if periods.is_closed(session, actor.team_id, str(period)):
        raise Invalid(f"{period} is already closed.", hint=f"To change it again, reopen it with `/okr reopen-period {period}`.")
    ensure_workspace(session, actor.team_id)
    closing = _close(session, actor.team_id, period, actor.now, actor.tz, closed_by=actor.user_id)
    return closing, queue_scorecards(session, actor.team_id, period, actor.now, actor.tz, messages)


def _close(session: Session, team_id: str, period: Period, now: datetime, tz: ZoneInfo, *, closed_by: str) -> Closing:
    items = krs_to_grade(session, team_id, period, now, tz)
    by_id = {kr.id: kr for kr in session.exec(select(KeyResult).where(col(KeyResult.id).in_([item.kr.id for item in items]))).all()}
    suggested = 0
    for item in items:
        if item.kr.grade is None:
            kr = by_id[item.kr.id]
            kr.grade, kr.grade_source, kr.graded_by, kr.graded_at = item.suggested, SUGGESTED, None, now
            suggested += 1
    row = session.exec(select(OkrPeriod).where(OkrPeriod.team_id == team_id, OkrPeriod.name == str(period))).first()
    if row is None:
        row = OkrPeriod(team_id=team_id, name=str(period))
        session.add(row)
    row.closed_at, row.closed_by, row.reopened_at = now, closed_by, None
    periods.freeze_work(session, team_id, str(period), frozen=True)
    session.flush()
    return Closing(str(period), graded_by_suggestion=suggested, graded_by_owners=len(items) - suggested)


def reopen_period(session: Session, actor: Actor, name: str) -> str:
    """`/okr reopen-period <period>`: edits, check-ins and grades are accepted again; grades are kept."""
    if not actor.is_admin:
        raise NotAllowed(f"Only {periods.ADMINS} can reopen a period.")
    period = str(periods.resolve(name, actor))
    row = periods.closed_row(session, actor.team_id, period)
    if row is None:
        raise Invalid(f"{period} is not closed.", hint="Only a closed period can be reopened.")
    row.closed_at, row.reopened_at = None, actor.now
    periods.freeze_work(session, actor.team_id, period, frozen=False)
    session.flush()
    return period
