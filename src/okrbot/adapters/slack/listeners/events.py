"""Events: @mentions, DMs, ✅ reactions on initiative cards, and the App Home tab.

Bolt acks events before these run. Each effect claims the event_id in its
own transaction, so Slack's retries (X-Slack-Retry-Num) change nothing.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from slack_bolt import App, BoltContext
from sqlalchemy.exc import OperationalError

from okrbot.domain.grammar import USAGE, CommandError, parse
from okrbot.domain.mentions import serves_question, strip_mention
from okrbot.adapters.slack.bot import SlackBot
from okrbot.adapters.slack.commands import home as home_commands
from okrbot.adapters.slack.commands.work import set_status_by_message
from okrbot.adapters.slack.errors import reply_for_error
from okrbot.adapters.slack.reply import Reply

log = logging.getLogger("okrbot")

DONE_REACTIONS = {"white_check_mark", "heavy_check_mark"}


def event_key(body: dict, suffix: str = "") -> str:
    return f"event:{body.get('event_id') or body['event'].get('event_ts')}{suffix}"


def message_text(text: str) -> str:
    """Mentions and DMs take the same words as /okr, plus the "does … serve a KR?" question."""
    words = strip_mention(text)
    request = serves_question(words)
    return f"serves {request}" if request else (words or "help")


def is_command(text: str) -> bool:
    """Meant for the /okr language: it parses, or starts with one of its verbs (then its
    usage helps), or with a near miss of one (then the suggestion does)."""
    words = message_text(text)
    try:
        parse(words)
    except CommandError as error:
        first = words.split(maxsplit=1)[0].lower() if words.split() else ""
        return error.suggestion is not None or first in USAGE
    return True


def is_direct_message(event: dict) -> bool:
    return event.get("channel_type") == "im"


def register(app: App, bot: SlackBot) -> None:
    @app.event("app_mention")
    def on_mention(body: dict, event: dict) -> None:
        _answer_message(bot, body, event, thread_ts=event.get("thread_ts") or event["ts"])

    # Bolt's event constraints only look at type and subtype, so the DM check is a matcher.
    @app.event("message", matchers=[is_direct_message])
    def on_direct_message(body: dict, event: dict) -> None:
        if event.get("subtype") or event.get("bot_id"):
            return  # edits, joins and our own messages are not commands
        thread_ts = event.get("thread_ts")
        # A reply in a nudge's thread, or a DM that is no command ("42, blocked on legal")
        # from someone with a review open: an answer to the review, handled by its module.
        answers_review = bot.on_thread_reply if thread_ts else (None if is_command(event.get("text", "")) else bot.on_plain_dm)
        if answers_review is not None:
            try:
                if answers_review(body, event):
                    return
            except OperationalError as error:
                bot.post_now(body.get("team_id") or event.get("team"), event["channel"], reply_for_error(error), thread_ts)
                return
        _answer_message(bot, body, event, thread_ts=thread_ts)

    @app.event("message")
    def on_other_message() -> None:
        """Channel messages are not for the bot; listening keeps bolt from warning."""

    @app.event("reaction_added")
    def on_reaction_added(body: dict, event: dict) -> None:
        _reaction(bot, body, event, status="done")

    @app.event("reaction_removed")
    def on_reaction_removed(body: dict, event: dict) -> None:
        _reaction(bot, body, event, status="todo")

    @app.event("app_home_opened")
    def on_home_opened(body: dict, event: dict, context: BoltContext) -> None:
        if event.get("tab", "home") != "home":
            return
        home_commands.publish_home(bot, context.team_id or body.get("team_id"), event["user"])


def _answer_message(bot: SlackBot, body: dict, event: dict, *, thread_ts: str | None) -> None:
    actor = bot.actor(body.get("team_id") or event.get("team"), event["user"], event["channel"])
    outcome = bot.runner.run_in_thread(
        message_text(event.get("text", "")), actor, channel=event["channel"], thread_ts=thread_ts, event_key=event_key(body)
    )
    if outcome.reply.error and not outcome.queued and not outcome.duplicate:
        # Not even the problem could be queued (the database is down): say it directly.
        bot.post_now(actor.team_id, event["channel"], outcome.reply, thread_ts)
    bot.deliver(outcome.queued)
    upload = outcome.reply.upload
    if upload is not None and not outcome.duplicate:  # a chart goes where the answer went
        bot.upload(actor, replace(upload, thread_ts=thread_ts if upload.channel == event["channel"] else None))


def _reaction(bot: SlackBot, body: dict, event: dict, *, status: str) -> None:
    item = event.get("item", {})
    if event.get("reaction") not in DONE_REACTIONS or item.get("type") != "message":
        return
    actor = bot.actor(body.get("team_id"), event["user"], item.get("channel"), source="reaction")

    def body_(ctx) -> Reply:
        return set_status_by_message(ctx, item["channel"], item["ts"], status) or Reply.say("")

    outcome = bot.runner.in_unit_of_work(actor, body_, event_key=event_key(body))
    if outcome.reply.error:
        # A refused ✅ (e.g. no permission) is told to the person, privately.
        bot.post_ephemeral(actor.team_id, item["channel"], event["user"], outcome.reply)
    bot.deliver(outcome.queued)
