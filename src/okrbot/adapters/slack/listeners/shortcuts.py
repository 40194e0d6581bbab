"""Shortcuts and searchable menus: "Does this serve a KR?" on any message, "Check in on
a KR" from anywhere, and the options of the KR and objective pickers in forms."""

from __future__ import annotations

import logging

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from okrbot.services import pickers
from okrbot.adapters.slack.bot import SlackBot
from okrbot.adapters.slack.commands.shortcuts import message_serves
from okrbot.adapters.slack.ids import Picker, Shortcut
from okrbot.adapters.slack.listeners.surfaces import open_modal
from okrbot.adapters.slack.reply import Reply
from okrbot.adapters.slack.views import modals
from okrbot.adapters.slack.views.pickers import options

log = logging.getLogger("okrbot")

SEARCHES = {Picker.KR: pickers.search_krs, Picker.OBJECTIVE: pickers.search_objectives}


def register(app: App, bot: SlackBot) -> None:
    @app.shortcut({"type": "message_action", "callback_id": Shortcut.SERVES_MESSAGE.value})
    def on_serves_message(ack: Ack, body: dict, client: WebClient) -> None:
        ack()
        channel, message = body["channel"]["id"], body.get("message") or {}
        actor = bot.actor(body["team"]["id"], body["user"]["id"], channel, source="shortcut")
        permalink = _permalink(client, channel, message.get("ts"))
        outcome = bot.runner.in_unit_of_work(actor, lambda ctx: message_serves(ctx, message.get("text") or "", permalink), read_only=True)
        bot.tell_privately(actor.team_id, channel, actor.user_id, outcome.reply)

    @app.shortcut({"type": "shortcut", "callback_id": Shortcut.CHECKIN.value})
    def on_checkin(ack: Ack, body: dict, client: WebClient) -> None:
        ack()
        form = modals.checkin_any_modal(channel=None)
        open_modal(client, body.get("trigger_id"), Reply(text="Check in on a KR", modal=form), None)

    for kind, search in SEARCHES.items():
        app.options(kind.value)(_suggest(bot, search))


def _suggest(bot: SlackBot, search):
    def on_suggestion(ack: Ack, body: dict) -> None:
        team = (body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id")
        actor = bot.actor(team, body["user"]["id"])
        try:
            with bot.db.session_scope(read_only=True) as session:
                found = search(session, actor, body.get("value") or "")
        except Exception:  # noqa: BLE001 - an empty menu, not an error page, while the database is away
            log.exception("searching the picker's options failed")
            found = []
        ack(options=options(found))

    return on_suggestion


def _permalink(client: WebClient, channel: str, ts: str | None) -> str | None:
    """The message's permalink (chat.getPermalink); None when Slack will not give it."""
    if not ts:
        return None
    try:
        return client.chat_getPermalink(channel=channel, message_ts=ts).get("permalink")
    except SlackApiError as error:
        log.warning("chat.getPermalink failed: %s", error.response.get("error"))
        return None
