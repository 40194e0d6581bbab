"""Events over real HTTP: App Home, @okrbot mentions and DMs (SPEC §4).

Mentions and DMs take the same words as /okr; mentions are answered in the
thread of the mention, DMs in the DM. What reached the Slack double is the outcome.
"""

from __future__ import annotations

from sqlmodel import select

from okrbot.store.models import KeyResult, Objective, ProcessedEvent
from tests.e2e.harness import RunningBot
from tests.fakes.slack_api import Call, SlackDouble
from tests.fakes.slack_client import app_home_opened, app_mention, dm_message


def said(call: Call) -> str:
    """The text a person reads in a message or view: its text and every block's text."""
    found: list[str] = [str(call.args.get("text", ""))]

    def walk(node) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("mrkdwn", "plain_text") and isinstance(node.get("text"), str):
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(call.args.get("blocks"))
    walk(call.args.get("view"))
    return "\n".join(found)


def replies_in_thread(slack: SlackDouble, channel: str, ts: str) -> list[Call]:
    return [c for c in slack.calls("chat.postMessage") if c.args.get("channel") == channel and c.args.get("thread_ts") == ts]


def kr_current(bot: RunningBot, number: int) -> float | None:
    with bot.db.session_scope() as session:
        return session.exec(select(KeyResult.current).where(KeyResult.number == number)).one()


# ---------------------------------------------------------------------- App Home


def test_app_home_shows_the_viewers_okrs_and_what_they_owe(bot, client, slack, okr):
    okr.ok('objective add "Grow activation" team <#C1|growth>')
    okr.ok('kr add O-1 "Cut time to first value" from 45 to 25 days')  # never checked in: owed
    okr.ok('kr add O-1 "Onboarding shipped" by initiatives')
    okr.ok('initiative add KR-2 "New setup wizard"')  # open work owned by U1
    okr.ok('objective add "Someone else\'s goal" owner <@U2|bo>', user="U2")

    assert client.event(app_home_opened("U1")).status_code == 200
    bot.settle()
    published = slack.wait_for("views.publish")[-1]
    assert published.args["user_id"] == "U1"
    view = published.args["view"]
    assert view["type"] == "home"
    text = said(published)
    assert "Grow activation" in text and "KR-1" in text and "KR-2" in text
    assert "Someone else" not in text  # the viewer's own OKRs
    owed = text[text.index("What you owe") :]
    assert "Check in *KR-1*" in owed  # no check-in yet
    assert "I-1" in owed and "New setup wizard" in owed  # open work


def test_app_home_for_someone_with_nothing_says_so(bot, client, slack):
    assert client.event(app_home_opened("U9")).status_code == 200
    bot.settle()
    published = slack.wait_for("views.publish")[-1]
    assert published.args["user_id"] == "U9"
    text = said(published)
    assert "nothing owed" in text
    assert "You own no objective" in text


def test_app_home_is_up_to_date_after_a_check_in(bot, client, slack, okr):
    okr.ok('objective add "Grow activation"')
    okr.ok('kr add O-1 "Cut time to first value" from 45 to 25 days')
    okr.ok("checkin KR-1 35")
    client.event(app_home_opened("U1"))
    bot.settle()
    text = said(slack.wait_for("views.publish")[-1])
    assert "50%" in text
    assert "What you owe" not in text


def test_opening_the_messages_tab_publishes_nothing(bot, client, slack):
    assert client.event(app_home_opened("U1", tab="messages")).status_code == 200
    bot.settle()
    assert slack.calls("views.publish") == []


# ---------------------------------------------------------------------- mentions


def test_a_mention_is_answered_in_its_thread(bot, client, slack, okr):
    okr.ok('objective add "Grow activation" team <#C1|growth>')
    mention = app_mention("status all", channel="C1")
    assert client.event(mention).status_code == 200
    bot.settle()
    replies = replies_in_thread(slack, "C1", mention["ts"])
    assert len(replies) == 1
    assert "Grow activation" in said(replies[0])


def test_a_mention_that_changes_state_applies_it_and_answers_in_the_thread(bot, client, slack, okr):
    okr.ok('objective add "Grow activation" team <#C1|growth>')
    okr.ok('kr add O-1 "Cut time to first value" from 45 to 25 days')
    mention = app_mention("checkin KR-1 35 confidence 7", channel="C1", user="U1")
    assert client.event(mention).status_code == 200
    bot.settle()
    assert kr_current(bot, 1) == 35
    replies = replies_in_thread(slack, "C1", mention["ts"])
    assert len(replies) == 1 and "Recorded *KR-1*" in said(replies[0])


def test_a_mention_in_a_thread_is_answered_in_that_thread(bot, client, slack):
    mention = app_mention('objective add "From a thread"', channel="C1", thread_ts="1700000000.000100")
    client.event(mention)
    bot.settle()
    assert len(replies_in_thread(slack, "C1", "1700000000.000100")) == 1
    with bot.db.session_scope() as session:
        assert session.exec(select(Objective.title)).all() == ["From a thread"]


def test_a_mention_with_a_mistake_is_told_what_was_wrong_and_changes_nothing(bot, client, slack):
    mention = app_mention("checkin KR-1 forty", channel="C1")
    client.event(mention)
    bot.settle()
    replies = replies_in_thread(slack, "C1", mention["ts"])
    assert len(replies) == 1
    assert ":warning:" in said(replies[0])
    with bot.db.session_scope() as session:
        assert session.exec(select(KeyResult)).all() == []


def test_a_bare_mention_gets_help(bot, client, slack):
    mention = app_mention("", channel="C1")
    client.event(mention)
    bot.settle()
    replies = replies_in_thread(slack, "C1", mention["ts"])
    assert len(replies) == 1 and "/okr" in said(replies[0])


def test_does_this_serve_a_kr_is_answered_in_the_thread(bot, client, slack, okr):
    okr.ok('objective add "Grow activation" team <#C1|growth>')
    okr.ok('kr add O-1 "Cut time to first value" from 45 to 25 days')
    mention = app_mention("does “a guided setup checklist” serve a KR?", channel="C1")
    client.event(mention)
    bot.settle()
    replies = replies_in_thread(slack, "C1", mention["ts"])
    assert len(replies) == 1
    # The full answer (reasons, the Link button, "no KR") is tested in test_serves.py.
    assert "KR-1" in said(replies[0]) and "Cut time to first value" in said(replies[0]), said(replies[0])


# ---------------------------------------------------------------------- DMs


def test_a_dm_takes_the_same_words_and_is_answered_in_the_dm(bot, client, slack, okr):
    okr.ok('objective add "Grow activation"')
    okr.ok('kr add O-1 "Cut time to first value" from 45 to 25 days')
    message = dm_message("checkin KR-1 40", user="U1")
    assert client.event(message).status_code == 200
    bot.settle()
    assert kr_current(bot, 1) == 40
    in_dm = [c for c in slack.calls("chat.postMessage") if c.args.get("channel") == message["channel"]]
    answers = [c for c in in_dm if "Recorded *KR-1*" in said(c)]
    assert len(answers) == 1, slack.describe()
    assert "thread_ts" not in answers[0].args  # a plain DM reply, not a thread


def test_a_dm_with_the_okr_prefix_works_too(bot, client, slack):
    message = dm_message('/okr objective add "Typed with the prefix"', user="U1")
    client.event(message)
    bot.settle()
    with bot.db.session_scope() as session:
        assert session.exec(select(Objective.title)).all() == ["Typed with the prefix"]


def test_bot_messages_edits_and_other_subtypes_are_ignored(bot, client, slack):
    before = len(slack.calls())
    ignored = [
        {**dm_message('objective add "From a bot"'), "bot_id": "BOTHER", "subtype": "bot_message"},
        {**dm_message('objective add "Our own echo"', user="UBOT"), "bot_id": "BBOT"},
        {**dm_message('objective add "Edited"'), "subtype": "message_changed"},
        {**dm_message('objective add "Joined"'), "subtype": "channel_join"},
    ]
    for event in ignored:
        assert client.event(event).status_code == 200
    bot.settle()
    with bot.db.session_scope() as session:
        assert session.exec(select(Objective)).all() == []
        assert session.exec(select(ProcessedEvent)).all() == []
    assert [c.method for c in slack.calls()[before:] if c.method != "users.info"] == []


def test_channel_messages_without_a_mention_are_not_commands(bot, client, slack):
    event = {**dm_message('objective add "Overheard"'), "channel": "C1", "channel_type": "channel"}
    assert client.event(event).status_code == 200
    bot.settle()
    with bot.db.session_scope() as session:
        assert session.exec(select(Objective)).all() == []
    assert slack.calls("chat.postMessage") == []
