"""What the server must know of a Slack request before acknowledging it: whether Slack
reads the answer, and the key that makes the request apply once.

Slack reads the response body of a few requests: a modal submission (`response_action`
with field errors), the Events API's `url_verification` challenge, `ssl_check`, and
options for external selects. For everything else (slash commands, button clicks,
events) any 200 within 3 seconds is the acknowledgement and the real answer goes
through the Web API or `response_url` afterwards. The server answers those at once
and hands the work on (runtime/server.py, store/inbox.py).

The key is what Slack gives each request that a retry keeps: the event_id of an
event, the trigger_id of a command, click or shortcut, the view's id and hash of a
modal submission. A request without one gets a key of its own.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from urllib.parse import parse_qs

# Interactivity payload types whose HTTP response Slack acts on.
_ANSWERED_PAYLOADS = frozenset({"view_submission", "view_closed", "block_suggestion", "dialog_suggestion", "dialog_submission"})


class UnreadableRequest(ValueError):
    """A signed body that is neither Slack's form encoding nor its JSON."""


@dataclass(frozen=True)
class SlackRequest:
    answer_wanted: bool  # the response body matters to Slack, so the work must finish first
    key: str
    team_id: str | None = None


def inspect_request(body: bytes, content_type: str) -> SlackRequest:
    text = _text(body)
    if "application/json" in content_type:
        try:
            document = json.loads(text)
        except ValueError as error:
            raise UnreadableRequest("not JSON") from error
        if not isinstance(document, dict):
            return SlackRequest(True, once())
        if document.get("type") == "event_callback":
            return SlackRequest(False, event_key(document), _str(document.get("team_id")))
        return SlackRequest(True, once())
    form = parse_qs(text, keep_blank_values=True)
    if "ssl_check" in form:
        return SlackRequest(True, once())
    if "payload" in form:
        try:
            payload = json.loads(form["payload"][0])
        except ValueError as error:
            raise UnreadableRequest("payload is not JSON") from error
        if not isinstance(payload, dict):
            return SlackRequest(True, once())
        return SlackRequest(interaction_wants_answer(payload), interaction_key(payload), _team(payload))
    if "command" in form:
        trigger = _first(form, "trigger_id")
        return SlackRequest(False, f"command:{trigger}" if trigger else once(), _first(form, "team_id"))
    return SlackRequest(True, once())  # something else: let bolt answer it as it would


def wants_answer(body: bytes, content_type: str) -> bool:
    """True when the response body matters to Slack, so the work must finish first."""
    return inspect_request(body, content_type).answer_wanted


def interaction_wants_answer(payload: dict) -> bool:
    """For an interactivity payload (also as Socket Mode delivers it)."""
    return payload.get("type") in _ANSWERED_PAYLOADS


def interaction_key(payload: dict) -> str:
    kind = _str(payload.get("type")) or "interaction"
    view = payload.get("view") if isinstance(payload.get("view"), dict) else {}
    if kind in ("view_submission", "view_closed") and view.get("id"):
        return f"{kind}:{view['id']}:{view.get('hash', '')}"
    if kind == "block_suggestion":
        return once()  # a question about options: nothing to apply, nothing to repeat
    trigger = _str(payload.get("trigger_id"))
    if trigger:
        return f"{kind}:{trigger}"
    actions = payload.get("actions") if isinstance(payload.get("actions"), list) else []
    action_ts = actions[0].get("action_ts") if actions and isinstance(actions[0], dict) else None
    return f"{kind}:{action_ts}" if action_ts else once()


def event_key(document: dict) -> str:
    event_id = _str(document.get("event_id"))
    return f"event:{event_id}" if event_id else once()


def socket_key(kind: str, payload: dict, envelope_id: str) -> str:
    """Socket Mode: the same keys as HTTP; the envelope when the payload has none."""
    if kind == "events_api" and payload.get("event_id"):
        return event_key(payload)
    if kind == "interactive":
        return interaction_key(payload)
    if kind == "slash_commands" and payload.get("trigger_id"):
        return f"command:{payload['trigger_id']}"
    return f"envelope:{envelope_id}"


def once() -> str:
    return f"once:{uuid.uuid4().hex}"


def _team(payload: dict) -> str | None:
    team = payload.get("team")
    return _str(team.get("id")) if isinstance(team, dict) else None


def _first(form: dict[str, list[str]], name: str) -> str | None:
    values = form.get(name)
    return values[0] if values else None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _text(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UnreadableRequest("not UTF-8") from error
