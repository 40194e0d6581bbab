"""/okr webhooks: secrets only for admins, never where others read them (issue 14)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from okrbot.services.context import Actor
from okrbot.services.errors import NotAllowed
from okrbot.services.webhook_setup import webhook_setup
from okrbot.store.db import Database
from okrbot.store.webhook_secrets import by_token

ADMIN = Actor(team_id="T1", user_id="UADMIN", is_admin=True)


def test_each_workspace_gets_its_own_urls_and_secrets(db: Database):
    with db.session_scope() as session:
        one = webhook_setup(session, ADMIN)
        two = webhook_setup(session, replace(ADMIN, team_id="T2"))
        again = webhook_setup(session, ADMIN)
        token = one[0].path.rsplit("/", 1)[1]
        assert by_token(session, token).team_id == "T1"
    assert [item.tool for item in one] == ["github", "gitlab", "jira", "linear", "work", "metric"]
    assert {item.secret for item in one}.isdisjoint({item.secret for item in two})
    assert {item.path for item in one}.isdisjoint({item.path for item in two})
    assert again == one


@pytest.mark.parametrize(
    "actor",
    [replace(ADMIN, is_admin=False, user_id="U1"), replace(ADMIN, audience="C1")],
    ids=["not an admin", "answer read in a channel"],
)
def test_secrets_are_refused_to_non_admins_and_never_shown_in_a_channel(db: Database, actor):
    with db.session_scope() as session, pytest.raises(NotAllowed):
        webhook_setup(session, actor)
    with db.session_scope() as session, pytest.raises(NotAllowed):
        webhook_setup(session, actor, tool="github")
