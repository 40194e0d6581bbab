"""The grading tick: what each `okrbot serve` process runs with the review tick.
Every process runs it; the database decides who does what (services/grading.py),
so replicas never send an owner two grading DMs or close a period twice."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import select

from okrbot.services import grading, planning
from okrbot.services.notifier import Notifier
from okrbot.store.models import Workspace
from okrbot.store.types import utcnow

log = logging.getLogger("okrbot.grading")


@dataclass
class GradingTick:
    closed: list[str] = field(default_factory=list)  # "T1 FY2027-Q1"
    queued: list[int] = field(default_factory=list)


def grading_tick(bot: Notifier, now: datetime | None = None, *, deliver: bool = True) -> GradingTick:
    """Send the grading DMs that are due, close periods whose grading window ended (with
    their scorecards), and tell teams with nothing drafted for the coming period."""
    now = now or utcnow()
    policy = grading.GradingPolicy.from_settings(bot.settings)
    report = GradingTick()
    with bot.db.session_scope(read_only=True) as session:
        teams = list(session.exec(select(Workspace.team_id).order_by(Workspace.team_id)).all())
    for team_id in bot.installed_teams(teams):
        # Each step in its own transaction: one failing workspace never blocks the rest.
        try:
            with bot.db.session_scope() as session:
                report.queued += grading.send_due_dms(session, team_id, now, policy, bot.grading_messages)
            with bot.db.session_scope() as session:
                closed = grading.close_due_periods(session, team_id, now, policy, bot.scorecard_messages)
            report.closed += [f"{team_id} {name}" for name in closed.periods]
            report.queued += closed.queued
            with bot.db.session_scope() as session:
                report.queued += planning.tell_teams_to_plan(session, team_id, now, policy, bot.grading_messages)
        except Exception:  # noqa: BLE001 - logged; the next tick tries again
            log.exception("grading failed for workspace %s", team_id)
    for closed in report.closed:
        log.info("period closed: %s", closed)
    if deliver and report.queued:
        bot.deliver(report.queued)
    return report
