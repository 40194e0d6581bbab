"""`okrbot workspace delete` finds every table that holds a workspace's rows from the schema
(issue 16): a table added later with a team_id column, or hanging off one, is covered
without anyone remembering to list it."""

from __future__ import annotations

from okrbot.store.models import metadata, oauth_states
from okrbot.store.workspace_delete import rows_of

# Tables that hold nothing of any one workspace: OAuth state values are one-use nonces,
# issued before anyone says which workspace they install into.
NO_WORKSPACE = {oauth_states.name}


def test_every_table_either_holds_a_workspaces_rows_or_is_named_as_holding_none():
    uncovered = [table.name for table in metadata.sorted_tables if rows_of(table, "T1") is None and table.name not in NO_WORKSPACE]
    assert uncovered == [], f"give these tables a team_id (or a foreign key to a table with one): {uncovered}"


def test_a_row_without_a_team_id_goes_with_the_row_it_points_at():
    change_kr = metadata.tables["change_kr"]
    where = str(rows_of(change_kr, "T1"))
    assert "change.team_id" in where and "key_result.team_id" in where
