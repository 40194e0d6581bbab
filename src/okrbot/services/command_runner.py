"""Run one line of the /okr language: parse, one unit of work, an answer.

Slack listeners, mentions, DMs and `okrbot shell` all come through here, so every
surface understands the same words and fails the same way. What an answer looks like
is the presenter's business (services/notifier.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from okrbot.config import Settings
from okrbot.domain import commands as cmd
from okrbot.domain.grammar import CommandError, parse
from okrbot.services import idempotency, periods
from okrbot.services.context import Actor
from okrbot.services.notifier import Answer, Presenter
from okrbot.services.people import NoDirectory, PeopleDirectory
from okrbot.services.unit_of_work import Outcome, UnitOfWork
from okrbot.store.db import Database
from okrbot.store.events import claim_event
from okrbot.store.workspaces import ensure_workspace


@dataclass
class CommandRunner:
    db: Database
    settings: Settings
    presenter: Presenter
    people: PeopleDirectory = field(default_factory=NoDirectory)  # who a typed @name means
    offline: bool = False

    def run(self, text: str, actor: Actor, *, reply_to: Any = None) -> Outcome:
        try:
            command = parse(text)
        except CommandError as error:
            problem = self.presenter.misunderstood(error)
            if reply_to is None:
                return Outcome(problem, [])
            return self.in_unit_of_work(actor, lambda _uow: problem, reply_to=reply_to)
        return self.execute(command, actor, reply_to=reply_to)

    def execute(self, command: cmd.Command, actor: Actor, *, reply_to: Any = None) -> Outcome:
        read_only = isinstance(command, self.presenter.reads)
        handler = self.presenter.handlers[type(command)]
        return self.in_unit_of_work(actor, lambda uow: handler(uow, command), read_only=read_only, reply_to=reply_to)

    def run_in_thread(self, text: str, actor: Actor, *, channel: str, thread_ts: str | None, event_key: str) -> Outcome:
        """A mention or DM: the answer is posted in the conversation, once per event.

        In a channel everyone there reads the answer, so it shows what they may see."""
        if not channel.startswith("D"):
            actor = replace(actor, audience=channel)
        presenter = self.presenter
        try:
            command: cmd.Command | None = parse(text)
            problem = None
        except CommandError as error:
            command, problem = None, presenter.misunderstood(error)

        def body(uow: UnitOfWork) -> Answer:
            reply = problem or presenter.handlers[type(command)](uow, command)
            if reply.modal is not None:
                reply = presenter.only_by_command(text)
            presenter.post_answer(uow, channel, reply, thread_ts)
            return reply

        outcome = self.in_unit_of_work(actor, body, event_key=event_key)
        if outcome.reply.error and not outcome.queued and not outcome.duplicate:
            # The change failed and rolled back; tell the person once, in the same place.
            failed = outcome.reply
            outcome = self.in_unit_of_work(actor, lambda uow: _posted(presenter, uow, failed, channel, thread_ts), event_key=event_key)
        return outcome

    def in_unit_of_work(
        self,
        actor: Actor,
        body: Callable[[UnitOfWork], Any],
        *,
        event_key: str | None = None,
        read_only: bool = False,
        reply_to: Any = None,
        answer_problems: bool = True,
    ) -> Outcome:
        """Run `body` in one transaction; any error rolls everything back and becomes an answer.

        With `reply_to`, the answer is queued in the outbox in that transaction (and a
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
                    return Outcome(self.presenter.nothing(), [], duplicate=True)
                actor = periods.with_calendar(session, actor, self.settings.fiscal_start_month, self.settings.planning_lead_days)
                uow = self._unit(session, actor)
                reply = body(uow)
                answered = reply_to is not None and reply.modal is None and bool(reply.text)
                if answered:
                    self._queue_answer(uow, reply_to, reply)
            return Outcome(reply, uow.queued, answered=answered, claimed=uow.claimed)
        except Exception as error:  # noqa: BLE001 - one place turns every failure into an answer
            problem = self.presenter.problem(error)
        if reply_to is None or not answer_problems:
            return Outcome(problem, [])
        return self._answer_problem(actor, problem, event_key, reply_to)

    def _answer_problem(self, actor: Actor, problem: Answer, event_key: str | None, reply_to: Any) -> Outcome:
        """The change rolled back; queue the problem under the same key, so a request run
        again says it once. If not even that can be written, the caller says it directly."""
        try:
            with self.db.session_scope() as session:
                if event_key and not claim_event(session, event_key, actor.team_id, actor.now):
                    return Outcome(self.presenter.nothing(), [], duplicate=True)
                uow = self._unit(session, actor)
                self._queue_answer(uow, reply_to, problem)
            return Outcome(problem, uow.queued, answered=True, claimed=uow.claimed)
        except Exception:  # noqa: BLE001 - the database is away: not answered here
            return Outcome(problem, [])

    def _unit(self, session, actor: Actor) -> UnitOfWork:
        return UnitOfWork(session, actor, self.settings, self.people, self.offline)

    def _queue_answer(self, uow: UnitOfWork, reply_to: Any, reply: Answer) -> None:
        ensure_workspace(uow.session, uow.actor.team_id)  # a first request may only read, and the row needs its workspace
        self.presenter.queue_answer(uow, reply_to, reply)


def _posted(presenter: Presenter, uow: UnitOfWork, reply: Answer, channel: str, thread_ts: str | None) -> Answer:
    presenter.post_answer(uow, channel, reply, thread_ts)
    return reply
