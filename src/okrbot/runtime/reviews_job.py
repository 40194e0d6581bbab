"""The review tick: what each `okrbot serve` process runs every
OKRBOT_REVIEW_TICK_SECONDS, and once at start so a cycle missed while the bot
was down is caught up. Every process runs it; the database decides who does
what (services/reviews.py), so replicas never nudge anyone twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session

from okrbot.services import dm_cap, reviews
from okrbot.services.context import Actor
from okrbot.services.notifier import Notifier
from okrbot.store.types import utcnow

log = logging.getLogger("okrbot.reviews")


@dataclass
class TickReport:
    started: list[str] = field(default_factory=list)  # "T1 2026-11"
    queued: list[int] = field(default_factory=list)


def review_tick(bot: Notifier, now: datetime | None = None, *, deliver: bool = True) -> TickReport:
    """Start due cycles (one per rhythm), nudge owners back from a pause, send reminders and
    escalations, close cycles with a digest."""
    now = now or utcnow()
    policy = reviews.ReviewPolicy.from_settings(bot.settings)
    messages = bot.review_messages
    report = TickReport()
    with bot.db.session_scope() as session:
        teams = reviews.enabled_workspaces(session)
    for team_id in bot.installed_teams(teams):
        # Each step in its own transaction: one failing workspace or step never blocks the rest.
        run = _step(bot, team_id, "start", lambda s: reviews.start_due_cycle(s, team_id, now, policy, messages))
        if run is not None:
            if run.created:
                report.started += [f"{team_id} {key}" for key in run.keys]
                log.info(
                    "review %s started in %s: %d owners nudged, %d skipped (checked in recently), %d paused",
                    ", ".join(run.keys), team_id, len(run.nudged), len(run.skipped), len(run.paused),
                )
            report.queued += run.queued
        report.queued += _step(bot, team_id, "resume", lambda s: reviews.send_resumed(s, team_id, now, policy, messages)) or []
        report.queued += _step(bot, team_id, "follow-up", lambda s: reviews.follow_up(s, team_id, now, policy, messages)) or []
        report.queued += _step(bot, team_id, "digest", lambda s: reviews.send_digests(s, team_id, now, policy, messages)) or []
        _step(bot, team_id, "forget old DM bookings", lambda s: dm_cap.forget_old(s, team_id, now))
    if deliver and report.queued:
        bot.deliver(report.queued)
    return report


def _step(bot: Notifier, team_id: str, name: str, body: Callable[[Session], object]):
    try:
        with bot.db.session_scope() as session:
            return body(session)
    except Exception:  # noqa: BLE001 - logged; the next tick tries again
        log.exception("review %s failed for workspace %s", name, team_id)
        return None


def run_review_now(bot: Notifier, team_id: str, *, actor_id: str = "okrbot") -> reviews.CycleRun:
    """`okrbot review run`: the current cycle at once (an operator, so no admin check)."""
    policy = reviews.ReviewPolicy.from_settings(bot.settings)
    actor = Actor(team_id=team_id, user_id=actor_id, is_admin=True, source="command", tz=bot.settings.tz, now=utcnow())
    with bot.db.session_scope() as session:
        return reviews.run_now(session, actor, policy, bot.review_messages, require_admin=False)
