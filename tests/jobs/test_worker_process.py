"""A real worker process behind the dispatcher (what `okrbot serve` runs): it is started
again when it dies, with every job it had not answered, and a stop finishes the queue."""

from __future__ import annotations

import os
import signal
from urllib.parse import urlencode

import pytest
from sqlmodel import select

from okrbot.jobs import Route
from okrbot.jobs.dispatcher import Dispatcher
from okrbot.jobs.lanes import WorkerFailed
from okrbot.store.db import Database
from okrbot.store.models import Objective
from tests.e2e.harness import bot_settings
from tests.fakes.slack_api import SlackDouble


def command(text: str, slack: SlackDouble, name: str) -> bytes:
    """An /okr command as Slack's form body (the server checked its signature already)."""
    return urlencode({
        "team_id": "T1", "channel_id": "C1", "user_id": "U1", "command": "/okr", "text": text,
        "api_app_id": "A1", "response_url": slack.response_url(name), "trigger_id": f"1.2.{name}",
    }).encode()


def titles(db: Database) -> list[str]:
    with db.session_scope(read_only=True) as session:
        return list(session.exec(select(Objective.title)).all())


@pytest.fixture
def slack():
    with SlackDouble() as double:
        yield double


def test_a_killed_worker_comes_back_and_answers_every_acknowledged_job(slack, database_url):
    settings = bot_settings(slack, database_url)
    db = Database(settings.database_url)
    dispatcher = Dispatcher.with_processes(settings, 1)
    lane = dispatcher.lanes[0]
    try:
        dispatcher.start()
        slack.delay("response_url", 1.0)  # each answer takes a second: jobs queue up in the worker
        futures = [dispatcher.submit(Route.SLACK, command(f'objective add "Job {n}"', slack, f"job{n}")) for n in range(4)]
        slack.wait_in_progress("response_url", timeout=20)
        os.kill(lane.process.pid, signal.SIGKILL)
        answers = [future.result(timeout=60) for future in futures]
    finally:
        dispatcher.close(timeout=30)
    assert [answer.status for answer in answers] == [200] * 4
    assert lane.restarts == 1
    # Every acknowledged command was done. (Job 0 was saved before the kill and runs again
    # after it: the documented cost of never losing one; docs/reliability.md.)
    assert {f"Job {n}" for n in range(4)} <= set(titles(db))
    db.dispose()


def test_stopping_finishes_every_job_first(slack, database_url):
    settings = bot_settings(slack, database_url)
    db = Database(settings.database_url)
    dispatcher = Dispatcher.with_processes(settings, 1)
    dispatcher.start()
    slack.delay("response_url", 0.3)
    futures = [dispatcher.submit(Route.SLACK, command(f'objective add "Late {n}"', slack, f"late{n}")) for n in range(5)]
    dispatcher.close(timeout=60)
    assert all(future.done() for future in futures)
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
