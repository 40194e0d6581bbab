"""The text notifier: okrbot's answers and channel posts as plain text, for `okrbot shell`
(no Slack there). It answers in the same words as Slack, from the same handlers."""

from __future__ import annotations

from okrbot.config import Settings
from okrbot.services.command_runner import CommandRunner as Runner
from okrbot.adapters.slack.commands.runner import CommandRunner
from okrbot.adapters.slack.reply import Reply
from okrbot.adapters.slack.text_render import blocks_to_text
from okrbot.store.db import Database


class TextNotifier:
    def runner(self, db: Database, settings: Settings) -> Runner:
        # Offline there is no directory: a typed @name or #name is taken as the id.
        return CommandRunner(db, settings, offline=True)

    def answer(self, reply: Reply) -> str:
        if reply.modal is not None:
            title = reply.modal.title.text if hasattr(reply.modal.title, "text") else reply.modal.title
            return f"In Slack this opens the “{title}” form. Offline, give the values on the command line; `/okr help` shows how."
        visibility = "(only you see this)" if not reply.public else "(posted in the channel)"
        return f"{blocks_to_text(reply.block_dicts()) or reply.text}\n{visibility}"

    def picture(self, reply: Reply) -> tuple[str, bytes, str] | None:
        """(file name, PNG, alt text) of a chart the answer would upload."""
        upload = reply.upload
        return (upload.filename, upload.content, upload.alt_text) if upload is not None else None

    def post(self, payload: dict) -> str:
        return blocks_to_text(payload.get("blocks", [])) or payload.get("text", "")
