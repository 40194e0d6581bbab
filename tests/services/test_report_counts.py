"""`/okr report` runs the same statements in a small and a large organisation."""

from __future__ import annotations

from dataclasses import replace

from okrbot.store.db import Database
from tests.services.test_query_counts import LARGE, SMALL, shape, statements_for


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
    # The workspace's calendar, the objectives, their KRs, links, related objectives,
    # check-ins and whether the period is closed: a handful, whatever the size.
    assert len(small) == len(large) <= 10
    assert len(team) <= 10
