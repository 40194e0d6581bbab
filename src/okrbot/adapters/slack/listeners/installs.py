"""Uninstalls: `app_uninstalled` and `tokens_revoked` remove the workspace's tokens (bolt's own
handlers on the installation store) and drop what was queued for it. Every scheduled job reads
the tokens afresh (adapters/slack/installs.py), so each one stops for that workspace at its next look;
the workspace's OKRs stay until an admin runs `okrbot workspace delete T…`."""

from __future__ import annotations

import logging

from slack_bolt import App, BoltContext
from sqlmodel import select

from okrbot.adapters.slack.bot import SlackBot
from okrbot.store import installations, outbox
from okrbot.store.models import Workspace

log = logging.getLogger("okrbot.installs")


def register(app: App, bot: SlackBot) -> None:
    oauth = bot.settings.oauth_mode
    forget_all = app.default_app_uninstalled_event_listener() if oauth else None
    forget_revoked = app.default_tokens_revoked_event_listener() if oauth else None

    @app.event("app_uninstalled")
    def on_uninstalled(event: dict, context: BoltContext) -> None:
        if forget_all is not None:
            forget_all(context=context)
        _stop(bot, context, "okrbot was uninstalled")

    @app.event("tokens_revoked")
    def on_tokens_revoked(event: dict, context: BoltContext) -> None:
        if forget_revoked is not None:
            forget_revoked(event=event, context=context)
        if (event.get("tokens") or {}).get("bot"):
            _stop(bot, context, "its bot token was revoked")

    if oauth:
        known: set[tuple[str, str]] = set()

        @app.middleware
        def remember_organisation(context: BoltContext, next) -> object:  # noqa: A002 - bolt's name
            # A workspace of an Enterprise Grid org: scheduled jobs may need the org-wide install's token.
            team_id, enterprise_id = context.team_id, context.enterprise_id
            if team_id and enterprise_id and (team_id, enterprise_id) not in known:
                with bot.db.session_scope() as session:
                    installations.remember_enterprise(session, team_id, enterprise_id)
                known.add((team_id, enterprise_id))
            return next()


def _stop(bot: SlackBot, context: BoltContext, why: str) -> None:
    if not bot.settings.oauth_mode:
        log.warning("workspace %s: %s; okrbot cannot reach it until SLACK_BOT_TOKEN is a working token again", context.team_id, why)
        return
    teams = [context.team_id] if context.team_id else []
    if not teams and context.enterprise_id:  # an org-wide install: every workspace of the org
        with bot.db.session_scope(read_only=True) as session:
            teams = list(session.exec(select(Workspace.team_id).where(Workspace.enterprise_id == context.enterprise_id)).all())
    # A workspace still installed another way (its own install besides the org's) carries on.
    for team_id in [team for team in teams if not bot.clients.installed(team)]:
        with bot.db.session_scope() as session:
            dropped = outbox.drop_unsent(session, team_id, why=f"not sent: {why}")
        log.warning(
            "workspace %s: %s; its tokens are removed, %d queued messages dropped, its scheduled jobs stop; "
            "its data stays until `okrbot workspace delete %s`",
            team_id, why, dropped, team_id,
        )
