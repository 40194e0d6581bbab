"""OAuth installs end to end (issue 16): okrbot with SLACK_CLIENT_ID / SLACK_CLIENT_SECRET and no
SLACK_BOT_TOKEN, installed into workspaces through /slack/install → Slack (the double answers
oauth.v2.access with Slack's published example, filled in) → /slack/oauth_redirect.

The double records the token of every Web API call, so each assertion on "whose token" is
about what reached Slack. Runs on SQLite and PostgreSQL (OKRBOT_TEST_DATABASE_URL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from okrbot.cli import app as cli
from okrbot.domain.schedule import DEFAULT_SCHEDULE, last_run
from okrbot.runtime.reviews_job import review_tick
from okrbot.store import outbox
from okrbot.store.models import OutboundMessage, Workspace, bots
from okrbot.store.types import utcnow
from okrbot.store.workspace_delete import count_rows
from tests.e2e.oauth import install, oauth_bot
from tests.fakes.slack_api import Call

pytestmark = pytest.mark.usefixtures("valid_blockkit")

NOT_WEB_API = ("response_url", "file_upload")  # answers on a request's own URL carry no token


def web_api(calls: list[Call]) -> list[Call]:
    return [c for c in calls if c.method not in NOT_WEB_API]


def type_in(bot, client, slack, team: str, channel: str, *commands: str, **grid) -> list[Call]:
    """Type each /okr command in `team`; returns every call Slack got because of them."""
    before = len(slack.calls())
    for n, text in enumerate(commands):
        answered = slack.response_url(f"{team}-{len(slack.calls())}-{n}")
        assert client.command(text, team_id=team, channel_id=channel, response_url=answered, **grid).status_code == 200
        bot.settle()
        said = [c for c in slack.calls("response_url") if c.path.endswith(answered.rsplit("/", 1)[1])]
        assert said and not said[-1].args.get("text", "").startswith(":warning:"), (team, text, said and said[-1].args)
    return slack.calls()[before:]


def okrs_in(bot, client, slack, team: str, channel: str, **grid) -> list[Call]:
    """An objective in the team channel, a milestone KR owned by U1 and a piece of work (whose
    card the outbox posts in the channel)."""
    return type_in(
        bot, client, slack, team, channel,
        f'objective add "Grow {team}" team <#{channel}|team-{team.lower()}>',
        'kr add O-1 "Signups" from 0 to 100 owner <@U1>',
        'kr add O-1 "Pages live" by initiatives owner <@U1>',
        'initiative add KR-2 "Ship the pricing page"',
        **grid,
    )


def export(bot, team: str) -> bytes:
    result = CliRunner().invoke(cli, ["export", "--team", team], env={"DATABASE_URL": bot.settings.database_url})
    assert result.exit_code == 0, result.output
    return result.stdout_bytes


def test_two_workspaces_installed_through_slacks_oauth_flow_are_each_answered_with_their_own_token(slack, database_url):
    with oauth_bot(slack, database_url) as (bot, client):
        tokens = {team: install(bot, slack, team) for team in ("T1", "T2")}
        assert [c.status for c in slack.calls("oauth.v2.access")] == [200, 200]
        with bot.db.session_scope() as session:
            stored = session.execute(select(bots.c.team_id, bots.c.bot_token, bots.c.enterprise_id, bots.c.is_enterprise_install)).all()
        assert sorted(stored) == [("T1", tokens["T1"], None, False), ("T2", tokens["T2"], None, False)]

        for team, channel in (("T1", "C1"), ("T2", "C2")):
            calls = web_api(okrs_in(bot, client, slack, team, channel))
            posted = [c for c in calls if c.method == "chat.postMessage"]
            # bolt authorizes each request (auth.test), the card goes out through the outbox.
            assert {"auth.test", "users.info"} <= {c.method for c in calls} and posted, [c.method for c in calls]
            assert {c.token for c in calls} == {tokens[team]}, [(c.method, c.token) for c in calls]
            assert all(c.args["channel"] == channel for c in posted)


def test_a_redirect_with_a_state_okrbot_did_not_issue_installs_nothing(slack, database_url):
    with oauth_bot(slack, database_url) as (bot, _client):
        slack.add_install("stolen-code", "T9")
        with httpx.Client(base_url=bot.url, timeout=10) as browser:
            started = browser.get("/slack/install")
            cookie = started.headers["set-cookie"].split(";", 1)[0]
            forged = browser.get("/slack/oauth_redirect", params={"code": "stolen-code", "state": "made-up"}, headers={"cookie": cookie})
            no_cookie = browser.get("/slack/oauth_redirect", params={"code": "stolen-code", "state": "made-up"})
        assert forged.status_code in (400, 401) and no_cookie.status_code == 400
        assert slack.calls("oauth.v2.access") == []
        with bot.db.session_scope() as session:
            assert session.execute(select(bots.c.id)).all() == []


def test_an_org_wide_enterprise_grid_install_serves_every_workspace_of_the_org(slack, database_url):
    with oauth_bot(slack, database_url) as (bot, client):
        token = install(bot, slack, None, enterprise_id="E1", enterprise="Acme Grid", org_wide=True)
        with bot.db.session_scope() as session:
            stored = session.execute(select(bots.c.team_id, bots.c.enterprise_id, bots.c.is_enterprise_install, bots.c.bot_token)).all()
        assert stored == [(None, "E1", True, token)]

        grid = {"enterprise_id": "E1", "org_wide": True}
        calls = web_api(okrs_in(bot, client, slack, "T3", "C3", **grid))
        assert {c.token for c in calls} == {token}
        # A scheduled message of that workspace (nothing of the request left to name the org)
        # finds the org's token too.
        with bot.db.session_scope() as session:
            assert session.get(Workspace, "T3").enterprise_id == "E1"
            queued = outbox.enqueue(session, team_id="T3", kind="reply", channel="C3", payload={"text": "later"}, now=utcnow()).id
        before = len(slack.calls())
        assert bot.bot.deliverer.deliver([queued]) == 1
        assert [(c.method, c.token) for c in web_api(slack.calls()[before:])] == [("chat.postMessage", token)]


def test_a_rotating_token_is_refreshed_before_it_expires_and_the_new_one_is_used(slack, database_url):
    # Rotate when less than 13 hours are left: the 12-hour token the install gets is due at once.
    with oauth_bot(slack, database_url, OKRBOT_TOKEN_ROTATION_MINUTES="780") as (bot, client):
        first = install(bot, slack, "T1", rotating=True)
        calls = web_api(okrs_in(bot, client, slack, "T1", "C1"))
        refreshed = [c for c in slack.calls("oauth.v2.access") if c.args.get("grant_type") == "refresh_token"]
        assert refreshed, "the token was never rotated"
        newest = slack.token_of("T1")
        assert newest != first and newest.startswith("xoxe.xoxb-")
        with bot.db.session_scope() as session:
            kept = session.execute(select(bots.c.bot_token).order_by(bots.c.installed_at.desc(), bots.c.id.desc())).scalars().first()
        assert kept == newest
        assert calls[-1].token == newest


def due_tick(bot) -> datetime:
    """A moment just after a scheduled review, with every workspace's reviews on since long before."""
    due = last_run(DEFAULT_SCHEDULE, datetime.now(UTC), UTC)
    with bot.db.session_scope() as session:
        session.execute(update(Workspace).values(review_since=due - timedelta(days=60)))
    return due + timedelta(minutes=1)


def nudges(calls: list[Call]) -> list[Call]:
    return [c for c in calls if c.method == "chat.postMessage" and (c.args.get("metadata") or {}).get("event_type") == "okrbot_review"]


def test_an_uninstall_stops_that_workspaces_nudges_in_the_same_tick_and_keeps_its_data(slack, database_url, caplog):
    with oauth_bot(slack, database_url) as (bot, client):
        tokens = {team: install(bot, slack, team) for team in ("T1", "T2")}
        for team, channel in (("T1", "C1"), ("T2", "C2")):
            okrs_in(bot, client, slack, team, channel)
        with bot.db.session_scope() as session:
            waiting = outbox.enqueue(session, team_id="T1", kind="reply", channel="C1", payload={"text": "queued before the uninstall"}, now=utcnow()).id

        caplog.set_level("WARNING", logger="okrbot.installs")
        assert client.event({"type": "app_uninstalled"}, team_id="T1").status_code == 200
        slack.revoke(tokens["T1"])  # Slack's side of it
        bot.settle()
        assert "workspace T1: okrbot was uninstalled" in caplog.text and "1 queued messages dropped" in caplog.text

        before = len(slack.calls())
        review_tick(bot.bot, due_tick(bot))
        bot.bot.deliverer.drain()
        sent = slack.calls()[before:]
        assert [(c.args["channel"], c.token) for c in nudges(sent)] == [("U1", tokens["T2"])]  # T2's owner only
        assert all(c.token != tokens["T1"] for c in sent)
        with bot.db.session_scope() as session:
            dropped = session.get(OutboundMessage, waiting)
            assert (dropped.status, dropped.sent_ts) == (outbox.FAILED, None) and "uninstalled" in dropped.last_error
            assert session.execute(select(bots.c.team_id)).scalars().all() == ["T2"]
            assert count_rows(session, "T1")["objective"] == 1  # its data stays until `okrbot workspace delete`
        assert b"Grow T1" in export(bot, "T1")


def test_tokens_revoked_for_the_bot_stops_the_workspace_too(slack, database_url):
    with oauth_bot(slack, database_url) as (bot, client):
        tokens = {team: install(bot, slack, team) for team in ("T1", "T2")}
        for team, channel in (("T1", "C1"), ("T2", "C2")):
            okrs_in(bot, client, slack, team, channel)
        event = {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["UBOT"]}}
        assert client.event(event, team_id="T2").status_code == 200
        bot.settle()
        before = len(slack.calls())
        review_tick(bot.bot, due_tick(bot))
        assert [c.token for c in nudges(slack.calls()[before:])] == [tokens["T1"]]


def test_workspace_delete_removes_one_workspace_and_leaves_the_other_byte_identical(slack, database_url):
    with oauth_bot(slack, database_url) as (bot, client):
        for team in ("T1", "T2"):
            install(bot, slack, team)
        for team, channel in (("T1", "C1"), ("T2", "C2")):
            okrs_in(bot, client, slack, team, channel)
            type_in(bot, client, slack, team, channel, "checkin KR-1 40", "done I-1")
        review_tick(bot.bot, due_tick(bot))
        bot.settle()
        t2_before, t1_export = export(bot, "T2"), export(bot, "T1")
        with bot.db.session_scope() as session:
            t2_rows, t1_rows = count_rows(session, "T2"), count_rows(session, "T1")
        assert t1_rows["change_kr"] and t1_rows["nudge"] and t1_rows["slack_bots"] and t1_rows["outbound_message"]
        assert b"Grow T1" in t1_export

        env = {"DATABASE_URL": bot.settings.database_url}
        refused = CliRunner().invoke(cli, ["workspace", "delete", "T1"], env=env, input="n\n")
        assert refused.exit_code == 1 and "Nothing deleted" in refused.output
        unknown = CliRunner().invoke(cli, ["workspace", "delete", "T404", "--yes"], env=env)
        assert unknown.exit_code == 1 and "no workspace T404" in unknown.output
        done = CliRunner().invoke(cli, ["workspace", "delete", "T1", "--yes"], env=env)
        assert done.exit_code == 0 and "Deleted workspace T1" in done.output, done.output

        assert export(bot, "T2") == t2_before
        with bot.db.session_scope() as session:
            assert count_rows(session, "T2") == t2_rows
            assert not any(count_rows(session, "T1").values())

