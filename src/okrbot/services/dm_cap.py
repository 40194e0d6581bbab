"""The weekly cap on DMs nobody asked for: at most DM_CAP in any rolling 7 days per person.

Every unprompted DM (review nudge, reminder, note to an objective owner, grading DM) is
booked here in the transaction that queues it, at the moment it may go (domain/nudge_prefs.py:
`dm_slot`); the outbox holds it until then. One over the cap waits, it is never dropped.
Answers to a person's own commands and clicks are not booked and do not count.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, text
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from okrbot.domain.nudge_prefs import DM_CAP_WINDOW, dm_slot
from okrbot.store.models import UnpromptedDm


@dataclass(frozen=True)
class DmToBook:
    user_id: str
    kind: str
    dedupe_key: str
    not_before: datetime | None = None  # e.g. the end of the person's pause


def book(session: Session, team_id: str, dms: Sequence[DmToBook], now: datetime) -> dict[str, datetime]:
    """When each DM may go (by dedupe key); a key booked in the last week keeps its moment
    (callers queue by dedupe key too, so a key booked longer ago is not queued again)."""
    if not dms:
        return {}
    _lock_workspace(session, team_id)
    users = sorted({dm.user_id for dm in dms})
    rows = session.exec(
        select(UnpromptedDm.user_id, UnpromptedDm.at, UnpromptedDm.dedupe_key).where(
            UnpromptedDm.team_id == team_id, col(UnpromptedDm.user_id).in_(users), UnpromptedDm.at > now - DM_CAP_WINDOW
        )
    ).all()
    booked: dict[str, list[datetime]] = defaultdict(list)
    known: dict[str, datetime] = {}
    for user_id, at, key in rows:
        booked[user_id].append(at)
        known[key] = at
    slots: dict[str, datetime] = {}
    new = []
    for dm in dms:
        if dm.dedupe_key in known:
            slots[dm.dedupe_key] = known[dm.dedupe_key]
            continue
        at = dm_slot(booked[dm.user_id], max(now, dm.not_before or now))
        booked[dm.user_id].append(at)
        slots[dm.dedupe_key] = known[dm.dedupe_key] = at
        new.append({"team_id": team_id, "user_id": dm.user_id, "at": at, "kind": dm.kind, "dedupe_key": dm.dedupe_key})
    if new:
        insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        session.execute(insert(UnpromptedDm.__table__).on_conflict_do_nothing(index_elements=["dedupe_key"]), new)
    return slots


def forget_old(session: Session, team_id: str, now: datetime) -> int:
    """Drop bookings no window can hold any more (older than two windows): the ledger stays small."""
    result = session.execute(
        delete(UnpromptedDm).where(UnpromptedDm.team_id == team_id, UnpromptedDm.at < now - 2 * DM_CAP_WINDOW)
    )
    return result.rowcount


def _lock_workspace(session: Session, team_id: str) -> None:
    """Replicas booking for the same people take turns, so two cannot both fill the last slot.
    (SQLite: every writing unit of work holds the database's write lock already.)"""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"okrbot-dm-cap:{team_id}"})
