"""Where requests are worked on: worker processes (`okrbot serve`) or threads in this
process (tests). Either way the requests themselves are in the inbox, not here: a lane
only wakes its worker and, for a process, starts it again when it dies, handing back
at once what it had claimed.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from typing import Protocol

from okrbot.config import Settings
from okrbot.runtime.jobs.child import READY, WAKE, worker_main
from okrbot.runtime.jobs.runner import JobRunner
from okrbot.runtime.jobs.worker import InboxWorker, worker_name
from okrbot.store.inbox import Inbox

log = logging.getLogger("okrbot.runtime.jobs")

RESTART_DELAYS = (0.5, 1, 2, 5, 10, 30)  # seconds before each restart in a row; then 30 s each


class WorkerFailed(RuntimeError):
    """A worker could not start (bad settings, the database or Slack refusing)."""


class Lane(Protocol):
    def start(self) -> None: ...
    def wait_ready(self, timeout: float) -> None: ...
    def wake(self) -> None: ...
    @property
    def working(self) -> bool: ...
    def close(self, timeout: float) -> None: ...


class InProcessLane:
    """An InboxWorker on threads of this process."""

    def __init__(self, inbox: Inbox, runner: JobRunner) -> None:
        self.runner = runner
        self.worker = InboxWorker(inbox, runner, name=worker_name("in-process"), poll=0.2)

    def start(self) -> None:
        self.worker.start()

    def wait_ready(self, timeout: float) -> None:
        return None

    def wake(self) -> None:
        self.worker.wake.set()

    @property
    def working(self) -> bool:
        return True

    def close(self, timeout: float) -> None:
        self.worker.stop(timeout)


class ProcessLane:
    """One worker process, supervised by a thread: started, woken, started again after
    a crash (its claims handed back first), stopped when its work is done."""

    def __init__(self, settings: Settings, inbox: Inbox, *, index: int, run_scheduler: bool) -> None:
        self.settings, self.inbox, self.index, self.run_scheduler = settings, inbox, index, run_scheduler
        self._context = multiprocessing.get_context("spawn")  # a clean interpreter: no threads or connections copied
        self._lock = threading.Lock()  # one writer on the pipe at a time
        self._conn = None  # the pipe to the running worker, when it is ready
        self._closing = threading.Event()
        self._wanted = threading.Event()  # wake the worker (coalesces a burst into one message)
        self._ready = threading.Event()
        self._failure: str | None = None
        self.process = None
        self.name = ""
        self.restarts = 0
        self._supervisor = threading.Thread(target=self._supervise, name=f"okrbot-worker-{index}", daemon=True)
        self._waker = threading.Thread(target=self._send_wakes, name=f"okrbot-wake-{index}", daemon=True)

    def start(self) -> None:
        self._supervisor.start()
        self._waker.start()

    def wait_ready(self, timeout: float) -> None:
        if not self._ready.wait(timeout):
            raise WorkerFailed(f"worker {self.index} did not start within {timeout:.0f} s")
        if self._failure:
            raise WorkerFailed(self._failure)

    def wake(self) -> None:
        self._wanted.set()

    @property
    def working(self) -> bool:
        """Its worker is up and taking requests (not starting or starting again)."""
        return self._conn is not None

    def close(self, timeout: float) -> None:
        """Let the worker finish what it claimed, then stop it."""
        self._closing.set()
        self._wanted.set()
        self._send(None)
        self._supervisor.join(timeout)
        if self._supervisor.is_alive() and self.process is not None:
            log.error("worker %d did not finish within %.0f s; stopping it", self.index, timeout)
            self.process.kill()
            self._supervisor.join(5)

    # ----------------------------------------------------------------- threads

    def _send(self, message: object) -> None:
        with self._lock:
            if self._conn is None:
                return
            try:
                self._conn.send(message)
            except OSError:
                pass  # the worker died: the supervisor starts the next one

    def _send_wakes(self) -> None:
        while not self._closing.is_set():
            self._wanted.wait()
            self._wanted.clear()
            if not self._closing.is_set():
                self._send(WAKE)

    def _supervise(self) -> None:
        failures = 0
        while True:
            self.name = worker_name(f"w{self.index}")
            process, conn = self._spawn()
            if self._await_ready(conn, process):
                failures = 0
                with self._lock:
                    self._conn = conn
                self._ready.set()
                if self._closing.is_set():
                    self._send(None)
                self._watch(conn)
            process.join()
            with self._lock:
                self._conn = None
                conn.close()
            self._hand_back()
            if self._closing.is_set():
                return
            if not self._ready.is_set():
                self._ready.set()  # the first start failed: serve reports it and exits
                return
            delay = RESTART_DELAYS[min(failures, len(RESTART_DELAYS) - 1)]
            failures += 1
            self.restarts += 1
            log.error("worker %d stopped (exit code %s); starting it again in %.1f s", self.index, process.exitcode, delay)
            time.sleep(delay)

    def _hand_back(self) -> None:
        try:
            released = self.inbox.release(self.name)
        except Exception:  # noqa: BLE001 - then they are taken again when their lease ends
            log.warning("could not hand back worker %d's requests", self.index, exc_info=True)
            return
        if released:
            log.warning("worker %d left %d requests unfinished; they are worked on again", self.index, released)

    def _spawn(self):
        parent_end, child_end = self._context.Pipe(duplex=True)
        process = self._context.Process(
            target=worker_main,
            args=(child_end, self.settings, os.getpid(), self.run_scheduler, self.name),
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

    def _watch(self, conn) -> None:
        """Until the worker exits (its end of the pipe closes)."""
        while True:
            try:
                conn.recv()
            except (EOFError, OSError):
                return
