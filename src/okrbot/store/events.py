"""Idempotency keys: an event or webhook delivery is applied at most once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from okrbot.store.models import ProcessedEvent
from okrbot.store.workspaces import ensure_workspace


def claim_event(session: Session, key: str, team_id: str, now: datetime) -> bool:
    """True the first time `key` is seen; False for a retry or duplicate.

    Runs inside the caller's transaction, so if the effect fails and rolls
    back, the claim goes with it and Slack's retry is applied.
    """
    if session.get(ProcessedEvent, key) is not None:
        return False
    # The first event from a workspace (a bare "@okrbot help") may be answered before
    # any command created it; its outbox rows need the workspace row.
    ensure_workspace(session, team_id)
    try:
        with session.begin_nested():
            session.add(ProcessedEvent(key=key, team_id=team_id, at=now))
    except IntegrityError:
        return False  # another process claimed it a moment ago
    return True
