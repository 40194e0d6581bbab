"""OAuth installs: the tables slack_sdk's SQLAlchemy installation and state stores use, declared
here so Alembic creates them (migrations/versions/0015_oauth_installations.py) and
`okrbot workspace delete` finds them, plus the queries okrbot itself needs.

The columns are slack_sdk's own (`SQLAlchemyInstallationStore.build_*_table`,
`SQLAlchemyOAuthStateStore.build_oauth_states_table`); its store reads and writes these rows
through its own Table objects on okrbot's engine. Nothing here imports slack_sdk."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Boolean, Column, DateTime, Index, Integer, String, Table, and_, desc, func, or_, select, update
from sqlmodel import Session

from okrbot.store.models import Workspace, metadata
from okrbot.store.workspaces import ensure_workspace

installations = Table(
    "slack_installations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("client_id", String(32), nullable=False),
    Column("app_id", String(32), nullable=False),
    Column("enterprise_id", String(32)),
    Column("enterprise_name", String(200)),
    Column("enterprise_url", String(200)),
    Column("team_id", String(32)),
    Column("team_name", String(200)),
    Column("bot_token", String(200)),
    Column("bot_id", String(32)),
    Column("bot_user_id", String(32)),
    Column("bot_scopes", String(1000)),
    Column("bot_refresh_token", String(200)),
    Column("bot_token_expires_at", DateTime),
    Column("user_id", String(32), nullable=False),
    Column("user_token", String(200)),
    Column("user_scopes", String(1000)),
    Column("user_refresh_token", String(200)),
    Column("user_token_expires_at", DateTime),
    Column("incoming_webhook_url", String(200)),
    Column("incoming_webhook_channel", String(200)),
    Column("incoming_webhook_channel_id", String(200)),
    Column("incoming_webhook_configuration_url", String(200)),
    Column("is_enterprise_install", Boolean, default=False, nullable=False),
    Column("token_type", String(32)),
    Column("installed_at", DateTime, nullable=False, default=func.now()),
    Index("slack_installations_idx", "client_id", "enterprise_id", "team_id", "user_id", "installed_at"),
)

bots = Table(
    "slack_bots",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("client_id", String(32), nullable=False),
    Column("app_id", String(32), nullable=False),
    Column("enterprise_id", String(32)),
    Column("enterprise_name", String(200)),
    Column("team_id", String(32)),
    Column("team_name", String(200)),
    Column("bot_token", String(200)),
    Column("bot_id", String(32)),
    Column("bot_user_id", String(32)),
    Column("bot_scopes", String(1000)),
    Column("bot_refresh_token", String(200)),
    Column("bot_token_expires_at", DateTime),
    Column("is_enterprise_install", Boolean, default=False, nullable=False),
    Column("installed_at", DateTime, nullable=False, default=func.now()),
    Index("slack_bots_idx", "client_id", "enterprise_id", "team_id", "installed_at"),
)

oauth_states = Table(
    "slack_oauth_states",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("state", String(200), nullable=False),
    Column("expire_at", DateTime, nullable=False),
)


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
