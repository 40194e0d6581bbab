"""How the workflows tell people things, without knowing where people are.

Services decide what changed and who should hear of it; a notifier turns that into
messages. The Slack adapter's notifier renders Block Kit and queues it in the outbox
(adapters/slack/bot.py); the shell's prints text. Webhooks, scheduled jobs and the shell reach
Slack only through this interface."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Callable, Protocol

from okrbot.config import Settings
from okrbot.services.context import Actor
from okrbot.store.db import Database

if TYPE_CHECKING:
    from datetime import datetime

    from sqlmodel import Session

    from okrbot.services.announce import Digest
    from okrbot.services.checkins import CheckinOutcome
    from okrbot.services.grading import GradingMessages
    from okrbot.services.reviews import Messages as ReviewMessages
    from okrbot.services.scorecard import ScorecardMessages
    from okrbot.services.unit_of_work import Outcome, UnitOfWork
    from okrbot.services.work import WorkOutcome


class Answer(Protocol):
    """A reply to one person, in whatever form the surface shows it."""

    text: str
    error: bool
    modal: Any


class Presenter(Protocol):
    """Turns commands and failures into answers, and queues answers where they go."""

    handlers: Mapping[type, Callable[[UnitOfWork, Any], Answer]]
    reads: tuple[type, ...]  # commands that only read: their unit of work takes no write lock

    def nothing(self) -> Answer: ...

    def problem(self, error: Exception) -> Answer: ...

    def misunderstood(self, error: Exception) -> Answer: ...

    def only_by_command(self, text: str) -> Answer: ...

    def queue_answer(self, uow: UnitOfWork, reply_to: Any, answer: Answer) -> None: ...

    def post_answer(self, uow: UnitOfWork, channel: str, answer: Answer, thread_ts: str | None) -> None: ...


class UnitRunner(Protocol):
    """Runs a change as one unit of work (services/command_runner.py)."""

    def in_unit_of_work(self, actor: Actor, body: Callable[[UnitOfWork], Any], *, event_key: str | None = None) -> Outcome: ...


class Notifier(Protocol):
    """What webhooks and scheduled jobs are given: the database, the settings, a way to run
    changes, and the messages that tell people about them."""

    db: Database
    settings: Settings
    runner: UnitRunner
    review_messages: ReviewMessages
    grading_messages: GradingMessages
    scorecard_messages: ScorecardMessages

    def work_moved(self, uow: UnitOfWork, outcome: WorkOutcome) -> Answer:
        """Show work done or reopened: refresh its cards, announce the KRs that moved."""
        ...

    def reading_recorded(self, uow: UnitOfWork, outcome: CheckinOutcome) -> Answer:
        """Announce a check-in (or a metric feed's reading) in its team channel."""
        ...

    def queue_digest(self, session: Session, digest: Digest, now: datetime) -> list[int]:
        """Queue a channel's daily digest of held changes; [] when it was already sent."""
        ...

    def system_actor(self, team_id: str, name: str, *, source: str) -> Actor:
        """A signed sender (a webhook), not a person: trusted to move work."""
        ...

    def deliver(self, ids: Sequence[int]) -> None:
        """Send what a change queued, now that it is committed."""
        ...
