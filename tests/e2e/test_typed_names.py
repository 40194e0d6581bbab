"""`@maria` typed without Slack's autocomplete, over real HTTP against the Slack double.

Slack sends such a name as plain text; okrbot finds the person in the workspace's
users.list (read in pages, cached). The members are Slack's published users.list
examples (tests/fixtures/slack_users_list*.json, see SOURCES.md) replayed with the
names a test needs.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from sqlmodel import select

from okrbot.adapters.slack import people as people_module
from okrbot.store.models import Initiative, KeyResult, Objective
from tests.fakes.slack_client import dm_message

pytestmark = pytest.mark.usefixtures("valid_blockkit")

FIXTURES = Path(__file__).parents[1] / "fixtures"
PUBLISHED = json.loads((FIXTURES / "slack_users_list.json").read_text())["members"]  # spengler, glinda
FIRST_PAGE = json.loads((FIXTURES / "slack_users_list_first_page.json").read_text())["members"]  # slackbot, glinda
SPENGLER, GLINDA = PUBLISHED
SLACKBOT = FIRST_PAGE[0]
FILLERS = 240  # with 200 a page, the directory takes two pages


def member(user_id: str, name: str, real_name: str, display_name: str = "", **flags) -> dict:
    """A published member (Egon Spengler) as someone else: the id and names changed."""
    found = copy.deepcopy(SPENGLER)
    found.update(id=user_id, name=name, real_name=real_name, **flags)
    found["profile"].update(real_name=real_name, real_name_normalized=real_name, display_name=display_name, display_name_normalized=display_name)
    return found


MARIA_LOPEZ = member("U0MARIA01", "maria.lopez", "Maria Lopez", "Maria L")
MARIA_CHEN = member("U0MARIA02", "mchen", "Maria Chen")
MARIA_GONE = member("U0MARIA03", "mgone", "Maria Gone", deleted=True)  # deactivated
MARIA_BOT = member("U0MARIA04", "mariabot", "Maria", is_bot=True)  # a bot user
DANA_GONE = member("U0DANA001", "dscully", "Dana Scully", deleted=True)


@pytest.fixture
def workspace(slack, monkeypatch):
    monkeypatch.setattr(people_module, "PAGE_SIZE", 200)  # pages of 200, so 250 people make two
    fillers = [member(f"U0FILL{n:03d}", f"filler{n}", f"Filler Person{n}") for n in range(FILLERS)]
    # The people okrbot looks for sit on the second page, after the fillers.
    slack.set_people([SLACKBOT, *fillers, SPENGLER, GLINDA, MARIA_LOPEZ, MARIA_CHEN, MARIA_GONE, MARIA_BOT, DANA_GONE])
    return slack


@pytest.fixture
def clock(bot):
    """The directory's clock, moved by hand (the cache is timed in seconds)."""
    now = [1000.0]
    bot.bot.people.clock = lambda: now[0]
    return now


def owners(bot, model) -> list[str]:
    with bot.db.session_scope() as session:
        return [row.owner for row in session.exec(select(model).order_by(model.id)).all()]


def list_calls(slack) -> list:
    return slack.calls("users.list")


def test_a_unique_name_becomes_that_person_wherever_a_command_takes_one(okr, bot, workspace):
    okr.ok('objective add "Bust ghosts" owner @spengler')  # Slack's `name`
    okr.ok('objective add "Be good" owner @Glinda_Southgood')  # the real name, typed in one word
    egon = SPENGLER["id"]  # O-1's owner now, who may add to it
    okr.ok('kr add O-1 "Traps emptied" from 0 to 10 owner @egon', user=egon)  # a first name nobody else has
    okr.ok('initiative add KR-1 "New trap" owner @maria.lopez', user=egon)  # Slack's `name` with a dot
    assert owners(bot, Objective) == [SPENGLER["id"], GLINDA["id"]]
    assert owners(bot, KeyResult) == [SPENGLER["id"]]
    assert owners(bot, Initiative) == [MARIA_LOPEZ["id"]]
    shown = okr.ok("status @spengler")  # whose OKRs
    assert "Bust ghosts" in shown.text and "Be good" not in shown.text


def test_two_people_with_the_name_are_listed_as_mentions_and_nothing_changes(okr, bot, workspace):
    answer = okr("objective add \"Grow\" owner @maria")
    assert answer.problem
    raw = answer.body["text"]
    # Both Marias, as mentions a person can click; not the deactivated one, not the bot.
    assert f"<@{MARIA_CHEN['id']}>" in raw and f"<@{MARIA_LOPEZ['id']}>" in raw
    assert MARIA_GONE["id"] not in raw and MARIA_BOT["id"] not in raw
    assert "Maria Chen" in answer.text and "Maria Lopez" in answer.text
    assert "changed nothing" in answer.text
    assert owners(bot, Objective) == []
    assert okr("status @maria").problem  # the same question wherever a person is asked for


def test_deactivated_people_bots_and_slackbot_are_never_found(okr, bot, workspace):
    for name in ("dscully", "mariabot", "slackbot", "nobody"):
        answer = okr(f'objective add "Grow" owner @{name}')
        assert answer.problem, name
        assert f"I don't know anyone called @{name}" in answer.text
        assert "pick them from Slack's list" in answer.text and "member ID" in answer.text  # what to type instead
    assert owners(bot, Objective) == []


def test_the_directory_is_read_in_pages_once_and_then_from_the_cache(okr, bot, workspace, clock):
    okr.ok('objective add "One" owner @spengler')
    pages = list_calls(workspace)
    assert len(pages) == 2  # 240 fillers and the rest: two pages of 200
    assert all(call.args.get("limit") == "200" for call in pages)
    assert "cursor" not in pages[0].args or not pages[0].args["cursor"]
    assert pages[1].args["cursor"] == pages[0].response["response_metadata"]["next_cursor"]

    okr.ok('objective add "Two" owner @glinda')
    okr("status @maria")
    assert len(list_calls(workspace)) == 2  # known names are answered from the cache

    okr("status @newcomer")  # nobody, but the list was read a moment ago: not again
    assert len(list_calls(workspace)) == 2
    clock[0] += people_module.MISS_SECONDS
    okr("status @newcomer")  # a minute on: perhaps someone just joined, so read again, once
    assert len(list_calls(workspace)) == 4
    okr("status @newcomer")
    okr("status @othernewcomer")
    assert len(list_calls(workspace)) == 4  # at most once a minute

    workspace.set_people([SPENGLER, member("U0NEW0001", "newcomer", "New Comer")])
    clock[0] += people_module.MISS_SECONDS
    okr.ok('objective add "Three" owner @newcomer')
    assert len(list_calls(workspace)) == 5  # one page now
    assert owners(bot, Objective)[-1] == "U0NEW0001"

    clock[0] += people_module.FRESH_SECONDS
    okr.ok('objective add "Four" owner @spengler')
    assert len(list_calls(workspace)) == 6  # an hour on, the list is read again


def test_a_rate_limited_read_waits_as_slack_asks_and_then_reads_on(okr, bot, workspace):
    waited: list[float] = []
    bot.bot.people.sleep = waited.append
    workspace.fail("users.list", status=429, retry_after=2)
    okr.ok('objective add "One" owner @glinda')
    assert waited == [2.0]
    assert [call.status for call in list_calls(workspace)] == [429, 200, 200]
    assert owners(bot, Objective) == [GLINDA["id"]]


def test_a_long_rate_limit_without_a_list_says_what_to_do_and_with_one_uses_it(okr, bot, workspace, clock):
    bot.bot.people.sleep = lambda seconds: None
    workspace.fail("users.list", status=429, retry_after=30)
    answer = okr('objective add "One" owner @glinda')
    assert answer.problem and "pick the person from Slack's list" in answer.text
    assert owners(bot, Objective) == []

    clock[0] += 30  # the pause Slack asked for
    okr.ok('objective add "One" owner @glinda')  # Slack answers again: the list is read
    clock[0] += people_module.FRESH_SECONDS
    workspace.fail("users.list", status=429, retry_after=30)
    okr.ok('objective add "Two" owner @spengler')  # stale, but better than nothing
    assert owners(bot, Objective) == [GLINDA["id"], SPENGLER["id"]]


def test_the_read_stops_after_its_last_page(okr, bot, workspace, monkeypatch):
    monkeypatch.setattr(people_module, "MOST_PAGES", 1)  # as if the workspace had 10,000+ people
    answer = okr('objective add "One" owner @spengler')  # on the second page: not read
    assert answer.problem and "I don't know anyone called @spengler" in answer.text
    assert len(list_calls(workspace)) == 1
    okr.ok('objective add "Two" owner @filler7')  # the first page was kept
    assert owners(bot, Objective) == ["U0FILL007"]


def test_a_dm_understands_typed_names_too(bot, client, workspace):
    client.event(dm_message('objective add "Via DM" owner @glinda', user="U1"))
    client.event(dm_message("status @maria", user="U1"))
    bot.settle()
    said = [call.args.get("text", "") for call in workspace.calls("chat.postMessage") if call.args.get("channel") in ("DU1", "U1")]
    assert owners(bot, Objective) == [GLINDA["id"]]
    assert any(f"<@{MARIA_CHEN['id']}>" in text and f"<@{MARIA_LOPEZ['id']}>" in text for text in said), said


def test_a_read_cut_short_by_a_long_rate_limit_goes_on_from_its_page_after_the_pause(okr, bot, workspace, clock):
    workspace.rate_limit_every(2, "users.list", retry_after=30)  # page 1 read, page 2 refused for 30 s
    answer = okr('objective add "One" owner @glinda')
    assert answer.problem and "pick the person from Slack's list" in answer.text  # no whole list yet
    okr('objective add "One" owner @glinda')  # within the pause: Slack is not asked
    assert [call.status for call in list_calls(workspace)] == [200, 429]

    clock[0] += 30
    okr.ok('objective add "One" owner @glinda')
    first, refused, resumed = list_calls(workspace)
    assert resumed.status == 200
    assert resumed.args["cursor"] == refused.args["cursor"] == first.response["response_metadata"]["next_cursor"]
    assert owners(bot, Objective) == [GLINDA["id"]]
