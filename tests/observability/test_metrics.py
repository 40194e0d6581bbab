"""GET /metrics (issue 18): the Prometheus text format, read back with prometheus_client's
own parser; the counts move with the requests the bot receives and the calls it makes."""

from __future__ import annotations

import json
import logging

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from okrbot.observability import metrics
from okrbot.observability.logs import JsonFormatter
from okrbot.observability.metrics import Level, ScrapeTimeCollector
from okrbot.store.db import Database
from tests.e2e.conftest import Okr
from tests.e2e.harness import bot_settings, running_bot, socket_mode_bot
from tests.fakes.slack_api import SlackDouble
from tests.fakes.slack_client import new_trigger_id
from tests.e2e.test_webhooks import work_hook

TOKEN = "scrape-token-7f3a"


def scrape(url: str, token: str | None = TOKEN) -> dict[tuple[str, frozenset], float]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx.get(f"{url}/metrics", headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return parsed(response.text)


def parsed(text: str) -> dict[tuple[str, frozenset], float]:
    """Every sample, read with prometheus_client's own parser."""
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def metered(slack, database_url):
    with running_bot(slack, database_url, OKRBOT_METRICS="on", OKRBOT_METRICS_TOKEN=TOKEN) as (bot, client):
        yield bot, client


def test_metrics_parse_and_move_with_requests_slack_calls_and_the_outbox(metered, slack):
    bot, client = metered
    okr = Okr(bot, client, slack)
    before = scrape(bot.url)
    assert value(before, "okrbot_workers", state="up") == 1 and value(before, "okrbot_database_up") == 1

    okr.ok('objective add "Metered" team <#C2|growth>', user="U1")  # its announcement: chat.postMessage
    slack.fail("chat.postMessage", status=429, retry_after=1)  # the next post: Slack says slow down
    okr.ok('objective add "Held back" team <#C2|growth>', user="U1")
    okr("checkin KR-99 4")  # an answer that is a problem is still a request that went through
    assert client.command("status all", bad_signature=True).status_code == 401
    assert work_hook(bot, {"initiative": "I-1", "status": "done"}, secret="not-ours").status_code == 401
    bot.settle()

    after = scrape(bot.url)
    moved = lambda name, **labels: value(after, name, **labels) - value(before, name, **labels)  # noqa: E731
    assert moved("okrbot_requests_total", kind="command", outcome="ok") == 3
    assert moved("okrbot_requests_total", kind="refused:slack", outcome="refused") == 1
    assert moved("okrbot_requests_total", kind="webhook:work", outcome="refused") == 1
    assert moved("okrbot_webhook_deliveries_total", source="work", outcome="refused") == 1
    assert moved("okrbot_ack_seconds_count", route="slack") == 4
    assert moved("okrbot_answer_seconds_count", route="slack") == 3
    assert moved("okrbot_slack_api_calls_total", method="chat.postMessage", status="200") >= 1
    assert moved("okrbot_slack_api_calls_total", method="chat.postMessage", status="429") == 1
    assert moved("okrbot_messages_sent_total", kind="objective") == 1
    # The held-back announcement waits in the outbox; the gauges read it from the database.
    assert value(after, "okrbot_outbox_backlog") == 1
    assert value(after, "okrbot_outbox_oldest_age_seconds") >= 0
    # Every acknowledged request is done: the inbox is empty, and so is its age.
    assert value(after, "okrbot_inbox_backlog") == 0 and value(after, "okrbot_inbox_oldest_age_seconds") == 0


def test_a_scrape_needs_the_token_when_one_is_set(metered):
    bot, _client = metered
    assert httpx.get(f"{bot.url}/metrics", timeout=10).status_code == 401
    assert httpx.get(f"{bot.url}/metrics", headers={"Authorization": "Bearer wrong"}, timeout=10).status_code == 401
    assert "okrbot_requests" in httpx.get(f"{bot.url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10).text


def test_metrics_are_off_unless_turned_on(served):
    bot, _client = served
    assert httpx.get(f"{bot.url}/metrics", timeout=10).status_code == 404


def test_one_log_line_per_request_with_its_key_kind_workspace_outcome_and_duration(served, slack, caplog):
    bot, client = served
    caplog.set_level(logging.INFO, logger="okrbot.requests")
    okr = Okr(bot, client, slack)
    okr.ok('objective add "Logged"', user="U1")
    bot.settle()
    lines = [record for record in caplog.records if record.name == "okrbot.requests"]
    assert len(lines) == 1, [record.getMessage() for record in lines]
    fields = json.loads(JsonFormatter().format(lines[0]))  # OKRBOT_LOG_FORMAT=json
    assert fields["kind"] == "command" and fields["team"] == "T1" and fields["outcome"] == "ok"
    assert fields["key"] and fields["duration_ms"] >= 0 and fields["level"] == "info"
    message = lines[0].getMessage()
    assert f"key={fields['key']}" in message and "kind=command team=T1 outcome=ok" in message


def test_socket_mode_requests_are_counted_too(database_url):
    with SlackDouble(socket_mode=True) as slack:
        settings = bot_settings(slack, database_url, SLACK_APP_TOKEN="xapp-1-A1-metrics", SLACK_SIGNING_SECRET="", OKRBOT_METRICS="on")
        db = Database(settings.database_url)
        collector = ScrapeTimeCollector(db, lambda: (1, 1))
        before = parsed(metrics.scrape(collector).decode())
        try:
            with socket_mode_bot(settings, db) as dispatcher:
                slack.socket_mode.wait_connected(1)
                payload = {
                    "team_id": "T1", "channel_id": "C1", "user_id": "U1", "command": "/okr", "text": 'objective add "Over the socket"',
                    "api_app_id": "A1", "response_url": slack.response_url("metrics-socket"), "trigger_id": new_trigger_id(),
                }
                slack.socket_mode.wait_for_ack(slack.socket_mode.send_envelope("slash_commands", payload, accepts_response_payload=True))
                slack.wait_for("response_url", predicate=lambda call: call.path == "/response/metrics-socket")
                assert dispatcher.wait_idle(10)
            after = parsed(metrics.scrape(collector).decode())
        finally:
            db.dispose()
    assert value(after, "okrbot_requests_total", kind="command", outcome="ok") - value(before, "okrbot_requests_total", kind="command", outcome="ok") == 1
    assert value(after, "okrbot_ack_seconds_count", route="socket") - value(before, "okrbot_ack_seconds_count", route="socket") == 1


def test_a_level_read_at_scrape_time_is_one_line_and_a_failing_one_is_left_out(db):
    levels = [Level("okrbot_test_level", "A level kept outside the main database.", lambda: 7), Level("okrbot_broken_level", "Cannot be read.", lambda: 1 / 0)]
    found = parsed(metrics.scrape(ScrapeTimeCollector(db, lambda: (1, 1), levels)).decode())
    assert value(found, "okrbot_test_level") == 7
    assert ("okrbot_broken_level", frozenset()) not in found and value(found, "okrbot_outbox_backlog") == 0
