"""A worker: claims requests from the inbox, runs them, records them done.

It claims only as many requests as it has idle threads, so a busy worker leaves the
rest to the others. What it has finished is recorded done with its next claim, in one
transaction (a request run again before that record finds its keys taken and changes
nothing); a request whose sender waits for the answer is recorded at once. While it
works it extends its leases (a heartbeat), so nobody takes a slow request from it. It wakes when told a request arrived (a NOTIFY on
PostgreSQL, a nudge from its server on SQLite) and otherwise looks every `poll`
seconds, which also picks up what a dead worker left once its lease ran out.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid

from okrbot.runtime.jobs.job import TOKEN_HEADER, Answer, Job, Route
from okrbot.runtime.jobs.runner import JobRunner
from okrbot.observability.requests import RequestLedger
from okrbot.store.events import forget_old_keys
from okrbot.store.inbox import LEASE, NOTIFY_CHANNEL, Claimed, Finished, Inbox, StoredAnswer
from okrbot.store.types import utcnow

log = logging.getLogger("okrbot.runtime.jobs")

HEARTBEAT_SECONDS = LEASE.total_seconds() / 3
PRUNE_SECONDS = 600.0


def worker_name(label: str = "worker") -> str:
    """Unique across machines and restarts: its claims are released by this name."""
    return f"{socket.gethostname()}:{os.getpid()}:{label}:{uuid.uuid4().hex[:6]}"


class InboxWorker:
    def __init__(self, inbox: Inbox, runner: JobRunner, *, name: str, poll: float = 1.0) -> None:
        self.inbox, self.runner, self.name, self.poll = inbox, runner, name, poll
        self.wake = threading.Event()  # set by whoever learns that a request arrived
        self._stopping = threading.Event()
        self._held: dict[int, bool] = {}  # claimed request → whether its sender waits for its answer
        self._finished: list[Finished] = []  # done, to be recorded with the next claim
        self.ledger = RequestLedger()
        self._holding = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name=f"okrbot-claim-{name}", daemon=True)
        self._listener: threading.Thread | None = None

    def start(self) -> None:
        self.runner.start(self._answered)
        if self.inbox.notifies:
            self._listener = threading.Thread(target=self._listen, name="okrbot-listen", daemon=True)
            self._listener.start()
        self._thread.start()

    def stop(self, timeout: float = 60.0) -> None:
        """Claim nothing more; finish what was claimed."""
        self._stopping.set()
        self.wake.set()
        self._thread.join(timeout)
        self.runner.stop(timeout)
        self._record_finished()

    @property
    def held(self) -> int:
        with self._holding:
            return len(self._held)

    # ------------------------------------------------------------------ threads

    def _loop(self) -> None:
        beat = prune = time.monotonic()
        while not self._stopping.is_set():
            claimed = self._claim()
            now = time.monotonic()
            if now - beat >= HEARTBEAT_SECONDS:
                beat = now
                self._heartbeat()
            if now - prune >= PRUNE_SECONDS:
                prune = now
                self._prune()
            if not claimed:
                self.wake.wait(self.poll)
                self.wake.clear()

    def _claim(self) -> int:
        free = self.runner.free
        with self._holding:
            finished, self._finished = self._finished, []
        if free <= 0 and not finished:
            return 0
        try:
            claimed = self.inbox.claim(self.name, limit=free, finished=finished)
        except Exception:  # noqa: BLE001 - the database is away: look again later
            log.warning("could not read the inbox; trying again", exc_info=True)
            with self._holding:
                self._finished[:0] = finished
            time.sleep(min(self.poll, 1.0))
            return 0
        for request in claimed:
            with self._holding:
                self._held[request.id] = request.answer_wanted
            job = _job(request)
            self.ledger.claimed(job, request.received_at or utcnow())
            self.runner.put(job)
        return len(claimed)

    def _answered(self, answer: Answer) -> None:
        """Runs on the runner's threads. An early answer (a modal closes when its listener
        acks) is recorded for the waiting sender; the final one marks the request done."""
        stored = StoredAnswer(answer.status, answer.body, answer.headers)
        with self._holding:
            later = answer.done and not self._held.get(answer.job_id, True)
            if later:  # nobody reads this answer: recorded done with the next claim
                self._finished.append(Finished(answer.job_id, stored))
        if not later:
            self._record(answer, stored)
        if answer.done:
            self.ledger.finished(answer.job_id, answer.status)  # counted, timed and logged
            with self._holding:
                self._held.pop(answer.job_id, None)
            self.wake.set()  # a thread is free: claim the next one (and record this one done)

    def _record(self, answer: Answer, stored: StoredAnswer) -> None:
        for attempt in range(5):
            try:
                if answer.done:
                    self.inbox.finish(answer.job_id, stored)
                else:
                    self.inbox.answer(answer.job_id, stored)
                break
            except Exception:  # noqa: BLE001 - it stays claimed and is run again (changing nothing) after the lease
                log.warning("could not record request %s as done (try %d)", answer.job_id, attempt + 1, exc_info=True)
                time.sleep(0.2 * (attempt + 1))

    def _record_finished(self) -> None:
        with self._holding:
            finished, self._finished = self._finished, []
        if finished:
            try:
                self.inbox.claim(self.name, limit=0, finished=finished)
            except Exception:  # noqa: BLE001 - run again after the lease, changing nothing
                log.warning("could not record %d requests as done", len(finished), exc_info=True)

    def _heartbeat(self) -> None:
        with self._holding:
            held = list(self._held)
        try:
            self.inbox.extend(self.name, held)
        except Exception:  # noqa: BLE001
            log.warning("could not extend the inbox leases", exc_info=True)

    def _prune(self) -> None:
        """Done requests and old keys go, so neither table grows with every request."""
        try:
            self.inbox.prune()
            with self.runner.bot.db.session_scope() as session:
                forget_old_keys(session, utcnow())
        except Exception:  # noqa: BLE001
            log.warning("could not prune the inbox", exc_info=True)

    def _listen(self) -> None:
        """PostgreSQL: LISTEN for new requests (from any server on any machine)."""
        import psycopg

        url = self.inbox.db.engine.url.set(drivername="postgresql")
        dsn = url.render_as_string(hide_password=False)
        while not self._stopping.is_set():
            try:
                with psycopg.connect(dsn, autocommit=True) as connection:
                    connection.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    while not self._stopping.is_set():
                        for _notice in connection.notifies(timeout=1.0, stop_after=1):
                            self.wake.set()
            except Exception:  # noqa: BLE001 - polling goes on meanwhile
                log.warning("LISTEN failed; polling until it is back", exc_info=True)
                self._stopping.wait(2.0)


def _job(request: Claimed) -> Job:
    route = Route(request.route)
    body: object = request.body
    if route is Route.SOCKET:
        body = json.loads(request.body)
    headers = dict(request.headers)
    token = headers.pop(TOKEN_HEADER, "")
    return Job(request.id, route, body, headers, request.query, request.answer_wanted, request.key, token)
