"""Run one line of the /okr language: parse, one unit of work, a reply.

Slack listeners, mentions, DMs and `okrbot shell` all come through here, so
every surface understands the same words and fails the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from okrbot.config import Settings
from okrbot.domain import commands as cmd
from okrbot.domain.grammar import CommandError, parse
from okrbot.services.context import Actor
from okrbot.slack.commands import misc, okrs, work
from okrbot.slack.commands.context import CommandContext, UserResolver, resolve_nothing
from okrbot.slack.errors import reply_for_error
from okrbot.slack.reply import Reply
from okrbot.store.db import Database

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
    cmd.Serves: misc.serves,
    cmd.Gaps: misc.gaps,
    cmd.Review: misc.review,
}


@dataclass
class Outcome:
    reply: Reply
    queued: list[int]  # outbox ids to deliver now that the change is committed


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
            return Outcome(Reply.problem(str(error)), [])
        return self.execute(command, actor)

    def execute(self, command: cmd.Command, actor: Actor) -> Outcome:
        return self.in_unit_of_work(actor, lambda ctx: HANDLERS[type(command)](ctx, command))

    def in_unit_of_work(self, actor: Actor, body: Callable[[CommandContext], Reply]) -> Outcome:
        """Run `body` in one transaction; any error rolls everything back and becomes a reply."""
        try:
            with self.db.session_scope() as session:
                ctx = CommandContext(session, actor, self.settings, self.resolve_user, self.offline)
                reply = body(ctx)
            return Outcome(reply, ctx.queued)
        except Exception as error:  # noqa: BLE001 - one place turns every failure into a reply
            return Outcome(reply_for_error(error), [])
