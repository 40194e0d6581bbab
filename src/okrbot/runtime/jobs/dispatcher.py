"""The server's side: write each request to the inbox, wake the workers, and read the
answer back for a sender that waits for one (a modal's field errors, a webhook)."""

from __future__ import annotations

import time
from collections.abc import Sequence

from okrbot.config import Settings
from okrbot.runtime.jobs.job import Answer, Route
from okrbot.runtime.jobs.lanes import InProcessLane, Lane, ProcessLane
from okrbot.runtime.jobs.runner import JobRunner
from okrbot.store.db import Database
from okrbot.store.inbox import Accepted, Inbox, encode_body, open_inbox

START_TIMEOUT = 120.0
ANSWER_POLL = 0.01  # seconds between looks at the inbox for a worker's answer


class Dispatcher:
    def __init__(self, inbox: Inbox, lanes: Sequence[Lane]) -> None:
        self.inbox = inbox
        self.lanes = list(lanes)

    @classmethod
    def with_processes(cls, settings: Settings, count: int) -> Dispatcher:
        """`okrbot serve`: `count` worker processes; the first also runs the scheduler.
        With count 0 this server only acknowledges: `okrbot worker` processes do the work."""
        inbox = open_inbox(settings.database_url)
        return cls(inbox, [ProcessLane(settings, inbox, index=n, run_scheduler=n == 0) for n in range(count)])

    @classmethod
    def in_process(cls, settings: Settings, db: Database) -> Dispatcher:
        """Everything in this process, on the runner's threads (tests)."""
        inbox = open_inbox(settings.database_url)
        return cls(inbox, [InProcessLane(inbox, JobRunner(settings, db))])

    def start(self, timeout: float = START_TIMEOUT) -> None:
        """Start every worker and wait until each is ready (raises WorkerFailed)."""
        for lane in self.lanes:
            lane.start()
        for lane in self.lanes:
            lane.wait_ready(timeout)

    def submit(
        self,
        route: Route,
        body: bytes | dict,
        *,
        key: str,
        headers: dict[str, str] | None = None,
        query: str = "",
        answer_wanted: bool = False,
        team_id: str | None = None,
    ) -> Accepted:
        """Write the request to the inbox (durable when this returns) and wake the workers.
        Blocking: the server calls it from a thread."""
        accepted = self.inbox.accept(
            key=key, route=route.value, body=encode_body(body), headers=headers or {}, query=query, answer_wanted=answer_wanted, team_id=team_id
        )
        if not self.inbox.notifies:  # PostgreSQL's NOTIFY already woke every worker
            for lane in self.lanes:
                lane.wake()
        return accepted

    def answer(self, accepted: Accepted, timeout: float) -> Answer | None:
        """The worker's answer to this request, or None when none came within `timeout`
        (the work goes on). Blocking."""
        deadline = time.monotonic() + timeout
        while True:
            stored = self.inbox.answer_of(accepted.id)
            if stored is not None:
                return Answer(accepted.id, stored.status, stored.body, stored.headers)
            if time.monotonic() >= deadline:
                return None
            time.sleep(ANSWER_POLL)

    def working(self) -> int:
        """Workers up and taking requests."""
        return sum(lane.working for lane in self.lanes)

    def wait_idle(self, timeout: float) -> bool:
        """True once every request accepted so far is done, or when the inbox cannot be
        read (then no worker can do anything either: waiting would only hold a stop up)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                if not self.inbox.backlog().waiting:
                    return True
            except Exception:  # noqa: BLE001
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)

    def close(self, timeout: float = 60.0) -> None:
        """Let the workers finish what was accepted (what is left stays in the inbox for the
        next start, or for other servers' workers), then stop them."""
        if self.working():
            self.wait_idle(timeout)
        for lane in self.lanes:
            lane.close(timeout)
        self.inbox.dispose()
