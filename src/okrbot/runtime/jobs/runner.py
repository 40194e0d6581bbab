"""The work side: runs each Job through bolt's listeners or the webhook receiver.

A few threads take jobs from one queue, answered jobs first (someone is waiting on
them), the rest in the order they came. Units of work are short and mostly Python,
so more threads would only queue on the GIL. Each job runs under its idempotency key
(services/idempotency.py), so running it a second time changes nothing.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from slack_bolt import BoltContext
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse

from okrbot.config import Settings
from okrbot.runtime.jobs.job import Answer, Job, Route
from okrbot.services import idempotency
from okrbot.adapters.slack.app import build_bot
from okrbot.adapters.slack.errors import reference_id
from okrbot.store.db import Database
from okrbot.adapters.webhooks.receive import WebhookReceiver

log = logging.getLogger("okrbot.runtime.jobs")

WORK_THREADS = 4
_STOP = None
_running = threading.local()  # .job: the job this worker thread is running


class JobRunner:
    def __init__(self, settings: Settings, db: Database, *, threads: int = WORK_THREADS) -> None:
        self.bolt, self.bot = build_bot(settings, db)
        self.bolt.middleware(self._answer_on_ack)
        self.webhooks = WebhookReceiver(settings, self.bot)
        self._queue: queue.PriorityQueue = queue.PriorityQueue()
        self._order = itertools.count()
        self._threads = [threading.Thread(target=self._work, name=f"okrbot-work-{n}", daemon=True) for n in range(threads)]
        self._report: Callable[[Answer], None] = lambda _answer: None
        self._busy = 0  # jobs queued or running
        self._counting = threading.Lock()

    def start(self, report: Callable[[Answer], None]) -> None:
        """`report` gets every job's Answer, from the thread that ran it."""
        self._report = report
        for thread in self._threads:
            thread.start()

    def put(self, job: Job) -> None:
        with self._counting:
            self._busy += 1
        self._queue.put((0 if job.answer_wanted else 1, next(self._order), job))

    @property
    def free(self) -> int:
        """Threads that would start a job at once: how many more a worker should claim."""
        with self._counting:
            return max(0, len(self._threads) - self._busy)

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
            _running.job = job
            try:
                with idempotency.handling(job.key or f"job:{job.id}"):
                    answer = self.run(job)
                with self._counting:
                    self._busy -= 1
                self._report(answer)
            finally:
                _running.job = None

    def _answer_on_ack(self, context: BoltContext, next: Callable[[], Any]) -> Any:  # noqa: A002 - bolt's name
        """Someone waiting on a job (a modal's submit) gets its answer when the listener acks,
        not after what the listener does next (posting the confirmation, the announcement)."""
        job = getattr(_running, "job", None)
        if job is not None and job.answer_wanted and context.ack is not None:
            context["ack"] = _AnswerOnAck(context.ack, lambda response: self._early(job, response))
        return next()

    def _early(self, job: Job, response: BoltResponse) -> None:
        self._report(dataclasses.replace(_from_bolt(job.id, response), done=False))

    def run(self, job: Job) -> Answer:
        try:
            if job.route is Route.SLACK:
                return _from_bolt(job.id, self.bolt.dispatch(BoltRequest(body=job.body.decode("utf-8"), query=job.query, headers=job.headers)))
            if job.route is Route.SOCKET:
                return _from_bolt(job.id, self.bolt.dispatch(BoltRequest(mode="socket_mode", body=job.body, headers=job.headers or None)))
            status, payload = self.webhooks.receive(job.route.value, job.body, job.headers, job.token)
            return Answer(job.id, status, json.dumps(payload).encode(), {"content-type": "application/json"})
        except Exception:  # noqa: BLE001 - bolt answers listener errors itself; this is a bug in between
            ref = reference_id()
            log.exception("a %s request could not be handled (ref %s)", job.route.value, ref)
            if job.route in (Route.SLACK, Route.SOCKET):
                return Answer(job.id, 200)  # an error page would show Slack's "failed" banner and nothing useful
            return Answer(job.id, 500, json.dumps({"ok": False, "error": f"Not applied (ref {ref}); send it again."}).encode(), {"content-type": "application/json"})


class _AnswerOnAck:
    """Bolt's `ack`, which also sends its response on at once."""

    def __init__(self, ack: Any, send: Callable[[BoltResponse], None]) -> None:
        self._ack, self._send = ack, send

    @property
    def response(self) -> BoltResponse | None:
        return self._ack.response

    @response.setter
    def response(self, value: BoltResponse | None) -> None:
        self._ack.response = value

    def __call__(self, *args: Any, **kwargs: Any) -> BoltResponse:
        response = self._ack(*args, **kwargs)
        self._send(response)
        return response


def _from_bolt(job_id: int, response) -> Answer:
    body = response.body.encode() if isinstance(response.body, str) else (response.body or b"")
    return Answer(job_id, response.status, body, {key: values[0] for key, values in response.headers.items() if values})
