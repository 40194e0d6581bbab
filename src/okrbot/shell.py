"""`okrbot shell`: the /okr language offline, replies and channel posts printed as text."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from okrbot.config import Settings
from okrbot.services.context import Actor
from okrbot.slack.commands.runner import CommandRunner
from okrbot.slack.text_render import blocks_to_text
from okrbot.store import outbox
from okrbot.store.db import Database
from okrbot.store.types import utcnow

PROMPT = "okr> "


class Shell:
    def __init__(self, db: Database, settings: Settings, *, team: str, user: str, channel: str | None, admin: bool = False):
        self.db = db
        self.settings = settings
        self.runner = CommandRunner(db, settings, offline=True)
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
        if reply.modal is not None:
            title = reply.modal.title.text if hasattr(reply.modal.title, "text") else reply.modal.title
            print(f"In Slack this opens the “{title}” form. Offline, give the values on the command line; `/okr help` shows how.")
        else:
            visibility = "(only you see this)" if not reply.public else "(posted in the channel)"
            print(blocks_to_text(reply.block_dicts()) or reply.text)
            print(visibility)
        if reply.upload is not None:
            # No Slack to upload to: the picture is written next to where the shell runs.
            Path(reply.upload.filename).write_bytes(reply.upload.content)
            print(f"\n→ picture saved as {reply.upload.filename} ({reply.upload.alt_text})")
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
                print(blocks_to_text(message.payload.get("blocks", [])) or message.payload.get("text", ""))
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
