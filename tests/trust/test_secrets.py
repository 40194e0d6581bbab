"""Secrets never appear in logs (issue 8).

The bot runs with known secret values (bot token, signing secret, webhook secret,
app token, a DATABASE_URL with a password) through ordinary flows, refusals and
faults, with every logger (okrbot, bolt, slack_sdk, SQLAlchemy, uvicorn) at
DEBUG; no log record, message or traceback holds any of them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import traceback

import httpx
import pytest
from sqlalchemy.engine import make_url

from okrbot.config import Settings
from okrbot.store.db import Database
from tests.conftest import ON_POSTGRES
from tests.e2e.conftest import Okr
from tests.e2e.harness import RunningBot, bot_settings, socket_mode_bot
from tests.fakes.slack_api import SlackDouble
from tests.fakes.slack_client import SignedSlackClient, app_mention, new_trigger_id

BOT_TOKEN = "xoxb-1111-SECRETbottoken4242"
SIGNING_SECRET = "SECRETsigning-9c1e5b0a"
WEBHOOK_SECRET = "SECRETwebhook-77d3"
APP_TOKEN = "xapp-1-A1-SECRETapptoken-555"
DB_PASSWORD = "SECRETdbpass-31337"
SECRETS = [BOT_TOKEN, SIGNING_SECRET, WEBHOOK_SECRET, APP_TOKEN, DB_PASSWORD]
LOGGERS = ["", "okrbot", "okrbot.bolt", "slack_bolt", "slack_sdk", "sqlalchemy", "sqlalchemy.engine", "sqlalchemy.pool", "uvicorn", "alembic", "httpx", "urllib3"]


@pytest.fixture
def everything_logged(caplog):
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def assert_no_secret_in(records, *, from_loggers=("okrbot", "slack_sdk", "sqlalchemy")) -> None:
    sources = {record.name.split(".")[0] for record in records}
    assert set(from_loggers) <= sources, f"too little was logged for the test to prove anything: {sorted(sources)}"
    for record in records:
        text = record.getMessage() + repr(record.args)
        if record.exc_info:
            text += "".join(traceback.format_exception(*record.exc_info))
        for secret in SECRETS:
            assert secret not in text, f"{record.name}: {secret!r} logged in {text[:500]!r}"


def with_password(database_url: str) -> str:
    """The test database's URL with a password in it (ignored by the local server's trust
    auth), or, for SQLite, a PostgreSQL URL with a password where nothing listens."""
    if ON_POSTGRES:
        return make_url(database_url).set(password=DB_PASSWORD).render_as_string(hide_password=False)
    return f"postgresql://okrbot:{DB_PASSWORD}@127.0.0.1:1/okrbot"


def webhook(bot: RunningBot, path: str, payload: dict, *, secret: str = WEBHOOK_SECRET, event: str = "issues") -> httpx.Response:
    body = json.dumps(payload).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    header = "X-Hub-Signature-256" if path == "github" else "X-Okrbot-Signature"
    return httpx.post(f"{bot.url}/webhooks/{path}", content=body, headers={header: signature, "X-GitHub-Event": event}, timeout=10)


def test_settings_never_show_their_secrets(database_url):
    settings = Settings(
        _env_file=None, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_APP_TOKEN=APP_TOKEN,
        OKRBOT_WEBHOOK_SECRET=WEBHOOK_SECRET, DATABASE_URL=f"postgresql://u:{DB_PASSWORD}@127.0.0.1/x",
    )
    for shown in (repr(settings), str(settings), f"{settings!r}"):
        assert not any(secret in shown for secret in SECRETS), shown


def test_no_secret_is_logged_through_http_flows_refusals_and_faults(everything_logged, slack, database_url):
    settings = bot_settings(
        slack, with_password(database_url), SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET, OKRBOT_WEBHOOK_SECRET=WEBHOOK_SECRET
    )
    db = Database(settings.database_url)
    bot = RunningBot(settings, db)
    bot.start()
    client = SignedSlackClient(bot.url, SIGNING_SECRET, response_url_factory=slack.response_url)
    try:
        okr = Okr(bot, client, slack)
        for command in ('objective add "Ship" team <#C1|c>', 'kr add O-1 "Adopted" by initiatives', 'initiative add KR-1 "Build"',
                        "done I-1", "status all", "checkin KR-9 4", "nonsense words", "done I-1"):
            okr(command, user="U1")
        okr("archive O-1", user="U2")  # refused
        slack.fail("chat.postMessage", status=500)
        slack.fail("response_url", status=500)
        okr("reopen I-1")
        slack.fail("chat.postMessage", status=429, retry_after=1)
        # 503 where the database is away (on SQLite this test points at one that is): Slack resends events.
        assert client.event(app_mention("status all")).status_code in (200, 503)
        assert client.event(client.app_home_opened("U1")).status_code in (200, 503)
        assert client.block_action("initiative_mark_done", "I-1").status_code == 200
        assert client.block_action("initiative_mark_done", "I-1", bad_signature=True).status_code == 401
        assert client.raw(b"payload=%7Bnot+json", headers={"Content-Type": "application/x-www-form-urlencoded"}).status_code == 400
        bot.settle()
        assert webhook(bot, "work", {"initiative": "I-1", "status": "done"}).status_code in (200, 503)
        assert webhook(bot, "work", {"initiative": "I-1"}, secret="wrong").status_code in (401, 503)
        assert webhook(bot, "github", {"action": "closed", "issue": {"html_url": "https://github.com/a/b/issues/1"}}).status_code in (202, 503)
        httpx.get(f"{bot.url}/healthz", timeout=10)
        bot.bot.deliver(None)  # the sweeper's pass (it logs, and does not raise, when the database is down)
    finally:
        client.close()
        bot.stop()
        db.dispose()
    assert_no_secret_in(everything_logged.records)


def test_no_secret_is_logged_in_socket_mode(everything_logged, database_url):
    with SlackDouble(socket_mode=True) as slack:
        settings = bot_settings(slack, database_url, SLACK_APP_TOKEN=APP_TOKEN, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET="")
        db = Database(settings.database_url)
        try:
            with socket_mode_bot(settings, db):
                slack.socket_mode.wait_connected(1)
                name = "secret-socket"
                payload = {
                    "team_id": "T1", "channel_id": "C1", "user_id": "U1", "command": "/okr", "text": 'objective add "Over the socket"',
                    "api_app_id": "A1", "response_url": slack.response_url(name), "trigger_id": new_trigger_id(),
                }
                slack.socket_mode.wait_for_ack(slack.socket_mode.send_envelope("slash_commands", payload, accepts_response_payload=True))
                slack.wait_for("response_url", predicate=lambda c: c.path == f"/response/{name}")
        finally:
            db.dispose()
    assert any(call.token == APP_TOKEN for call in slack.calls("apps.connections.open"))  # it was used
    assert_no_secret_in(everything_logged.records, from_loggers=("slack_sdk", "okrbot"))
