"""The server's side of the jobs: give each to the least busy worker, resolve its answer."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Sequence
from concurrent.futures import Future

from okrbot.config import Settings
from okrbot.jobs.job import Answer, Job, Route
from okrbot.jobs.lanes import InProcessLane, Lane, ProcessLane
from okrbot.jobs.runner import JobRunner
from okrbot.store.db import Database

START_TIMEOUT = 120.0


class Dispatcher:
    def __init__(self, lanes: Sequence[Lane]) -> None:
        if not lanes:
            raise ValueError("a dispatcher needs at least one lane")
        self.lanes = list(lanes)
        self._ids = itertools.count(1)
        self._futures: dict[int, Future[Answer]] = {}
        self._changed = threading.Condition()

    @classmethod
    def with_processes(cls, settings: Settings, count: int) -> Dispatcher:
        """`okrbot serve`: `count` worker processes; the first also runs the scheduler."""
        return cls([ProcessLane(settings, index=n, run_scheduler=n == 0) for n in range(count)])

    @classmethod
    def in_process(cls, settings: Settings, db: Database) -> Dispatcher:
        """Everything in this process, on the runner's threads (tests)."""
        return cls([InProcessLane(JobRunner(settings, db))])

    def start(self, timeout: float = START_TIMEOUT) -> None:
        """Start every worker and wait until each is ready (raises WorkerFailed)."""
        for lane in self.lanes:
            lane.start(self._answered)
        for lane in self.lanes:
            lane.wait_ready(timeout)

    def submit(self, route: Route, body: object, *, headers: dict[str, str] | None = None, query: str = "", answer_wanted: bool = False, token: str = "") -> Future[Answer]:
        job = Job(next(self._ids), route, body, headers or {}, query, answer_wanted, token)
        future: Future[Answer] = Future()
        with self._changed:
            self._futures[job.id] = future
        min(self.lanes, key=lambda lane: lane.in_flight).send(job)
        return future

    def working(self) -> int:
        """Workers up and taking jobs."""
        return sum(lane.working for lane in self.lanes)

    def wait_idle(self, timeout: float) -> bool:
        """True once every job submitted so far has been answered."""
        with self._changed:
            return self._changed.wait_for(lambda: not self._futures, timeout)

    def close(self, timeout: float = 60.0) -> None:
        """Finish every job, then stop the workers."""
        for lane in self.lanes:
            lane.close(timeout)

    def _answered(self, answer: Answer) -> None:
        """The first answer resolves the job's future; the job counts until it is done."""
        with self._changed:
            future = self._futures.pop(answer.job_id, None) if answer.done else self._futures.get(answer.job_id)
            self._changed.notify_all()
        if future is not None and not future.done():
            future.set_result(answer)
