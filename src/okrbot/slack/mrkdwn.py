"""Putting people's text into Slack mrkdwn safely."""

from __future__ import annotations


def escape(text: str) -> str:
    """Escape &, < and > so user text can never become <!channel>, <@U…> or a fake link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def user(user_id: str | None) -> str:
    return f"<@{user_id}>" if user_id else "nobody"


def channel(channel_id: str | None) -> str:
    return f"<#{channel_id}>" if channel_id else ""


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
