"""Check-ins: a dated value on a KR, kept forever, from any surface."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, select

from okrbot.domain.commands import Metric
from okrbot.domain.formatting import format_value
from okrbot.domain.ids import kr_id
from okrbot.domain.text import clean_text
from okrbot.services import periods
from okrbot.services.context import Actor
from okrbot.services.errors import Invalid
from okrbot.services.okrs import get_kr, may_see, require_active, require_can_edit
from okrbot.services.work import KrMove, change_gone, objective_of, progress_map, record_change
from okrbot.store.models import Change, ChangeKr, CheckIn, KeyResult

NOTE_LIMIT = 3000


@dataclass
class CheckinOutcome:
    kr: KeyResult
    checkin: CheckIn
    change: Change | None  # None for an older reading kept in history only
    moves: list[KrMove]
    current: bool = True  # False: an older reading, kept in history only


def record_checkin(
    session: Session,
    actor: Actor,
    kr_number: int,
    value: float | bool | None,
    *,
    confidence: int | None = None,
    note: str | None = None,
    at: datetime | None = None,
) -> CheckinOutcome:
    """Record a value (None keeps the current one: a "no change" check-in).

    `at` dates a reading taken earlier (a metric feed, an import): one older than the
    KR's newest check-in goes into the history but does not become the current value."""
    kr = get_kr(session, actor, kr_number)
    if at is not None:
        _lock(session, kr)  # two readings at once: the newer one wins, whichever commits last
        newest = session.exec(select(func.max(CheckIn.at)).where(CheckIn.kr_id == kr.id)).one()
        if newest is not None and at < newest:
            return _history_only(session, actor, kr, value, at)
        actor = replace(actor, now=at)
    objective = objective_of(session, kr)
    require_active(objective)
    require_can_edit(actor, objective, kr)
    periods.require_open(session, actor.team_id, objective.period, f"record a check-in on {kr_id(kr.number)}")
    number = checkin_value(kr, value)
    check_confidence(confidence)
    note = clean_note(note)

    before = progress_map(session, [kr])
    snapshot = {
        "kr": {
            "current": kr.current,
            "confidence": kr.confidence,
            "last_progress_at": kr.last_progress_at.isoformat() if kr.last_progress_at else None,
        }
    }
    checkin = CheckIn(
        team_id=actor.team_id,
        kr_id=kr.id,
        at=actor.now,
        value=number,
        confidence=confidence,
        note=note,
        author=actor.user_id,
        source=actor.source,
    )
    session.add(checkin)
    if number is not None:
        kr.current = number
    if confidence is not None:
        kr.confidence = confidence
    kr.last_progress_at = actor.now
    kr.updated_at = actor.now
    session.flush()
    snapshot["checkin"] = checkin.id
    summary = f"Check-in on {kr_id(kr.number)}: " + ("no change" if number is None else format_value(number, kr.unit, kr.metric))
    change, moves = record_change(session, actor, "checkin", None, [kr], before, summary, snapshot=snapshot)
    return CheckinOutcome(kr=kr, checkin=checkin, change=change, moves=moves)


def check_confidence(confidence: int | None) -> None:
    if confidence is not None and not 0 <= confidence <= 10:
        raise Invalid("Confidence goes from 0 to 10.", hint="Type e.g. `confidence 7`.", field="confidence")


def clean_note(note: str | None) -> str:
    note = clean_text(note or "", lines=True).strip()
    if len(note) > NOTE_LIMIT:
        raise Invalid(f"The note is {len(note)} characters; keep it under {NOTE_LIMIT}.", field="note")
    return note


def _lock(session: Session, kr: KeyResult) -> None:
    session.exec(select(KeyResult.id).where(KeyResult.id == kr.id).with_for_update()).one()


def _history_only(session: Session, actor: Actor, kr: KeyResult, value: float | bool | None, at: datetime) -> CheckinOutcome:
    objective = objective_of(session, kr)
    require_active(objective)
    require_can_edit(actor, objective, kr)
    checkin = CheckIn(team_id=actor.team_id, kr_id=kr.id, at=at, value=checkin_value(kr, value), author=actor.user_id, source=actor.source)
    session.add(checkin)
    session.flush()
    # Nothing moved, so there is no change to undo or announce: the history lists the check-in itself.
    return CheckinOutcome(kr=kr, checkin=checkin, change=None, moves=[], current=False)


def checkin_value(kr: KeyResult, value: float | bool | None) -> float | None:
    if value is None:
        return None
    metric = Metric(kr.metric)
    if metric is Metric.MILESTONE:
        raise Invalid(
            f"{kr_id(kr.number)} moves with its initiatives, not with values.",
            hint="Mark its work done with `/okr done I-n`.",
        )
    if metric is Metric.BOOLEAN:
        if isinstance(value, bool):
            return 1.0 if value else 0.0
        if value in (0, 1):
            return float(value)
        raise Invalid(f"{kr_id(kr.number)} is a yes/no KR.", hint=f"Type `/okr checkin {kr_id(kr.number)} yes`.", field="value")
    if isinstance(value, bool):
        if value and kr.target is not None:
            return kr.target  # "done" on a numeric KR means the target was reached
        raise Invalid(
            f"{kr_id(kr.number)} takes a number, not yes/no.", hint=f"Type e.g. `/okr checkin {kr_id(kr.number)} 42`.", field="value"
        )
    if value != value or value in (float("inf"), float("-inf")):
        raise Invalid("That is not a number.", hint=f"Type e.g. `/okr checkin {kr_id(kr.number)} 42`.", field="value")
    return float(value)


def undo_checkin(session: Session, actor: Actor, change: Change) -> tuple[Change, list[KrMove]]:
    """Put the KR back exactly as it was before the check-in; the check-in stays in history."""
    previous = change.snapshot["kr"]
    kr_pk = session.exec(select(ChangeKr.kr_id).where(ChangeKr.change_id == change.id)).one()
    kr = session.get(KeyResult, kr_pk)
    if not may_see(session, actor, objective_of(session, kr)):
        raise change_gone()  # a private KR's check-in: refused without naming its people
    require_can_edit(actor, objective_of(session, kr), kr)
    before = progress_map(session, [kr])
    snapshot = {"kr": {"current": kr.current, "confidence": kr.confidence}}
    kr.current = previous["current"]
    kr.confidence = previous["confidence"]
    kr.last_progress_at = datetime.fromisoformat(previous["last_progress_at"]) if previous["last_progress_at"] else None
    kr.updated_at = actor.now
    change.undone_at = actor.now
    session.flush()
    return record_change(session, actor, "undo", None, [kr], before, f"Undid: {change.summary}", snapshot=snapshot, reverts=change)
