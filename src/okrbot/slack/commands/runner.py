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
from okrbot.services import idempotency, periods
from okrbot.services.context import Actor
from okrbot.slack.commands import charts, checkin_fix, gaps, misc, okrs, review, serves, webhooks, work
from okrbot.slack.commands import periods as periods_commands
from okrbot.slack.commands.context import CommandContext, UserResolver, resolve_nothing
from okrbot.slack.errors import reply_for_error
from okrbot.slack.mrkdwn import escape
from okrbot.slack.reply import Reply, ReplyTo
from okrbot.store import outbox
from okrbot.store.db import Database
from okrbot.store.events import claim_event
from okrbot.store.workspaces import ensure_workspace

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
    cmd.CheckinFix: checkin_fix.fix,
    cmd.CheckinDelete: checkin_fix.delete,
    cmd.Chart: charts.chart,
    cmd.Help: misc.help_,
    cmd.Serves: serves.serves,
    cmd.Gaps: gaps.gaps,
    cmd.Review: review.review,
    cmd.ReviewCadence: review.cadence,
    cmd.ReviewPause: review.pause,
    cmd.ReviewResume: review.resume,
    cmd.ReviewHolidays: review.holidays,
    cmd.ReviewSkipDays: review.skip_days,
    cmd.FiscalYear: periods_commands.settings,
    cmd.Grade: periods_commands.grade,
    cmd.ClosePeriod: periods_commands.close,
    cmd.ReopenPeriod: periods_commands.reopen_period,
    cmd.Carry: periods_commands.carry,
    cmd.ReportChannel: periods_commands.report_channel,
    cmd.Report: periods_commands.report,
    cmd.Webhooks: webhooks.webhooks,
}


# Commands that only read: their unit of work takes no write lock (store/db.py).
READS = (cmd.Status, cmd.Help, cmd.Serves, cmd.Gaps, cmd.History, cmd.Chart)
READS += (cmd.Report,)


@dataclass
class Outcome:
    reply: Reply
    queued: list[int]  # outbox ids to deliver now that the change is committed
    duplicate: bool = False  # the event was applied before; nothing was done
    answered: bool = False  # the reply is queued in the outbox (with `reply_to`)


@dataclass
class CommandRunner:
    db: Database
    settings: Settings
    resolve_user: UserResolver = resolve_nothing
    offline: bool = False

    def run(self, text: str, actor: Actor, *, reply_to: ReplyTo | None = None) -> Outcome:
        try:
            command = parse(text)
        except CommandError as error:
            problem = Reply.problem(escape(str(error)))
            if reply_to is None:
                return Outcome(problem, [])
            return self.in_unit_of_work(actor, lambda _ctx: problem, reply_to=reply_to)
        return self.execute(command, actor, reply_to=reply_to)

    def execute(self, command: cmd.Command, actor: Actor, *, reply_to: ReplyTo | None = None) -> Outcome:
        read_only = isinstance(command, READS)
        return self.in_unit_of_work(actor, lambda ctx: HANDLERS[type(command)](ctx, command), read_only=read_only, reply_to=reply_to)

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
        self,
        actor: Actor,
        body: Callable[[CommandContext], Reply],
        *,
        event_key: str | None = None,
        read_only: bool = False,
        reply_to: ReplyTo | None = None,
        answer_problems: bool = True,
    ) -> Outcome:
        """Run `body` in one transaction; any error rolls everything back and becomes a reply.

        With `reply_to`, the reply is queued in the outbox in that transaction (and a
        problem in one of its own, with the same key, unless `answer_problems` is off:
        a form shows its problems itself), so it is sent once.

        With `event_key`, the event is claimed in the same transaction, so a
        retried or duplicated event does nothing the second time. Inside a request
        from the inbox the key is the request's own (services/idempotency.py), so a
        request run again after a crash does nothing the second time either.
        """
        if event_key is None:
            event_key = idempotency.next_unit_key()
        try:
            with self.db.session_scope(read_only=read_only and not event_key and reply_to is None) as session:
                if event_key and not claim_event(session, event_key, actor.team_id, actor.now):
                    return Outcome(Reply.say(""), [], duplicate=True)
                actor = periods.with_calendar(session, actor, self.settings.fiscal_start_month)
                ctx = CommandContext(session, actor, self.settings, self.resolve_user, self.offline)
                reply = body(ctx)
                answered = reply_to is not None and reply.modal is None and bool(reply.text)
                if answered:
                    _queue_reply(ctx, reply_to, reply)
            return Outcome(reply, ctx.queued, answered=answered)
        except Exception as error:  # noqa: BLE001 - one place turns every failure into a reply
            problem = reply_for_error(error)
        if reply_to is None or not answer_problems:
            return Outcome(problem, [])
        return self._answer_problem(actor, problem, event_key, reply_to)

    def _answer_problem(self, actor: Actor, problem: Reply, event_key: str | None, reply_to: ReplyTo) -> Outcome:
        """The change rolled back; queue the problem under the same key, so a request run
        again says it once. If not even that can be written, the caller says it directly."""
        try:
            with self.db.session_scope() as session:
                if event_key and not claim_event(session, event_key, actor.team_id, actor.now):
                    return Outcome(Reply.say(""), [], duplicate=True)
                ctx = CommandContext(session, actor, self.settings, self.resolve_user, self.offline)
                _queue_reply(ctx, reply_to, problem)
            return Outcome(problem, ctx.queued, answered=True)
        except Exception:  # noqa: BLE001 - the database is away: not answered here
            return Outcome(problem, [])


def _queue_reply(ctx: CommandContext, reply_to: ReplyTo, reply: Reply) -> None:
    method, channel, payload = reply_to.message(reply)
    ensure_workspace(ctx.session, ctx.actor.team_id)  # a first request may only read, and the row needs its workspace
    message = outbox.enqueue(ctx.session, team_id=ctx.actor.team_id, kind="answer", channel=channel, payload=payload, now=ctx.actor.now, method=method)
    ctx.queued.append(message.id)


def _post_problem(ctx: CommandContext, reply: Reply, channel: str, thread_ts: str | None) -> Reply:
    ctx.post(channel, reply.blocks, reply.text, kind="reply", thread_ts=thread_ts)
    return reply
