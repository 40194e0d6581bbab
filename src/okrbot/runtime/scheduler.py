"""APScheduler wiring only: job bodies are plain functions elsewhere.

Each process has its own in-memory job store; exactly-once comes from the
database (outbox leases, review claims), never from a shared job store.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from okrbot.runtime.announce_job import digest_tick
from okrbot.config import Settings
from okrbot.runtime.grading_job import grading_tick
from okrbot.runtime.reviews_job import review_tick
from okrbot.adapters.slack.bot import SlackBot  # the composition: the Slack notifier and its deliverer

log = logging.getLogger("okrbot.runtime.scheduler")

OUTBOX_BATCH = 200


def _safely(name: str, body: Callable[[], object]) -> Callable[[], None]:
    def run() -> None:
        try:
            body()
        except Exception:  # noqa: BLE001 - a failed tick must not stop the next one
            log.exception("scheduled job %s failed", name)

    return run


def _every(scheduler: BackgroundScheduler, settings: Settings, job_id: str, seconds: float, body: Callable[[], object], *, now: bool) -> None:
    # At start too (`now`): a review due while the bot was down is caught up at once.
    # (APScheduler reads an explicit next_run_time=None as "paused", so it is left out otherwise.)
    first = {"next_run_time": datetime.now(settings.tz)} if now else {}
    scheduler.add_job(
        _safely(job_id, body),
        IntervalTrigger(seconds=seconds, timezone=settings.tz),
        id=job_id,
        replace_existing=True,
        max_instances=1,
        coalesce=True,
        **first,
    )


def start_scheduler(settings: Settings, bot: SlackBot) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone=settings.tz)
    if settings.scheduler_enabled:
        _every(scheduler, settings, "outbox_sweeper", settings.outbox_sweep_seconds, lambda: bot.deliverer.drain(batch=OUTBOX_BATCH), now=True)
        _every(scheduler, settings, "review_tick", settings.review_tick_seconds, lambda: review_tick(bot), now=True)
        _every(scheduler, settings, "grading_tick", settings.review_tick_seconds, lambda: grading_tick(bot), now=True)
        _every(scheduler, settings, "digest_tick", settings.review_tick_seconds, lambda: digest_tick(bot), now=True)
    scheduler.start()
    return scheduler
