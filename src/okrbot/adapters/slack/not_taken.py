"""What the server answers when a request cannot be written to the inbox (the database
is not answering): never an acknowledgement of something it does not have.

Events get a 503, so Slack sends them again later (its own retries are the queue
then). A person who typed a command, clicked a button or submitted a form is told at
once that nothing was saved, where they are, instead of seeing Slack's error banner.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from urllib.parse import parse_qs

from slack_sdk.webhook import WebhookClient

log = logging.getLogger("okrbot")

NOT_SAVED = "Not saved: the database is not answering. Try again in a minute."


@dataclass(frozen=True)
class NotTaken:
    status: int
    body: dict | None = None  # what Slack reads (a modal's field errors)
    tell_url: str | None = None  # a response_url to say "not saved" on


def not_taken(raw: bytes, content_type: str) -> NotTaken:
    try:
        text = raw.decode("utf-8")
        if "application/json" in content_type:
            return NotTaken(503)  # an event: Slack retries it
        form = parse_qs(text, keep_blank_values=True)
        if "command" in form:
            return NotTaken(200, tell_url=_first(form, "response_url"))
        payload = json.loads(_first(form, "payload") or "{}")
    except (UnicodeDecodeError, ValueError):
        return NotTaken(503)
    if not isinstance(payload, dict):
        return NotTaken(503)
    kind = payload.get("type")
    if kind == "view_submission":
        block = _first_input(payload.get("view") or {})
        return NotTaken(200, {"response_action": "errors", "errors": {block: NOT_SAVED}} if block else None)
    if kind == "block_suggestion":
        return NotTaken(200, {"options": []})
    url = payload.get("response_url") if isinstance(payload.get("response_url"), str) else None
    return NotTaken(200, tell_url=url)


def tell_not_saved(url: str) -> None:
    """Runs after the 200 went back (a background task)."""
    try:
        WebhookClient(url, timeout=5).send_dict({"response_type": "ephemeral", "replace_original": False, "text": f":warning: {NOT_SAVED}"})
    except Exception:  # noqa: BLE001 - nothing more can be done: it was not saved, and was not acknowledged as saved
        log.warning("could not tell the person that nothing was saved", exc_info=True)


def _first_input(view: dict) -> str | None:
    for block in view.get("blocks") or []:
        if isinstance(block, dict) and block.get("type") == "input" and block.get("block_id"):
            return block["block_id"]
    return None


def _first(form: dict[str, list[str]], name: str) -> str | None:
    values = form.get(name)
    return values[0] if values else None
