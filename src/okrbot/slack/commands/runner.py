"""Run one line of the /okr language: parse, one unit of work, a reply.

Slack listeners, mentions, DMs and `okrbot shell` all come through here, so
every surface understands the same words and fails the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from okrbot.config import Settings
from okrbot.domain import commands as cmd
from okrbot.domain.grammar import CommandError, parse
from okrbot.services.context import Actor
from okrbot.slack.commands import gaps, misc, okrs, review, serves, webhooks, work
from okrbot.slack.commands.context import CommandContext, UserResolver, resolve_nothing
from okrbot.slack.errors import reply_for_error
from okrbot.slack.mrkdwn import escape
from okrbot.slack.reply import Reply
from okrbot.store.db import Database
from okrbot.store.events import claim_event

Handler = Callable[[CommandContext, object], Reply]

HANDLERS: dict[type, Handler] = {
    cmd.Status: okrs.status,
    cmd.ObjectiveAdd: okrs.objective_add,
    cmd.KrAdd: okrs.kr_add,
    cmd.Archive: okrs.archive,
    cmd.Edit: okrs.edit,
    cmd.History: okrs.history,
    cmd.InitiativeAdd: work.initiative_add,
    cmd.Link: work.link,
    cmd.Unlink: work.unlink,
    cmd.Done: work.done,
    cmd.Reopen: work.reopen,
    cmd.Checkin: work.checkin,
    cmd.Help: misc.help_,
    cmd.Serves: serves.serves,
    cmd.Gaps: gaps.gaps,
    cmd.Review: review.review,
    cmd.Webhooks: webhooks.webhooks,
}


# Commands that only read: their unit of work takes no write lock (store/db.py).
READS = (cmd.Status, cmd.Help, cmd.Serves, cmd.Gaps, cmd.History)


@dataclass
class Outcome:
    reply: Reply
    queued: list[int]  # outbox ids to deliver now that the change is committed
    duplicate: bool = False  # the event was applied before; nothing was done


@dataclass
class CommandRunner:
    db: Database
    settings: Settings
    resolve_user: UserResolver = resolve_nothing
    offline: bool = False

    def run(self, text: str, actor: Actor) -> Outcome:
        try:
            command = parse(text)
        except CommandError as error:
            return Outcome(Reply.problem(escape(str(error))), [])
        return self.execute(command, actor)

    def execute(self, command: cmd.Command, actor: Actor) -> Outcome:
        read_only = isinstance(command, READS)
        return self.in_unit_of_work(actor, lambda ctx: HANDLERS[type(command)](ctx, command), read_only=read_only)

    def run_in_thread(self, text: str, actor: Actor, *, channel: str, thread_ts: str | None, event_key: str) -> Outcome:
        """A mention or DM: the answer is posted in the conversation, once per event.

        In a channel everyone there reads the answer, so it shows what they may see."""
        if not channel.startswith("D"):
            actor = replace(actor, audience=channel)
        try:
            command: cmd.Command | None = parse(text)
            problem = None
        except CommandError as error:
            command, problem = None, Reply.problem(escape(str(error)))

        def body(ctx: CommandContext) -> Reply:
            reply = problem or HANDLERS[type(command)](ctx, command)
            if reply.modal is not None:
                reply = Reply.say("That opens a form, which needs the slash command: type `/okr " + text + "`.")
            ctx.post(channel, reply.blocks, reply.text, kind="reply", thread_ts=thread_ts)
            return reply

        outcome = self.in_unit_of_work(actor, body, event_key=event_key)
        if outcome.reply.error and not outcome.queued and not outcome.duplicate:
            # The change failed and rolled back; tell the person once, in the same place.
            failed = outcome.reply
            outcome = self.in_unit_of_work(
                actor, lambda ctx: _post_problem(ctx, failed, channel, thread_ts), event_key=event_key
            )
        return outcome

    def in_unit_of_work(
        self, actor: Actor, body: Callable[[CommandContext], Reply], *, event_key: str | None = None, read_only: bool = False
    ) -> Outcome:
        """Run `body` in one transaction; any error rolls everything back and becomes a reply.

        With `event_key`, the event is claimed in the same transaction, so a
        retried or duplicated event does nothing the second time.
        """
        try:
            with self.db.session_scope(read_only=read_only and not event_key) as session:
                if event_key and not claim_event(session, event_key, actor.team_id, actor.now):
                    return Outcome(Reply.say(""), [], duplicate=True)
                ctx = CommandContext(session, actor, self.settings, self.resolve_user, self.offline)
                reply = body(ctx)
            return Outcome(reply, ctx.queued)
        except Exception as error:  # noqa: BLE001 - one place turns every failure into a reply
            return Outcome(reply_for_error(error), [])


def _post_problem(ctx: CommandContext, reply: Reply, channel: str, thread_ts: str | None) -> Reply:
    ctx.post(channel, reply.blocks, reply.text, kind="reply", thread_ts=thread_ts)
    return reply
