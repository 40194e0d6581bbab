"""`okrbot serve` with OKRBOT_METRICS=on and OKRBOT_LOG_FORMAT=json, as an operator runs it:
the scrape sums the server's counts and its worker processes' (multiprocess mode), and
every log line is one JSON object, the request line with its fields."""

from __future__ import annotations

import json
import time

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.test_serve_process import SECRET, TOKEN, base_env
from tests.fakes.slack_api import SlackDouble
from tests.fakes.slack_client import SignedSlackClient


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    return {(s.name, frozenset(s.labels.items())): s.value for family in text_string_to_metric_families(text) for s in family.samples}


def test_serve_counts_across_its_worker_processes_and_logs_json(serve, empty_database_url):
    with SlackDouble() as slack:
        served = serve(base_env(
            DATABASE_URL=empty_database_url, SLACK_API_URL=slack.api_url, SLACK_BOT_TOKEN=TOKEN, SLACK_SIGNING_SECRET=SECRET,
            OKRBOT_WORKERS="2", OKRBOT_METRICS="on", OKRBOT_LOG_FORMAT="json",
        ))
        served.wait_ready()
        with SignedSlackClient(served.url, SECRET, response_url_factory=slack.response_url) as client:
            assert client.command('objective add "Counted" team <#C2|growth>').status_code == 200
            slack.wait_for("chat.postMessage", timeout=30)  # sent by a worker process
            slack.wait_for("response_url", timeout=30)
        found = {}
        for _attempt in range(50):  # the request is counted when its worker reports it done
            found = samples(httpx.get(f"{served.url}/metrics", timeout=10).text)
            if found.get(("okrbot_requests_total", frozenset({("kind", "command"), ("outcome", "ok")}))):
                break
            time.sleep(0.1)
        assert found[("okrbot_requests_total", frozenset({("kind", "command"), ("outcome", "ok")}))] == 1
        # Counted in the worker processes, read by the server: one auth.test per worker at start.
        assert found[("okrbot_slack_api_calls_total", frozenset({("method", "auth.test"), ("status", "200")}))] == 2
        assert found[("okrbot_slack_api_calls_total", frozenset({("method", "chat.postMessage"), ("status", "200")}))] == 1
        assert found[("okrbot_messages_sent_total", frozenset({("kind", "objective")}))] == 1
        assert found[("okrbot_workers", frozenset({("state", "up")}))] == 2
        assert served.stop() == 0

    lines = [line for line in served.output().splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines]  # every line, the workers' too, is JSON
    (request,) = [entry for entry in entries if entry["logger"] == "okrbot.requests"]
    assert request["kind"] == "command" and request["team"] == "T1" and request["outcome"] == "ok" and request["key"]
