"""Plays Slack's side of HTTP mode: signed requests to the bot's POST /slack/events.

Payload shapes follow docs.slack.dev: slash commands and interactivity arrive
form-encoded (interactivity as a JSON ``payload`` field), Events API callbacks as
JSON. Every request is signed like Slack signs it (v0, HMAC-SHA256 over
``v0:{timestamp}:{body}``) unless a negative test asks otherwise.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlencode

import httpx

_counter = itertools.count(1)
_counter_lock = threading.Lock()


def _seq() -> int:
    with _counter_lock:
        return next(_counter)


def new_ts() -> str:
    """A message ts that is unique and increasing within the test run."""
    return f"{int(time.time())}.{_seq():06d}"


def new_trigger_id() -> str:
    return f"{_seq()}.{int(time.time())}.{uuid.uuid4().hex}"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


# ---------------------------------------------------------------------- event builders


def _text_blocks(text: str) -> list[dict[str, Any]]:
    section = {"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}
    return [{"type": "rich_text", "block_id": uuid.uuid4().hex[:5], "elements": [section]}]


def app_mention(
    text: str,
    user: str = "U1",
    channel: str = "C1",
    ts: str | None = None,
    thread_ts: str | None = None,
    *,
    team: str = "T1",
    bot_user_id: str = "UBOT",
) -> dict[str, Any]:
    """An app_mention event; the text gets the bot mention prefix Slack always includes."""
    if f"<@{bot_user_id}>" not in text:
        text = f"<@{bot_user_id}> {text}"
    ts = ts or new_ts()
    event = {
        "type": "app_mention",
        "user": user,
        "text": text,
        "ts": ts,
        "channel": channel,
        "event_ts": ts,
        "team": team,
        "client_msg_id": str(uuid.uuid4()),
        "blocks": _text_blocks(text),
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def dm_message(
    text: str,
    user: str = "U1",
    channel: str | None = None,
    ts: str | None = None,
    thread_ts: str | None = None,
    *,
    team: str = "T1",
    parent_user_id: str = "UBOT",
) -> dict[str, Any]:
    """A message.im event; the DM channel defaults to "D" + user, as SlackDouble opens it."""
    ts = ts or new_ts()
    event = {
        "type": "message",
        "channel": channel or f"D{user}",
        "user": user,
        "text": text,
        "ts": ts,
        "event_ts": ts,
        "channel_type": "im",
        "team": team,
        "client_msg_id": str(uuid.uuid4()),
        "blocks": _text_blocks(text),
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
        event["parent_user_id"] = parent_user_id
    return event


def _reaction(kind: str, reaction: str, user: str, channel: str, ts: str, item_user: str) -> dict[str, Any]:
    return {
        "type": kind,
        "user": user,
        "reaction": reaction,
        "item_user": item_user,
        "item": {"type": "message", "channel": channel, "ts": ts},
        "event_ts": new_ts(),
    }


def reaction_added(
    reaction: str, user: str = "U1", channel: str = "C1", ts: str = "", *, item_user: str = "UBOT"
) -> dict[str, Any]:
    return _reaction("reaction_added", reaction, user, channel, ts, item_user)


def reaction_removed(
    reaction: str, user: str = "U1", channel: str = "C1", ts: str = "", *, item_user: str = "UBOT"
) -> dict[str, Any]:
    return _reaction("reaction_removed", reaction, user, channel, ts, item_user)


def app_home_opened(user: str = "U1", *, tab: str = "home", channel: str | None = None) -> dict[str, Any]:
    return {"type": "app_home_opened", "user": user, "channel": channel or f"D{user}", "tab": tab, "event_ts": new_ts()}


# ---------------------------------------------------------------------- client


class SignedSlackClient:
    """Sends what Slack sends to ``{base_url}/slack/events``; every method returns the httpx.Response.

    Negative-test options on every sending method: ``signed=False`` (no signature
    headers), ``bad_signature=True`` (signed with the wrong secret), ``timestamp=<int>``
    (e.g. ten minutes ago, for the 5-minute replay window).
    """

    def __init__(
        self,
        base_url: str,
        signing_secret: str,
        *,
        api_app_id: str = "A1",
        team_domain: str = "okrbot-test",
        bot_user_id: str = "UBOT",
        verification_token: str = "legacy-verification-token",
        response_url_factory: Callable[[str], str] | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.url = base_url.rstrip("/") + "/slack/events"
        self.signing_secret = signing_secret
        self.api_app_id, self.team_domain, self.bot_user_id = api_app_id, team_domain, bot_user_id
        self.verification_token = verification_token
        # Pass SlackDouble.response_url so respond() calls land on the double.
        self.response_url_factory = response_url_factory
        self.last_event_id: str | None = None  # resend it with retry_num to test dedup
        self._http = httpx.Client(timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SignedSlackClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Event builders, reachable from the client for convenience.
    app_mention = staticmethod(app_mention)
    dm_message = staticmethod(dm_message)
    reaction_added = staticmethod(reaction_added)
    reaction_removed = staticmethod(reaction_removed)
    app_home_opened = staticmethod(app_home_opened)

    # ------------------------------------------------------------------ requests

    def command(
        self,
        text: str,
        *,
        user_id: str = "U1",
        channel_id: str = "C1",
        team_id: str = "T1",
        command: str = "/okr",
        response_url: str | None = None,
        trigger_id: str | None = None,
        user_name: str | None = None,
        channel_name: str | None = None,
        enterprise_id: str | None = None,
        org_wide: bool = False,
        **sign_opts: Any,
    ) -> httpx.Response:
        grid = {"enterprise_id": enterprise_id} if enterprise_id else {}  # Enterprise Grid: the org's id rides along
        form = {
            **grid,
            "token": self.verification_token,
            "team_id": team_id,
            "team_domain": self.team_domain,
            "channel_id": channel_id,
            "channel_name": channel_name or ("directmessage" if channel_id.startswith("D") else channel_id.lower()),
            "user_id": user_id,
            "user_name": user_name or user_id.lower(),
            "command": command,
            "text": text,
            "api_app_id": self.api_app_id,
            "is_enterprise_install": "true" if org_wide else "false",
            "response_url": response_url or self._response_url("command"),
            "trigger_id": trigger_id or new_trigger_id(),
        }
        return self._form(form, **sign_opts)

    def block_action(
        self,
        action_id: str,
        value: str | None = None,
        *,
        user_id: str = "U1",
        team_id: str = "T1",
        channel_id: str = "C1",
        message: dict[str, Any] | None = None,
        view: dict[str, Any] | None = None,
        block_id: str | None = None,
        response_url: str | None = None,
        trigger_id: str | None = None,
        container: dict[str, Any] | None = None,
        action_type: str = "button",
        action_fields: dict[str, Any] | None = None,
        state_values: dict[str, Any] | None = None,
        **sign_opts: Any,
    ) -> httpx.Response:
        """A block_actions payload from a message (default) or, with ``view``, a modal / App Home.

        ``action_fields`` adds element-specific fields (selected_option, selected_user, ...).
        """
        action: dict[str, Any] = {
            "type": action_type,
            "action_id": action_id,
            "block_id": block_id or uuid.uuid4().hex[:5],
            "action_ts": new_ts(),
        }
        if action_type == "button":
            action["text"] = {"type": "plain_text", "text": action_id, "emoji": True}
        if value is not None:
            action["value"] = value
        action.update(action_fields or {})
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": self._user(user_id, team_id),
            "api_app_id": self.api_app_id,
            "token": self.verification_token,
            "trigger_id": trigger_id or new_trigger_id(),
            "team": {"id": team_id, "domain": self.team_domain},
            "enterprise": None,
            "is_enterprise_install": False,
            "actions": [action],
        }
        if view is not None:
            full_view = self._view(view, team_id, state_values)
            payload["container"] = container or {"type": "view", "view_id": full_view["id"]}
            payload["view"] = full_view
            payload["state"] = full_view["state"]
            if response_url:
                payload["response_url"] = response_url
        else:
            message = message or {"type": "message", "user": self.bot_user_id, "ts": new_ts(), "text": ""}
            payload["container"] = container or {
                "type": "message",
                "message_ts": message.get("ts"),
                "channel_id": channel_id,
                "is_ephemeral": False,
            }
            payload["channel"] = {"id": channel_id, "name": channel_id.lower()}
            payload["message"] = message
            payload["state"] = {"values": _state(state_values)}
            payload["response_url"] = response_url or self._response_url("action")
        return self._form({"payload": json.dumps(payload)}, **sign_opts)

    def message_action(
        self,
        callback_id: str,
        message: dict[str, Any],
        *,
        user_id: str = "U1",
        team_id: str = "T1",
        channel_id: str = "C1",
        response_url: str | None = None,
        **sign_opts: Any,
    ) -> httpx.Response:
        """A message shortcut on ``message`` (text, ts, user), from Slack's published payload
        (tests/fixtures/slack_message_action.json) with this test's ids."""
        published = _fixture("slack_message_action.json")["message"]
        payload = self._shortcut(
            "slack_message_action.json",
            callback_id,
            team_id,
            user={"id": user_id, "name": user_id.lower()},
            channel={"id": channel_id, "name": channel_id.lower()},
            message_ts=message["ts"],
            message={**published, "team": team_id, "blocks": [], **message},
            response_url=response_url or self._response_url("shortcut"),
        )
        return self._form({"payload": json.dumps(payload)}, **sign_opts)

    def global_shortcut(self, callback_id: str, *, user_id: str = "U1", team_id: str = "T1", **sign_opts: Any) -> httpx.Response:
        """A global shortcut, from Slack's published payload (tests/fixtures/slack_shortcut_global.json)."""
        user = {"id": user_id, "username": user_id.lower(), "team_id": team_id}
        payload = self._shortcut("slack_shortcut_global.json", callback_id, team_id, user=user)
        return self._form({"payload": json.dumps(payload)}, **sign_opts)

    def _shortcut(self, fixture: str, callback_id: str, team_id: str, **fields: Any) -> dict[str, Any]:
        """A published shortcut payload with this test's callback, team and fresh ids."""
        payload = _fixture(fixture)
        payload.update(
            callback_id=callback_id,
            token=self.verification_token,
            trigger_id=new_trigger_id(),
            action_ts=new_ts(),
            team={"id": team_id, "domain": self.team_domain},
            **fields,
        )
        return payload

    def block_suggestion(
        self, view: dict[str, Any], block_id: str, value: str, *, user_id: str = "U1", team_id: str = "T1", **sign_opts: Any
    ) -> httpx.Response:
        """What Slack sends as someone types ``value`` into the external select in ``block_id``
        of ``view`` (tests/fixtures/slack_block_suggestion.json); the answer is in the response."""
        (block,) = [b for b in view.get("blocks", []) if b.get("block_id") == block_id]
        full_view = self._view(view, team_id, None)
        payload = _fixture("slack_block_suggestion.json")
        payload.update(
            user={"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": team_id},
            container={"type": "view", "view_id": full_view["id"]},
            api_app_id=self.api_app_id,
            token=self.verification_token,
            action_id=block["element"]["action_id"],
            block_id=block_id,
            value=value,
            team={"id": team_id, "domain": self.team_domain},
            view=full_view,
        )
        return self._form({"payload": json.dumps(payload)}, **sign_opts)

    def view_submission(
        self,
        view: dict[str, Any],
        *,
        user_id: str = "U1",
        team_id: str = "T1",
        state_values: dict[str, Any] | None = None,
        private_metadata: str | None = None,
        callback_id: str | None = None,
        trigger_id: str | None = None,
        response_urls: list[dict[str, Any]] | None = None,
        **sign_opts: Any,
    ) -> httpx.Response:
        """Submit ``view`` (e.g. the one the bot passed to views.open).

        ``state_values`` is {block_id: {action_id: value}}; a plain string value becomes a
        plain_text_input state, a dict is sent as is. private_metadata and callback_id
        default to the view's own.
        """
        full_view = self._view(view, team_id, state_values)
        if private_metadata is not None:
            full_view["private_metadata"] = private_metadata
        if callback_id is not None:
            full_view["callback_id"] = callback_id
        payload = {
            "type": "view_submission",
            "team": {"id": team_id, "domain": self.team_domain},
            "user": self._user(user_id, team_id),
            "api_app_id": self.api_app_id,
            "token": self.verification_token,
            "trigger_id": trigger_id or new_trigger_id(),
            "view": full_view,
            "response_urls": response_urls or [],
            "is_enterprise_install": False,
            "enterprise": None,
        }
        return self._form({"payload": json.dumps(payload)}, **sign_opts)

    def event(
        self,
        event: dict[str, Any],
        *,
        team_id: str = "T1",
        event_id: str | None = None,
        retry_num: int | None = None,
        retry_reason: str | None = None,
        event_time: int | None = None,
        **sign_opts: Any,
    ) -> httpx.Response:
        """An event_callback; ``retry_num`` adds the X-Slack-Retry-* headers of a redelivery."""
        event_id = event_id or f"Ev{uuid.uuid4().hex[:10].upper()}"
        self.last_event_id = event_id
        envelope = {
            "token": self.verification_token,
            "team_id": team_id,
            "context_team_id": team_id,
            "context_enterprise_id": None,
            "api_app_id": self.api_app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": event_time or int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": team_id,
                    "user_id": self.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": f"4-{uuid.uuid4().hex}",
        }
        headers = {}
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = retry_reason or "http_timeout"
        return self._json(envelope, headers, **sign_opts)

    def url_verification(self, challenge: str, **sign_opts: Any) -> httpx.Response:
        body = {"token": self.verification_token, "challenge": challenge, "type": "url_verification"}
        return self._json(body, {}, **sign_opts)

    def raw(self, body: bytes, headers: dict[str, str] | None = None, **sign_opts: Any) -> httpx.Response:
        """Send ``body`` as is (signed unless told otherwise); ``headers`` win over computed ones."""
        return self._post(body, {"Content-Type": "application/json", **(headers or {})}, **sign_opts)

    # ------------------------------------------------------------------ internals

    def _response_url(self, kind: str) -> str:
        if self.response_url_factory is not None:
            return self.response_url_factory(f"{kind}-{_seq()}")
        # Nothing listens on the discard port: a stray respond() fails fast, on loopback.
        return f"http://127.0.0.1:9/{kind}/{_seq()}"

    def _user(self, user_id: str, team_id: str) -> dict[str, Any]:
        return {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": team_id}

    def _view(self, view: dict[str, Any], team_id: str, state_values: dict[str, Any] | None) -> dict[str, Any]:
        """The view as Slack reports it back: the submitted fields plus ids, hash and state."""
        view_id = view.get("id") or f"V{uuid.uuid4().hex[:10].upper()}"
        return {
            "id": view_id,
            "team_id": team_id,
            "type": view.get("type", "modal"),
            "blocks": view.get("blocks", []),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": {"values": _state(state_values)},
            "hash": view.get("hash") or f"{int(time.time())}.{uuid.uuid4().hex[:8]}",
            "title": view.get("title"),
            "clear_on_close": view.get("clear_on_close", False),
            "notify_on_close": view.get("notify_on_close", False),
            "close": view.get("close"),
            "submit": view.get("submit"),
            "previous_view_id": view.get("previous_view_id"),
            "root_view_id": view.get("root_view_id", view_id),
            "app_id": self.api_app_id,
            "external_id": view.get("external_id", ""),
            "app_installed_team_id": team_id,
            "bot_id": view.get("bot_id", "BBOT"),
        }

    def _form(self, fields: dict[str, str], **sign_opts: Any) -> httpx.Response:
        body = urlencode(fields).encode()
        return self._post(body, {"Content-Type": "application/x-www-form-urlencoded"}, **sign_opts)

    def _json(self, data: dict[str, Any], headers: dict[str, str], **sign_opts: Any) -> httpx.Response:
        body = json.dumps(data).encode()
        return self._post(body, {"Content-Type": "application/json", **headers}, **sign_opts)

    def _post(
        self,
        body: bytes,
        headers: dict[str, str],
        *,
        signed: bool = True,
        bad_signature: bool = False,
        timestamp: int | None = None,
    ) -> httpx.Response:
        sent = {"User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)"}
        if signed:
            ts = int(time.time()) if timestamp is None else timestamp
            secret = self.signing_secret + ("-wrong" if bad_signature else "")
            sent["X-Slack-Request-Timestamp"] = str(ts)
            sent["X-Slack-Signature"] = sign(secret, ts, body)
        sent.update(headers)
        return self._http.post(self.url, content=body, headers=sent)


def _state(values: dict[str, Any] | None) -> dict[str, Any]:
    """{block: {action: "text"}} -> Slack's view state, keeping explicit dicts as given."""
    state: dict[str, Any] = {}
    for block_id, actions in (values or {}).items():
        state[block_id] = {
            action_id: value if isinstance(value, dict) else {"type": "plain_text_input", "value": value}
            for action_id, value in actions.items()
        }
    return state


_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _fixture(name: str) -> dict[str, Any]:
    """A payload Slack published (tests/fixtures/SOURCES.md), to fill in with a test's ids."""
    return json.loads((_FIXTURES / name).read_text(encoding="utf-8"))
