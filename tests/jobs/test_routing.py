"""Which Slack requests the server acknowledges at once, and which wait for the work:
only those whose HTTP answer Slack reads may wait (adapters/slack/routing.py); and how many
workers `okrbot serve` hands them to."""

from __future__ import annotations

import json
import os
from urllib.parse import urlencode

import pytest

from okrbot.config import Settings
from okrbot.adapters.slack.routing import UnreadableRequest, interaction_wants_answer, wants_answer

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


def interaction(kind: str) -> bytes:
    return urlencode({"payload": json.dumps({"type": kind, "team": {"id": "T1"}, "user": {"id": "U1"}})}).encode()


CASES = {
    "slash command": (urlencode({"command": "/okr", "text": "status", "response_url": "http://127.0.0.1/r"}).encode(), FORM, False),
    "button click": (interaction("block_actions"), FORM, False),
    "shortcut": (interaction("shortcut"), FORM, False),
    "modal submit (field errors come back in the answer)": (interaction("view_submission"), FORM, True),
    "modal closed": (interaction("view_closed"), FORM, True),
    "options for a select": (interaction("block_suggestion"), FORM, True),
    "event": (json.dumps({"type": "event_callback", "event": {"type": "app_mention"}}).encode(), JSON, False),
    "url verification (the challenge is the answer)": (json.dumps({"type": "url_verification", "challenge": "abc"}).encode(), JSON, True),
    "ssl check": (urlencode({"ssl_check": "1", "token": "x"}).encode(), FORM, True),
    "json with a charset": (json.dumps({"type": "event_callback"}).encode(), "application/json; charset=utf-8", False),
}


@pytest.mark.parametrize(("body", "content_type", "expected"), CASES.values(), ids=CASES.keys())
def test_only_requests_whose_answer_slack_reads_wait_for_the_work(body, content_type, expected):
    assert wants_answer(body, content_type) is expected


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"\xff\xfe not utf-8", FORM),
        (b"{not json", JSON),
        (urlencode({"payload": "{broken"}).encode(), FORM),
    ],
    ids=["not utf-8", "broken json", "broken payload"],
)
def test_a_body_slack_would_never_send_is_refused(body, content_type):
    with pytest.raises(UnreadableRequest):
        wants_answer(body, content_type)


def test_socket_mode_interactions_use_the_same_rule():
    assert interaction_wants_answer({"type": "view_submission"})
    assert not interaction_wants_answer({"type": "block_actions"})


@pytest.mark.parametrize(
    ("database_url", "workers", "expected"),
    [
        ("sqlite:///okrbot.db", None, 1),
        ("postgresql://db/okrbot", None, max(1, min(os.cpu_count() or 1, 4))),
        ("postgresql://db/okrbot", "3", 3),
        ("sqlite:///okrbot.db", "2", 2),
    ],
    ids=["sqlite", "postgresql: a worker per core", "set", "set on sqlite"],
)
def test_how_many_workers_serve_starts(database_url, workers, expected):
    values = {"DATABASE_URL": database_url, **({"OKRBOT_WORKERS": workers} if workers else {})}
    assert Settings(_env_file=None, **values).worker_count == expected
