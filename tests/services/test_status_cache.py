"""`/okr status` is reused between requests (services/status_cache.py), and never shows
what has changed since: a check-in, done work, or the period going by far enough to turn
a KR's health. Each answer is compared with what a worker that never cached anything
(a fresh process) answers at the same moment."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from okrbot.config import Settings
from okrbot.services import status_cache
from okrbot.services.context import Actor
from okrbot.adapters.slack.commands.runner import CommandRunner
from okrbot.store.models import Objective
from okrbot.store.workspaces import held_workspace, status_revision

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


def test_a_channel_becomes_a_team_channel_in_the_next_status(runner, team):
    elsewhere = replace(team, channel_id="C2")
    assert "Your OKRs" in shown(status(runner, elsewhere))  # C2 is nobody's team channel yet
    ok(runner, team, 'objective add "Ship the app" team <#C2|mobile>')
    after = status(runner, elsewhere)
    assert "Team OKRs" in shown(after) and "Ship the app" in shown(after)


def test_joining_a_private_teams_channel_shows_its_objective(runner, team):
    ok(runner, team, 'objective add "Quiet plan" team <#C3|quiet> private')
    outsider = replace(team, user_id="U9", channel_id="D9")
    assert "Quiet plan" not in shown(status_all(runner, outsider))
    member = replace(outsider, member_of=lambda channel: channel == "C3")
    assert "Quiet plan" in shown(status_all(runner, member))


def test_an_objective_made_private_leaves_the_next_status_of_outsiders(db, runner, team, monkeypatch):
    outsider = replace(team, user_id="U9", channel_id="D9")
    assert "Grow adoption" in shown(status_all(runner, outsider))
    with db.session_scope() as session:  # as the edit form saves it
        session.exec(select(Objective).where(Objective.team_id == team.team_id)).one().private = True
    after = status_all(runner, outsider)
    assert "Grow adoption" not in shown(after)
    with monkeypatch.context() as patched:
        patched.setattr(status_cache, "answers", status_cache.StatusCache())
        assert status_all(runner, outsider) == after


def test_a_revision_moved_in_the_same_transaction_is_read_again(db, team, runner):
    with db.session_scope() as session:
        before = status_revision(session, team.team_id)
        objective = session.exec(select(Objective).where(Objective.team_id == team.team_id)).one()
        objective.title = "Grow adoption faster"
        session.flush()
        assert status_revision(session, team.team_id) is None  # may roll back: not a key to share
        assert held_workspace(session, team.team_id).status_revision == before[3] + 1


def status_all(runner: CommandRunner, actor: Actor) -> list[dict]:
    outcome = runner.run("status all", actor)
    assert not outcome.reply.error, outcome.reply.text
    return outcome.reply.block_dicts()
