"""OAuth installs: what okrbot itself asks of slack_sdk's installation tables (store/models.py).
Nothing here imports slack_sdk."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, desc, or_, select, update
from sqlmodel import Session

from okrbot.store.models import Workspace, bots
from okrbot.store.workspaces import ensure_workspace

@dataclass(frozen=True)
class BotKey:
    """Where a workspace's bot token is kept: its own install, or its organisation's (Enterprise
    Grid org-wide install: team_id None, is_enterprise_install true)."""

    enterprise_id: str | None
    team_id: str | None
    is_enterprise_install: bool


def bot_key(session: Session, client_id: str, team_id: str) -> BotKey | None:
    """The newest install that holds a bot token for this workspace; None: not installed (or
    uninstalled). Read fresh every time, so an uninstall stops every process at once."""
    enterprise_id = session.exec(select(Workspace.enterprise_id).where(Workspace.team_id == team_id)).scalar_one_or_none()
    c = bots.c
    own = and_(c.team_id == team_id, c.is_enterprise_install.is_(False))
    where = own if enterprise_id is None else or_(own, and_(c.enterprise_id == enterprise_id, c.is_enterprise_install.is_(True)))
    row = session.execute(
        select(c.enterprise_id, c.team_id, c.is_enterprise_install)
        .where(c.client_id == client_id, c.bot_token.is_not(None), where)
        .order_by(c.is_enterprise_install, desc(c.installed_at), desc(c.id))
        .limit(1)
    ).first()
    return None if row is None else BotKey(row.enterprise_id, row.team_id, bool(row.is_enterprise_install))


def remember_enterprise(session: Session, team_id: str, enterprise_id: str) -> None:
    """A workspace of an Enterprise Grid organisation: its scheduled jobs may use the org's token."""
    ensure_workspace(session, team_id)
    session.execute(
        update(Workspace).where(Workspace.team_id == team_id, or_(Workspace.enterprise_id.is_(None), Workspace.enterprise_id != enterprise_id)).values(enterprise_id=enterprise_id)
    )
