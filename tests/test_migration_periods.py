"""Migration 0011 (periods and grading) on a database people already use: rows keep
their meaning, new columns start empty, and the app reads the upgraded rows."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from alembic import command
from sqlalchemy import text

from okrbot.config import Settings
from okrbot.services.context import Actor
from okrbot.adapters.slack.commands.runner import CommandRunner
from okrbot.store.db import Database, make_engine
from okrbot.store.migrate import alembic_config

ROWS = [
    "INSERT INTO workspace (team_id, name, next_objective, next_kr, next_initiative, review_enabled, okr_revision, created_at) "
    "VALUES ('T1', 'Acme', 1, 1, 0, 1, 0, '2026-10-01 09:00:00')",
    "INSERT INTO objective (id, team_id, number, title, owner, period, description, private, status, created_at, updated_at) "
    "VALUES (1, 'T1', 1, 'Grow activation', 'U1', '2026-Q4', '', 0, 'active', '2026-10-01 09:00:00', '2026-10-01 09:00:00')",
    "INSERT INTO key_result (id, team_id, number, objective_id, title, owner, metric, direction, start, target, current, weight, status, "
    "last_progress_at, created_at, updated_at) VALUES (1, 'T1', 1, 1, 'Signups', 'U1', 'numeric', 'increase', 0, 100, 40, 1, 'active', "
    "'2026-11-01 09:00:00', '2026-10-01 09:00:00', '2026-11-01 09:00:00')",
    "INSERT INTO checkin (id, team_id, kr_id, at, value, note, author, source) VALUES (1, 'T1', 1, '2026-11-01 09:00:00', 40, '', 'U1', 'command')",
]


def test_an_existing_database_upgrades_and_keeps_its_meaning(tmp_path):
    url = f"sqlite:///{tmp_path / 'used.db'}"
    config = alembic_config(url)
    command.upgrade(config, "0004")
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            for statement in ROWS:
                connection.execute(text(statement))
        command.upgrade(config, "head")
        with engine.connect() as connection:
            kr = connection.execute(text("SELECT commitment, grade, grade_note, grade_source, carried_from_id FROM key_result")).one()
            objective = connection.execute(text("SELECT period, carried_from_id FROM objective")).one()
            fiscal = connection.execute(text("SELECT fiscal_year_start FROM workspace")).scalar()
            closed = connection.execute(text("SELECT count(*) FROM okr_period")).scalar()
        assert tuple(kr) == (None, None, "", None, None)
        assert tuple(objective) == ("2026-Q4", None) and fiscal is None and closed == 0
    finally:
        engine.dispose()

    # Set a fiscal year starting in February: the calendar quarter's objective keeps its dates.
    db = Database(url)
    runner = CommandRunner(db, Settings(_env_file=None), offline=True)
    admin = Actor(team_id="T1", user_id="UADMIN", is_admin=True, now=datetime(2026, 11, 16, tzinfo=UTC))
    assert "FY2027-Q4" in runner.run("settings fiscal-year starts february", admin).reply.text
    status = runner.run("status all 2026-Q4", admin).reply.text
    assert "2026-Q4 (1 Oct – 31 Dec 2026)" in status
    # 40% at the middle of 2026-Q4 (expected 50%): at risk, as before the upgrade.
    assert "at risk" in str([block.to_dict() for block in runner.run("status all 2026-Q4", admin).reply.blocks])
    # And it can be graded once its grading opens, and closed.
    late = replace(admin, now=datetime(2026, 12, 28, tzinfo=UTC))
    assert "Grade *0.4*" in runner.run('grade KR-1 0.4 "slow start"', late).reply.text
    assert "is closed" in runner.run("close 2026-Q4", late).reply.text
    db.dispose()

    command.downgrade(config, "0004")  # and back, for an operator who must roll back
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SELECT title, current FROM key_result")).one() == ("Signups", 40)
    finally:
        engine.dispose()


CLOSED_QUARTER_ROWS = [
    ROWS[0].replace("1, 1, 0, 1, 0", "3, 3, 3, 1, 0"),
    # O-1 in 2026-Q3, closed; O-2 in 2026-Q4, carried from it. KR-1 and KR-2 are milestones.
    *(
        "INSERT INTO objective (id, team_id, number, title, owner, period, description, private, status, created_at, updated_at) "
        f"VALUES ({n}, 'T1', {n}, 'Ship the platform', 'U1', '{period}', '', 0, 'active', '2026-07-01 09:00:00', '2026-07-01 09:00:00')"
        for n, period in ((1, "2026-Q3"), (2, "2026-Q4"))
    ),
    *(
        "INSERT INTO key_result (id, team_id, number, objective_id, title, owner, metric, direction, weight, status, created_at, updated_at) "
        f"VALUES ({n}, 'T1', {n}, {n}, 'Adopted', 'U1', 'milestone', 'increase', 1, 'active', '2026-07-01 09:00:00', '2026-07-01 09:00:00')"
        for n in (1, 2)
    ),
    *(
        "INSERT INTO initiative (id, team_id, number, title, status, created_at, updated_at) "
        f"VALUES ({n}, 'T1', {n}, 'Work {n}', '{state}', '2026-07-01 09:00:00', '2026-07-01 09:00:00')"
        for n, state in ((1, "done"), (2, "todo"))
    ),
    *(
        f"INSERT INTO kr_link (team_id, initiative_id, kr_id, weight, created_at) VALUES ('T1', {work}, {kr}, 1, '2026-07-01 09:00:00')"
        for work, kr in ((1, 1), (2, 1), (2, 2))
    ),
    "INSERT INTO okr_period (team_id, name, closed_at, closed_by) VALUES ('T1', '2026-Q3', '2026-10-14 00:00:00', 'okrbot')",
]


def test_links_of_a_period_already_closed_are_frozen_by_the_upgrade(tmp_path):
    """0012: a closed quarter's KRs keep their progress when its work is done later."""
    url = f"sqlite:///{tmp_path / 'used.db'}"
    config = alembic_config(url)
    command.upgrade(config, "0006")  # the head before 0012
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            for statement in CLOSED_QUARTER_ROWS:
                connection.execute(text(statement))
        command.upgrade(config, "head")
        with engine.connect() as connection:
            frozen = connection.execute(text("SELECT initiative_id, kr_id, done_at_close FROM kr_link ORDER BY id")).all()
        assert [tuple(row) for row in frozen] == [(1, 1, True), (2, 1, False), (2, 2, None)]
    finally:
        engine.dispose()

    db = Database(url)
    runner = CommandRunner(db, Settings(_env_file=None), offline=True)
    admin = Actor(team_id="T1", user_id="UADMIN", is_admin=True, now=datetime(2026, 11, 16, tzinfo=UTC))
    assert "KR-2" in runner.run("done I-2", admin).reply.text  # the open quarter's KR moves

    def shown(text: str) -> str:
        return str([block.to_dict() for block in runner.run(text, admin).reply.blocks])

    assert "50%" in shown("status KR-1") and "100%" not in shown("status KR-1")  # the closed one stays at 50%
    assert "100%" in shown("status KR-2")
    db.dispose()
    command.downgrade(config, "0006")
