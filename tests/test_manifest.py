"""manifest.yml is a valid Slack app manifest for exactly what the code handles (SPEC §4).

Three checks, each failing with what to change:
- structure: the keys and types Slack's manifest schema documents;
- listeners: every slash command, bot event and shortcut in the manifest reaches a
  listener of the real bolt app, and every listener the code registers is in the manifest;
- scopes: the bot scopes are exactly those that the Web API methods the code calls and
  the events it subscribes to need (a small table below; add a row for a new method).
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from slack_bolt import App, BoltResponse
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient

from okrbot.config import Settings
from okrbot.adapters.slack.app import build_bot
from okrbot.adapters.slack.ids import Action, Callback
from okrbot.store.db import Database
from tests.fakes.slack_api import SlackDouble

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / "manifest.yml"
SOURCE = ROOT / "src" / "okrbot"

# Bot scopes each Web API method needs (docs.slack.dev/reference/methods/<method>, "Required scopes").
# Methods called with another token or none are listed with no bot scope.
METHOD_SCOPES: dict[str, set[str]] = {
    "auth.test": set(),
    "apps.connections.open": set(),  # app-level token (connections:write), not the bot token
    "chat.postMessage": {"chat:write"},
    "chat.postEphemeral": {"chat:write"},
    "chat.update": {"chat:write"},
    "chat.delete": {"chat:write"},
    "chat.getPermalink": set(),
    "views.open": set(),
    "views.push": set(),
    "views.update": set(),
    "views.publish": set(),
    "users.info": {"users:read"},
    "users.list": {"users:read"},
    "conversations.open": {"im:write"},
    # History scopes depend on the conversation. okrbot reads history only to look up a post
    # whose answer was lost before any resend (adapters/slack/delivery.py), wherever it posts: public
    # and private channels, DMs and group DMs.
    "conversations.history": {"channels:history", "groups:history", "im:history", "mpim:history"},
    "conversations.replies": {"channels:history", "groups:history", "im:history", "mpim:history"},
    "conversations.info": {"channels:read"},
    # Team channels may be public (channels:read) or private (groups:read).
    "conversations.members": {"channels:read", "groups:read"},
    "reactions.get": {"reactions:read"},
    # slack_sdk's files_upload_v2 calls these two (and PUTs the bytes to the upload URL between).
    "files.upload.v2": {"files:write"},
    "files.getUploadURLExternal": {"files:write"},
    "files.completeUploadExternal": {"files:write"},
}

# Bot scopes each bot event needs (docs.slack.dev/reference/events/<event>).
EVENT_SCOPES: dict[str, set[str]] = {
    "app_home_opened": set(),
    "app_uninstalled": set(),  # sent to every app, no scope (docs.slack.dev/reference/events/app_uninstalled)
    "tokens_revoked": set(),  # likewise (docs.slack.dev/reference/events/tokens_revoked)
    "app_mention": {"app_mentions:read"},
    "message.im": {"im:history"},
    "message.channels": {"channels:history"},
    "message.groups": {"groups:history"},
    "message.mpim": {"mpim:history"},
    "reaction_added": {"reactions:read"},
    "reaction_removed": {"reactions:read"},
    "member_joined_channel": {"channels:read"},
    "team_join": {"users:read"},
}

COMMAND_SCOPE = "commands"


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    return yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))


# ---------------------------------------------------------------------- structure

TOP_LEVEL = {"_metadata", "display_information", "features", "oauth_config", "settings", "outgoing_domains", "functions", "workflows", "datastores", "types"}
HEX_COLOR = re.compile(r"^#(?:[0-9a-fA-F]{3}){1,2}$")


def _expect(problems: list[str], where: str, value: Any, kind: type | tuple[type, ...], *, required: bool = True) -> bool:
    if value is None:
        if required:
            problems.append(f"{where} is required")
        return False
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        problems.append(f"{where} must be {kind}, got {type(value).__name__}")
        return False
    return True


def _length(problems: list[str], where: str, value: Any, low: int, high: int) -> None:
    if _expect(problems, where, value, str) and not low <= len(value) <= high:
        problems.append(f"{where} must be {low}–{high} characters, has {len(value)}")


def _https(problems: list[str], where: str, value: Any) -> None:
    if _expect(problems, where, value, str) and not value.startswith("https://"):
        problems.append(f"{where} must be an https:// URL, got {value!r}")


def schema_problems(m: dict[str, Any]) -> list[str]:
    """The manifest fields Slack documents, with their types and limits (hand-written)."""
    problems: list[str] = []
    if not isinstance(m, dict):
        return ["the manifest must be a mapping"]
    problems += [f"unknown top-level key {key!r}" for key in m if key not in TOP_LEVEL]
    meta = m.get("_metadata") or {}
    _expect(problems, "_metadata.major_version", meta.get("major_version"), int)

    info = m.get("display_information")
    if _expect(problems, "display_information", info, dict):
        _length(problems, "display_information.name", info.get("name"), 1, 35)
        if info.get("description") is not None:
            _length(problems, "display_information.description", info.get("description"), 1, 140)
        if info.get("long_description") is not None:
            _length(problems, "display_information.long_description", info.get("long_description"), 175, 4000)
        color = info.get("background_color")
        if color is not None and not (isinstance(color, str) and HEX_COLOR.match(color)):
            problems.append(f"display_information.background_color must be a hex colour like #1d4ed8, got {color!r}")

    features = m.get("features") or {}
    _expect(problems, "features", features, dict)
    bot_user = features.get("bot_user")
    if _expect(problems, "features.bot_user", bot_user, dict):
        _length(problems, "features.bot_user.display_name", bot_user.get("display_name"), 1, 80)
        _expect(problems, "features.bot_user.always_online", bot_user.get("always_online"), bool, required=False)
    home = features.get("app_home")
    if _expect(problems, "features.app_home", home, dict, required=False):
        for key in ("home_tab_enabled", "messages_tab_enabled", "messages_tab_read_only_enabled"):
            _expect(problems, f"features.app_home.{key}", home.get(key), bool, required=False)
    commands = features.get("slash_commands", [])
    if _expect(problems, "features.slash_commands", commands, list, required=False):
        for i, command in enumerate(commands):
            where = f"features.slash_commands[{i}]"
            if not _expect(problems, where, command, dict):
                continue
            name = command.get("command")
            if _expect(problems, f"{where}.command", name, str) and not re.fullmatch(r"/[a-z0-9_\-]{1,31}", name):
                problems.append(f"{where}.command must be / and up to 31 lower-case letters, digits, - or _: {name!r}")
            _length(problems, f"{where}.description", command.get("description"), 1, 2000)
            if command.get("usage_hint") is not None:
                _length(problems, f"{where}.usage_hint", command.get("usage_hint"), 1, 1000)
            _expect(problems, f"{where}.should_escape", command.get("should_escape"), bool, required=False)
            if command.get("url") is not None:
                _https(problems, f"{where}.url", command.get("url"))
    for i, shortcut in enumerate(features.get("shortcuts", []) or []):
        where = f"features.shortcuts[{i}]"
        if _expect(problems, where, shortcut, dict):
            if shortcut.get("type") not in ("global", "message"):
                problems.append(f"{where}.type must be global or message")
            for key in ("name", "callback_id", "description"):
                _expect(problems, f"{where}.{key}", shortcut.get(key), str)

    scopes = (m.get("oauth_config") or {}).get("scopes") or {}
    bot_scopes = scopes.get("bot")
    if _expect(problems, "oauth_config.scopes.bot", bot_scopes, list):
        problems += [f"bot scope {scope!r} is not a scope name" for scope in bot_scopes if not (isinstance(scope, str) and re.fullmatch(r"[a-z_.]+(:[a-z_.]+)*", scope))]
        if len(set(bot_scopes)) != len(bot_scopes):
            problems.append("oauth_config.scopes.bot lists a scope twice")

    settings = m.get("settings")
    if _expect(problems, "settings", settings, dict):
        events = settings.get("event_subscriptions")
        if _expect(problems, "settings.event_subscriptions", events, dict, required=False):
            if not settings.get("socket_mode_enabled"):
                _https(problems, "settings.event_subscriptions.request_url", events.get("request_url"))
            bot_events = events.get("bot_events", [])
            if _expect(problems, "settings.event_subscriptions.bot_events", bot_events, list):
                problems += [f"bot event {e!r} is not an event name" for e in bot_events if not (isinstance(e, str) and re.fullmatch(r"[a-z_]+(\.[a-z_]+)?", e))]
        interactivity = settings.get("interactivity")
        if _expect(problems, "settings.interactivity", interactivity, dict, required=False):
            _expect(problems, "settings.interactivity.is_enabled", interactivity.get("is_enabled"), bool)
            if interactivity.get("is_enabled") and not settings.get("socket_mode_enabled"):
                _https(problems, "settings.interactivity.request_url", interactivity.get("request_url"))
        for key in ("org_deploy_enabled", "socket_mode_enabled", "token_rotation_enabled"):
            _expect(problems, f"settings.{key}", settings.get(key), bool, required=False)
    return problems


def test_manifest_follows_slacks_manifest_schema(manifest):
    assert schema_problems(manifest) == []


def test_schema_check_catches_mistakes(manifest):
    # The hand-written schema check is only worth having if it fails on a broken manifest.
    broken = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    broken["display_information"]["name"] = "x" * 36
    broken["features"]["slash_commands"][0]["command"] = "okr"
    broken["settings"]["interactivity"]["is_enabled"] = "yes"
    broken["settings"]["event_subscriptions"]["request_url"] = "http://insecure.example.com/slack/events"
    broken["surprise"] = 1
    problems = "\n".join(schema_problems(broken))
    for fragment in ("display_information.name", "slash_commands[0].command", "interactivity.is_enabled", "request_url", "surprise"):
        assert fragment in problems


def test_every_request_url_is_the_one_events_endpoint(manifest):
    urls = [command["url"] for command in manifest["features"]["slash_commands"]]
    urls += [manifest["settings"]["event_subscriptions"]["request_url"], manifest["settings"]["interactivity"]["request_url"]]
    assert {url.split("://", 1)[1].split("/", 1)[1] for url in urls} == {"slack/events"}
    assert len({url.split("/")[2] for url in urls}) == 1, "all request URLs should name the same host"


# ---------------------------------------------------------------------- listeners


@dataclass(frozen=True)
class Registration:
    kind: str  # command | event | action | view | shortcut | options
    what: Any  # what the code passed to app.<kind>(...)


REGISTERING = ("command", "event", "message", "action", "view", "shortcut", "options", "block_action", "view_submission", "global_shortcut", "message_shortcut")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Iterator[tuple[App, list[Registration]]]:
    """The real bolt app as `okrbot serve` builds it, and what each register() call asked for."""
    registered: list[Registration] = []
    originals = {name: getattr(App, name) for name in REGISTERING}

    def recording(name: str):
        original = originals[name]

        def register(self, *args, **kwargs):
            what = args[0] if args else next(iter(kwargs.values()), None)
            registered.append(Registration(name, what))
            return original(self, *args, **kwargs)

        return register

    for name in REGISTERING:
        setattr(App, name, recording(name))
    path = tmp_path_factory.mktemp("manifest") / "okrbot.db"
    db = Database(f"sqlite:///{path}")
    try:
        with SlackDouble() as slack:  # App() calls auth.test on the token
            settings = Settings(_env_file=None, SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET="s3cret", SLACK_API_URL=slack.api_url, DATABASE_URL=f"sqlite:///{path}")
            app, _bot = build_bot(settings, db)
    finally:
        for name, original in originals.items():
            setattr(App, name, original)
    yield app, registered
    db.dispose()


def _routes(app: App, body: dict[str, Any]) -> bool:
    """True when a listener of `app` would take `body` (bolt's own matching)."""
    request = BoltRequest(body=body, mode="socket_mode")
    return any(listener.matches(req=request, resp=BoltResponse(status=200)) for listener in app._listeners)


def _event_body(manifest_event: str) -> dict[str, Any]:
    kind, _, channel_type = manifest_event.partition(".")
    event: dict[str, Any] = {"type": kind, "user": "U1", "ts": "1.1", "event_ts": "1.1", "channel": "C1", "text": "hi"}
    if channel_type:
        event["channel_type"] = channel_type
    return {"type": "event_callback", "team_id": "T1", "api_app_id": "A1", "event_id": "Ev1", "event": event}


def _manifest_events(event: Any, subscribed: set[str]) -> set[str]:
    """The manifest bot_events a registered event listener stands for."""
    if isinstance(event, dict):
        kind, channel_type = event.get("type"), event.get("channel_type")
    else:
        kind, channel_type = event, None
    assert isinstance(kind, str) and (channel_type is None or isinstance(channel_type, str)), (
        f"event listener {event!r}: use plain strings so this test can tell which manifest event it needs"
    )
    if kind == "message":
        if channel_type:
            return {f"message.{channel_type}"}
        return {name for name in subscribed if name.startswith("message.")}  # any message.* reaches it
    return {kind}


def test_every_manifest_slash_command_has_a_listener(manifest, built):
    app, _ = built
    for command in manifest["features"]["slash_commands"]:
        body = {"command": command["command"], "text": "", "team_id": "T1", "user_id": "U1", "channel_id": "C1"}
        assert _routes(app, body), f"{command['command']} is in manifest.yml but no listener handles it"


def test_every_command_listener_is_in_the_manifest(manifest, built):
    _, registered = built
    in_manifest = {command["command"] for command in manifest["features"]["slash_commands"]}
    handled = {r.what for r in registered if r.kind == "command"}
    assert handled, "no slash command listener was registered"
    assert handled <= in_manifest, f"add to features.slash_commands in manifest.yml: {sorted(handled - in_manifest)}"


def test_every_manifest_event_has_a_listener(manifest, built):
    app, _ = built
    for name in manifest["settings"]["event_subscriptions"]["bot_events"]:
        assert _routes(app, _event_body(name)), f"{name} is subscribed in manifest.yml but no listener handles it"


def test_every_event_listener_is_in_the_manifest(manifest, built):
    _, registered = built
    subscribed = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    for registration in registered:
        if registration.kind in ("event", "message"):
            what = "message" if registration.kind == "message" else registration.what
            needs = _manifest_events(what, subscribed)
            assert needs and needs <= subscribed, (
                f"a listener for {registration.what!r} gets nothing until manifest.yml subscribes to {sorted(needs - subscribed) or 'a message.* event'}"
            )


def _first_listener(app: App, body: dict[str, Any]):
    request = BoltRequest(body=body, mode="socket_mode")
    return next((listener for listener in app._listeners if listener.matches(req=request, resp=BoltResponse(status=200))), None)


def test_dms_reach_their_own_listener_and_channel_messages_do_not(built):
    # Bolt runs the first listener that matches. message.im must reach the DM listener,
    # and a channel message (should Slack ever send one) must not be taken for a DM.
    app, _ = built
    dm = _first_listener(app, _event_body("message.im"))
    channel = _first_listener(app, _event_body("message.channels"))
    assert dm is not None and dm is not channel


def test_app_home_and_messages_tab_match_the_listeners(manifest, built):
    app, _ = built
    home = manifest["features"]["app_home"]
    assert home["home_tab_enabled"] is _routes(app, _event_body("app_home_opened"))
    assert home["messages_tab_enabled"] is _routes(app, _event_body("message.im"))
    assert home.get("messages_tab_read_only_enabled") is False, "people type /okr words in the DM"


def test_shortcuts_in_the_manifest_match_shortcut_listeners(manifest, built):
    app, registered = built
    in_manifest = {shortcut["callback_id"] for shortcut in manifest["features"].get("shortcuts", []) or []}
    handled = {r.what if isinstance(r.what, str) else (r.what or {}).get("callback_id") for r in registered if "shortcut" in r.kind}
    assert handled == in_manifest, f"shortcuts in manifest.yml {sorted(in_manifest)} vs listeners {sorted(map(str, handled))}"
    for shortcut in manifest["features"].get("shortcuts", []) or []:
        body = {"type": "shortcut" if shortcut["type"] == "global" else "message_action", "callback_id": shortcut["callback_id"]}
        assert _routes(app, body)


def test_interactivity_is_on_exactly_when_there_are_buttons_or_modals(manifest, built):
    _, registered = built
    interactive = any(r.kind in ("action", "view", "block_action", "view_submission", "options") or "shortcut" in r.kind for r in registered)
    assert manifest["settings"]["interactivity"]["is_enabled"] is interactive


def test_every_modal_callback_has_a_submission_listener(built):
    app, registered = built
    handled = {r.what for r in registered if r.kind in ("view", "view_submission")}
    assert handled == {callback.value for callback in Callback}
    for callback in Callback:
        assert _routes(app, {"type": "view_submission", "view": {"callback_id": callback.value, "type": "modal"}})


@functools.cache
def _source_trees() -> tuple[tuple[Path, ast.AST], ...]:
    return tuple((path, ast.parse(path.read_text(encoding="utf-8"))) for path in sorted(SOURCE.rglob("*.py")))


def _action_ids_in_views() -> set[str]:
    """Action ids that src/okrbot puts on buttons: `Action.X` used outside ids.py and the listeners."""
    used: set[str] = set()
    for path, tree in _source_trees():
        if path.name == "ids.py" or "listeners" in path.parts:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "Action" and node.attr.isupper():
                used.add(Action[node.attr].value)
    return used


def test_every_button_the_bot_sends_has_a_listener(built):
    app, _ = built
    for action_id in sorted(_action_ids_in_views()):
        body = {"type": "block_actions", "actions": [{"action_id": action_id, "block_id": "b", "type": "button"}]}
        assert _routes(app, body), f"buttons with action_id {action_id!r} are sent but no @app.action listener handles them"


# ---------------------------------------------------------------------- scopes

_WEB_API_METHOD = re.compile(r"^(?:admin|api|apps|assistant|auth|bookmarks|bots|calls|canvases|chat|conversations|dialog|dnd|emoji|files|functions|pins|reactions|reminders|search|stars|team|usergroups|users|views|workflows)\.[a-zA-Z]+(?:\.[a-zA-Z]+)*$")


@functools.cache
def web_api_methods_in_source() -> frozenset[str]:
    """Every Slack Web API method src/okrbot calls: client.chat_postMessage(...),
    client.api_call("chat.update", ...), and method names kept as data (the outbox)."""
    found: set[str] = set()
    for _path, tree in _source_trees():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                name = node.func.attr
                if name != "api_call" and "_" in name and not name.startswith("_") and callable(getattr(WebClient, name, None)):
                    found.add(name.replace("_", "."))
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and _WEB_API_METHOD.match(node.value):
                found.add(node.value)
    return frozenset(found)


def test_the_source_scan_finds_the_calls_we_know_about():
    methods = web_api_methods_in_source()
    assert {"chat.postMessage", "chat.update", "chat.postEphemeral", "views.open", "views.publish", "users.info"} <= methods


def test_every_web_api_method_the_code_calls_is_in_the_scope_table():
    unknown = web_api_methods_in_source() - set(METHOD_SCOPES)
    assert not unknown, f"add these methods to METHOD_SCOPES with the bot scopes their docs require: {sorted(unknown)}"


def test_bot_scopes_are_exactly_what_the_code_needs(manifest):
    needed: set[str] = set()
    for method in web_api_methods_in_source() & set(METHOD_SCOPES):
        needed |= METHOD_SCOPES[method]
    for event in manifest["settings"]["event_subscriptions"]["bot_events"]:
        assert event in EVENT_SCOPES, f"add {event!r} to EVENT_SCOPES with the scope its docs require"
        needed |= EVENT_SCOPES[event]
    if manifest["features"].get("slash_commands"):
        needed.add(COMMAND_SCOPE)
    granted = set(manifest["oauth_config"]["scopes"]["bot"])
    assert not needed - granted, f"manifest.yml lacks bot scopes the code needs: {sorted(needed - granted)}"
    assert not granted - needed, f"manifest.yml asks for bot scopes nothing uses (keep them minimal): {sorted(granted - needed)}"


def test_socket_mode_is_off_in_the_manifest_because_request_urls_are_given(manifest):
    # HTTP is the default; the header of manifest.yml says how to switch for SLACK_APP_TOKEN.
    assert manifest["settings"]["socket_mode_enabled"] is False
    assert manifest["settings"]["token_rotation_enabled"] is False
