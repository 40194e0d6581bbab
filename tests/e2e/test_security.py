"""Requests Slack did not sign are refused; requests Slack sends twice act once (SPEC §4).

Everything goes over real HTTP to POST /slack/events and is judged by what changed:
rows in the database and calls that reached the Slack double.
"""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func
from sqlmodel import select

from okrbot.store.models import ChangeKr, Initiative, Objective, ProcessedEvent
from tests.e2e.harness import RunningBot
from tests.fakes.slack_api import SlackDouble
from tests.fakes.slack_client import SignedSlackClient, app_mention, reaction_added, reaction_removed, sign

SIX_MINUTES = 6 * 60


def rows(bot: RunningBot, model) -> int:
    with bot.db.session_scope() as session:
        return session.exec(select(func.count()).select_from(model)).one()


def titles(bot: RunningBot) -> list[str]:
    with bot.db.session_scope() as session:
        return list(session.exec(select(Objective.title).order_by(Objective.number)).all())


BAD_SIGNATURES = {
    "unsigned": {"signed": False},
    "wrong signature": {"bad_signature": True},
    "stale (6 minutes old)": {"timestamp_offset": -SIX_MINUTES},
    "from the future (6 minutes ahead)": {"timestamp_offset": SIX_MINUTES},
}


def _sign_opts(case: dict) -> dict:
    opts = dict(case)
    offset = opts.pop("timestamp_offset", None)
    if offset is not None:
        opts["timestamp"] = int(time.time()) + offset
    return opts


@pytest.mark.parametrize("case", BAD_SIGNATURES.values(), ids=BAD_SIGNATURES.keys())
def test_a_badly_signed_slash_command_gets_401_and_changes_nothing(bot, client, slack, case):
    before = len(slack.calls())  # bolt's auth.test at start-up
    response = client.command('objective add "Sneaky"', **_sign_opts(case))
    assert response.status_code == 401
    bot.settle()
    assert rows(bot, Objective) == 0
    # No listener ran: no answer, no message, not even the admin lookup a listener starts with.
    assert slack.calls()[before:] == []


@pytest.mark.parametrize("case", BAD_SIGNATURES.values(), ids=BAD_SIGNATURES.keys())
def test_a_badly_signed_event_gets_401_and_changes_nothing(bot, client, slack, case):
    before = len(slack.calls())
    response = client.event(app_mention('objective add "Sneaky"'), **_sign_opts(case))
    assert response.status_code == 401
    bot.settle()
    assert rows(bot, Objective) == 0
    assert rows(bot, ProcessedEvent) == 0
    assert slack.calls()[before:] == []


@pytest.mark.parametrize("case", BAD_SIGNATURES.values(), ids=BAD_SIGNATURES.keys())
def test_a_badly_signed_button_click_gets_401_and_changes_nothing(bot, client, slack, okr, case):
    okr.ok('objective add "Real" team <#C1|growth>')
    okr.ok('kr add O-1 "Shipped" by initiatives')
    okr.ok('initiative add KR-1 "Build it"')
    before = len(slack.calls())
    response = client.block_action("initiative_mark_done", "I-1", **_sign_opts(case))
    assert response.status_code == 401
    bot.settle()
    with bot.db.session_scope() as session:
        assert session.exec(select(Initiative.status)).one() == "todo"
    assert slack.calls()[before:] == []


def test_the_signature_window_is_five_minutes(bot, client, slack):
    # Four minutes old is inside Slack's window: accepted and applied.
    response = client.command('objective add "Slow network"', timestamp=int(time.time()) - 4 * 60)
    assert response.status_code == 200
    bot.settle()
    assert titles(bot) == ["Slow network"]


def test_a_request_signed_for_another_body_is_refused(bot, client, slack):
    # A captured signature does not carry over to a changed body.
    body = b'{"type": "url_verification", "challenge": "abc", "token": "t"}'
    timestamp = int(time.time())
    headers = {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": sign(client.signing_secret, timestamp, body)}
    tampered = body.replace(b"abc", b"xyz")
    response = client.raw(tampered, headers=headers, signed=False)
    assert response.status_code == 401


def test_url_verification_answers_the_challenge(client):
    response = client.url_verification("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P")
    assert response.status_code == 200
    assert response.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}


def test_url_verification_must_be_signed_too(client):
    assert client.url_verification("abc", signed=False).status_code == 401


def _thread_replies(slack: SlackDouble, ts: str) -> list:
    return [c for c in slack.calls("chat.postMessage") if c.args.get("thread_ts") == ts]


def test_a_retried_mention_applies_once(bot, client, slack):
    mention = app_mention('objective add "Retry once"', channel="C1")
    first = client.event(mention, event_id="EvRETRY1")
    assert first.status_code == 200
    bot.settle()
    assert titles(bot) == ["Retry once"]
    assert len(_thread_replies(slack, mention["ts"])) == 1
    calls = len(slack.calls())

    # Slack thought the first delivery timed out and sends it again.
    retry = client.event(mention, event_id="EvRETRY1", retry_num=1, retry_reason="http_timeout")
    assert retry.status_code == 200  # acknowledged, so Slack stops retrying
    bot.settle()
    assert titles(bot) == ["Retry once"]
    assert len(_thread_replies(slack, mention["ts"])) == 1
    assert len(slack.calls()) == calls


def test_a_duplicate_event_id_without_retry_headers_applies_once(bot, client, slack, okr):
    okr.ok('objective add "Ship" team <#C1|growth>')
    okr.ok('kr add O-1 "Shipped" by initiatives')
    okr.ok('initiative add KR-1 "Build it"')
    moves = rows(bot, ChangeKr)
    mention = app_mention("done I-1", channel="C1")
    for _ in range(2):
        assert client.event(mention, event_id="EvDUP1").status_code == 200
        bot.settle()
    with bot.db.session_scope() as session:
        assert session.exec(select(Initiative.status)).one() == "done"
    assert len(_thread_replies(slack, mention["ts"])) == 1
    assert rows(bot, ChangeKr) == moves + 1  # one progress move recorded, not two


def test_a_retry_that_overlaps_the_first_delivery_applies_once(bot, client, slack):
    # Slack retries after 3 s without an answer, so both may be in flight together.
    mention = app_mention('objective add "Overlap"', channel="C1")
    results: list[int] = []

    def deliver(retry_num):
        with SignedSlackClient(bot.url, client.signing_secret) as own:
            results.append(own.event(mention, event_id="EvOVERLAP", retry_num=retry_num).status_code)

    threads = [threading.Thread(target=deliver, args=(n,)) for n in (None, 1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=15)
    assert results == [200, 200, 200]
    bot.settle()
    assert titles(bot) == ["Overlap"]
    assert len(_thread_replies(slack, mention["ts"])) == 1


def _card(slack: SlackDouble):
    cards = [c for c in slack.calls("chat.postMessage") if "I-1" in str(c.args.get("text"))]
    assert cards, slack.describe()
    return cards[0].response["channel"], cards[0].response["ts"]


def _status(bot: RunningBot) -> str:
    with bot.db.session_scope() as session:
        return session.exec(select(Initiative.status).where(Initiative.number == 1)).one()


def test_a_replayed_check_mark_reaction_moves_progress_once(bot, client, slack, okr):
    okr.ok('objective add "Ship" team <#C1|growth>')
    okr.ok('kr add O-1 "Shipped" by initiatives')
    okr.ok('initiative add KR-1 "Build it"')
    okr.ok('initiative add KR-1 "Test it"')
    channel, ts = _card(slack)

    added = reaction_added("white_check_mark", channel=channel, ts=ts)
    assert client.event(added, event_id="EvREACT1").status_code == 200
    bot.settle()
    assert _status(bot) == "done"
    assert "50%" in okr.ok("status KR-1").text
    moves = rows(bot, ChangeKr)
    posts = len(slack.calls("chat.postMessage"))

    assert client.event(added, event_id="EvREACT1", retry_num=1).status_code == 200
    bot.settle()
    assert rows(bot, ChangeKr) == moves
    assert len(slack.calls("chat.postMessage")) == posts

    # The ✅ is taken away: the work reopens. A late copy of the old ✅ must not redo it.
    assert client.event(reaction_removed("white_check_mark", channel=channel, ts=ts), event_id="EvREACT2").status_code == 200
    bot.settle()
    assert _status(bot) == "todo"
    assert client.event(added, event_id="EvREACT1", retry_num=2, retry_reason="http_error").status_code == 200
    bot.settle()
    assert _status(bot) == "todo"
    assert "0%" in okr.ok("status KR-1").text


def test_the_ack_comes_back_before_the_slow_work_is_done(bot, client, slack):
    # Slack's answers are slow today: every reply takes 4 s to reach Slack.
    slack.delay("response_url", 4)
    slack.delay("chat.postMessage", 4)
    command = client.command('objective add "Patience"')
    mention = app_mention("status all", channel="C1")
    event = client.event(mention)
    # Both acks are back while neither slow answer has been recorded by the double,
    # i.e. the HTTP response did not wait for the work (a wait would exceed 3 s).
    assert command.status_code == 200 and event.status_code == 200
    assert slack.calls("response_url") == [] and slack.calls("chat.postMessage") == []
    # And the work still finishes after the ack.
    assert slack.wait_for("response_url", timeout=15)
    assert slack.wait_for("chat.postMessage", timeout=15, predicate=lambda c: c.args.get("thread_ts") == mention["ts"])
    assert titles(bot) == ["Patience"]
