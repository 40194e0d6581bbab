"""`/okr report` runs the same statements in a small and a large organisation."""

from __future__ import annotations

from dataclasses import replace

from sqlmodel import col, select

from okrbot.config import Settings
from okrbot.adapters.slack.commands.runner import CommandRunner
from okrbot.store.db import Database
from okrbot.store.models import CheckIn, KeyResult
from tests.services.test_query_counts import LARGE, SMALL, build_workspace, shape, statements_for


def test_report_runs_the_same_statements_in_a_small_and_a_large_workspace(database_url, actor):
    admin = replace(actor, is_admin=True, channel_id="DADMIN")
    db = Database(database_url)
    small = statements_for(db, admin, SMALL, "report 2026-Q4")
    large = statements_for(db, replace(admin, team_id="T2"), LARGE, "report 2026-Q4")
    team = statements_for(db, replace(admin, team_id="T3", is_admin=False), LARGE, "report 2026-Q4 #C1")
    db.dispose()
    print(f"\n/okr report: {len(small)} statements with {SMALL} objectives, {len(large)} with {LARGE}, {len(team)} for one team")
    print("\n".join(shape(small)))
    assert shape(small) == shape(large)
    # BEGIN, the workspace's calendar, the team channel check, each team's first objectives
    # (and their KRs, links, related objectives), the carried ones, the KRs with no work and
    # those never checked in, the grades by band, whether the period is closed.
    assert len(small) == len(large) <= 12
    assert len(team) <= 12


def test_a_large_team_is_counted_in_full_and_named_in_part(database_url, actor):
    """#C1 of the large workspace: 40 objectives, 120 KRs; a few graded, one checked in."""
    admin = replace(actor, is_admin=True)
    db = Database(database_url)
    build_workspace(db, admin, LARGE)
    graded = {1: (0.8, None), 2: (0.5, None), 3: (0.1, None), 16: (0.8, "committed")}  # green, yellow, red, yellow (committed)
    with db.session_scope() as session:
        for kr in session.exec(select(KeyResult).where(col(KeyResult.number).in_(list(graded)))).all():
            kr.grade, kr.commitment = graded[kr.number]
        first = session.exec(select(KeyResult).where(KeyResult.number == 1)).one()
        session.add(CheckIn(team_id="T1", kr_id=first.id, at=admin.now, value=None, author="U1", source="command"))
    runner = CommandRunner(db, Settings(_env_file=None), offline=True)
    shown = str([block.to_dict() for block in runner.run("report 2026-Q4 #C1", admin).reply.blocks])
    db.dispose()
    assert ":large_green_circle: 1 · :large_yellow_circle: 2 · :red_circle: 1 · 116 not graded" in shown
    assert "…and 30 more objectives" in shown and "*O-46*" in shown and "*O-51*" not in shown
    assert "Never checked in: *KR-2*, *KR-3*, *KR-16*" in shown and "and 109 more" in shown and "*KR-1*," not in shown
    assert "No work linked" not in shown  # every KR has work
