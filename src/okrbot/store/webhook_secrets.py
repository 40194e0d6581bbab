"""Each workspace's webhook URL tokens and secrets, one pair per tool."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlmodel import Session, select

from okrbot.domain.commands import WEBHOOK_TOOLS
from okrbot.store.models import WebhookSecret
from okrbot.store.workspaces import ensure_workspace



def secrets_of(session: Session, team_id: str, now: datetime) -> list[WebhookSecret]:
    """This workspace's rows, one per tool, made on first use."""
    ensure_workspace(session, team_id)
    rows = {row.vendor: row for row in session.exec(select(WebhookSecret).where(WebhookSecret.team_id == team_id)).all()}
    for vendor in WEBHOOK_TOOLS:
        if vendor not in rows:
            rows[vendor] = WebhookSecret(team_id=team_id, vendor=vendor, token=_new_token(), secret=_new_secret(), created_at=now)
            session.add(rows[vendor])
    session.flush()
    return [rows[vendor] for vendor in WEBHOOK_TOOLS]


def rotate(session: Session, team_id: str, vendor: str, now: datetime, secret: str | None = None) -> WebhookSecret:
    """A new secret for one tool (random, or the one the tool made); its URL stays, so
    only the secret needs pasting again."""
    row = next(row for row in secrets_of(session, team_id, now) if row.vendor == vendor)
    row.secret = secret or _new_secret()
    row.rotated_at = now
    session.flush()
    return row


def by_token(session: Session, token: str) -> WebhookSecret | None:
    return session.exec(select(WebhookSecret).where(WebhookSecret.token == token)).first()


def _new_token() -> str:
    return secrets.token_urlsafe(18)


def _new_secret() -> str:
    return secrets.token_hex(32)
