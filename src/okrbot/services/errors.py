"""Typed errors that use cases raise; one handler per surface turns them into replies."""

from __future__ import annotations

from okrbot.domain.text import clean_text


class OkrbotError(Exception):
    """An error whose message is written for the person who typed the command."""

    def __init__(self, message: str, *, hint: str | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint  # what to type instead
        self.field = field  # the modal field at fault, when there is one

    def __str__(self) -> str:
        return f"{self.message} {self.hint}" if self.hint else self.message


def shown(text: str, limit: int = 80) -> str:
    """People's text inside a message: shortened, and with &, < and > escaped, because
    every surface shows messages as Slack mrkdwn (where <!channel> would notify everyone)."""
    text = clean_text(text)  # shown as written: nothing invisible, nothing reordered
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def quoted(text: str, limit: int = 80) -> str:
    return f"“{shown(text, limit)}”"


class NotFound(OkrbotError):
    pass


class NotAllowed(OkrbotError):
    pass


class Invalid(OkrbotError):
    pass
