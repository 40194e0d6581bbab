"""Putting people's text into Slack mrkdwn safely."""

from __future__ import annotations

import re
from urllib.parse import quote

from okrbot.domain.text import clean_text


def escape(text: str) -> str:
    """Escape &, < and > so user text can never become <!channel>, <@U…> or a fake link;
    first drop what would display as nothing or reorder the rest (domain/text.py), so text
    stored before it was cleaned on the way in shows as written too."""
    return clean_text(text, lines=True).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_SLACK_USER = re.compile(r"^[UW][A-Z0-9]+$")


def user(user_id: str | None) -> str:
    """A mention for Slack users; other actors (github:alice, webhook) as plain text."""
    if not user_id:
        return "nobody"
    return f"<@{user_id}>" if _SLACK_USER.match(user_id) else escape(user_id)


def link(url: str, label: str) -> str:
    """`<url|label>` where neither part can end the link early, add a second label or
    smuggle in a mention: the URL is percent-encoded, the label escaped."""
    safe = quote(url.strip(), safe=":/?#[]@!$&'()*+,;=%~").replace("&", "&amp;")
    return f"<{safe}|{escape(label)}>"


def channel(channel_id: str | None) -> str:
    return f"<#{channel_id}>" if channel_id else ""


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
