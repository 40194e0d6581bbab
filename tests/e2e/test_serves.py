""""Does this serve a KR?" end to end (SPEC §6): `/okr serves`, the mention question
answered in its thread, the same in a DM, and the Link button, over real HTTP
against the Slack double. What reached the double is the outcome.
"""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from okrbot.adapters.slack.ids import Action
from okrbot.store.models import Initiative, ServesFeedback
from tests.e2e.conftest import Answer, block_text, channel_of, message_of
from tests.fakes.slack_api import Call, SlackDouble
from tests.fakes.slack_client import app_mention, dm_message

pytestmark = pytest.mark.usefixtures("valid_blockkit")

TEAM = "CGROWTH"  # O-1's team channel; people ask in C1


@pytest.fixture
def quarter(okr):
    okr.ok(f'objective add "New users reach value in their first week" team <#{TEAM}|growth>')
    okr.ok('kr add O-1 "Raise 7-day activation rate of new signups from 34% to 50%" from 34 to 50 %')
    okr.ok('kr add O-1 "Increase trial-to-paid conversion from 8% to 12%" from 8 to 12 %')
    okr.ok('objective add "Run a reliable platform"')
    okr.ok('kr add O-2 "Cut p95 API latency from 800 ms to 300 ms" from 800 to 300 ms')
    okr.ok('initiative add KR-1 "Guided setup checklist on first login"')


def said(call: Call) -> str:
    return f"{call.args.get('text', '')}\n{block_text(call.args.get('blocks'))}"


def thread_replies(slack: SlackDouble, channel: str, ts: str) -> list[Call]:
    return [c for c in slack.calls("chat.postMessage") if c.args.get("channel") == channel and c.args.get("thread_ts") == ts]


def suggestion_buttons(blocks: list[dict], action: Action) -> dict[str, dict]:
    """The answer's buttons of one kind, by the KR they are about."""
    buttons = [
        element
        for block in blocks
        if block.get("type") == "actions"
        for element in block["elements"]
        if element.get("action_id") == action.value
    ]
    return {f"KR-{json.loads(button['value'])['kr']}": button for button in buttons}


def link_buttons(blocks: list[dict]) -> dict[str, dict]:
    return suggestion_buttons(blocks, Action.SERVES_LINK)


def ask_in_channel(client, bot, slack, question: str, channel: str = "C1", user: str = "U1") -> Call:
    mention = app_mention(question, user=user, channel=channel)
    assert client.event(mention).status_code == 200
    bot.settle()
    (reply,) = thread_replies(slack, channel, mention["ts"])
    return reply


@pytest.mark.usefixtures("quarter")
def test_slash_serves_answers_privately_with_the_kr_its_objective_and_why(okr):
    answer: Answer = okr.ok("serves speed up the slow API endpoints")

    assert answer.ephemeral and not answer.posts()
    text = answer.text
    assert "KR-3" in text and "Cut p95 API latency from 800 ms to 300 ms" in text
    assert "O-2" in text and "Run a reliable platform" in text
    assert 'Why: matches "api"' in text
    assert "KR-1" not in text and "KR-2" not in text
    assert list(link_buttons(answer.body["blocks"])) == ["KR-3"]


@pytest.mark.usefixtures("quarter")
def test_a_mention_in_a_channel_is_answered_in_its_thread_with_the_right_kr(client, bot, slack):
    reply = ask_in_channel(client, bot, slack, "<@UBOT> does “a checklist shown on first login” serve a KR?")

    text = said(reply)
    assert "KR-1" in text and "Raise 7-day activation rate of new signups" in text
    assert "New users reach value in their first week" in text
    assert 'linked work "Guided setup checklist on first login"' in text
    assert "KR-3" not in text
    assert list(link_buttons(reply.args["blocks"]))[0] == "KR-1"


@pytest.mark.usefixtures("quarter")
def test_the_same_question_in_a_dm_is_answered_in_the_dm(client, bot, slack):
    message = dm_message("does speeding up the slow API endpoints serve a KR?", user="U2")
    assert client.event(message).status_code == 200
    bot.settle()

    (reply,) = [c for c in slack.calls("chat.postMessage") if c.args.get("channel") == message["channel"]]
    assert "KR-3" in said(reply) and "Cut p95 API latency" in said(reply)
    assert "thread_ts" not in reply.args


@pytest.mark.usefixtures("quarter")
def test_a_private_objective_is_answered_in_its_owners_dm_never_in_a_channel_thread(client, bot, slack, okr):
    okr.ok('objective add "Acquire Initech" private', user="U5")
    okr.ok('kr add O-3 "Finish the Initech due diligence" by initiatives', user="U5")
    question = "does the Initech data room for due diligence serve a KR?"

    in_channel = said(ask_in_channel(client, bot, slack, question, user="U5"))
    assert "No KR" in in_channel and "KR-4" not in in_channel and "Initech due diligence" not in in_channel

    for user, expected in (("U5", True), ("U1", False)):
        message = dm_message(question, user=user)
        client.event(message)
        bot.settle()
        (reply,) = [c for c in slack.calls("chat.postMessage") if c.args.get("channel") == message["channel"]]
        assert ("KR-4" in said(reply) and "Acquire Initech" in said(reply)) is expected, said(reply)
        assert ("No KR" in said(reply)) is not expected


@pytest.mark.usefixtures("quarter")
def test_the_link_button_makes_the_request_an_initiative_on_that_kr(client, bot, slack, okr):
    question = "does https://github.com/acme/app/issues/42 a checklist shown on first login serve a KR?"
    reply = ask_in_channel(client, bot, slack, question)
    button = link_buttons(reply.args["blocks"])["KR-1"]
    before = len(slack.calls())

    response = client.block_action(
        button["action_id"], button["value"], user_id="U2", channel_id="C1", message=message_of(reply)
    )
    assert response.status_code == 200
    bot.settle()

    with bot.db.session_scope() as session:
        (made,) = session.exec(select(Initiative).where(Initiative.number == 2)).all()
        assert (made.title, made.url, made.owner) == (
            "a checklist shown on first login",
            "https://github.com/acme/app/issues/42",
            "U2",
        )
    status = okr.ok("status KR-1").text
    assert "I-2" in status and "a checklist shown on first login" in status
    # The team hears about the new work, with its Mark done button; the clicker is told privately.
    (card,) = [c for c in slack.calls()[before:] if c.method == "chat.postMessage" and said(c).startswith("I-2 ")]
    assert channel_of(card) == TEAM and "Serves *KR-1*" in said(card)
    assert any(e.get("action_id") == Action.MARK_DONE.value for b in card.args["blocks"] for e in b.get("elements", []))
    (confirmation,) = slack.calls("chat.postEphemeral")[-1:]
    assert confirmation.args["user"] == "U2" and "Created and linked *I-2*" in confirmation.args["text"]

    # A second click (or a colleague's) changes nothing.
    client.block_action(button["action_id"], button["value"], user_id="U3", channel_id="C1", message=message_of(reply))
    bot.settle()
    with bot.db.session_scope() as session:
        assert len(session.exec(select(Initiative)).all()) == 2
    assert "already linked to *KR-1*" in slack.calls("chat.postEphemeral")[-1].args["text"]


@pytest.mark.usefixtures("quarter")
def test_an_off_topic_request_gets_a_clear_no_kr(client, bot, slack, okr):
    reply = ask_in_channel(client, bot, slack, "does ordering new chairs for the kitchen serve a KR?")
    text = said(reply)
    assert "No KR" in text and "3 KRs checked" in text and "/okr status all" in text
    assert not link_buttons(reply.args["blocks"])

    answer = okr.ok("serves order new chairs for the kitchen")
    assert answer.ephemeral and "No KR" in answer.text and "KR-" not in answer.text


def test_with_no_krs_yet_the_answer_says_how_to_make_one(okr):
    answer = okr.ok("serves speed up the slow API endpoints")
    assert "no KRs in" in answer.text and "/okr kr add" in answer.text


# --- three tiers, "Not this one", learning from links ---------------------------------------------


def reject_buttons(blocks: list[dict]) -> dict[str, dict]:
    return suggestion_buttons(blocks, Action.SERVES_REJECT)


@pytest.mark.usefixtures("quarter")
def test_each_tier_says_how_sure_it_is_and_only_named_krs_get_buttons(okr):
    confident = okr.ok("serves speed up the slow API endpoints")
    assert "Serves *KR-3*" in confident.text and "Might" not in confident.text
    assert list(link_buttons(confident.body["blocks"])) == list(reject_buttons(confident.body["blocks"])) == ["KR-3"]

    maybe = okr.ok("serves value for users")
    assert "No KR fits for sure; these *might*" in maybe.text
    assert "Might serve *KR-1*" in maybe.text and "Might serve *KR-2*" in maybe.text
    assert "Serves *" not in maybe.text and "Why only maybe: matches" in maybe.text
    assert list(link_buttons(maybe.body["blocks"])) == list(reject_buttons(maybe.body["blocks"])) == ["KR-1", "KR-2"]

    none = okr.ok("serves order new chairs for the kitchen")
    assert "No KR" in none.text and "KR-" not in none.text
    assert not link_buttons(none.body["blocks"]) and not reject_buttons(none.body["blocks"])


@pytest.mark.usefixtures("quarter")
def test_not_this_one_is_stored_and_the_next_answer_leaves_that_kr_out(client, bot, slack, okr):
    reply = ask_in_channel(client, bot, slack, "<@UBOT> does value for users serve a KR?")
    assert list(reject_buttons(reply.args["blocks"])) == ["KR-1", "KR-2"]
    button = reject_buttons(reply.args["blocks"])["KR-1"]

    response = client.block_action(button["action_id"], button["value"], user_id="U2", channel_id="C1", message=message_of(reply))
    assert response.status_code == 200
    bot.settle()

    confirmation = slack.calls("chat.postEphemeral")[-1]
    assert confirmation.args["user"] == "U2" and "*KR-1* will not be suggested for this request again" in confirmation.args["text"]
    with bot.db.session_scope() as session:
        (row,) = session.exec(select(ServesFeedback)).all()
        assert (row.request, row.user_id) == ("value for users", "U2")
    # The very next question with these words (by anyone, in any case) no longer names KR-1.
    again = okr.ok("serves Value for Users")
    assert "KR-1" not in again.text and "KR-2" in again.text

    # Saying it twice changes nothing.
    client.block_action(button["action_id"], button["value"], user_id="U2", channel_id="C1", message=message_of(reply))
    bot.settle()
    assert "already said" in slack.calls("chat.postEphemeral")[-1].args["text"]
    with bot.db.session_scope() as session:
        assert len(session.exec(select(ServesFeedback)).all()) == 1


@pytest.mark.usefixtures("quarter")
def test_a_link_from_a_might_answer_teaches_the_next_similar_question(client, bot, slack, okr):
    reply = ask_in_channel(client, bot, slack, "<@UBOT> does value for users serve a KR?")
    assert "Might serve *KR-2*" in said(reply)
    button = link_buttons(reply.args["blocks"])["KR-2"]

    client.block_action(button["action_id"], button["value"], user_id="U2", channel_id="C1", message=message_of(reply))
    bot.settle()
    assert "Created and linked" in slack.calls("chat.postEphemeral")[-1].args["text"]

    # The same words, and a close rewording, are now confidently KR-2's.
    for question in ("serves value for users", "serves more value for our users"):
        answer = okr.ok(question)
        assert "Serves *KR-2*" in answer.text and 'like linked work "value for users"' in answer.text


def test_in_a_private_objectives_own_channel_serves_shows_what_status_shows(client, bot, slack, okr):
    slack.set_members("CDEAL", ["U5", "U7"])  # conversations.members: the private team
    okr.ok('objective add "Acquire Initech" team <#CDEAL|deal> private', user="U5")
    okr.ok('kr add O-1 "Finish the Initech due diligence" by initiatives', user="U5")

    # A team member asks in the team's channel: answered to them alone, with the team's KR.
    status = okr.ok("status all", user="U7", channel="CDEAL")
    answer = okr.ok("serves collect the due diligence documents", user="U7", channel="CDEAL")
    assert "Acquire Initech" in status.text
    assert answer.ephemeral and "KR-1" in answer.text and "Acquire Initech" in answer.text
    # Someone outside the team, in the same channel, hears of no KR.
    outsider = okr.ok("serves collect the due diligence documents", user="U9", channel="CDEAL")
    assert "KR-1" not in outsider.text and "Initech" not in outsider.text
    # A mention there is answered in a thread the whole channel reads: public-safe.
    reply = ask_in_channel(client, bot, slack, "<@UBOT> does collecting the due diligence documents serve a KR?", channel="CDEAL", user="U7")
    assert "KR-1" not in said(reply) and "Acquire Initech" not in said(reply)
