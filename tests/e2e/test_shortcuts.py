"""Shortcuts and pickers (issue 15), over real HTTP with payloads shaped as Slack sends them
(tests/fixtures: message_action, shortcut, block_suggestion) and view submissions with the
option picked. What reached the Slack double, and the database, is the outcome."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from okrbot.adapters.slack.ids import Action, Shortcut
from okrbot.store.models import CheckIn, Initiative, Objective
from tests.e2e.conftest import block_text
from tests.e2e.test_modals import fill
from tests.fakes.slack_client import new_ts

pytestmark = pytest.mark.usefixtures("valid_blockkit")

TEAM = "CGROWTH"


@pytest.fixture
def quarter(okr):
    okr.ok(f'objective add "New users reach value in their first week" team <#{TEAM}|growth>')
    okr.ok('kr add O-1 "Raise 7-day activation rate of new signups from 34% to 50%" from 34 to 50 %')
    okr.ok('objective add "Run a reliable platform"')
    okr.ok('kr add O-2 "Cut p95 API latency from 800 ms to 300 ms" from 800 to 300 ms')
    okr.ok('objective add "Secret pivot" owner <@U2|bob> private')
    okr.ok('kr add O-3 "Sign five pilot customers" from 0 to 5', user="U2")


def opened_view(slack, since: int) -> dict:
    (opened,) = [c for c in slack.calls()[since:] if c.method == "views.open"]
    return opened.args["view"]


def suggestions(client, view: dict, block_id: str, typed: str, *, user: str = "U1") -> list[str]:
    response = client.block_suggestion(view, block_id, typed, user_id=user)
    assert response.status_code == 200, response.text
    assert response.elapsed.total_seconds() < 3, "Slack waits 3 s for options"
    return [option["value"] for option in json.loads(response.text)["options"]]


# --------------------------------------------------------------------------- "Does this serve a KR?" on a message


@pytest.mark.usefixtures("quarter")
def test_message_shortcut_answers_privately_in_the_channel_and_links_the_message_permalink(client, bot, slack):
    message = {"type": "message", "user": "U5", "ts": new_ts(), "text": "can someone speed up the slow API endpoints? p95 is awful"}
    before = len(slack.calls())
    response = client.message_action(Shortcut.SERVES_MESSAGE.value, message, user_id="U1", channel_id="C1")
    assert response.status_code == 200 and response.elapsed.total_seconds() < 3
    bot.settle()
    (answer,) = slack.calls("chat.postEphemeral")
    assert answer.args["channel"] == "C1" and answer.args["user"] == "U1"
    assert "KR-2" in block_text(answer.args["blocks"])
    assert not [c for c in slack.calls()[before:] if c.method == "chat.postMessage"], "nobody else sees the answer"
    (permalink_call,) = slack.calls("chat.getPermalink")
    assert permalink_call.args["message_ts"] == message["ts"]
    permalink = permalink_call.response["permalink"]

    buttons = [b["accessory"] for b in answer.args["blocks"] if "accessory" in b]
    buttons += [e for b in answer.args["blocks"] if b.get("type") == "actions" for e in b["elements"]]
    (button,) = [b for b in buttons if b.get("action_id") == Action.SERVES_LINK.value and b.get("value", "").startswith('{"kr":2')]
    client.block_action(Action.SERVES_LINK.value, button["value"], user_id="U1", channel_id="C1")
    bot.settle()
    with bot.db.session_scope() as session:
        (work,) = session.exec(select(Initiative)).all()
        assert work.url == permalink
        assert work.title.startswith("can someone speed up the slow API endpoints")


@pytest.mark.usefixtures("quarter")
def test_message_shortcut_where_the_bot_is_not_a_member_answers_in_a_dm(client, bot, slack):
    slack.fail("chat.postEphemeral", status=200, error="not_in_channel")
    message = {"type": "message", "user": "U5", "ts": new_ts(), "text": "raise activation of new signups in their first week"}
    before = len(slack.calls())
    client.message_action(Shortcut.SERVES_MESSAGE.value, message, user_id="U1", channel_id="C7")
    bot.settle()
    (dm,) = [c for c in slack.calls()[before:] if c.method == "chat.postMessage"]
    assert dm.args["channel"] == "U1" and "KR-1" in block_text(dm.args["blocks"])


@pytest.mark.usefixtures("quarter")
def test_message_shortcut_on_a_message_without_words_says_what_to_do(client, bot, slack):
    client.message_action(Shortcut.SERVES_MESSAGE.value, {"type": "message", "user": "U5", "ts": new_ts(), "text": ""})
    bot.settle()
    (answer,) = slack.calls("chat.postEphemeral")
    assert "no words" in answer.args["text"] and "/okr serves" in answer.args["text"]


# --------------------------------------------------------------------------- "Check in on a KR" from anywhere


@pytest.mark.usefixtures("quarter")
def test_global_shortcut_opens_a_form_whose_kr_is_picked_from_a_search(client, bot, slack):
    before = len(slack.calls())
    assert client.global_shortcut(Shortcut.CHECKIN.value, user_id="U1").status_code == 200
    bot.settle()
    view = opened_view(slack, before)
    assert suggestions(client, view, "kr", "latency") == ["KR-2"]
    assert suggestions(client, view, "kr", "kr1") == ["KR-1"]
    assert suggestions(client, view, "kr", "") == ["KR-2", "KR-1"], "newest first; the private KR-3 is not U1's to see"
    assert suggestions(client, view, "kr", "pilot", user="U2") == ["KR-3"], "its owner finds it"
    assert suggestions(client, view, "kr", "no such words") == []

    picked = {"type": "external_select", "selected_option": {"text": {"type": "plain_text", "text": "KR-2 Cut p95"}, "value": "KR-2"}}
    response = client.view_submission(view, state_values=fill(view, kr=picked, value="620", note="cache warmed"), user_id="U1")
    assert response.status_code == 200 and response.text == "", response.text
    bot.settle()
    with bot.db.session_scope() as session:
        (checkin,) = session.exec(select(CheckIn)).all()
        assert (checkin.value, checkin.note, checkin.author) == (620.0, "cache warmed", "U1")
    assert any("Recorded *KR-2*" in c.args.get("text", "") for c in slack.calls("chat.postMessage") if c.args["channel"] == "U1")


@pytest.mark.usefixtures("quarter")
def test_global_shortcut_form_refuses_a_bad_value_under_its_field(client, bot, slack):
    before = len(slack.calls())
    client.global_shortcut(Shortcut.CHECKIN.value)
    bot.settle()
    view = opened_view(slack, before)
    picked = {"type": "external_select", "selected_option": {"text": {"type": "plain_text", "text": "KR-1"}, "value": "KR-1"}}
    response = client.view_submission(view, state_values=fill(view, kr=picked, value="lots"))
    errors = json.loads(response.text)["errors"]
    assert "not a number" in errors["value"]
    with bot.db.session_scope() as session:
        assert session.exec(select(CheckIn)).all() == []


# --------------------------------------------------------------------------- the parent objective picker


@pytest.mark.usefixtures("quarter")
def test_new_objective_form_picks_its_parent_from_a_search(okr, client, bot, slack):
    view = okr.ok("objective add").view
    assert suggestions(client, view, "parent", "platform") == ["O-2"]
    assert suggestions(client, view, "parent", "O-1") == ["O-1"]
    assert "O-3" not in suggestions(client, view, "parent", ""), "private to U2"
    picked = {"type": "external_select", "selected_option": {"text": {"type": "plain_text", "text": "O-2"}, "value": "O-2"}}
    response = client.view_submission(view, state_values=fill(view, title="Keep the API fast", parent=picked), user_id="U1")
    assert response.status_code == 200 and response.text == "", response.text
    bot.settle()
    with bot.db.session_scope() as session:
        child = session.exec(select(Objective).where(Objective.title == "Keep the API fast")).one()
        parent = session.get(Objective, child.parent_id)
        assert parent.number == 2
