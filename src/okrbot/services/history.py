"""A KR's audit trail: check-ins and every change that moved or linked it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from okrbot.store.models import Change, ChangeKr, CheckIn, KeyResult

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


def kr_history(session: Session, kr: KeyResult, limit: int = HISTORY_LIMIT) -> list[HistoryEntry]:
    """Newest first: check-ins with their values and notes, and the other changes."""
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
    entries += [
        HistoryEntry(
            at=change.at,
            actor=change.actor,
            action=change.action,
            summary=change.summary,
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
