"""A real worker process behind the dispatcher (what `okrbot serve` runs): it is started
again when it dies, what it had claimed is worked on again and applied once, and a stop
finishes what was accepted."""

from __future__ import annotations

import os
import signal
from urllib.parse import urlencode

import pytest
from sqlmodel import select

from okrbot.runtime.jobs import Route
from okrbot.runtime.jobs.dispatcher import Dispatcher
from okrbot.runtime.jobs.lanes import WorkerFailed
from okrbot.store.db import Database
from okrbot.adapters.slack.routing import inspect_request
from okrbot.store.models import Objective
from tests.e2e.harness import bot_settings
from tests.fakes.slack_api import SlackDouble


def command(text: str, slack: SlackDouble, name: str) -> bytes:
    """An /okr command as Slack's form body (the server checked its signature already)."""
    return urlencode({
        "team_id": "T1", "channel_id": "C1", "user_id": "U1", "command": "/okr", "text": text,
        "api_app_id": "A1", "response_url": slack.response_url(name), "trigger_id": f"1.2.{name}",
    }).encode()


def submit(dispatcher: Dispatcher, body: bytes):
    return dispatcher.submit(Route.SLACK, body, key=inspect_request(body, "application/x-www-form-urlencoded").key)


def titles(db: Database) -> list[str]:
    with db.session_scope(read_only=True) as session:
        return list(session.exec(select(Objective.title)).all())


@pytest.fixture
def slack():
    with SlackDouble() as double:
        yield double


def test_a_killed_worker_comes_back_and_every_acknowledged_request_is_applied_once(slack, database_url):
    settings = bot_settings(slack, database_url)
    db = Database(settings.database_url)
    dispatcher = Dispatcher.with_processes(settings, 1)
    lane = dispatcher.lanes[0]
    try:
        dispatcher.start()
        slack.delay("response_url", 1.0)  # each answer takes a second: requests wait in the inbox
        for n in range(4):
            submit(dispatcher, command(f'objective add "Job {n}"', slack, f"job{n}"))
        slack.wait_in_progress("response_url", timeout=20)  # job 0 is saved; its answer is on its way
        os.kill(lane.process.pid, signal.SIGKILL)
        assert dispatcher.wait_idle(60)
    finally:
        dispatcher.close(timeout=30)
    assert lane.restarts == 1
    # Every acknowledged command was done, and the one saved just before the kill is not
    # saved again when the next worker runs it.
    assert sorted(titles(db)) == [f"Job {n}" for n in range(4)]
    db.dispose()


def test_stopping_finishes_every_accepted_request_first(slack, database_url):
    settings = bot_settings(slack, database_url)
    db = Database(settings.database_url)
    dispatcher = Dispatcher.with_processes(settings, 1)
    dispatcher.start()
    slack.delay("response_url", 0.3)
    for n in range(5):
        submit(dispatcher, command(f'objective add "Late {n}"', slack, f"late{n}"))
    dispatcher.close(timeout=60)
    assert sorted(titles(db)) == [f"Late {n}" for n in range(5)]
    assert not dispatcher.lanes[0].process.is_alive()
    db.dispose()


def test_a_worker_that_cannot_start_says_why(slack, database_url):
    slack.set_response("auth.test", {"ok": False, "error": "invalid_auth"})
    settings = bot_settings(slack, database_url)
    dispatcher = Dispatcher.with_processes(settings, 1)
    with pytest.raises(WorkerFailed, match="invalid_auth"):
        dispatcher.start(timeout=60)
    dispatcher.close(timeout=5)
