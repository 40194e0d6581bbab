"""The buttons on a "does this serve a KR?" answer. Link: the request becomes an
initiative linked to the chosen KR, announced like any new work (and a precedent the
matcher learns from). Not this one: recorded as negative evidence, so that KR is not
suggested for these words again."""

from __future__ import annotations

from slack_bolt import Ack, App

from okrbot.domain.ids import initiative_id, kr_id
from okrbot.services import serves
from okrbot.adapters.slack.bot import SlackBot
from okrbot.services.unit_of_work import UnitOfWork
from okrbot.adapters.slack.commands.work import linked_reply
from okrbot.adapters.slack.ids import Action
from okrbot.adapters.slack.listeners.actions import _run as run_button
from okrbot.adapters.slack.mrkdwn import escape
from okrbot.adapters.slack.reply import Reply
from okrbot.adapters.slack.views.serves import read_link_value


def register(app: App, bot: SlackBot) -> None:
    @app.action(Action.SERVES_LINK.value)
    def on_serves_link(ack: Ack, body: dict, action: dict) -> None:
        ack()
        # One unit of work, then a private confirmation, like every other button.
        run_button(bot, body, lambda ctx: link_request(ctx, action.get("value")))

    @app.action(Action.SERVES_REJECT.value)
    def on_serves_reject(ack: Ack, body: dict, action: dict) -> None:
        ack()
        run_button(bot, body, lambda ctx: reject_suggestion(ctx, action.get("value")))


def link_request(ctx: UnitOfWork, value: str | None) -> Reply:
    request = read_link_value(value)
    outcome = serves.link_request(ctx.session, ctx.actor, request.kr, request.text)
    if not outcome.changed:
        ident = initiative_id(outcome.initiative.number)
        return Reply.say(f"*{ident}* {escape(outcome.initiative.title)} is already linked to *{kr_id(request.kr)}*; nothing changed.")
    return linked_reply(ctx, outcome)


def reject_suggestion(ctx: UnitOfWork, value: str | None) -> Reply:
    request = read_link_value(value)
    ident = kr_id(request.kr)
    if not serves.reject(ctx.session, ctx.actor, request.kr, request.text):
        return Reply.say(f"You already said this does not serve *{ident}*; nothing changed.")
    return Reply.say(f"Noted: *{ident}* will not be suggested for this request again. Thanks — answers learn from this.")
