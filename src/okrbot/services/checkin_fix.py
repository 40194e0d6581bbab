"""Fix a check-in typed wrong: its author (or an admin) edits or deletes it while its period is open.

The KR is recomputed when the check-in was its latest, the correction is a Change of its
own (so history shows it), and the check-in's own Change is returned so that the message
that announced it can be updated in place.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from okrbot.domain.formatting import format_value
from okrbot.domain.ids import kr_id
from okrbot.domain.periods import parse_period
from okrbot.services import permissions
from okrbot.services.checkins import check_confidence, checkin_value, clean_note
from okrbot.services.context import Actor
from okrbot.services.errors import Invalid, NotAllowed, NotFound
from okrbot.services.okrs import get_kr, require_active
from okrbot.services.work import KrMove, objective_of, progress_map, record_change
from okrbot.store.models import Change, ChangeKr, CheckIn, KeyResult, Objective

FIX, DELETE = "checkin_fix", "checkin_delete"


@dataclass
class FixOutcome:
    kr: KeyResult
    checkin: CheckIn  # as it is now (deleted: as it was)
    old_value: float | None
    correction: Change  # the fix or delete, in history
    moves: list[KrMove]
    announced: Change | None  # the check-in's own change, whose announcement is updated


def latest_checkin(session: Session, actor: Actor, kr_number: int) -> CheckIn:
    """The actor's latest check-in of a KR (what `/okr checkin fix|delete KR-n` acts on)."""
    kr = get_kr(session, actor, kr_number)
    checkin = session.exec(
        select(CheckIn)
        .where(CheckIn.kr_id == kr.id, CheckIn.author == actor.user_id)
        .order_by(CheckIn.at.desc(), CheckIn.id.desc())
    ).first()
    if checkin is None:
        ident = kr_id(kr.number)
        raise NotFound(f"You have no check-in on {ident} to change.", hint=f"Record one with `/okr checkin {ident} &lt;value&gt;`.")
    return checkin


def get_checkin(session: Session, actor: Actor, checkin_pk: int) -> CheckIn:
    """A check-in by its row id (the Edit and Delete buttons in history)."""
    checkin = session.exec(select(CheckIn).where(CheckIn.team_id == actor.team_id, CheckIn.id == checkin_pk)).first()
    if checkin is None:
        raise NotFound("That check-in no longer exists.", hint="See what is left with `/okr history KR-n`.")
    get_kr(session, actor, session.get(KeyResult, checkin.kr_id).number)  # the actor may see its KR
    return checkin


def fixable(session: Session, actor: Actor, kr: KeyResult, checkin_pks: list[int]) -> set[int]:
    """Which of these check-ins of `kr` the actor may still fix or delete."""
    if not checkin_pks or not period_open(objective_of(session, kr), actor):
        return set()
    rows = session.exec(select(CheckIn.id, CheckIn.author).where(col(CheckIn.id).in_(checkin_pks))).all()
    return {pk for pk, author in rows if author == actor.user_id or permissions.trusted(actor)}


def may_fix(actor: Actor, checkin: CheckIn) -> bool:
    return checkin.author == actor.user_id or permissions.trusted(actor)


def period_open(objective: Objective, actor: Actor) -> bool:
    period = parse_period(objective.period)
    return objective.status == "active" and (period is None or actor.now < period.end_at(actor.tz))


def fix_checkin(
    session: Session, actor: Actor, checkin: CheckIn, value: float | bool, *, confidence: int | None = None, note: str | None = None
) -> FixOutcome:
    """Correct a check-in's value (and its confidence or note when given)."""
    kr, announced = _editable(session, actor, checkin, "fix")
    number = checkin_value(kr, value)
    check_confidence(confidence)
    old = checkin.value
    latest = _is_latest(session, checkin)
    before = progress_map(session, [kr])
    checkin.value = number
    if confidence is not None:
        checkin.confidence = confidence
    if note is not None:
        checkin.note = clean_note(note)
    if latest:
        kr.current = number
        kr.confidence = checkin.confidence if checkin.confidence is not None else kr.confidence
        kr.updated_at = actor.now
    session.flush()
    when = checkin.at.strftime("%Y-%m-%d %H:%M")
    summary = f"Corrected the check-in of {when} on {kr_id(kr.number)}: {_shown(old, kr)} → {_shown(number, kr)}"
    snapshot = {"checkin": checkin.id, "value": old}
    correction, moves = record_change(session, actor, FIX, None, [kr], before, summary, snapshot=snapshot)
    after = progress_map(session, [kr])[kr.id] if latest else None
    _set_announced_after(session, announced, kr, after)
    return FixOutcome(kr, checkin, old, correction, moves, announced)


def delete_checkin(session: Session, actor: Actor, checkin: CheckIn) -> FixOutcome:
    """Delete a check-in; when it was the latest, the KR goes back to where it was before it."""
    kr, announced = _editable(session, actor, checkin, "delete")
    latest = _is_latest(session, checkin)
    before = progress_map(session, [kr])
    session.delete(checkin)
    session.flush()
    if latest:
        _restore_before(session, kr, checkin, announced)
        kr.updated_at = actor.now
    if announced is not None:
        announced.undone_at = actor.now  # its Undo would now restore the wrong state
    session.flush()
    when = checkin.at.strftime("%Y-%m-%d %H:%M")
    summary = f"Deleted the check-in of {when} on {kr_id(kr.number)} ({_shown(checkin.value, kr)})"
    snapshot = {"checkin": checkin.id, "value": checkin.value, "confidence": checkin.confidence, "note": checkin.note, "by": checkin.author}
    correction, moves = record_change(session, actor, DELETE, None, [kr], before, summary, snapshot=snapshot)
    return FixOutcome(kr, checkin, checkin.value, correction, moves, announced)


def require_fixable(session: Session, actor: Actor, checkin: CheckIn, doing: str) -> KeyResult:
    """The check-in's KR, once the actor may still `doing` (fix or delete) it."""
    return _editable(session, actor, checkin, doing)[0]


def _editable(session: Session, actor: Actor, checkin: CheckIn, doing: str) -> tuple[KeyResult, Change | None]:
    kr = session.get(KeyResult, checkin.kr_id)
    objective = objective_of(session, kr)
    require_active(objective)
    ident = kr_id(kr.number)
    if not may_fix(actor, checkin):
        raise NotAllowed(f"Only <@{checkin.author}>, who made that check-in, or an admin can {doing} it.")
    if not period_open(objective, actor):
        raise Invalid(
            f"The period {objective.period} of {ident} is over, so its check-ins stay as they are.",
            hint=f"Record a new one with `/okr checkin {ident} &lt;value&gt;`.",
        )
    announced = _checkin_change(session, checkin)
    if announced is not None and announced.undone_at is not None:
        raise Invalid("That check-in was undone, so it no longer counts.", hint=f"Record a new one with `/okr checkin {ident} &lt;value&gt;`.")
    return kr, announced


def _checkin_change(session: Session, checkin: CheckIn) -> Change | None:
    """The Change that recorded the check-in (imports have none)."""
    changes = session.exec(
        select(Change)
        .join(ChangeKr, ChangeKr.change_id == Change.id)
        .where(ChangeKr.kr_id == checkin.kr_id, Change.action == "checkin", Change.at == checkin.at)
    ).all()
    return next((change for change in changes if change.snapshot.get("checkin") == checkin.id), None)


def _is_latest(session: Session, checkin: CheckIn) -> bool:
    newest = session.exec(select(CheckIn.id).where(CheckIn.kr_id == checkin.kr_id).order_by(CheckIn.at.desc(), CheckIn.id.desc())).first()
    return newest == checkin.id


def _restore_before(session: Session, kr: KeyResult, deleted: CheckIn, announced: Change | None) -> None:
    """The KR as the check-in found it: the previous check-in's value, else the state its Change kept."""
    previous = session.exec(
        select(CheckIn).where(CheckIn.kr_id == kr.id, col(CheckIn.value).is_not(None)).order_by(CheckIn.at.desc(), CheckIn.id.desc())
    ).first()
    kept = (announced.snapshot.get("kr") or {}) if announced is not None else {}
    if previous is not None:
        kr.current = previous.value
        kr.last_progress_at = previous.at
    elif kept:
        kr.current = kept.get("current")
        kr.last_progress_at = datetime.fromisoformat(kept["last_progress_at"]) if kept.get("last_progress_at") else None
    elif deleted.value is not None:
        kr.current = kr.start
    if deleted.confidence is not None:
        confidences = session.exec(
            select(CheckIn.confidence).where(CheckIn.kr_id == kr.id, col(CheckIn.confidence).is_not(None)).order_by(CheckIn.at.desc(), CheckIn.id.desc())
        ).first()
        kr.confidence = confidences if confidences is not None else kept.get("confidence")


def _set_announced_after(session: Session, announced: Change | None, kr: KeyResult, after: float | None) -> None:
    """The check-in's own history row now ends where the corrected value puts the KR."""
    if announced is None or after is None:
        return
    row = session.exec(select(ChangeKr).where(ChangeKr.change_id == announced.id, ChangeKr.kr_id == kr.id)).first()
    if row is not None:
        row.after = after
        session.flush()


def announced_progress(session: Session, announced: Change, kr: KeyResult) -> tuple[float, float]:
    """(before, after) of the KR on the check-in's own change, as its announcement shows it."""
    row = session.exec(select(ChangeKr).where(ChangeKr.change_id == announced.id, ChangeKr.kr_id == kr.id)).first()
    return (row.before or 0.0, row.after or 0.0) if row is not None else (0.0, 0.0)


def _shown(value: float | None, kr: KeyResult) -> str:
    return "no change" if value is None else format_value(value, kr.unit, kr.metric)
