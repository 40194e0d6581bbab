"""Buttons: Mark done, Reopen, Undo, Check in, Link, Edit, and the App Home buttons."""

from __future__ import annotations

import re

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject

from okrbot.domain import commands as cmd
from okrbot.domain.commands import Kind, Metric
from okrbot.domain.ids import parse_ref
from okrbot.services import checkin_fix, okrs, work
from okrbot.services.errors import Invalid
from okrbot.services.undo import undo
from okrbot.adapters.slack.bot import SlackBot
from okrbot.adapters.slack.commands import checkin_fix as checkin_fix_commands
from okrbot.adapters.slack.commands.charts import chart_reply
from okrbot.adapters.slack.commands import home as home_commands
from okrbot.services.unit_of_work import UnitOfWork
from okrbot.adapters.slack.commands.okrs import edit
from okrbot.adapters.slack.commands.work import announce_moves, refresh_cards, set_work_status
from okrbot.adapters.slack.ids import Action
from okrbot.adapters.slack.listeners.surfaces import open_modal
from okrbot.adapters.slack.mrkdwn import escape
from okrbot.adapters.slack.reply import Reply, ReplyTo
from okrbot.adapters.slack.views import modals
from okrbot.adapters.slack.views.messages import RawBlock, undo_block_id
from okrbot.store.models import Initiative

_CHANGE_ID = re.compile(r"^\d{1,18}$")


def register(app: App, bot: SlackBot) -> None:
    @app.action(Action.MARK_DONE.value)
    def on_mark_done(ack: Ack, body: dict, action: dict) -> None:
        ack()
        _run(bot, body, lambda ctx: set_work_status(ctx, _number(action, Kind.INITIATIVE), work.DONE))

    @app.action(Action.REOPEN.value)
    def on_reopen(ack: Ack, body: dict, action: dict) -> None:
        ack()
        _run(bot, body, lambda ctx: set_work_status(ctx, _number(action, Kind.INITIATIVE), work.NOT_STARTED))

    @app.action(Action.UNDO.value)
    def on_undo(ack: Ack, body: dict, action: dict) -> None:
        ack()
        _run(bot, body, lambda ctx: _undo(ctx, body, action))

    @app.action(Action.CHECKIN_OPEN.value)
    def on_checkin_open(ack: Ack, body: dict, action: dict, client: WebClient) -> None:
        ack()
        _open(bot, body, client, lambda ctx: _checkin_form(ctx, _number(action, Kind.KR)))

    @app.action(Action.LINK_OPEN.value)
    def on_link_open(ack: Ack, body: dict, action: dict, client: WebClient) -> None:
        ack()
        _open(bot, body, client, lambda ctx: _link_form(ctx, _number(action, Kind.KR)))

    @app.action(Action.EDIT_OPEN.value)
    def on_edit_open(ack: Ack, body: dict, action: dict, client: WebClient) -> None:
        ack()
        _open(bot, body, client, lambda ctx: edit(ctx, cmd.Edit(_ref(action))))

    @app.action(Action.KR_NEW_OPEN.value)
    def on_kr_new_open(ack: Ack, body: dict, action: dict, client: WebClient) -> None:
        ack()
        _open(bot, body, client, lambda ctx: _new_kr_form(ctx, _number(action, Kind.OBJECTIVE)))

    @app.action(Action.INITIATIVE_NEW_OPEN.value)
    def on_initiative_new_open(ack: Ack, body: dict, action: dict, client: WebClient) -> None:
        ack()
        _open(bot, body, client, lambda ctx: _new_initiative_form(ctx, _number(action, Kind.KR)))

    @app.action(Action.HOME_NEW_OBJECTIVE.value)
    def on_new_objective(ack: Ack, body: dict, client: WebClient) -> None:
        ack()
        _open(bot, body, client, lambda ctx: _new_objective_form(ctx))

    @app.action(Action.CHECKIN_EDIT_OPEN.value)
    def on_checkin_edit_open(ack: Ack, body: dict, action: dict, client: WebClient) -> None:
        ack()
        _open(bot, body, client, lambda ctx: _checkin_fix_form(ctx, _checkin_pk(action)))

    @app.action(Action.CHECKIN_DELETE.value)
    def on_checkin_delete(ack: Ack, body: dict, action: dict) -> None:
        ack()
        _run(bot, body, lambda ctx: _delete_checkin(ctx, _checkin_pk(action)))

    @app.action(Action.CHART.value)
    def on_chart(ack: Ack, body: dict, action: dict) -> None:
        ack()
        _run(bot, body, lambda ctx: chart_reply(ctx, _ref(action)))

    @app.action(Action.HOME_REFRESH.value)
    def on_home_refresh(ack: Ack, body: dict) -> None:
        ack()
        home_commands.publish_home(bot, _team(body), body["user"]["id"])


def _team(body: dict) -> str:
    return (body.get("team") or {}).get("id") or body.get("user", {}).get("team_id")


def _channel(body: dict) -> str | None:
    return (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")


def _ref(action: dict) -> cmd.Ref:
    ref = parse_ref(action.get("value") or "")
    if ref is None:
        raise Invalid("This button is out of date.", hint="Use `/okr status` to see the current state.")
    return ref


def _number(action: dict, kind: Kind) -> int:
    ref = _ref(action)
    if ref.kind is not kind:
        raise Invalid("This button is out of date.", hint="Use `/okr status` to see the current state.")
    return ref.number


def _run(bot: SlackBot, body: dict, act) -> None:
    """Run a button's effect in one unit of work; tell the person privately what happened."""
    actor = bot.actor(_team(body), body["user"]["id"], _channel(body), source="button")
    outcome = bot.runner.in_unit_of_work(actor, act, reply_to=ReplyTo(actor.user_id, actor.channel_id))
    if outcome.duplicate:
        return  # this click ran before a crash, and its answer was queued then
    if not outcome.answered:
        bot.confirm(actor, outcome.reply)
    bot.deliver(outcome.queued)
    if outcome.reply.upload is not None:
        bot.upload(actor, outcome.reply.upload)
    if (body.get("view") or {}).get("type") == "home":
        home_commands.publish_home(bot, actor.team_id, actor.user_id)


def _open(bot: SlackBot, body: dict, client: WebClient, build) -> None:
    actor = bot.actor(_team(body), body["user"]["id"], _channel(body), source="button")
    outcome = bot.runner.in_unit_of_work(actor, build)
    if outcome.duplicate:
        return
    if outcome.reply.modal is None:
        bot.confirm(actor, outcome.reply)
        return
    open_modal(client, body.get("trigger_id"), outcome.reply, None)


def _checkin_form(ctx: UnitOfWork, number: int) -> Reply:
    kr = okrs.get_kr(ctx.session, ctx.actor, number)
    if kr.metric == Metric.MILESTONE:
        return _link_form(ctx, number)
    return Reply(text=f"Check in KR-{number}", modal=modals.checkin_modal(kr, channel=ctx.actor.channel_id))


def _link_form(ctx: UnitOfWork, number: int) -> Reply:
    kr = okrs.get_kr(ctx.session, ctx.actor, number)
    return Reply(text=f"Link work to KR-{number}", modal=modals.link_modal(kr, channel=ctx.actor.channel_id))


def _new_kr_form(ctx: UnitOfWork, number: int) -> Reply:
    objective = okrs.get_objective(ctx.session, ctx.actor, number)
    okrs.require_can_edit(ctx.actor, objective)
    okrs.require_active(objective)
    return Reply(text=f"New KR on O-{number}", modal=modals.kr_modal(objective=number, owner=ctx.actor.user_id, channel=ctx.actor.channel_id))


def _new_initiative_form(ctx: UnitOfWork, number: int) -> Reply:
    okrs.get_kr(ctx.session, ctx.actor, number)  # it exists and this person may see it
    return Reply(text=f"New initiative on KR-{number}", modal=modals.initiative_modal(kr=number, owner=ctx.actor.user_id, channel=ctx.actor.channel_id))


def _new_objective_form(ctx: UnitOfWork) -> Reply:
    period = okrs.period_or_current(None, ctx.actor)
    return Reply(text="New objective", modal=modals.objective_modal(owner=ctx.actor.user_id, period=period, channel=None))


def _undo(ctx: UnitOfWork, body: dict, action: dict) -> Reply:
    value = action.get("value") or ""
    if not _CHANGE_ID.match(value):
        raise Invalid("This Undo button is out of date.")
    change, moves = undo(ctx.session, ctx.actor, int(value))
    if change.initiative_id:
        refresh_cards(ctx, ctx.session.get(Initiative, change.initiative_id))
    _mark_announcement_undone(ctx, body, int(value))
    # Summaries quote people's titles: escaped so they can't mention @channel or fake a link.
    summary = escape(change.summary.removeprefix("Undid: "))
    announce_moves(ctx, moves, f"Undone: {summary}", None)
    return Reply.say(f"Undone. {summary} is reverted.")


def _mark_announcement_undone(ctx: UnitOfWork, body: dict, change_id: int) -> None:
    """Replace the change's Undo button on the message it was clicked in with who undid it
    (a digest keeps the buttons of its other changes)."""
    message = body.get("message") or {}
    channel, ts = _channel(body), message.get("ts") or (body.get("container") or {}).get("message_ts")
    if not channel or not ts:
        return
    note = ContextBlock(elements=[MarkdownTextObject(text=f":rewind: Undone by <@{ctx.actor.user_id}>")])
    blocks: list = []
    replaced = False
    for block in message.get("blocks", []):
        if block.get("type") == "actions" and block.get("block_id") in (undo_block_id(change_id), None, ""):
            blocks.append(note)
            replaced = True
        elif block.get("type") != "actions" or (block.get("block_id") or "").startswith(undo_block_id("")):
            blocks.append(RawBlock(block))
    if not replaced:
        blocks.append(note)
    ctx.post(channel, blocks, message.get("text") or "Undone", kind="undo_update", update_ts=ts)


def _checkin_pk(action: dict) -> int:
    value = action.get("value") or ""
    if not _CHANGE_ID.match(value):
        raise Invalid("This button is out of date.", hint="Open the history again with `/okr history KR-n`.")
    return int(value)


def _checkin_fix_form(ctx: UnitOfWork, checkin_pk: int) -> Reply:
    checkin = checkin_fix.get_checkin(ctx.session, ctx.actor, checkin_pk)
    kr = checkin_fix.require_fixable(ctx.session, ctx.actor, checkin, "fix")
    return Reply(text=f"Fix a check-in on KR-{kr.number}", modal=modals.checkin_modal(kr, channel=ctx.actor.channel_id, fixing=checkin))


def _delete_checkin(ctx: UnitOfWork, checkin_pk: int) -> Reply:
    checkin = checkin_fix.get_checkin(ctx.session, ctx.actor, checkin_pk)
    return checkin_fix_commands.delete_reply(ctx, checkin_fix.delete_checkin(ctx.session, ctx.actor, checkin))


# Read the same way by the grading DM's buttons (listeners/grading.py).
team_of, channel_of, number_of = _team, _channel, _number
