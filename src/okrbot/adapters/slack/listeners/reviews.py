"""Review nudges in Slack: the No change button, replies in a nudge's DM thread,
and noting where each nudge DM landed so those replies find their nudge.

(The Update button is the Check in button, `Action.CHECKIN_OPEN`, handled in
actions.py: it opens the check-in modal. A check-in made there, or with
`/okr checkin`, counts as an answer to the review; see reviews.follow_up.)
"""

from __future__ import annotations

from slack_bolt import Ack, App
from sqlmodel import Session

from okrbot.services import reviews
from okrbot.services.errors import Invalid
from okrbot.adapters.slack.bot import SlackBot
from okrbot.services.unit_of_work import UnitOfWork
from okrbot.adapters.slack.delivery import Sent
from okrbot.adapters.slack.ids import Action
from okrbot.adapters.slack.listeners.dm_threads import dm_thread_of
from okrbot.adapters.slack.listeners.events import event_key
from okrbot.adapters.slack.reply import Reply
from okrbot.adapters.slack.views import reviews as views
from okrbot.store.types import utcnow


def register(app: App, bot: SlackBot) -> None:
    attach(bot)

    @app.action(Action.NO_CHANGE.value)
    def on_no_change(ack: Ack, body: dict, action: dict) -> None:
        ack()
        _no_change(bot, body, action)


def attach(bot: SlackBot) -> None:
    """What a bot needs to run reviews, also without the bolt app (`okrbot review run`)."""
    if _nudge_sent not in bot.deliverer.on_sent:
        bot.deliverer.on_sent.append(_nudge_sent)
    if on_thread_reply not in bot.thread_reply_handlers:
        bot.thread_reply_handlers.append(on_thread_reply)
    if on_plain_dm not in bot.plain_dm_handlers:
        bot.plain_dm_handlers.append(on_plain_dm)


def _nudge_sent(session: Session, sent: Sent) -> None:
    if sent.kind == reviews.NUDGE_KIND:
        reviews.nudge_delivered(session, sent.team_id, sent.dedupe_key, sent.channel, sent.ts, utcnow())


def on_thread_reply(bot: SlackBot, body: dict, event: dict) -> bool:
    """A reply in a DM thread: ours when the thread is a nudge's DM. Answers go in the same thread."""
    thread = dm_thread_of(bot, body, event, reviews.find_nudge)
    if thread is None:
        return False
    if event.get("user") != thread.owner:
        return True  # someone else in the thread: not an answer to this review
    _answer_nudge(bot, body, event, thread.team_id, thread.row_id, thread.thread_ts)
    return True


def on_plain_dm(bot: SlackBot, body: dict, event: dict) -> bool:
    """A message in the DM itself, not a thread, that is no command: the answer to the
    owner's open review there, if there is one. Answered in the DM."""
    team_id, channel, owner = body.get("team_id") or event.get("team"), event.get("channel"), event.get("user")
    if not (team_id and channel and owner):
        return False
    with bot.db.session_scope(read_only=True) as session:
        nudge = reviews.open_nudge_in_dm(session, team_id, channel, owner, utcnow())
        nudge_id = nudge.id if nudge is not None else None
    if nudge_id is None:
        return False
    _answer_nudge(bot, body, event, team_id, nudge_id, None)
    return True


def _answer_nudge(bot: SlackBot, body: dict, event: dict, team_id: str, nudge_id: int, thread_ts: str | None) -> None:
    channel, owner = event["channel"], event["user"]
    actor = bot.actor(team_id, owner, channel, source="nudge")

    def answer(ctx: UnitOfWork) -> Reply:
        reply = views.answer_reply(reviews.answer_in_thread(ctx.session, ctx.actor, nudge_id, event.get("text", "")))
        ctx.post(channel, reply.blocks, reply.text, kind="reply", thread_ts=thread_ts)
        return reply

    key = event_key(body)
    outcome = bot.runner.in_unit_of_work(actor, answer, event_key=key)
    if outcome.reply.error and not outcome.queued and not outcome.duplicate:
        # It failed and rolled back: say so once, where the answer would have gone.
        failed = outcome.reply

        def tell(ctx: UnitOfWork) -> Reply:
            ctx.post(channel, failed.blocks, failed.text, kind="reply", thread_ts=thread_ts)
            return failed

        outcome = bot.runner.in_unit_of_work(actor, tell, event_key=key)
    bot.deliver(outcome.queued)


def _no_change(bot: SlackBot, body: dict, action: dict) -> None:
    team_id = (body.get("team") or {}).get("id") or body.get("user", {}).get("team_id")
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
    message_ts = (body.get("message") or {}).get("ts") or (body.get("container") or {}).get("message_ts")
    thread_ts = (body.get("message") or {}).get("thread_ts") or message_ts
    actor = bot.actor(team_id, body["user"]["id"], channel, source="button")
    value = action.get("value") or ""

    def record(ctx: UnitOfWork) -> Reply:
        if not value.isdigit():
            raise Invalid("This button is out of date.", hint="Use `/okr status me` to see your KRs.")
        reply = views.no_change_reply(reviews.no_change(ctx.session, ctx.actor, int(value)))
        if channel and thread_ts:
            ctx.post(channel, reply.blocks, reply.text, kind="reply", thread_ts=thread_ts)
        return reply

    outcome = bot.runner.in_unit_of_work(actor, record)
    if outcome.duplicate:
        return
    if outcome.reply.error or not (channel and thread_ts):
        bot.confirm(actor, outcome.reply)
    bot.deliver(outcome.queued)
