"""Two workspaces, nothing crosses (issue 8, SPEC §1: "no query crosses workspaces").

T1 and T2 share one database and one running bot, and hold the same short ids
(O-1, KR-1, I-1 in both; T1 also has O-2, KR-2..3, I-2..3 that T2 lacks). As T2
every /okr command row and every surface is used: commands, buttons carrying T1's
ids and change ids, modal submissions made from T1's forms, reactions on T1's
card, webhooks naming T2, App Home, serves, gaps, review DMs, history and
`okrbot export --team T2`. Then: every T1 row is exactly as it was, and nothing
T2 was shown contains a word of T1 ("alpha"). Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import html
import json

import httpx
import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from okrbot.cli import app as cli
from okrbot.store.models import metadata
from sqlmodel import select

from okrbot.adapters.slack.ids import Action
from okrbot.store.models import Nudge
from tests.e2e.conftest import block_text, message_of
from tests.e2e.harness import RunningBot, running_bot
from tests.e2e.oauth import install, oauth_bot
from tests.e2e.test_modals import fill
from tests.e2e.test_webhooks import github, issue, work_hook
from tests.fakes.slack_api import SlackDouble
from tests.fakes.slack_client import SignedSlackClient, reaction_added

T1_WORD = "alpha"  # in every T1 title and never typed in T2 (T2's titles say "beta")
T1_URL = "https://github.com/acme/one/issues/1"


@pytest.fixture(params=["bot token", "oauth"])
def served(request, slack, database_url):
    """Every check runs twice: with one SLACK_BOT_TOKEN, and with T1 and T2 each installed by
    OAuth (issue 16), where each workspace must also be answered with its own token."""
    if request.param == "bot token":
        with running_bot(slack, database_url) as pair:
            yield pair
        return
    with oauth_bot(slack, database_url) as (bot, client):
        for team in ("T1", "T2"):
            install(bot, slack, team)
        yield bot, client


@pytest.fixture
def tokens(served, slack) -> dict[str, str] | None:
    """Each workspace's bot token in OAuth mode; None with a single token."""
    return {team: slack.token_of(team) for team in ("T1", "T2")} if served[0].settings.oauth_mode else None


class Team:
    """Types /okr in one workspace and collects everything Slack was sent because of it."""

    def __init__(self, team: str, bot: RunningBot, client: SignedSlackClient, slack: SlackDouble):
        self.team, self.bot, self.client, self.slack = team, bot, client, slack

    def __call__(self, command: str, *, user: str = "U1", channel: str = "C1") -> str:
        url = self.slack.response_url(f"{self.team}-{len(self.slack.calls())}")
        response = self.client.command(command, team_id=self.team, user_id=user, channel_id=channel, response_url=url)
        assert response.status_code == 200, (command, response.status_code)
        self.bot.settle()
        return "\n".join(f"{c.args.get('text', '')}\n{block_text(c.args.get('blocks'))}" for c in self.slack.calls("response_url") if c.path.endswith(url.rsplit("/", 1)[1]))

    def ok(self, command: str, **kwargs) -> str:
        said = self(command, **kwargs)
        assert said and not said.startswith(":warning:"), (self.team, command, said)
        return said


def t1_rows(bot: RunningBot) -> dict[str, list]:
    """Every row of workspace T1, table by table."""
    found = {}
    with bot.db.engine.connect() as connection:
        for table in metadata.sorted_tables:
            if "team_id" in table.c:
                rows = connection.execute(table.select().where(table.c.team_id == "T1")).mappings().all()
                found[table.name] = sorted((dict(row) for row in rows), key=lambda row: json.dumps(row, default=str, sort_keys=True))
        # change_kr rows belong to T1 through their change.
        found["change_kr"] = connection.execute(
            text("SELECT ck.* FROM change_kr ck JOIN change c ON c.id = ck.change_id WHERE c.team_id = 'T1' ORDER BY ck.id")
        ).mappings().all()
    return found


def everything_sent(slack: SlackDouble, since: int) -> str:
    """All Slack was sent after call number `since`: replies, posts, DMs, forms, App Home."""
    return html.unescape("\n".join(json.dumps(c.args, ensure_ascii=False) for c in slack.calls()[since:]))


@pytest.fixture
def two_workspaces(bot, client, slack) -> tuple[Team, Team]:
    t1, t2 = Team("T1", bot, client, slack), Team("T2", bot, client, slack)
    t1.ok(f'objective add "Grow {T1_WORD} signups" team <#C1|one>')
    t1.ok(f'kr add O-1 "Ship {T1_WORD} onboarding" by initiatives')
    t1.ok(f'initiative add KR-1 "Build {T1_WORD} wizard" url {T1_URL}')
    t1.ok(f'kr add O-1 "{T1_WORD} activation rate" from 10% to 40%')
    t1.ok("checkin KR-2 20")
    t1.ok(f'initiative add KR-1 "Write {T1_WORD} docs"')
    t1.ok(f'initiative add KR-1 "Record {T1_WORD} video"')
    t1.ok("done I-2")
    t1.ok(f'objective add "Secret {T1_WORD} plan" private')
    t1.ok(f'kr add O-2 "Hidden {T1_WORD} target" yes/no')
    slack.set_user("UADMIN1", is_admin=True)
    t1.ok("review now", user="UADMIN1")  # T1's owner gets a review DM (a nudge T2 will press)

    t2.ok('objective add "Grow beta revenue" team <#C2|two>', channel="C2")
    t2.ok('kr add O-1 "Ship beta billing" by initiatives', channel="C2")
    t2.ok('initiative add KR-1 "Build beta invoices"', channel="C2")
    return t1, t2


# Every row of SPEC §3, typed as T2 (ids that exist in T2 and ids that exist only in T1).
T2_COMMANDS = [
    "", "status", "status me", "status all", "status <@U1|u1>", "status <#C1|one>", "status O-1", "status O-2",
    "status KR-1", "status KR-2", "status KR-3", "status all 2026-Q4", "help", "help link",
    'objective add "Another beta goal" team <#C2|two>', 'kr add O-1 "Beta NPS" from 30 to 50', 'kr add O-2 "Sneaky" yes/no',
    'kr add O-1 "Beta uptime" keep above 99.9%', 'kr add O-1 "Beta audit" yes/no',
    'initiative add KR-1 "Beta export"', 'initiative add KR-3 "Sneaky work"', f"link {T1_URL} KR-1",
    "link I-2 KR-1", "link I-3 KR-1", "unlink I-2 KR-1", "unlink I-3 KR-3",
    "done I-1", "reopen I-1", "done I-3", "reopen I-2", f"done {T1_URL}", f"reopen {T1_URL}",
    "checkin KR-2 30", "checkin KR-4 99", "checkin KR-5 yes", "serves onboarding wizard docs video activation",
    "serves beta invoices", "gaps", "gaps 2026-Q4", "review status", "review now", 'review schedule "monthly first monday 10:00"',
    "review off", "edit O-1", "edit KR-1", "edit I-1", "edit O-2", "edit KR-2", "edit I-3",
    "archive O-2", "history KR-1", "history KR-2", "history KR-3",
]


def test_nothing_of_one_workspace_is_seen_or_changed_from_another(two_workspaces, bot, client, slack, tokens):
    t1, t2 = two_workspaces
    slack.set_user("UADMIN2", is_admin=True)
    t1_card = next(c for c in slack.delivered("chat.postMessage") if str(c.args.get("text", "")).startswith("I-3 "))
    t1_announcement = next(c for c in slack.delivered("chat.postMessage") if str(c.args.get("text", "")).startswith("Progress moved"))
    t1_undo = next(e["value"] for b in t1_announcement.args["blocks"] if b["type"] == "actions" for e in b["elements"])
    with bot.db.session_scope() as session:
        t1_nudge = session.exec(select(Nudge.id).where(Nudge.team_id == "T1")).first()
    assert t1_nudge is not None
    # Forms as T1 opened them (about T1's KR-3, O-2 and I-3), to be submitted from T2.
    t1_forms = []
    for action, value in ((Action.CHECKIN_OPEN, "KR-2"), (Action.LINK_OPEN, "KR-3"), (Action.EDIT_OPEN, "I-3"), (Action.INITIATIVE_NEW_OPEN, "KR-3")):
        assert client.block_action(action, value, team_id="T1").status_code == 200
        bot.settle()
        t1_forms.append(slack.calls("views.open")[-1].args["view"])
    before = t1_rows(bot)
    start = len(slack.calls())

    # --- webhooks that name T2 (which has only I-1 so far): T1's ids and URL find nothing there
    assert work_hook(bot, {"initiative": "I-3", "status": "done", "team": "T2"}).status_code == 202
    assert work_hook(bot, {"url": T1_URL, "status": "done", "team": "T2"}).status_code == 202
    assert work_hook(bot, {"initiative": "I-1", "status": "done", "team": "T2"}).status_code == 200  # T2's own I-1
    bot.settle()

    # --- every command row, as a T2 user and as a T2 admin
    for command in T2_COMMANDS:
        t2(command, channel="C2")
    for command in ("review now", "review status", "archive O-1", "status all"):
        t2(command, user="UADMIN2", channel="C2")

    # --- buttons carrying T1's ids and T1's change id, pressed in T2
    for action, value in (
        (Action.MARK_DONE, "I-3"), (Action.REOPEN, "I-2"), (Action.MARK_DONE, "I-2"), (Action.UNDO, t1_undo),
        (Action.CHECKIN_OPEN, "KR-2"), (Action.LINK_OPEN, "KR-3"), (Action.EDIT_OPEN, "O-2"), (Action.EDIT_OPEN, "KR-3"),
        (Action.KR_NEW_OPEN, "O-2"), (Action.INITIATIVE_NEW_OPEN, "KR-2"), (Action.NO_CHANGE, str(t1_nudge)),
        (Action.HOME_REFRESH, None), (Action.SERVES_LINK, json.dumps({"kr": 3, "text": "sneaky"})),
    ):
        assert client.block_action(action, value, team_id="T2", channel_id="C1", message=message_of(t1_announcement)).status_code == 200
        bot.settle()

    # --- T1's forms submitted from T2 (same private_metadata, another workspace)
    typed = {"checkin_modal": {"value": "35"}, "link_modal": {"url": "I-2"}, "initiative_modal": {"title": "Beta edit"}}
    for view in t1_forms:
        state = fill(view, **typed[view["callback_id"]])  # what the T2 person typed, not T1's words
        assert client.view_submission(view, state_values=state, team_id="T2").status_code == 200
        bot.settle()

    # --- ✅ on T1's card, reported by T2; mentions and DMs in T2
    assert client.event(reaction_added("white_check_mark", channel=t1_card.response["channel"], ts=t1_card.response["ts"]), team_id="T2").status_code == 200
    for words in ("status all", "done I-3", "does the onboarding wizard serve a KR?", "history KR-2"):
        assert client.event(client.app_mention(words, channel="C1", team="T2"), team_id="T2").status_code == 200
        assert client.event(client.dm_message(words, team="T2"), team_id="T2").status_code == 200
    assert client.event(client.app_home_opened("U1"), team_id="T2").status_code == 200
    bot.settle()

    # --- the operator's export of T2
    exported = CliRunner().invoke(cli, ["export", "--team", "T2"], env={"DATABASE_URL": bot.settings.database_url})
    assert exported.exit_code == 0, exported.output
    assert "beta" in exported.output and T1_WORD not in exported.output

    shown = everything_sent(slack, start)
    assert "beta" in shown  # T2 did see its own things
    assert T1_WORD not in shown.lower(), shown[shown.lower().index(T1_WORD) - 300 : shown.lower().index(T1_WORD) + 100]
    assert t1_rows(bot) == before
    if tokens is not None:  # everything done as T2 reached Slack with T2's own token
        web_api = [c for c in slack.calls()[start:] if c.method not in ("response_url", "file_upload")]
        assert web_api and {c.token for c in web_api} == {tokens["T2"]}, {(c.method, c.token) for c in web_api}

    # T1 is still whole from its own side.
    status = t1.ok("status all")
    assert f"Grow {T1_WORD} signups" in status and "beta" not in status


def test_a_github_delivery_moves_each_workspace_only_through_its_own_work(two_workspaces, bot, slack):
    t1, t2 = two_workspaces
    t2.ok('link https://github.com/acme/beta/issues/9 KR-1', channel="C2")
    before = t1_rows(bot)
    assert github(bot, "issues", issue("closed", "https://github.com/acme/beta/issues/9")).status_code == 200
    bot.settle()
    assert t1_rows(bot) == before
    assert "I-2" in t2.ok("status KR-1", channel="C2") and "✅" in t2.ok("status KR-1", channel="C2")
    assert httpx.get(f"{bot.url}/healthz", timeout=10).json()["ok"] is True
