"""A KR's audit trail: check-ins and every change that moved or linked it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from okrbot.services.context import Actor
from okrbot.services.work import visible_work
from okrbot.store.models import Change, ChangeKr, CheckIn, Initiative, KeyResult

HISTORY_LIMIT = 40


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    actor: str
    action: str  # checkin | done | reopen | undo | link | unlink
    summary: str
    source: str
    before: float | None = None  # progress ratios, when the entry moved the KR
    after: float | None = None
    value: float | None = None  # check-ins
    confidence: int | None = None
    note: str = ""
    undone: bool = False
    checkin_id: int | None = None  # a check-in's row, for its Edit and Delete buttons


# What a change did to work the viewer may not see, told without its title.
PRIVATE_WORK_DID = {"done": "marked done", "reopen": "reopened", "link": "linked", "unlink": "unlinked", "undo": "changed back"}


def kr_history(session: Session, kr: KeyResult, limit: int = HISTORY_LIMIT, *, viewer: Actor | None = None) -> list[HistoryEntry]:
    """Newest first: check-ins with their values and notes, and the other changes.

    With `viewer`, a change to work they may not see (it now feeds only private KRs)
    says what happened, not which work: summaries quote the work's title."""
    checkins = session.exec(select(CheckIn).where(CheckIn.kr_id == kr.id).order_by(CheckIn.at.desc(), CheckIn.id.desc()).limit(limit)).all()
    changes = session.exec(
        select(Change, ChangeKr)
        .join(ChangeKr, ChangeKr.change_id == Change.id)
        .where(ChangeKr.kr_id == kr.id)
        .order_by(Change.at.desc(), Change.id.desc())
        .limit(limit * 2)
    ).all()
    undone_checkins = {change.snapshot.get("checkin") for change, _ in changes if change.action == "checkin" and change.undone_at}
    entries = [
        HistoryEntry(
            at=checkin.at,
            actor=checkin.author,
            action="checkin",
            summary="check-in",
            source=checkin.source,
            value=checkin.value,
            confidence=checkin.confidence,
            note=checkin.note,
            undone=checkin.id in undone_checkins,
            checkin_id=checkin.id,
        )
        for checkin in checkins
    ]
    # Check-ins are listed from their own table (imports have no Change row).
    hidden = _hidden_work(session, viewer, [change for change, _ in changes])
    entries += [
        HistoryEntry(
            at=change.at,
            actor=change.actor,
            action=change.action,
            summary=f":lock: Private work {PRIVATE_WORK_DID.get(change.action, 'changed')}" if change.initiative_id in hidden else change.summary,
            source=change.source,
            before=row.before,
            after=row.after,
            undone=change.undone_at is not None,
        )
        for change, row in changes
        if change.action != "checkin"
    ]
    entries.sort(key=lambda entry: entry.at, reverse=True)
    return entries[:limit]


def _hidden_work(session: Session, viewer: Actor | None, changes: list[Change]) -> set[int]:
    ids = {change.initiative_id for change in changes if change.initiative_id is not None}
    if viewer is None or not ids:
        return set()
    initiatives = list(session.exec(select(Initiative).where(col(Initiative.id).in_(ids))).all())
    return ids - visible_work(session, viewer, initiatives)
