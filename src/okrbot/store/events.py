"""Idempotency keys: an event, a webhook delivery or a request's unit of work is applied at most once."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy import delete
from sqlmodel import Session

from okrbot.store.models import ProcessedEvent
from okrbot.store.workspaces import ensure_workspace


# Built once per dialect: one per request, and building it each time cost more CPU than running it.
_CLAIM = {
    name: insert(ProcessedEvent.__table__).on_conflict_do_nothing(index_elements=["key"]).returning(ProcessedEvent.__table__.c.key)
    for name, insert in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}


def claim_event(session: Session, key: str, team_id: str, now: datetime) -> bool:
    """True the first time `key` is seen; False for a retry or duplicate.

    Runs inside the caller's transaction, so if the effect fails and rolls
    back, the claim goes with it and the retry is applied. One statement: an
    insert that does nothing when another transaction has the key (it waits for
    that one to commit or roll back, so two workers never both go on).
    """
    connection = session.connection()
    claimed = connection.execute(_CLAIM[connection.dialect.name], {"key": key, "team_id": team_id, "at": now}).first()
    if claimed is None:
        return False
    # The first event from a workspace (a bare "@okrbot help") may be answered before
    # any command created it; its outbox rows need the workspace row.
    ensure_workspace(session, team_id)
    return True


# Keys outlive every retry Slack or a webhook sender makes (minutes to hours) by far; past
# that a replayed delivery meets "marking done what is done changes nothing" instead.
KEEP_KEYS = timedelta(days=7)


def forget_old_keys(session: Session, now: datetime, keep: timedelta = KEEP_KEYS) -> int:
    return session.execute(delete(ProcessedEvent).where(ProcessedEvent.at < now - keep)).rowcount
