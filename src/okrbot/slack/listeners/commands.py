"""The /okr slash command: ack at once, then run the command and answer."""

from __future__ import annotations

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from okrbot.slack.bot import SlackBot
from okrbot.slack.listeners.surfaces import show

COMMAND = "/okr"


def register(app: App, bot: SlackBot) -> None:
    @app.command(COMMAND)
    def okr_command(ack: Ack, body: dict, respond: Respond, client: WebClient) -> None:
        ack()  # within Slack's 3 seconds; the work below may take longer
        actor = bot.actor(body["team_id"], body["user_id"], body.get("channel_id"))
        outcome = bot.runner.run(body.get("text", ""), actor)
        try:
            if not show(outcome.reply, client=client, respond=respond, trigger_id=body.get("trigger_id")):
                # The response_url failed; the change (if any) is saved: say so another way.
                bot.confirm(actor, outcome.reply)
        finally:
            bot.deliver(outcome.queued)  # what the change queued goes out whatever happened to the answer
        if outcome.reply.upload is not None:
            bot.upload(actor, outcome.reply.upload)
