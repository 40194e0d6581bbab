"""`okrbot shell`: the /okr language offline, replies and channel posts printed as text."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol, TextIO

from okrbot.config import Settings
from okrbot.services.command_runner import CommandRunner
from okrbot.services.context import Actor
from okrbot.store import outbox
from okrbot.store.db import Database
from okrbot.store.types import utcnow

PROMPT = "okr> "


class TextNotifier(Protocol):
    """Answers and posts as text (adapters/slack/text_notifier.py has the one the CLI uses)."""

    def runner(self, db: Database, settings: Settings) -> CommandRunner: ...

    def answer(self, reply: Any) -> str: ...

    def picture(self, reply: Any) -> tuple[str, bytes, str] | None: ...

    def post(self, payload: dict) -> str: ...


class Shell:
    def __init__(self, db: Database, settings: Settings, notifier: TextNotifier, *, team: str, user: str, channel: str | None, admin: bool = False):
        self.db = db
        self.settings = settings
        self.notifier = notifier
        self.runner = notifier.runner(db, settings)
        self.team, self.user, self.channel, self.admin = team, user, channel, admin

    def actor(self) -> Actor:
        # Offline there is no member list: --channel is the team channel the user is in.
        channel = self.channel
        return Actor(
            team_id=self.team,
            user_id=self.user,
            channel_id=channel,
            is_admin=self.admin,
            tz=self.settings.tz,
            now=utcnow(),
            member_of=lambda team_channel: team_channel == channel,
        )

    def run(self, line: str) -> bool:
        """Run one command and print what Slack would show; True when it was refused."""
        text = line.strip()
        if text.lower().startswith("/okr"):
            text = text[4:].strip()
        outcome = self.runner.run(text, self.actor())
        reply = outcome.reply
        print(self.notifier.answer(reply))
        picture = self.notifier.picture(reply)
        if picture is not None:
            # No Slack to upload to: the picture is written next to where the shell runs.
            filename, content, alt_text = picture
            Path(filename).write_bytes(content)
            print(f"\n→ picture saved as {filename} ({alt_text})")
        self._print_posts(outcome.queued)
        return reply.error

    def _print_posts(self, ids: list[int]) -> None:
        """Show channel posts the change queued, and mark them delivered: the shell is the screen."""
        if not ids:
            return
        now = utcnow()
        with self.db.session_scope() as session:
            for message in outbox.claim_due(session, now, ids=ids):
                where = "in the thread of its objective this week, " if message.parent_id else ""
                print(f"\n→ posted {where}in #{message.channel}:")
                print(self.notifier.post(message.payload))
                outbox.mark_sent(session, message.id, ts=f"shell.{message.id}", now=now)

    def interactive(self, stream: TextIO) -> None:
        print(f"okrbot shell — workspace {self.team}, you are {self.user}. Type /okr help, or quit.")
        for line in _lines(stream):
            if line.strip().lower() in ("quit", "exit", "q"):
                break
            if line.strip():
                self.run(line)


def _lines(stream: TextIO) -> Iterable[str]:
    while True:
        if stream.isatty():
            print(PROMPT, end="", flush=True)
        line = stream.readline()
        if not line:
            return
        yield line
