"""Which Slack requests need an answer in the HTTP response, and which only need a 200.

Slack reads the response body of a few requests: a modal submission (`response_action`
with field errors), the Events API's `url_verification` challenge, `ssl_check`, and
options for external selects. For everything else (slash commands, button clicks,
events) any 200 within 3 seconds is the acknowledgement and the real answer goes
through the Web API or `response_url` afterwards. The server answers those at once
and hands the work on (server.py, jobs/).
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs

# Interactivity payload types whose HTTP response Slack acts on.
_ANSWERED_PAYLOADS = frozenset({"view_submission", "view_closed", "block_suggestion", "dialog_suggestion", "dialog_submission"})


class UnreadableRequest(ValueError):
    """A signed body that is neither Slack's form encoding nor its JSON."""


def wants_answer(body: bytes, content_type: str) -> bool:
    """True when the response body matters to Slack, so the work must finish first."""
    text = _text(body)
    if "application/json" in content_type:
        try:
            document = json.loads(text)
        except ValueError as error:
            raise UnreadableRequest("not JSON") from error
        return not isinstance(document, dict) or document.get("type") != "event_callback"
    form = parse_qs(text, keep_blank_values=True)
    if "ssl_check" in form:
        return True
    if "payload" in form:
        try:
            payload = json.loads(form["payload"][0])
        except ValueError as error:
            raise UnreadableRequest("payload is not JSON") from error
        return not isinstance(payload, dict) or interaction_wants_answer(payload)
    if "command" in form:
        return False
    return True  # something else: let bolt answer it as it would


def interaction_wants_answer(payload: dict) -> bool:
    """For an interactivity payload (also as Socket Mode delivers it)."""
    return payload.get("type") in _ANSWERED_PAYLOADS


def _text(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UnreadableRequest("not UTF-8") from error
