"""Exactly one grading DM per owner per period with three real `okrbot serve` processes
on one PostgreSQL database (issue 13), as tests/e2e/test_review_replicas.py shows for
review nudges; the same with the Slack double answering 429 to one post in five."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from okrbot.domain.periods import Period, current_period
from okrbot.store.db import Database
from okrbot.store.models import GradingDm, KeyResult, Objective, OutboundMessage, Workspace
from tests.e2e.test_review_replicas import LEASE_SECONDS, WAIT_SECONDS, needs_postgres, replicas, settle
from tests.fakes.slack_api import SlackDouble

OWNERS = 200
OPEN_DAYS = 90  # OKRBOT_GRADING_LEAD_DAYS and _WINDOW_DAYS: this quarter or the last is being graded today


def graded_period(now: datetime) -> Period:
    """This quarter if its grading has opened (90 days before its end), else the last one (90 days after its end)."""
    this = current_period(now, UTC)
    if this.end_at(UTC) - now <= timedelta(days=OPEN_DAYS - 1):
        return this
    return Period(this.year - 1, 4) if this.quarter == 1 else Period(this.year, this.quarter - 1)


def seed(database_url: str) -> str:
    now = datetime.now(UTC)
    period = str(graded_period(now))
    db = Database(database_url)
    with db.session_scope() as session:
        # Reviews off: only grading DMs are sent.
        session.add(Workspace(team_id="T1", review_enabled=False, created_at=now - timedelta(days=200), next_objective=1, next_kr=OWNERS))
        session.flush()
        objective = Objective(team_id="T1", number=1, title="Grow activation", owner="UBOSS", team_channel="C1", period=period)
        session.add(objective)
        session.flush()
        session.add_all(
            KeyResult(team_id="T1", number=n, objective_id=objective.id, title=f"Signups {n}", owner=f"U{n:03d}",
                      metric="numeric", direction="increase", start=0, target=100, current=n % 100)
            for n in range(1, OWNERS + 1)
        )  # fmt: skip
    db.dispose()
    return period


def grading_dms(slack: SlackDouble) -> Counter:
    return Counter(
        call.args["channel"] for call in slack.delivered("chat.postMessage") if str(call.args.get("text", "")).startswith("Time to grade")
    )


@needs_postgres
@pytest.mark.parametrize("rate_limited", [False, True], ids=["plain", "429-one-in-five"])
def test_three_processes_send_each_owner_exactly_one_grading_dm(database_url, tmp_path, rate_limited):
    period = seed(database_url)
    with SlackDouble() as slack, replicas(slack, database_url, tmp_path) as group:
        group.env |= {"OKRBOT_GRADING_LEAD_DAYS": str(OPEN_DAYS), "OKRBOT_GRADING_WINDOW_DAYS": str(OPEN_DAYS)}
        if rate_limited:
            slack.rate_limit_every(5, method="chat.postMessage")
        for _ in range(3):
            group.start()
        deadline = datetime.now(UTC) + timedelta(seconds=WAIT_SECONDS)
        while len(grading_dms(slack)) < OWNERS:
            assert datetime.now(UTC) < deadline, f"{len(grading_dms(slack))} of {OWNERS} owners got a grading DM\n{group.log_text()}"
            assert all(p.poll() is None for p in group.processes), f"an okrbot process exited\n{group.log_text()}"
            settle(0.1)
        settle(LEASE_SECONDS + 3)  # more ticks and sweeps in every process: nothing more may arrive
        dms = grading_dms(slack)
        print(f"\n3 processes, {OWNERS} owners, {period}{' (429 on 1 in 5)' if rate_limited else ''}: "
              f"{sum(dms.values())} grading DMs delivered, {len(slack.refused('chat.postMessage'))} answered 429")
        assert {owner: n for owner, n in dms.items() if n > 1} == {}, group.log_text()
        assert sorted(dms) == [f"U{n:03d}" for n in range(1, OWNERS + 1)]
        db = Database(database_url)
        with db.session_scope() as session:
            claims = session.exec(select(GradingDm)).all()
            unsent = session.exec(select(OutboundMessage.id).where(OutboundMessage.status != "sent")).all()
        db.dispose()
        assert len(claims) == OWNERS and unsent == []
        # Every claim knows where its DM landed, so replies in its thread find it.
        posted = {call.response["channel"]: call.response["ts"] for call in slack.delivered("chat.postMessage")}
        assert {(claim.channel, claim.ts) for claim in claims} == set(posted.items())
