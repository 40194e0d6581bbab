"""The /okr slash command: ack at once, then run the command and answer."""

from __future__ import annotations

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from okrbot.adapters.slack.bot import SlackBot
from okrbot.adapters.slack.listeners.surfaces import show
from okrbot.adapters.slack.reply import ReplyTo

COMMAND = "/okr"


def register(app: App, bot: SlackBot) -> None:
    @app.command(COMMAND)
    def okr_command(ack: Ack, body: dict, respond: Respond, client: WebClient) -> None:
        ack()  # within Slack's 3 seconds; the work below may take longer
        actor = bot.actor(body["team_id"], body["user_id"], body.get("channel_id"))
        reply_to = ReplyTo(actor.user_id, actor.channel_id, body.get("response_url"))
        outcome = bot.runner.run(body.get("text", ""), actor, reply_to=reply_to)
        if outcome.duplicate:
            return  # this request ran before a crash, and its answer was queued then
        try:
            if not outcome.answered and not show(outcome.reply, client=client, respond=respond, trigger_id=body.get("trigger_id")):
                # Not even the answer could be queued, and the response_url failed: say so another way.
                bot.confirm(actor, outcome.reply)
        finally:
            bot.deliver(outcome.queued, claimed=outcome.claimed)  # the answer and what the change queued, whatever happened above
        if outcome.reply.upload is not None:
            bot.upload(actor, outcome.reply.upload)
