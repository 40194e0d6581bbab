"""Review nudges (SPEC §5): cycles, the DM each KR owner gets, their answers,
reminders, the note to objective owners, and the digest per team channel.

Exactly once comes from the database, never from a scheduler or a job store:
- a cycle is one INSERT of (team, key) that only one process wins;
- each owner's nudge is one INSERT of (cycle, owner) that only one process
  wins, and its DM is queued in the outbox in the same transaction (dedupe key
  `nudge:<cycle>:<owner>`), so a nudge row exists exactly when its DM is queued;
- a reminder, an escalation and a digest are compare-and-set updates on the
  nudge or cycle row, with their message queued in the same transaction.
Sending (leases, 429s, a crash mid-send) is the outbox's job (adapters/slack/delivery.py).

What messages say is decided by a `Messages` implementation the caller passes
(the Slack views), so this module stays free of Slack.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import case, func, true, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from okrbot.domain.checkin_reply import OwnedKr, ReplyItem, parse_checkin_reply
from okrbot.domain.commands import Metric
from okrbot.domain import nudge_prefs as prefs
from okrbot.domain.ids import kr_id
from okrbot.domain.periods import current_period
from okrbot.domain.progress import Health
from okrbot.domain.schedule import (
    DEFAULT_SCHEDULE,
    ReviewSchedule,
    ScheduleError,
    next_run,
    parse_schedule,
)
from okrbot.services import dm_cap, periods
from okrbot.services import nudge_prefs as prefs_store
from okrbot.services.checkins import record_checkin
from okrbot.services.context import Actor
from okrbot.services.errors import Invalid, NotAllowed, NotFound, OkrbotError, quoted
from okrbot.services.summaries import KrSummary, ObjectiveSummary, summarise
from okrbot.store import outbox
from okrbot.store.models import Change, ChangeKr, CheckIn, KeyResult, Nudge, Objective, OutboundMessage, ReviewCycle, Workspace
from okrbot.store.workspaces import ensure_workspace

log = logging.getLogger("okrbot.reviews")

CLAIMED, SENT, ANSWERED = "claimed", "sent", "answered"
# Not nudged this cycle: every KR checked in recently; or away (sent when the pause ends, if still open).
SKIPPED, PAUSED = "skipped", "paused"
_NOT_NUDGED = (SKIPPED, PAUSED)
NUDGE_KIND, REMINDER_KIND, ESCALATION_KIND, DIGEST_KIND = "nudge", "nudge_reminder", "nudge_escalation", "review_digest"
_DM_KINDS = (NUDGE_KIND, REMINDER_KIND, ESCALATION_KIND)  # unprompted DMs: the weekly cap counts them
METADATA_TYPE = "okrbot_review"
_SLACK_USER = re.compile(r"^[UW][A-Z0-9]+$")
_BATCH = 500  # rows per multi-row INSERT: well under SQLite's limit on bound parameters


# --------------------------------------------------------------------------- what callers pass in


@dataclass(frozen=True)
class ReviewPolicy:
    """The timings of a review: how long it stays open, when to remind, how often."""

    window: timedelta = timedelta(days=7)
    remind_after: timedelta = timedelta(days=3)
    max_reminders: int = 2
    default_tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    fiscal_start: int = 1  # OKRBOT_FISCAL_YEAR_START, for workspaces that set none

    @classmethod
    def from_settings(cls, settings) -> ReviewPolicy:
        return cls(
            window=timedelta(days=settings.review_window_days),
            remind_after=timedelta(days=settings.reminder_days),
            max_reminders=max(0, settings.max_reminders),
            default_tz=settings.tz,
            fiscal_start=settings.fiscal_start_month,
        )


@dataclass(frozen=True)
class OwnedKrView:
    """One KR as an owner sees it in a review message, with its objective."""

    kr: KrSummary
    objective: ObjectiveSummary


@dataclass(frozen=True)
class CycleView:
    id: int
    key: str
    period: str
    closes_at: datetime
    tz: ZoneInfo


@dataclass(frozen=True)
class LateOwner:
    owner: str
    krs: tuple[OwnedKrView, ...]
    reminders: int


@dataclass(frozen=True)
class MovedKr:
    kr: KrSummary
    before: float
    after: float


@dataclass(frozen=True)
class Digest:
    channel: str
    cycle: CycleView
    checked_in: tuple[str, ...]  # owners who checked in during the review
    silent: tuple[str, ...]  # owners nudged about this channel's KRs who did not answer
    moved: tuple[MovedKr, ...]
    off_track: tuple[KrSummary, ...]


class Messages(Protocol):
    """Message payloads ({"text", "blocks", …}); the Slack views implement this."""

    def nudge(self, owner: str, krs: Sequence[OwnedKrView], cycle: CycleView, nudge_id: int) -> dict: ...

    def reminder(self, owner: str, krs: Sequence[OwnedKrView], cycle: CycleView, nudge_id: int, number: int) -> dict: ...

    def escalation(self, objective_owner: str, late: LateOwner, cycle: CycleView) -> dict: ...

    def digest(self, digest: Digest) -> dict: ...


# --------------------------------------------------------------------------- schedule and status


def workspace_tz(workspace: Workspace | None, default: ZoneInfo) -> ZoneInfo:
    if workspace is not None and workspace.timezone:
        try:
            return ZoneInfo(workspace.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            log.warning("workspace %s has an unknown time zone %r; using %s", workspace.team_id, workspace.timezone, default)
    return default


def workspace_schedule(workspace: Workspace | None) -> ReviewSchedule:
    if workspace is None or not workspace.review_schedule:
        return DEFAULT_SCHEDULE
    try:
        return parse_schedule(workspace.review_schedule)
    except ScheduleError:
        log.warning("workspace %s has an unreadable review schedule %r; using the default", workspace.team_id, workspace.review_schedule)
        return DEFAULT_SCHEDULE


def due_run(
    workspace: Workspace, now: datetime, policy: ReviewPolicy, *, rhythm: ReviewSchedule | None = None, holidays: Sequence[prefs.Holiday] = ()
) -> tuple[datetime, str] | None:
    """The run of `rhythm` (the workspace's schedule by default) whose cycle should be running
    at `now`, with its cycle key.

    The latest run at or before now (moved past holidays), if its review window is still open
    (so a cycle missed while the bot was down is caught up, but not one long over) and it is
    not older than the schedule itself (setting a schedule never nudges everyone at once for
    a run that already passed).
    """
    if not workspace.review_enabled:
        return None
    base, tz = workspace_schedule(workspace), workspace_tz(workspace, policy.default_tz)
    schedule = rhythm or base
    due = prefs.due_run(schedule, now, tz, holidays, policy.window)
    if due is None:
        return None
    since = workspace.review_since or workspace.created_at
    if since is not None and due.scheduled < since:
        return None
    return due.at, prefs.schedule_cycle_key(schedule, base, due.scheduled, tz)


def rhythms(session: Session, workspace: Workspace) -> list[ReviewSchedule]:
    """The workspace's schedule, then each other rhythm an active objective asked for."""
    base = workspace_schedule(workspace)
    cadences = session.exec(
        select(Objective.review_cadence)
        .where(Objective.team_id == workspace.team_id, Objective.status == "active", col(Objective.review_cadence).is_not(None))
        .distinct()
    ).all()
    found = [base]
    for cadence in sorted(cadences):
        schedule = prefs.cadence_schedule(cadence, base)
        if schedule not in found:
            found.append(schedule)
    return found


def _follows(objective: Objective, rhythm: ReviewSchedule, base: ReviewSchedule) -> bool:
    return prefs.cadence_schedule(objective.review_cadence, base) == rhythm


def cycle_rhythm(cycle: ReviewCycle, workspace: Workspace | None) -> ReviewSchedule:
    """The schedule a cycle serves: its own, or (None) the workspace's."""
    if cycle.schedule:
        try:
            return parse_schedule(cycle.schedule)
        except ScheduleError:
            log.warning("review cycle %s has an unreadable schedule %r", cycle.id, cycle.schedule)
    return workspace_schedule(workspace)


@dataclass(frozen=True)
class ReviewStatus:
    enabled: bool
    schedule: ReviewSchedule
    tz: ZoneInfo
    next_run: datetime | None
    cycle: CycleView | None  # the latest cycle, if any
    nudged: int = 0
    delivered: int = 0
    answered: int = 0
    catching_up: bool = False  # a due run has no cycle yet: the next tick starts it
    cycle_open: bool = False  # the latest cycle's window is still open
    skipped: int = 0  # owners spared this cycle: every KR checked in recently
    paused: int = 0  # owners away: nudged when their pause ends, if the review is still open
    holidays: tuple[prefs.Holiday, ...] = ()
    skip_days: int = prefs.DEFAULT_SKIP_DAYS
    cadences: tuple[tuple[int, str], ...] = ()  # (objective number, its cadence) where it has its own
    paused_until: date | None = None  # the viewer's own pause


def review_status(session: Session, team_id: str, now: datetime, policy: ReviewPolicy, viewer: str | None = None) -> ReviewStatus:
    workspace = session.get(Workspace, team_id)
    schedule, tz = workspace_schedule(workspace), workspace_tz(workspace, policy.default_tz)
    enabled = workspace.review_enabled if workspace is not None else True
    holidays = prefs_store.holidays(session, team_id)
    cycle = session.exec(
        select(ReviewCycle).where(ReviewCycle.team_id == team_id).order_by(col(ReviewCycle.due_at).desc(), col(ReviewCycle.id).desc())
    ).first()
    nudged = delivered = answered = 0
    by_status: dict[str, int] = {}
    if cycle is not None:
        counts = session.exec(
            select(Nudge.status, func.count()).where(Nudge.cycle_id == cycle.id).group_by(Nudge.status)
        ).all()
        by_status = dict(counts)
        nudged = sum(n for status, n in by_status.items() if status not in _NOT_NUDGED)
        delivered = nudged - by_status.get(CLAIMED, 0)
        # Answered in the thread or with the buttons, or checked in another way since the nudge.
        waiting = dict(
            session.exec(
                select(Nudge.owner, Nudge.claimed_at).where(
                    Nudge.cycle_id == cycle.id, col(Nudge.answered_at).is_(None), col(Nudge.status).not_in(_NOT_NUDGED)
                )
            ).all()
        )
        answered = by_status.get(ANSWERED, 0) + len(_checked_in_since(session, team_id, cycle.period, waiting))
    catching_up = False
    upcoming: list[datetime] = []
    if workspace is not None:
        keys = set(session.exec(select(ReviewCycle.key).where(ReviewCycle.team_id == team_id)).all())
        for rhythm in rhythms(session, workspace):
            due = due_run(workspace, now, policy, rhythm=rhythm, holidays=holidays)
            catching_up = catching_up or bool(due and due[1] not in keys)
            if enabled and (run := prefs.upcoming_run(rhythm, now, tz, holidays)) is not None:
                upcoming.append(run)
    elif enabled:
        upcoming.append(next_run(schedule, now, tz))
    cadences = session.exec(
        select(Objective.number, Objective.review_cadence)
        .where(Objective.team_id == team_id, Objective.status == "active", col(Objective.review_cadence).is_not(None))
        .order_by(Objective.number)
    ).all()
    pause = prefs_store.paused_until(session, team_id).get(viewer or "")
    return ReviewStatus(
        enabled=enabled,
        schedule=schedule,
        tz=tz,
        next_run=min(upcoming) if upcoming else None,
        cycle=_cycle_view(cycle, tz) if cycle is not None else None,
        nudged=nudged,
        delivered=delivered,
        answered=answered,
        catching_up=catching_up,
        cycle_open=cycle is not None and now < cycle.closes_at,
        skipped=by_status.get(SKIPPED, 0),
        paused=by_status.get(PAUSED, 0),
        holidays=tuple(holidays),
        skip_days=prefs_store.skip_days(workspace),
        cadences=tuple((number, cadence) for number, cadence in cadences),
        paused_until=pause if pause is not None and prefs.is_paused(pause, now, tz) else None,
    )


def set_schedule(session: Session, actor: Actor, text: str, tz_name: str | None, policy: ReviewPolicy) -> ReviewStatus:
    """Change when reviews run (and turn them on); runs already past are not caught up."""
    _require_admin(actor, "change the review schedule")
    try:
        schedule = parse_schedule(text)
    except ScheduleError as error:
        raise Invalid(str(error), hint='For example: `/okr review schedule "monthly first monday 10:00" tz Europe/Paris`.') from error
    workspace = ensure_workspace(session, actor.team_id)
    if tz_name:
        try:
            ZoneInfo(tz_name)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise Invalid(f"{quoted(tz_name)} is not a time zone.", hint="Use an IANA name such as `tz Europe/Berlin`.") from error
        workspace.timezone = tz_name
    workspace.review_schedule = schedule.text()
    workspace.review_enabled = True
    workspace.review_since = actor.now
    session.flush()
    return review_status(session, actor.team_id, actor.now, policy)


def turn_off(session: Session, actor: Actor, policy: ReviewPolicy) -> ReviewStatus:
    _require_admin(actor, "turn review nudges off")
    workspace = ensure_workspace(session, actor.team_id)
    workspace.review_enabled = False
    session.flush()
    return review_status(session, actor.team_id, actor.now, policy)


def _require_admin(actor: Actor, what: str) -> None:
    if not actor.is_admin:
        raise NotAllowed(f"Only an okrbot admin (a Slack workspace admin, or someone in OKRBOT_ADMINS) can {what}.")


# --------------------------------------------------------------------------- starting a cycle


@dataclass
class CycleRun:
    key: str
    cycle_id: int | None = None
    created: bool = False
    nudged: list[str] = field(default_factory=list)  # owners nudged by this call
    already: int = 0  # owners nudged earlier in this cycle
    queued: list[int] = field(default_factory=list)  # outbox ids to deliver after commit
    period: str = ""
    skipped: list[str] = field(default_factory=list)  # owners whose KRs were all checked in recently
    paused: list[str] = field(default_factory=list)  # owners away: nudged when they are back, if still open
    keys: list[str] = field(default_factory=list)  # every cycle this call touched (one per rhythm)

    def merge(self, other: CycleRun) -> CycleRun:
        self.created = self.created or other.created
        self.nudged += other.nudged
        self.already += other.already
        self.queued += other.queued
        self.skipped += other.skipped
        self.paused += other.paused
        self.keys += other.keys
        return self


def start_due_cycle(session: Session, team_id: str, now: datetime, policy: ReviewPolicy, messages: Messages) -> CycleRun | None:
    """The scheduler's step: start the cycle of each rhythm's latest due run (the workspace's
    schedule, and objectives' own cadences) that no process has started yet."""
    workspace = session.get(Workspace, team_id)
    if workspace is None or not workspace.review_enabled:
        return None
    holidays = prefs_store.holidays(session, team_id)
    started: CycleRun | None = None
    for rhythm in rhythms(session, workspace):
        due = due_run(workspace, now, policy, rhythm=rhythm, holidays=holidays)
        if due is None:
            continue
        run_at, key = due
        exists = session.exec(select(ReviewCycle.id).where(ReviewCycle.team_id == team_id, ReviewCycle.key == key)).first()
        if exists is not None:
            continue  # the usual case on every tick: started already, by this process or another
        run = _start(session, workspace, rhythm, key=key, due_at=run_at, now=now, policy=policy, messages=messages, manual=False)
        if run.created:
            started = run if started is None else started.merge(run)
    return started


def run_now(session: Session, actor: Actor, policy: ReviewPolicy, messages: Messages, *, require_admin: bool = True) -> CycleRun:
    """`/okr review now`, `okrbot review run`: the current cycle of each rhythm at once;
    owners already nudged in it are not nudged again."""
    if require_admin:
        _require_admin(actor, "start a review")
    workspace = ensure_workspace(session, actor.team_id)
    tz = workspace_tz(workspace, policy.default_tz)
    base = workspace_schedule(workspace)
    total: CycleRun | None = None
    for rhythm in rhythms(session, workspace):
        key = prefs.schedule_cycle_key(rhythm, base, actor.now, tz)
        run = _start(session, workspace, rhythm, key=key, due_at=actor.now, now=actor.now, policy=policy, messages=messages, manual=True)
        total = run if total is None else total.merge(run)
    assert total is not None  # the workspace's own rhythm is always there
    return total


def _start(
    session: Session,
    workspace: Workspace,
    rhythm: ReviewSchedule,
    *,
    key: str,
    due_at: datetime,
    now: datetime,
    policy: ReviewPolicy,
    messages: Messages,
    manual: bool,
) -> CycleRun:
    tz = workspace_tz(workspace, policy.default_tz)
    period = str(current_period(due_at, tz, periods.fiscal_start(workspace, policy.fiscal_start)))
    own = None if rhythm == workspace_schedule(workspace) else rhythm.text()
    inserted = session.execute(
        _insert(session, ReviewCycle)
        .values(team_id=workspace.team_id, key=key, period=period, due_at=due_at, started_at=now, closes_at=due_at + policy.window, schedule=own)
        .on_conflict_do_nothing(index_elements=["team_id", "key"])
        .returning(ReviewCycle.id)
    ).scalar()
    run = CycleRun(key=key, cycle_id=inserted, created=inserted is not None, period=period, keys=[key])
    if inserted is None:
        if not manual:
            return run  # another process (or an earlier tick) started it, with all its nudges
        existing = session.exec(
            select(ReviewCycle).where(ReviewCycle.team_id == workspace.team_id, ReviewCycle.key == key)
        ).one()
        run.cycle_id, run.period = existing.id, existing.period
    cycle = session.get(ReviewCycle, run.cycle_id)
    _nudge_owners(session, cycle, workspace, now, tz, messages, run)
    return run


def _nudge_owners(
    session: Session, cycle: ReviewCycle, workspace: Workspace, now: datetime, tz: ZoneInfo, messages: Messages, run: CycleRun
) -> None:
    """Claim a nudge per owner not yet nudged, and queue its DM in the same transaction. An owner
    away or with every KR checked in recently is claimed too, as paused or skipped, without a DM."""
    if periods.is_closed(session, cycle.team_id, cycle.period):
        return  # graded and frozen: nothing to review
    by_owner = owned_krs(session, cycle.team_id, cycle.period, now, tz, rhythm=cycle_rhythm(cycle, workspace), workspace=workspace)
    owners = sorted(owner for owner in by_owner if _SLACK_USER.match(owner))  # one order: no deadlocks between replicas
    if not owners:
        return
    statuses = _nudge_statuses(session, workspace, by_owner, owners, now, tz)
    claimed = []
    table = Nudge.__table__
    claim = _insert(session, table).on_conflict_do_nothing(index_elements=["cycle_id", "owner"]).returning(table.c.id, table.c.owner)
    for start in range(0, len(owners), _BATCH):
        # A list of parameters, not .values([...]): the driver batches it (insertmanyvalues),
        # 4x faster for 5,000 owners than compiling one statement with 2,500 bound values.
        claimed += session.execute(
            claim,
            [
                {"team_id": cycle.team_id, "cycle_id": cycle.id, "owner": owner, "status": statuses[owner], "claimed_at": now}
                for owner in owners[start : start + _BATCH]
            ],
        ).all()
    view = _cycle_view(cycle, tz)
    rows = []
    for nudge_id, owner in sorted(claimed, key=lambda row: row[1]):
        if statuses[owner] == SKIPPED:
            run.skipped.append(owner)
            continue
        if statuses[owner] == PAUSED:
            run.paused.append(owner)
            continue
        key = f"nudge:{cycle.id}:{owner}"
        rows.append(_message(cycle.team_id, NUDGE_KIND, owner, messages.nudge(owner, by_owner[owner], view, nudge_id), key, now))
        run.nudged.append(owner)
    run.already = len(owners) - len(claimed)
    run.queued += _enqueue(session, rows)


def _nudge_statuses(
    session: Session, workspace: Workspace, by_owner: dict[str, list[OwnedKrView]], owners: list[str], now: datetime, tz: ZoneInfo
) -> dict[str, str]:
    """Per owner: CLAIMED (nudge now), PAUSED (away) or SKIPPED (every KR checked in recently)."""
    pauses = prefs_store.paused_until(session, workspace.team_id)
    days = prefs_store.skip_days(workspace)
    kr_ids = [item.kr.id for owner in owners for item in by_owner[owner]]
    latest: dict[int, datetime] = {}
    if days > 0 and kr_ids:
        for start in range(0, len(kr_ids), _BATCH):
            chunk = kr_ids[start : start + _BATCH]
            latest.update(session.exec(select(CheckIn.kr_id, func.max(CheckIn.at)).where(col(CheckIn.kr_id).in_(chunk)).group_by(CheckIn.kr_id)).all())
    statuses = {}
    for owner in owners:
        if prefs.is_paused(pauses.get(owner), now, tz):
            statuses[owner] = PAUSED
        elif prefs.recently_checked_in([latest.get(item.kr.id) for item in by_owner[owner]], now, days):
            statuses[owner] = SKIPPED
        else:
            statuses[owner] = CLAIMED
    return statuses


def send_resumed(session: Session, team_id: str, now: datetime, policy: ReviewPolicy, messages: Messages) -> list[int]:
    """Owners back from a pause while a review they missed is still open get its nudge now
    (each paused claim turns into a nudge once: compare-and-set on its status)."""
    workspace = session.get(Workspace, team_id)
    tz = workspace_tz(workspace, policy.default_tz)
    waiting = session.exec(
        select(Nudge, ReviewCycle)
        .join(ReviewCycle, ReviewCycle.id == Nudge.cycle_id)
        .where(Nudge.team_id == team_id, Nudge.status == PAUSED, ReviewCycle.closes_at > now)
        .order_by(Nudge.cycle_id, Nudge.owner)
    ).all()
    pauses = prefs_store.paused_until(session, team_id)
    back = [(nudge, cycle) for nudge, cycle in waiting if not prefs.is_paused(pauses.get(nudge.owner), now, tz)]
    rows = []
    krs_by_cycle: dict[int, dict[str, list[OwnedKrView]]] = {}
    for nudge, cycle in back:
        won = session.execute(
            update(Nudge)
            .where(Nudge.id == nudge.id, Nudge.status == PAUSED)
            .values(status=CLAIMED, claimed_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not won:
            continue
        if cycle.id not in krs_by_cycle:
            rhythm = cycle_rhythm(cycle, workspace)
            krs_by_cycle[cycle.id] = owned_krs(session, team_id, cycle.period, now, tz, rhythm=rhythm, workspace=workspace)
        krs = krs_by_cycle[cycle.id].get(nudge.owner, [])
        if krs:
            payload = messages.nudge(nudge.owner, krs, _cycle_view(cycle, tz), nudge.id)
            rows.append(_message(team_id, NUDGE_KIND, nudge.owner, payload, f"nudge:{cycle.id}:{nudge.owner}", now))
    return _enqueue(session, rows)


def owned_krs(
    session: Session,
    team_id: str,
    period: str,
    now: datetime,
    tz: ZoneInfo,
    *,
    rhythm: ReviewSchedule | None = None,
    workspace: Workspace | None = None,
) -> dict[str, list[OwnedKrView]]:
    """Every active KR of the period (of objectives on `rhythm`, when given), by owner, with
    progress and health: a fixed number of queries."""
    objectives = session.exec(
        select(Objective)
        .where(Objective.team_id == team_id, Objective.period == period, Objective.status == "active")
        .order_by(Objective.number)
    ).all()
    if rhythm is not None:
        base = workspace_schedule(workspace)
        objectives = [objective for objective in objectives if _follows(objective, rhythm, base)]
    actor = Actor(team_id=team_id, user_id="okrbot", is_admin=True, tz=tz, now=now)
    by_owner: dict[str, list[OwnedKrView]] = defaultdict(list)
    for objective in summarise(session, objectives, actor):
        for kr in objective.krs:
            by_owner[kr.owner].append(OwnedKrView(kr, objective))
    for krs in by_owner.values():
        krs.sort(key=lambda item: item.kr.number)
    return dict(by_owner)


def nudge_delivered(session: Session, team_id: str, dedupe_key: str | None, channel: str | None, ts: str | None, now: datetime) -> None:
    """The outbox sent a nudge DM: keep where it landed, so thread replies find their nudge."""
    parsed = _parse_nudge_key(dedupe_key)
    if parsed is None:
        return
    cycle_id, owner = parsed
    session.execute(
        update(Nudge)
        .where(Nudge.team_id == team_id, Nudge.cycle_id == cycle_id, Nudge.owner == owner)
        .values(
            channel=channel,
            ts=ts,
            sent_at=func.coalesce(Nudge.sent_at, now),
            status=case((Nudge.status == CLAIMED, SENT), else_=Nudge.status),
        )
        .execution_options(synchronize_session=False)
    )


def _parse_nudge_key(dedupe_key: str | None) -> tuple[int, str] | None:
    if not dedupe_key or not dedupe_key.startswith("nudge:"):
        return None
    _, cycle, owner = dedupe_key.split(":", 2)
    return (int(cycle), owner) if cycle.isdigit() else None


# --------------------------------------------------------------------------- answers


@dataclass(frozen=True)
class Recorded:
    kr: KrSummary  # after the check-in
    value_changed: bool
    note: str | None
    confidence: int | None


@dataclass
class Answer:
    recorded: list[Recorded] = field(default_factory=list)
    question: str | None = None
    problems: list[str] = field(default_factory=list)


def find_nudge(session: Session, team_id: str, channel: str, ts: str) -> Nudge | None:
    """The nudge whose DM is the message at (channel, ts), if any."""
    return session.exec(select(Nudge).where(Nudge.team_id == team_id, Nudge.ts == ts, Nudge.channel == channel)).first()


def open_nudge_in_dm(session: Session, team_id: str, channel: str, owner: str, now: datetime) -> Nudge | None:
    """The owner's latest nudge sent to this DM whose review window is still open: a plain
    message there ("42, blocked on legal") answers it, as a reply in its thread would."""
    return session.exec(
        select(Nudge)
        .join(ReviewCycle, ReviewCycle.id == Nudge.cycle_id)
        .where(Nudge.team_id == team_id, Nudge.channel == channel, Nudge.owner == owner, col(Nudge.ts).is_not(None), ReviewCycle.closes_at > now)
        .order_by(col(ReviewCycle.closes_at).desc())
        .limit(1)
    ).first()


def answer_in_thread(session: Session, actor: Actor, nudge_id: int, text: str) -> Answer:
    """An owner's reply in the nudge's thread: check-ins for what is clear, a question for the rest."""
    nudge = session.get(Nudge, nudge_id)
    if nudge is None or nudge.team_id != actor.team_id or nudge.owner != actor.user_id:
        raise NotFound("This review is not yours to answer.")
    cycle = session.get(ReviewCycle, nudge.cycle_id)
    krs = session.exec(_owner_krs_query(nudge.team_id, nudge.owner, cycle.period)).all()
    owned = [OwnedKr(kr.number, kr.metric, kr.title, kr.direction) for kr in krs]
    parsed = parse_checkin_reply(text, owned)
    by_number = {kr.number: kr for kr in krs}
    answer = Answer(question=parsed.question)
    recorded_numbers: list[tuple[ReplyItem, bool]] = []
    for item in parsed.items:
        try:
            with session.begin_nested():
                changed = _record_item(session, actor, by_number[item.kr], item)
            recorded_numbers.append((item, changed))
        except OkrbotError as error:
            answer.problems.append(f"{kr_id(item.kr)}: {error}")
    if recorded_numbers:
        _mark_answered(session, nudge, actor.now)
        after = _summaries(session, nudge.team_id, [by_number[item.kr].objective_id for item, _ in recorded_numbers], actor)
        for item, changed in recorded_numbers:
            answer.recorded.append(Recorded(after[item.kr], changed, item.note, item.confidence))
    return answer


def _record_item(session: Session, actor: Actor, kr: KeyResult, item: ReplyItem) -> bool:
    """One parsed answer as a check-in; True when it set a value (not just "no change")."""
    if item.no_change or (item.value is None and not item.done):
        value: float | bool | None = None
    elif item.done and kr.metric in (Metric.NUMERIC, Metric.PERCENTAGE):
        value = True  # "done": the target was reached
    else:
        value = item.value
    record_checkin(session, actor, kr.number, value, confidence=item.confidence, note=item.note)
    return value is not None


def no_change(session: Session, actor: Actor, nudge_id: int) -> list[KrSummary]:
    """The No change button: a "no change" check-in on each of the owner's KRs that has
    none in this review yet. Pressing it twice records nothing more."""
    nudge = session.get(Nudge, nudge_id)
    if nudge is None or nudge.team_id != actor.team_id:
        raise NotFound("This review is no longer open.", hint="See your KRs with `/okr status me`.")
    if nudge.owner != actor.user_id:
        raise NotAllowed(f"This review is for <@{nudge.owner}>.")
    cycle = session.get(ReviewCycle, nudge.cycle_id)
    workspace = session.get(Workspace, nudge.team_id)
    rhythm, base = cycle_rhythm(cycle, workspace), workspace_schedule(workspace)
    # Only the KRs this review's DM listed: those of objectives on its rhythm.
    krs = session.exec(_owner_krs_query(nudge.team_id, nudge.owner, cycle.period)).all()
    objectives = {o.id: o for o in session.exec(select(Objective).where(col(Objective.id).in_({kr.objective_id for kr in krs}))).all()}
    krs = [kr for kr in krs if _follows(objectives[kr.objective_id], rhythm, base)]
    since = nudge.claimed_at
    checked = set(
        session.exec(
            select(CheckIn.kr_id).where(col(CheckIn.kr_id).in_([kr.id for kr in krs]), CheckIn.at >= since)
        ).all()
    ) if krs else set()
    todo = [kr for kr in krs if kr.id not in checked]
    for kr in todo:
        record_checkin(session, actor, kr.number, None)
    _mark_answered(session, nudge, actor.now)
    if not todo:
        return []
    after = _summaries(session, nudge.team_id, [kr.objective_id for kr in todo], actor)
    return [after[kr.number] for kr in todo]


def _mark_answered(session: Session, nudge: Nudge, now: datetime) -> None:
    session.execute(
        update(Nudge)
        .where(Nudge.id == nudge.id, col(Nudge.answered_at).is_(None))
        .values(answered_at=now, status=ANSWERED)
        .execution_options(synchronize_session=False)
    )


def _owner_krs_query(team_id: str, owner: str, period: str):
    return (
        select(KeyResult)
        .join(Objective, Objective.id == KeyResult.objective_id)
        .where(
            KeyResult.team_id == team_id,
            KeyResult.owner == owner,
            KeyResult.status == "active",
            Objective.status == "active",
            Objective.period == period,
        )
        .order_by(KeyResult.number)
    )


def _summaries(session: Session, team_id: str, objective_ids: Sequence[int], actor: Actor) -> dict[int, KrSummary]:
    objectives = session.exec(select(Objective).where(col(Objective.id).in_(sorted(set(objective_ids))))).all()
    viewer = Actor(team_id=team_id, user_id=actor.user_id, is_admin=True, tz=actor.tz, now=actor.now)
    return {kr.number: kr for objective in summarise(session, objectives, viewer) for kr in objective.krs}


# --------------------------------------------------------------------------- reminders, escalation, digest


def follow_up(session: Session, team_id: str, now: datetime, policy: ReviewPolicy, messages: Messages) -> list[int]:
    """Reminders to owners who did not answer, then a note to their objectives' owners.

    The ladder waits while an owner is paused (nothing is sent to them or about them), and
    takes no step on a workspace holiday: it goes on on the next day that is not one."""
    workspace = session.get(Workspace, team_id)
    tz = workspace_tz(workspace, policy.default_tz)
    if any(holiday.covers(now.astimezone(tz).date()) for holiday in prefs_store.holidays(session, team_id)):
        return []
    pauses = prefs_store.paused_until(session, team_id)
    cycles = session.exec(
        select(ReviewCycle).where(ReviewCycle.team_id == team_id, col(ReviewCycle.digest_sent_at).is_(None))
    ).all()
    closed_periods = periods.closed_names(session, team_id) if cycles else set()
    queued: list[int] = []
    for cycle in cycles:
        if cycle.period in closed_periods:
            continue  # graded and frozen (closed early, mid-review): nobody is chased about it
        if now < cycle.closes_at:
            # Before the window closes only nudges whose next step is due; after it, every late one.
            step_due = func.coalesce(Nudge.last_reminded_at, Nudge.sent_at, Nudge.claimed_at) <= now - policy.remind_after
        else:
            step_due = true()
        nudges = session.exec(
            select(Nudge)
            .where(Nudge.cycle_id == cycle.id, Nudge.status == SENT, col(Nudge.escalated_at).is_(None))
            .where(step_due)
            .order_by(Nudge.owner)
        ).all()
        if not nudges:
            continue
        nudges = [nudge for nudge in nudges if not prefs.is_paused(pauses.get(nudge.owner), now, tz)]
        if not nudges:
            continue
        answered = _checked_in_since(session, team_id, cycle.period, {n.owner: n.claimed_at for n in nudges})
        late = []
        for nudge in nudges:
            if nudge.owner in answered:
                _mark_answered(session, nudge, answered[nudge.owner])  # answered another way (modal, /okr checkin)
            else:
                late.append(nudge)
        if not late:
            continue
        by_owner = owned_krs(session, team_id, cycle.period, now, tz, rhythm=cycle_rhythm(cycle, workspace), workspace=workspace)
        view = _cycle_view(cycle, tz)
        rows = []
        for nudge in late:
            rows += _next_step(session, nudge, cycle, view, by_owner.get(nudge.owner, []), now, policy, messages)
        for row in rows:  # a note to an objective owner who is away waits for their return
            if row["kind"] == ESCALATION_KIND and prefs.is_paused(pauses.get(row["person"]), now, tz):
                row["not_before"] = prefs.resume_at(pauses[row["person"]], tz)
        queued += _enqueue(session, rows)
    return queued


def _next_step(
    session: Session,
    nudge: Nudge,
    cycle: ReviewCycle,
    view: CycleView,
    krs: list[OwnedKrView],
    now: datetime,
    policy: ReviewPolicy,
    messages: Messages,
) -> list[dict]:
    last = nudge.last_reminded_at or nudge.sent_at or nudge.claimed_at
    if nudge.reminders_sent < policy.max_reminders and now < cycle.closes_at:
        if now < last + policy.remind_after or not krs or not nudge.ts:
            return []
        number = nudge.reminders_sent + 1
        won = _compare_and_set(session, nudge, {"reminders_sent": number, "last_reminded_at": now}, reminders_sent=nudge.reminders_sent)
        if not won:
            return []
        payload = messages.reminder(nudge.owner, krs, view, nudge.id, number)
        payload.update(thread_ts=nudge.ts, reply_broadcast=True)
        key = f"nudge-reminder:{nudge.id}:{number}"
        return [_message(nudge.team_id, REMINDER_KIND, nudge.channel, payload, key, now, person=nudge.owner)]
    # Reminders used up, or the window closed: tell the objective owners (at the latest at the close).
    if now < min(last + policy.remind_after, cycle.closes_at) or not krs:
        return []
    if not _compare_and_set(session, nudge, {"escalated_at": now}, escalated_at=None):
        return []
    late = LateOwner(nudge.owner, tuple(krs), nudge.reminders_sent)
    objective_owners = sorted({item.objective.owner for item in krs if item.objective.owner != nudge.owner and _SLACK_USER.match(item.objective.owner)})
    rows = []
    for objective_owner in objective_owners:
        mine = LateOwner(nudge.owner, tuple(item for item in krs if item.objective.owner == objective_owner), late.reminders)
        key = f"nudge-escalation:{nudge.id}:{objective_owner}"
        rows.append(_message(nudge.team_id, ESCALATION_KIND, objective_owner, messages.escalation(objective_owner, mine, view), key, now))
    return rows


def _compare_and_set(session: Session, nudge: Nudge, values: dict, **expected) -> bool:
    """Claim the nudge's next step: only the process whose update still sees `expected` wins."""
    query = update(Nudge).where(Nudge.id == nudge.id, col(Nudge.answered_at).is_(None))
    for name, value in expected.items():
        column = getattr(Nudge, name)
        query = query.where(col(column).is_(None) if value is None else column == value)
    return bool(session.execute(query.values(values).execution_options(synchronize_session=False)).rowcount)


def _checked_in_since(session: Session, team_id: str, period: str, since: dict[str, datetime]) -> dict[str, datetime]:
    """Owners (of `since`) who checked in on one of their KRs of the period after their nudge."""
    if not since:
        return {}
    rows = session.exec(
        select(KeyResult.owner, func.max(CheckIn.at))
        .join(KeyResult, KeyResult.id == CheckIn.kr_id)
        .join(Objective, Objective.id == KeyResult.objective_id)
        .where(
            CheckIn.team_id == team_id,
            col(KeyResult.owner).in_(list(since)),
            CheckIn.author == KeyResult.owner,
            Objective.period == period,
            CheckIn.at >= min(since.values()),
        )
        .group_by(KeyResult.owner)
    ).all()
    return {owner: at for owner, at in rows if at is not None and at >= since[owner]}


def send_digests(session: Session, team_id: str, now: datetime, policy: ReviewPolicy, messages: Messages) -> list[int]:
    """When a review window closes: one digest per team channel, claimed once per cycle."""
    workspace = session.get(Workspace, team_id)
    tz = workspace_tz(workspace, policy.default_tz)
    closed = session.exec(
        select(ReviewCycle).where(
            ReviewCycle.team_id == team_id, col(ReviewCycle.digest_sent_at).is_(None), ReviewCycle.closes_at <= now
        )
    ).all()
    closed_periods = periods.closed_names(session, team_id) if closed else set()
    queued: list[int] = []
    for cycle in closed:
        won = session.execute(
            update(ReviewCycle)
            .where(ReviewCycle.id == cycle.id, col(ReviewCycle.digest_sent_at).is_(None))
            .values(digest_sent_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        # A review of a period closed meanwhile ends with no digest: the scorecard says how it went.
        # (Claimed all the same, so reopening the period later sends no stale digest.)
        if won and cycle.period not in closed_periods:
            rows = [
                _message(team_id, DIGEST_KIND, digest.channel, messages.digest(digest), f"review-digest:{cycle.id}:{digest.channel}", now)
                for digest in digests(session, cycle, now, tz, workspace=workspace)
            ]
            queued += _enqueue(session, rows)
    return queued


def digests(session: Session, cycle: ReviewCycle, now: datetime, tz: ZoneInfo, *, workspace: Workspace | None = None) -> list[Digest]:
    """What each team channel hears when a review closes (about the objectives on the cycle's
    rhythm), in a fixed number of queries."""
    objectives = session.exec(
        select(Objective).where(
            Objective.team_id == cycle.team_id,
            Objective.period == cycle.period,
            Objective.status == "active",
            col(Objective.team_channel).is_not(None),
            col(Objective.private).is_(False),  # a digest is a channel post: private OKRs stay out
        ).order_by(Objective.number)
    ).all()
    workspace = workspace or session.get(Workspace, cycle.team_id)
    rhythm, base = cycle_rhythm(cycle, workspace), workspace_schedule(workspace)
    objectives = [objective for objective in objectives if _follows(objective, rhythm, base)]
    if not objectives:
        return []
    actor = Actor(team_id=cycle.team_id, user_id="okrbot", is_admin=True, tz=tz, now=now)
    summaries = summarise(session, objectives, actor)
    kr_ids = [kr.id for objective in summaries for kr in objective.krs]
    start = min(cycle.due_at, cycle.started_at)
    checkins = session.exec(
        select(CheckIn.kr_id, CheckIn.author).where(col(CheckIn.kr_id).in_(kr_ids), CheckIn.at >= start, CheckIn.at <= now)
    ).all() if kr_ids else []
    authors: dict[int, set[str]] = defaultdict(set)
    for kr_pk, author in checkins:
        authors[kr_pk].add(author)
    changes = session.exec(
        select(ChangeKr.kr_id, ChangeKr.before, ChangeKr.after)
        .join(Change, Change.id == ChangeKr.change_id)
        .where(col(ChangeKr.kr_id).in_(kr_ids), Change.at >= start, Change.at <= now)
        .order_by(Change.at, Change.id)
    ).all() if kr_ids else []
    first_before: dict[int, float] = {}
    last_after: dict[int, float] = {}
    for kr_pk, before, after in changes:
        if before is not None:
            first_before.setdefault(kr_pk, before)
        if after is not None:
            last_after[kr_pk] = after
    silent_owners = set(
        session.exec(
            select(Nudge.owner).where(Nudge.cycle_id == cycle.id, col(Nudge.answered_at).is_(None), col(Nudge.status).not_in(_NOT_NUDGED))
        ).all()
    )
    view = _cycle_view(cycle, tz)
    by_channel: dict[str, list[ObjectiveSummary]] = defaultdict(list)
    for objective in summaries:
        by_channel[objective.team_channel].append(objective)
    found = []
    for channel, channel_objectives in by_channel.items():
        krs = [kr for objective in channel_objectives for kr in objective.krs]
        checked_in = sorted({author for kr in krs for author in authors.get(kr.id, ()) if author == kr.owner})
        silent = sorted({kr.owner for kr in krs if kr.owner in silent_owners and kr.owner not in checked_in})
        moved = tuple(
            MovedKr(kr, first_before[kr.id], last_after[kr.id])
            for kr in krs
            if kr.id in first_before and kr.id in last_after and first_before[kr.id] != last_after[kr.id]
        )
        off_track = tuple(kr for kr in krs if kr.health is Health.OFF_TRACK)
        found.append(Digest(channel, view, tuple(checked_in), tuple(silent), moved, off_track))
    return found


# --------------------------------------------------------------------------- plumbing


def review_metadata(dedupe_key: str) -> dict:
    """Slack message metadata naming the message, so a send whose outcome was lost can be found."""
    return {"event_type": METADATA_TYPE, "event_payload": {"key": dedupe_key}}


def _message(team_id: str, kind: str, channel: str, payload: dict, dedupe_key: str, now: datetime, *, person: str | None = None) -> dict:
    """A row to queue; `person`: whom a DM reaches, when its channel is the DM's id rather than theirs."""
    payload = {**payload, "metadata": review_metadata(dedupe_key), "unfurl_links": False, "channel": channel}
    row = {"team_id": team_id, "kind": kind, "channel": channel, "payload": payload, "dedupe_key": dedupe_key, "now": now}
    return {**row, "person": person or channel}


def _enqueue(session: Session, rows: list[dict]) -> list[int]:
    """Queue messages, 500 rows a statement; a dedupe key already queued is skipped, never doubled.
    A DM waits in the queue for the moment the weekly cap allows (services/dm_cap.py)."""
    ids: list[int] = []
    dms = [dm_cap.DmToBook(row["person"], row["kind"], row["dedupe_key"], row.get("not_before")) for row in rows if row["kind"] in _DM_KINDS]
    if dms:
        slots = dm_cap.book(session, rows[0]["team_id"], dms, rows[0]["now"])
        rows = [{**row, "send_at": slots.get(row["dedupe_key"], row["now"])} for row in rows]
    for start in range(0, len(rows), _BATCH):
        values = [
            {
                "team_id": row["team_id"],
                "kind": row["kind"],
                "channel": row["channel"],
                "method": "chat.postMessage",
                "payload": row["payload"],
                "dedupe_key": row["dedupe_key"],
                "status": outbox.PENDING,
                "attempts": 0,
                "next_attempt_at": row.get("send_at", row["now"]),
                "created_at": row["now"],
            }
            for row in rows[start : start + _BATCH]
        ]
        table = OutboundMessage.__table__
        ids += session.execute(
            _insert(session, table).on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(table.c.id), values
        ).scalars().all()
    return ids


def _insert(session: Session, table):
    """INSERT … ON CONFLICT DO NOTHING RETURNING, in the dialect at hand (SQLite ≥ 3.35 or PostgreSQL)."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql_insert(table)
    return sqlite_insert(table)


def _cycle_view(cycle: ReviewCycle, tz: ZoneInfo) -> CycleView:
    return CycleView(id=cycle.id, key=cycle.key, period=cycle.period, closes_at=cycle.closes_at, tz=tz)


def enabled_workspaces(session: Session) -> list[str]:
    return list(session.exec(select(Workspace.team_id).where(Workspace.review_enabled.is_(True)).order_by(Workspace.team_id)).all())

