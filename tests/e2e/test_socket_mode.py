"""Socket Mode end to end (SPEC §4): with SLACK_APP_TOKEN set, okrbot asks
apps.connections.open (on SLACK_API_URL) for a WebSocket URL, connects, and takes
commands and events as envelopes that it acknowledges by envelope_id. Slack's side
is tests/fakes/socket_mode.py, a real WebSocket server on loopback.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from sqlmodel import select

from okrbot.store.db import Database
from okrbot.store.models import Objective
from tests.e2e.harness import RunningBot, bot_settings, socket_mode_bot
from tests.fakes.slack_api import SlackDouble
from tests.fakes.socket_mode import SocketModeDouble
from tests.fakes.slack_client import app_mention, new_trigger_id

APP_TOKEN = "xapp-1-A1-test"


@dataclass
class SocketBot:
    slack: SlackDouble
    socket: SocketModeDouble
    db: Database
    bolt: object
    bot: object
    settings: object

    def command(self, text: str, *, user: str = "U1", channel: str = "C1", retry_attempt: int = 0) -> tuple[str, str]:
        """Send /okr <text> as a slash_commands envelope; returns (envelope_id, response_url name)."""
        name = f"sm-{uuid.uuid4().hex[:8]}"
        payload = {
            "token": "legacy-verification-token",
            "team_id": "T1",
            "team_domain": "okrbot-test",
            "channel_id": channel,
            "channel_name": channel.lower(),
            "user_id": user,
            "user_name": user.lower(),
            "command": "/okr",
            "text": text,
            "api_app_id": "A1",
            "is_enterprise_install": "false",
            "response_url": self.slack.response_url(name),
            "trigger_id": new_trigger_id(),
        }
        envelope_id = self.socket.send_envelope("slash_commands", payload, accepts_response_payload=True, retry_attempt=retry_attempt)
        return envelope_id, name

    def event(self, event: dict, *, event_id: str | None = None, retry_attempt: int = 0) -> str:
        payload = {
            "token": "legacy-verification-token",
            "team_id": "T1",
            "api_app_id": "A1",
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event_time": int(time.time()),
            "authorizations": [{"enterprise_id": None, "team_id": "T1", "user_id": "UBOT", "is_bot": True, "is_enterprise_install": False}],
            "is_ext_shared_channel": False,
        }
        return self.socket.send_envelope(
            "events_api", payload, retry_attempt=retry_attempt, retry_reason="timeout" if retry_attempt else ""
        )

    def titles(self) -> list[str]:
        with self.db.session_scope() as session:
            return list(session.exec(select(Objective.title).order_by(Objective.number)).all())


@pytest.fixture
def socket_bot(database_url: str) -> Iterator[SocketBot]:
    with SlackDouble(socket_mode=True) as slack:
        assert slack.socket_mode is not None
        settings = bot_settings(slack, database_url, SLACK_APP_TOKEN=APP_TOKEN, SLACK_SIGNING_SECRET="")
        assert settings.socket_mode
        db = Database(settings.database_url)
        try:
            with socket_mode_bot(settings, db) as dispatcher:
                runner = dispatcher.lanes[0].runner
                slack.socket_mode.wait_connected(1)
                yield SocketBot(slack, slack.socket_mode, db, runner.bolt, runner.bot, settings)
        finally:
            db.dispose()


def _said(call) -> str:
    return f"{call.args.get('text', '')} {call.args.get('blocks', '')}"


def test_it_connects_with_the_app_token_through_apps_connections_open(socket_bot):
    opened = socket_bot.slack.calls("apps.connections.open")
    assert len(opened) == 1
    assert opened[0].token == APP_TOKEN  # the app-level token, not the bot token
    assert opened[0].delivered
    assert socket_bot.socket.paths[0].startswith("/link/?ticket=")


def test_a_slash_command_arrives_is_acknowledged_and_answered(socket_bot):
    envelope_id, name = socket_bot.command('objective add "Over the socket"')
    ack = socket_bot.socket.wait_for_ack(envelope_id)
    assert ack["envelope_id"] == envelope_id
    answer = socket_bot.slack.wait_for("response_url", predicate=lambda c: c.path == f"/response/{name}")[-1]
    assert "Over the socket" in _said(answer)
    assert socket_bot.titles() == ["Over the socket"]


def test_an_event_arrives_is_acknowledged_and_answered_in_the_thread(socket_bot):
    envelope_id, _ = socket_bot.command('objective add "Grow activation"')
    socket_bot.socket.wait_for_ack(envelope_id)
    socket_bot.slack.wait_for("response_url")

    mention = app_mention("status all", channel="C1")
    envelope_id = socket_bot.event(mention)
    assert socket_bot.socket.wait_for_ack(envelope_id)["envelope_id"] == envelope_id
    reply = socket_bot.slack.wait_for("chat.postMessage", predicate=lambda c: c.args.get("thread_ts") == mention["ts"])
    assert len(reply) == 1
    assert "Grow activation" in _said(reply[0])


def test_a_redelivered_envelope_applies_once(socket_bot):
    mention = app_mention('objective add "Once over the socket"', channel="C1")
    first = socket_bot.event(mention, event_id="EvSOCKET1")
    socket_bot.socket.wait_for_ack(first)
    socket_bot.slack.wait_for("chat.postMessage", predicate=lambda c: c.args.get("thread_ts") == mention["ts"])
    again = socket_bot.event(mention, event_id="EvSOCKET1", retry_attempt=1)
    socket_bot.socket.wait_for_ack(again)  # acknowledged, so Slack stops redelivering

    # A later command is answered after the retry was handled; the retry posted nothing.
    envelope_id, name = socket_bot.command("status all")
    socket_bot.socket.wait_for_ack(envelope_id)
    socket_bot.slack.wait_for("response_url", predicate=lambda c: c.path == f"/response/{name}")
    assert socket_bot.titles() == ["Once over the socket"]
    assert len([c for c in socket_bot.slack.calls("chat.postMessage") if c.args.get("thread_ts") == mention["ts"]]) == 1


def test_after_a_refresh_disconnect_it_reconnects_and_keeps_answering(socket_bot):
    envelope_id, _ = socket_bot.command('objective add "Before the refresh"')
    socket_bot.socket.wait_for_ack(envelope_id)

    socket_bot.socket.disconnect("refresh_requested", close_after=1.0)
    socket_bot.socket.wait_connected(2, timeout=15)  # a new link, through apps.connections.open again
    assert len(socket_bot.slack.calls("apps.connections.open")) >= 2

    envelope_id, name = socket_bot.command('objective add "After the refresh"')
    assert socket_bot.socket.wait_for_ack(envelope_id, timeout=10)["envelope_id"] == envelope_id
    answer = socket_bot.slack.wait_for("response_url", predicate=lambda c: c.path == f"/response/{name}", timeout=10)[-1]
    assert "After the refresh" in _said(answer)
    assert socket_bot.titles() == ["Before the refresh", "After the refresh"]


def test_in_socket_mode_the_http_server_offers_no_unsigned_slack_endpoint(socket_bot):
    # Socket Mode skips signature checks (requests come over the WebSocket), so the same
    # bolt app must not be reachable over HTTP: anyone could post an unsigned command.
    http_side = RunningBot(socket_bot.settings, socket_bot.db)  # the HTTP server `okrbot serve` runs beside it
    http_side.start()
    try:
        body = {"command": "/okr", "text": 'objective add "Forged"', "team_id": "T1", "user_id": "U1", "channel_id": "C1"}
        response = httpx.post(f"{http_side.url}/slack/events", data=body, timeout=10)
        assert response.status_code in (404, 405)
        assert httpx.get(f"{http_side.url}/healthz", timeout=10).json()["ok"] is True
    finally:
        http_side.stop()
    assert socket_bot.titles() == []
