"""Where jobs go: a worker process (`okrbot serve`) or threads in this process (tests).

Both keep the jobs they were given until each one's Answer comes back; a worker
process that dies is started again and given every job it had not answered, so
nothing acknowledged is dropped. (A job whose work was saved just before the crash,
and not yet answered, runs again: the same `/okr done` changes nothing the second
time, but a check-in would be recorded twice. docs/reliability.md)
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol

from okrbot.config import Settings
from okrbot.jobs.child import READY, worker_main
from okrbot.jobs.job import Answer, Job
from okrbot.jobs.runner import JobRunner

log = logging.getLogger("okrbot.jobs")

RESTART_DELAYS = (0.5, 1, 2, 5, 10, 30)  # seconds before each restart in a row; then 30 s each


class WorkerFailed(RuntimeError):
    """A worker could not start (bad settings, the database or Slack refusing)."""


class Lane(Protocol):
    def start(self, on_answer: Callable[[Answer], None]) -> None: ...
    def wait_ready(self, timeout: float) -> None: ...
    def send(self, job: Job) -> None: ...
    @property
    def in_flight(self) -> int: ...
    @property
    def working(self) -> bool: ...
    def close(self, timeout: float) -> None: ...


class InProcessLane:
    """Jobs run on a JobRunner's threads in this process."""

    def __init__(self, runner: JobRunner) -> None:
        self.runner = runner
        self._count = 0
        self._lock = threading.Lock()

    def start(self, on_answer: Callable[[Answer], None]) -> None:
        def report(answer: Answer) -> None:
            if answer.done:
                with self._lock:
                    self._count -= 1
            on_answer(answer)

        self.runner.start(report)

    def wait_ready(self, timeout: float) -> None:
        return None

    def send(self, job: Job) -> None:
        with self._lock:
            self._count += 1
        self.runner.put(job)

    @property
    def in_flight(self) -> int:
        return self._count

    @property
    def working(self) -> bool:
        return True

    def close(self, timeout: float) -> None:
        self.runner.stop(timeout)


class ProcessLane:
    """One worker process. A supervisor thread starts it (again, after a crash) and reads
    its answers; a sender thread writes jobs to its pipe, so the server never blocks on
    a busy worker."""

    def __init__(self, settings: Settings, *, index: int, run_scheduler: bool) -> None:
        self.settings, self.index, self.run_scheduler = settings, index, run_scheduler
        self._context = multiprocessing.get_context("spawn")  # a clean interpreter: no threads or connections copied
        self._changed = threading.Condition()
        self._sending = threading.Lock()
        self._pending: dict[int, Job] = {}  # given to this lane, not answered yet
        self._unsent: deque[int] = deque()
        self._conn = None  # the pipe to the running worker, when it is ready
        self._closing = False
        self._done = False  # the supervisor has stopped
        self._ready = threading.Event()
        self._failure: str | None = None
        self.process = None
        self.restarts = 0
        self._on_answer: Callable[[Answer], None] = lambda _answer: None
        self._supervisor = threading.Thread(target=self._supervise, name=f"okrbot-worker-{index}", daemon=True)
        self._sender = threading.Thread(target=self._send_jobs, name=f"okrbot-send-{index}", daemon=True)

    def start(self, on_answer: Callable[[Answer], None]) -> None:
        self._on_answer = on_answer
        self._supervisor.start()
        self._sender.start()

    def wait_ready(self, timeout: float) -> None:
        if not self._ready.wait(timeout):
            raise WorkerFailed(f"worker {self.index} did not start within {timeout:.0f} s")
        if self._failure:
            raise WorkerFailed(self._failure)

    def send(self, job: Job) -> None:
        with self._changed:
            self._pending[job.id] = job
            self._unsent.append(job.id)
            self._changed.notify_all()

    @property
    def in_flight(self) -> int:
        return len(self._pending)

    @property
    def working(self) -> bool:
        """Its worker is up and taking jobs (not starting or starting again)."""
        return self._conn is not None

    def close(self, timeout: float) -> None:
        """Let the worker finish every job it was given, then stop it."""
        with self._changed:
            self._closing = True
            self._changed.notify_all()
        self._supervisor.join(timeout)
        if self._supervisor.is_alive() and self.process is not None:
            log.error("worker %d did not finish within %.0f s; stopping it", self.index, timeout)
            self.process.kill()
            self._supervisor.join(5)

    # ----------------------------------------------------------------- threads

    def _send_jobs(self) -> None:
        stopped = None  # the pipe already told to stop
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._done or (self._conn is not None and (self._unsent or (self._closing and self._conn is not stopped))))
                if self._done:
                    return
                conn = self._conn
                if self._unsent:
                    message = self._pending.get(self._unsent.popleft())
                    if message is None:
                        continue
                else:  # closing, and all sent: the worker finishes its queue and exits
                    message, stopped = None, conn
            with self._sending:
                try:
                    conn.send(message)
                except OSError:
                    pass  # the worker died: the supervisor gives its unanswered jobs to the next one

    def _supervise(self) -> None:
        try:
            self._run_worker()
        finally:
            with self._changed:
                self._done = True
                self._changed.notify_all()

    def _run_worker(self) -> None:
        failures = 0
        while True:
            process, conn = self._spawn()
            if self._await_ready(conn, process):
                failures = 0
                with self._changed:
                    # Everything not answered goes to this worker, in the order it came.
                    self._unsent = deque(sorted(self._pending))
                    self._conn = conn
                    self._changed.notify_all()
                self._ready.set()
                self._read_answers(conn)
            process.join()
            with self._changed:
                self._conn = None
            with self._sending:  # never while a send is half-way: its descriptor could be reused
                conn.close()
            with self._changed:
                if self._closing and not self._pending:
                    return
            if not self._ready.is_set():
                self._ready.set()  # the first start failed: serve reports it and exits
                return
            delay = RESTART_DELAYS[min(failures, len(RESTART_DELAYS) - 1)]
            failures += 1
            self.restarts += 1
            log.error("worker %d stopped (exit code %s); starting it again in %.1f s with the %d requests it had not answered", self.index, process.exitcode, delay, len(self._pending))
            time.sleep(delay)

    def _spawn(self):
        parent_end, child_end = self._context.Pipe(duplex=True)
        process = self._context.Process(
            target=worker_main,
            args=(child_end, self.settings, os.getpid(), self.run_scheduler),
            name=f"okrbot-worker-{self.index}",
            daemon=True,
        )
        process.start()
        child_end.close()  # so a dead worker reads as end-of-file here
        self.process = process
        return process, parent_end

    def _await_ready(self, conn, process) -> bool:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            message = ("failed", f"worker {self.index} exited with code {process.exitcode} while starting")
        if message == READY:
            return True
        self._failure = message[1] if isinstance(message, tuple) else repr(message)
        log.error("worker %d could not start: %s", self.index, self._failure)
        return False

    def _read_answers(self, conn) -> None:
        while True:
            try:
                answer = conn.recv()
            except (EOFError, OSError):
                return
            if answer.done:
                with self._changed:
                    self._pending.pop(answer.job_id, None)
            self._on_answer(answer)
