"""APScheduler wiring only: job bodies are plain functions elsewhere.

Each process has its own in-memory job store; exactly-once comes from the
database (outbox leases, review claims), never from a shared job store.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from okrbot.config import Settings
from okrbot.slack.bot import SlackBot

log = logging.getLogger("okrbot.scheduler")

OUTBOX_SWEEP_SECONDS = 15
# Jobs other modules add: (id, seconds between runs, body).
EXTRA_JOBS: list[tuple[str, int, Callable[[SlackBot], None]]] = []


def _safely(name: str, body: Callable[[], object]) -> Callable[[], None]:
    def run() -> None:
        try:
            body()
        except Exception:  # noqa: BLE001 - a failed tick must not stop the next one
            log.exception("scheduled job %s failed", name)

    return run


def start_scheduler(settings: Settings, bot: SlackBot) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone=settings.tz)
    if settings.scheduler_enabled:
        scheduler.add_job(
            _safely("outbox", lambda: bot.deliverer.deliver(limit=200)),
            IntervalTrigger(seconds=OUTBOX_SWEEP_SECONDS, timezone=settings.tz),
            id="outbox_sweeper",
            replace_existing=True,
            max_instances=1,
            coalesce=True,
        )
        for job_id, seconds, body in EXTRA_JOBS:
            scheduler.add_job(
                _safely(job_id, lambda body=body: body(bot)),
                IntervalTrigger(seconds=seconds, timezone=settings.tz),
                id=job_id,
                replace_existing=True,
                max_instances=1,
                coalesce=True,
            )
    scheduler.start()
    return scheduler
