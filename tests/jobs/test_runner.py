"""The worker's queue: a request someone is waiting on (a modal submit) goes before
work that was already acknowledged, and a job that fails still gets an answer."""

from __future__ import annotations

import threading
from urllib.parse import urlencode

import pytest

from okrbot.runtime.jobs import Answer, Job, Route
from okrbot.runtime.jobs.runner import JobRunner
from okrbot.store.db import Database
from tests.e2e.harness import bot_settings
from tests.fakes.slack_api import SlackDouble


@pytest.fixture
def runner(database_url: str):
    with SlackDouble() as slack:
        settings = bot_settings(slack, database_url)
        db = Database(settings.database_url)
        yield JobRunner(settings, db, threads=1)
        db.dispose()


def test_a_job_someone_waits_for_runs_before_acknowledged_work(runner, monkeypatch):
    started = threading.Event()
    release = threading.Event()
    order: list[int] = []
    answers: list[Answer] = []

    def run(job: Job) -> Answer:
        order.append(job.id)
        if job.id == 1:  # keeps the only thread busy while the rest queue up
            started.set()
            release.wait(10)
        return Answer(job.id, 200)

    monkeypatch.setattr(runner, "run", run)
    runner.start(answers.append)
    runner.put(Job(1, Route.SLACK, b""))
    assert started.wait(10)
    for job_id in (2, 3):
        runner.put(Job(job_id, Route.SLACK, b""))
    runner.put(Job(4, Route.SLACK, b"", answer_wanted=True))
    runner.put(Job(5, Route.SLACK, b""))
    release.set()
    runner.stop(timeout=10)

    assert order == [1, 4, 2, 3, 5]
    assert sorted(answer.job_id for answer in answers) == [1, 2, 3, 4, 5]


def test_a_job_that_breaks_is_answered_without_an_error_page(runner):
    # A slash command with a body bolt cannot take (no team): logged with a reference, and Slack gets a plain 200.
    answer = runner.run(Job(7, Route.SLACK, urlencode({"command": "/okr"}).encode() + b"&\xff"))
    assert (answer.job_id, answer.status) == (7, 200)


def test_a_webhook_that_breaks_gets_a_500_so_the_sender_retries(runner, monkeypatch):
    def broken(_tool, _body, _headers, _token=""):
        raise RuntimeError("boom")

    monkeypatch.setattr(runner.webhooks, "receive", broken)
    answer = runner.run(Job(8, Route.GITHUB, b"{}"))
    assert answer.status == 500
    assert b"send it again" in answer.body
