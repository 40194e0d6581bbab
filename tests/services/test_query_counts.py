"""The database work of `/okr done` and `/okr gaps` does not grow with the workspace.

Counts every SQL statement sent to the database (SQLAlchemy's
before_cursor_execute) for one command, in a small and a large workspace
where the command's own subject has the same shape.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import event
from sqlmodel import select

from okrbot.config import Settings
from okrbot.domain.commands import Kind
from okrbot.services.context import Actor
from okrbot.adapters.slack.commands.runner import CommandRunner
from okrbot.store.db import Database
from okrbot.store.models import Initiative, KeyResult, KrLink, Objective, OutboundMessage
from okrbot.store.workspaces import ensure_workspace, reserve_numbers

SMALL, LARGE = 10, 200  # objectives in the workspace
KRS_PER_OBJECTIVE = 3


@contextmanager
def counting(db: Database) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def build_workspace(db: Database, actor: Actor, objectives: int) -> None:
    """`objectives` objectives of 3 milestone KRs each, every KR with 2 initiatives of its own,
    and a posted card for every initiative; rows written in bulk to keep the test quick.

    The work to mark done, I-1, feeds the first KR of objectives 1, 2 and 3 (team channels
    C1, C2, C3) whatever the size, so only the rest of the workspace grows.
    """
    team, now = actor.team_id, actor.now
    with db.session_scope() as session:
        ensure_workspace(session, team)
        rows = [
            Objective(team_id=team, number=n, title=f"Objective {n}", owner=f"U{n % 7}", team_channel=f"C{n % 5}", period="2026-Q4")
            for n in range(1, objectives + 1)
        ]
        session.add_all(rows)
        session.flush()
        krs = [
            KeyResult(team_id=team, number=KRS_PER_OBJECTIVE * (o.number - 1) + k + 1, objective_id=o.id, title=f"Milestone {o.number}.{k}",
                      owner="U1", metric="milestone", direction="increase")
            for o in rows
            for k in range(KRS_PER_OBJECTIVE)
        ]
        session.add_all(krs)
        shared = Initiative(team_id=team, number=1, title="Shared work", owner="U2")
        initiatives = [shared] + [
            Initiative(team_id=team, number=2 + 2 * index + i, title=f"Work {kr.number}.{i}", owner="U2")
            for index, kr in enumerate(krs)
            for i in range(2)
        ]
        session.add_all(initiatives)
        session.flush()
        links = [KrLink(team_id=team, initiative_id=shared.id, kr_id=krs[KRS_PER_OBJECTIVE * o].id) for o in range(3)]
        links += [
            KrLink(team_id=team, initiative_id=initiatives[1 + 2 * index + i].id, kr_id=kr.id)
            for index, kr in enumerate(krs)
            for i in range(2)
        ]
        cards = [
            OutboundMessage(team_id=team, kind="initiative", channel="C1", initiative_id=initiative.id, payload={"text": initiative.title},
                            status="sent", sent_ts=f"1700000000.{initiative.number:06d}", sent_at=now, next_attempt_at=now, created_at=now)
            for initiative in initiatives
        ]
        session.add_all(links + cards)
        for kind, used in ((Kind.OBJECTIVE, len(rows)), (Kind.KR, len(krs)), (Kind.INITIATIVE, len(initiatives))):
            reserve_numbers(session, team, kind, used)


def statements_for(db: Database, actor: Actor, objectives: int, text: str) -> list[str]:
    build_workspace(db, actor, objectives)
    runner = CommandRunner(db, Settings(_env_file=None), offline=True)
    with counting(db) as statements:
        outcome = runner.run(text, replace(actor, now=actor.now + timedelta(minutes=1)))
    assert not outcome.reply.error, outcome.reply.text
    return statements


def shape(statements: list[str]) -> list[str]:
    """The statements' first words, to show what differs if the counts do."""
    return [" ".join(statement.split()[:3]) for statement in statements]


def test_done_runs_the_same_statements_in_a_small_and_a_large_workspace(database_url, actor):
    small_db = Database(database_url)
    small = statements_for(small_db, actor, SMALL, "done I-1")
    small_db.dispose()
    # A second, larger workspace next to the first (same database): still the same statements.
    large_db = Database(database_url)
    large = statements_for(large_db, replace(actor, team_id="T2"), LARGE, "done I-1")
    with large_db.session_scope() as session:
        moved = session.exec(
            select(OutboundMessage.channel).where(OutboundMessage.team_id == "T2", OutboundMessage.kind == "progress")
        ).all()
    large_db.dispose()

    print(f"\n/okr done: {len(small)} statements with {SMALL} objectives, {len(large)} with {LARGE}")
    assert shape(small) == shape(large)
    assert len(small) == len(large) <= 30
    assert sorted(moved) == ["C1", "C2", "C3"]  # the three objectives' team channels were told


def test_gaps_runs_the_same_statements_in_a_small_and_a_large_workspace(database_url, actor):
    db = Database(database_url)
    small = statements_for(db, actor, SMALL, "gaps")
    large = statements_for(db, replace(actor, team_id="T2"), LARGE, "gaps")
    db.dispose()

    print(f"\n/okr gaps: {len(small)} statements with {SMALL} objectives, {len(large)} with {LARGE}")
    assert shape(small) == shape(large)
    assert len(small) == len(large) <= 5
