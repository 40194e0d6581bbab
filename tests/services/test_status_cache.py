"""`/okr status` is reused between requests (services/status_cache.py), and never shows
what has changed since: a check-in, done work, or the period going by far enough to turn
a KR's health. Each answer is compared with what a worker that never cached anything
(a fresh process) answers at the same moment."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from okrbot.config import Settings
from okrbot.services import status_cache
from okrbot.services.context import Actor
from okrbot.adapters.slack.commands.runner import CommandRunner

# 2026-Q4 runs 1 Oct – 31 Dec (92 days). With KR-1 at 50%, it is on track while the elapsed
# share is at most 0.50 / 0.95 (52.6%, 18 Nov ~08:00 UTC), then at risk.
BEFORE_TURN = datetime(2026, 11, 16, 12, 0, tzinfo=UTC)  # 50.5% gone
AFTER_TURN = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # 54.9% gone


@pytest.fixture
def runner(db) -> CommandRunner:
    return CommandRunner(db, Settings(_env_file=None))


@pytest.fixture(autouse=True)
def fresh_cache(monkeypatch) -> None:
    monkeypatch.setattr(status_cache, "answers", status_cache.StatusCache())


def ok(runner: CommandRunner, actor: Actor, text: str) -> None:
    outcome = runner.run(text, actor)
    assert not outcome.reply.error, f"/okr {text}: {outcome.reply.text}"


def status(runner: CommandRunner, actor: Actor) -> list[dict]:
    outcome = runner.run("status", actor)
    assert not outcome.reply.error, outcome.reply.text
    return outcome.reply.block_dicts()


def uncached_status(runner: CommandRunner, actor: Actor, monkeypatch) -> list[dict]:
    with monkeypatch.context() as patched:
        patched.setattr(status_cache, "answers", status_cache.StatusCache())
        return status(runner, actor)


def shown(blocks: list[dict]) -> str:
    return str(blocks)


@pytest.fixture
def team(runner) -> Actor:
    actor = Actor(team_id="T1", user_id="U1", channel_id="C1", now=BEFORE_TURN)
    ok(runner, actor, 'objective add "Grow adoption" team <#C1|growth>')
    ok(runner, actor, 'kr add O-1 "Signups" from 0 to 100')
    ok(runner, actor, "checkin KR-1 50")
    return actor


def test_a_check_in_shows_in_the_next_status(runner, team, monkeypatch):
    first = status(runner, team)
    assert status(runner, team) == first  # nothing changed: the same answer
    ok(runner, team, "checkin KR-1 70")
    after = status(runner, team)
    assert after != first and "70" in shown(after)
    assert after == uncached_status(runner, team, monkeypatch)


def test_health_turns_when_the_period_goes_by_with_nothing_changed(runner, team, monkeypatch):
    before = status(runner, team)
    assert ":large_green_circle:" in shown(before)
    later = replace(team, now=AFTER_TURN)
    after = status(runner, later)
    assert ":large_yellow_circle:" in shown(after) and ":large_green_circle:" not in shown(after)
    assert after == uncached_status(runner, later, monkeypatch)


def test_a_private_objective_is_not_shown_from_its_owners_answer(runner, team, monkeypatch):
    ok(runner, team, 'objective add "Quiet plan" team <#C1|growth> private')
    owners = status(runner, team)
    assert "Quiet plan" in shown(owners)
    someone_else = replace(team, user_id="U9")
    theirs = status(runner, someone_else)
    assert "Quiet plan" not in shown(theirs)
    assert theirs == uncached_status(runner, someone_else, monkeypatch)
