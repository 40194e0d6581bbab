"""Grading in Slack: the grading DM's buttons (accept the suggestions, or open the grade
modal), the modal's submission, replies in the DM's thread, and noting where each
grading DM landed so those replies find it."""

from __future__ import annotations

from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlmodel import Session

from okrbot.domain.commands import Kind
from okrbot.services import grading, periods
from okrbot.services.carry import carry
from okrbot.services.errors import Invalid, NotFound
from okrbot.services.okrs import get_kr
from okrbot.adapters.slack.bot import SlackBot
from okrbot.services.unit_of_work import UnitOfWork
from okrbot.adapters.slack.delivery import Sent
from okrbot.adapters.slack.forms import Form
from okrbot.adapters.slack.ids import Action, Callback, Field
from okrbot.adapters.slack.listeners import actions
from okrbot.adapters.slack.listeners.dm_threads import dm_thread_of
from okrbot.adapters.slack.listeners.events import event_key
from okrbot.adapters.slack.listeners.surfaces import open_modal
from okrbot.adapters.slack.listeners.views import register_submit
from okrbot.adapters.slack.reply import Reply
from okrbot.adapters.slack.views import grading as views
from okrbot.adapters.slack.views.modals import ModalMeta
from okrbot.store.models import Objective


def register(app: App, bot: SlackBot) -> None:
    attach(bot)

    @app.action(Action.GRADE_ACCEPT.value)
    def on_accept(ack: Ack, body: dict, action: dict) -> None:
        ack()
        _in_dm_thread(bot, body, lambda ctx: _accept(ctx, action.get("value") or ""))

    @app.action(Action.GRADE_OPEN.value)
    def on_open(ack: Ack, body: dict, action: dict, client: WebClient) -> None:
        ack()
        actor = bot.actor(actions.team_of(body), body["user"]["id"], actions.channel_of(body), source="button")
        outcome = bot.runner.in_unit_of_work(actor, lambda ctx: _grade_form(ctx, actions.number_of(action, Kind.KR)))
        if outcome.reply.modal is None:
            bot.confirm(actor, outcome.reply)
            return
        open_modal(client, body.get("trigger_id"), outcome.reply, None)

    @app.action(Action.GRADE_CARRY.value)
    def on_carry(ack: Ack, body: dict, action: dict) -> None:
        ack()
        _in_dm_thread(bot, body, lambda ctx: _carry(ctx, action))

    register_submit(app, bot, Callback.GRADE_MODAL, submit_grade, Field.GRADE)


def attach(bot: SlackBot) -> None:
    """What a bot needs to run grading, also without the bolt app (the scheduler's tick)."""
    if _dm_sent not in bot.deliverer.on_sent:
        bot.deliverer.on_sent.append(_dm_sent)
    if on_thread_reply not in bot.thread_reply_handlers:
        bot.thread_reply_handlers.append(on_thread_reply)


def _dm_sent(session: Session, sent: Sent) -> None:
    if sent.kind == grading.GRADING_KIND:
        grading.dm_delivered(session, sent.dedupe_key, sent.channel, sent.ts)


def _policy(ctx: UnitOfWork) -> grading.GradingPolicy:
    return grading.GradingPolicy.from_settings(ctx.settings)


def _accept(ctx: UnitOfWork, value: str) -> Reply:
    if not value.isdigit():
        raise Invalid("This button is out of date.", hint="Grade with `/okr grade KR-n 0.7`.")
    return views.graded_reply(grading.accept_suggestions(ctx.session, ctx.actor, int(value), _policy(ctx)))


def _carry(ctx: UnitOfWork, action: dict) -> Reply:
    """"Carry O-n over": its unfinished KRs into the next period, as `/okr carry O-n` does."""
    return views.carried_reply(carry(ctx.session, ctx.actor, actions.number_of(action, Kind.OBJECTIVE)))


def _grade_form(ctx: UnitOfWork, number: int) -> Reply:
    kr = get_kr(ctx.session, ctx.actor, number)
    objective = ctx.session.get(Objective, kr.objective_id)
    period = periods.resolve(objective.period, ctx.actor)
    found = [item for item in grading.krs_to_grade(ctx.session, ctx.actor.team_id, period, ctx.actor.now, ctx.actor.tz, owner=kr.owner) if item.kr.number == number]
    if not found:
        raise NotFound(f"KR-{number} is no longer graded here.", hint="See it with `/okr status KR-n`.")
    return Reply(text=f"Grade KR-{number}", modal=views.grade_form(found[0], channel=ctx.actor.channel_id))


def submit_grade(ctx: UnitOfWork, form: Form, meta: ModalMeta) -> Reply:
    grade = form.number(Field.GRADE, required=True, label="A grade")
    if grade is not None and not 0.0 <= grade <= 1.0:
        form.fail(Field.GRADE, "A grade goes from 0.0 to 1.0, like 0.7.")
    form.raise_if_errors()
    graded = grading.grade_kr(ctx.session, ctx.actor, meta.number or 0, grade, form.text(Field.NOTE), _policy(ctx))
    return views.graded_reply([graded])


def _in_dm_thread(bot: SlackBot, body: dict, act) -> None:
    """A button in the grading DM: the answer goes in the DM's thread (privately if it failed)."""
    channel = actions.channel_of(body)
    message = body.get("message") or {}
    thread_ts = message.get("thread_ts") or message.get("ts") or (body.get("container") or {}).get("message_ts")
    actor = bot.actor(actions.team_of(body), body["user"]["id"], channel, source="button")

    def run(ctx: UnitOfWork) -> Reply:
        reply = act(ctx)
        if channel and thread_ts:
            ctx.post(channel, reply.blocks, reply.text, kind="reply", thread_ts=thread_ts)
        return reply

    outcome = bot.runner.in_unit_of_work(actor, run)
    if outcome.reply.error or not (channel and thread_ts):
        bot.confirm(actor, outcome.reply)
    bot.deliver(outcome.queued)


def on_thread_reply(bot: SlackBot, body: dict, event: dict) -> bool:
    """A reply in a DM thread: ours when the thread is a grading DM. Answered in the same thread."""
    thread = dm_thread_of(bot, body, event, grading.find_dm)
    if thread is None:
        return False
    if event.get("user") != thread.owner:
        return True  # someone else in the thread: not a grade
    channel, thread_ts, dm_id = thread.channel, thread.thread_ts, thread.row_id
    actor = bot.actor(thread.team_id, thread.owner, channel, source="nudge")
    text = event.get("text", "")

    def answer(ctx: UnitOfWork) -> Reply:
        return views.graded_reply(grading.answer_in_thread(ctx.session, ctx.actor, dm_id, text, _policy(ctx)))

    def post(ctx: UnitOfWork, reply: Reply) -> Reply:
        ctx.post(channel, reply.blocks, reply.text, kind="reply", thread_ts=thread_ts)
        return reply

    key = event_key(body)
    outcome = bot.runner.in_unit_of_work(actor, lambda ctx: post(ctx, answer(ctx)), event_key=key)
    if outcome.reply.error and not outcome.queued and not outcome.duplicate:
        failed = outcome.reply  # rolled back: say so once, in the thread
        outcome = bot.runner.in_unit_of_work(actor, lambda ctx: post(ctx, failed), event_key=key)
    bot.deliver(outcome.queued)
    return True
