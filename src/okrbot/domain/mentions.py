"""Reading what people write to the bot in mentions and DMs."""

from __future__ import annotations

import re

_LEADING_MENTION = re.compile(r"^\s*<@[A-Z0-9]+(?:\|[^>]*)?>[\s,:]*")
_SERVES_QUESTION = re.compile(
    r"^\s*(?:does|do|would|will|can|could)\s+(?P<text>.+?)\s+(?:serve|support|help|fit|match)\s+(?:a|any|an|our|some)\s+(?:kr|key\s+results?|okrs?)\b\s*\??\s*$",
    re.IGNORECASE | re.DOTALL,
)
_OKR_PREFIX = re.compile(r"^\s*/?okr\b\s*", re.IGNORECASE)


def strip_mention(text: str) -> str:
    """`<@UBOT> status all` → `status all`; also drops a typed `/okr` or `okr` prefix."""
    text = _LEADING_MENTION.sub("", text, count=1)
    return _OKR_PREFIX.sub("", text, count=1).strip()


def serves_question(text: str) -> str | None:
    """The request in "does <text> serve a KR?", or None when it isn't that question."""
    found = _SERVES_QUESTION.match(text)
    if not found:
        return None
    request = found.group("text").strip().strip("\"“”'‘’")
    return request or None
