"""The work side: runs each Job through bolt's listeners or the webhook receiver.

A few threads take jobs from one queue, answered jobs first (someone is waiting on
them), the rest in the order they came. Units of work are short and mostly Python,
so more threads would only queue on the GIL.
"""

from __future__ import annotations

import itertools
import json
import logging
import queue
import threading
from collections.abc import Callable

from slack_bolt.request import BoltRequest

from okrbot.config import Settings
from okrbot.jobs.job import Answer, Job, Route
from okrbot.slack.app import build_bot
from okrbot.slack.errors import reference_id
from okrbot.store.db import Database
from okrbot.webhooks import WebhookReceiver

log = logging.getLogger("okrbot.jobs")

WORK_THREADS = 4
_STOP = None


class JobRunner:
    def __init__(self, settings: Settings, db: Database, *, threads: int = WORK_THREADS) -> None:
        self.bolt, self.bot = build_bot(settings, db)
        self.webhooks = WebhookReceiver(settings, self.bot)
        self._queue: queue.PriorityQueue = queue.PriorityQueue()
        self._order = itertools.count()
        self._threads = [threading.Thread(target=self._work, name=f"okrbot-work-{n}", daemon=True) for n in range(threads)]
        self._report: Callable[[Answer], None] = lambda _answer: None

    def start(self, report: Callable[[Answer], None]) -> None:
        """`report` gets every job's Answer, from the thread that ran it."""
        self._report = report
        for thread in self._threads:
            thread.start()

    def put(self, job: Job) -> None:
        self._queue.put((0 if job.answer_wanted else 1, next(self._order), job))

    def stop(self, timeout: float = 60.0) -> None:
        """Finish every job already queued, then stop the threads."""
        for _ in self._threads:
            self._queue.put((2, next(self._order), _STOP))
        for thread in self._threads:
            thread.join(timeout)

    def _work(self) -> None:
        while True:
            _rank, _order, job = self._queue.get()
            if job is _STOP:
                return
            self._report(self.run(job))

    def run(self, job: Job) -> Answer:
        try:
            if job.route is Route.SLACK:
                return _from_bolt(job.id, self.bolt.dispatch(BoltRequest(body=job.body.decode("utf-8"), query=job.query, headers=job.headers)))
            if job.route is Route.SOCKET:
                return _from_bolt(job.id, self.bolt.dispatch(BoltRequest(mode="socket_mode", body=job.body, headers=job.headers or None)))
            receive = self.webhooks.github if job.route is Route.GITHUB else self.webhooks.work
            status, payload = receive(job.body, job.headers)
            return Answer(job.id, status, json.dumps(payload).encode(), {"content-type": "application/json"})
        except Exception:  # noqa: BLE001 - bolt answers listener errors itself; this is a bug in between
            ref = reference_id()
            log.exception("a %s request could not be handled (ref %s)", job.route.value, ref)
            if job.route in (Route.SLACK, Route.SOCKET):
                return Answer(job.id, 200)  # an error page would show Slack's "failed" banner and nothing useful
            return Answer(job.id, 500, json.dumps({"ok": False, "error": f"Not applied (ref {ref}); send it again."}).encode(), {"content-type": "application/json"})


def _from_bolt(job_id: int, response) -> Answer:
    body = response.body.encode() if isinstance(response.body, str) else (response.body or b"")
    return Answer(job_id, response.status, body, {key: values[0] for key, values in response.headers.items() if values})
