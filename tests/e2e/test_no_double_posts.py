"""No post twice (issue 17): Slack answers after the client's timeout, so the bot never
learns whether a post landed. Every kind of post (an initiative card, a reply in a
channel thread, review DMs, their reminders in the DM thread, the digest, a progress
announcement with Undo) is looked up before it is sent again: Slack ends up with
exactly one of each, counted from what the Slack double holds, and the card's ✅
still finds its initiative (the outbox keeps the ts it found).
"""

from __future__ import annotations

import json
import logging
import signal
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import select

from okrbot.runtime.reviews_job import review_tick
from okrbot.adapters.slack.ids import Action
from okrbot.store import outbox
from okrbot.store.models import Initiative, OutboundMessage, ReviewCycle
from okrbot.store.types import utcnow
from tests.e2e.conftest import block_text
from tests.e2e.harness import RunningBot, running_bot
from tests.e2e.test_review_replicas import replicas
from tests.fakes.slack_api import SlackDouble
from tests.fakes.slack_client import SignedSlackClient, app_mention, reaction_added

TEAM = "CTEAM"
ADMIN = "UADMIN"
TIMEOUT = 0.5  # the bot's Slack client timeout in these tests (OKRBOT_SLACK_TIMEOUT_SECONDS)
LATE = 1.0  # Slack's answer comes this long after it acted: always after the timeout


@pytest.fixture
def served(slack: SlackDouble, database_url: str) -> Iterator[tuple[RunningBot, SignedSlackClient]]:
    with running_bot(slack, database_url, OKRBOT_SLACK_TIMEOUT_SECONDS=str(TIMEOUT)) as pair:
        yield pair


@pytest.fixture
def team(okr, slack):
    """O-1 in #CTEAM owned by U1: KR-1 (milestone, U1) and KR-2 (numeric, U2); all on time."""
    slack.set_user(ADMIN, is_admin=True)
    slack.set_members(TEAM, ["U1", "U2"])
    okr.ok(f'objective add "Ship the platform" team <#{TEAM}|platform>')
    okr.ok('kr add O-1 "Platform adopted" by initiatives')
    okr.ok('kr add O-1 "Signups" from 0 to 100 owner <@U2>')
    return okr


def rows(bot: RunningBot) -> list[OutboundMessage]:
    with bot.db.session_scope() as session:
        found = session.exec(select(OutboundMessage).order_by(OutboundMessage.id)).all()
        session.expunge_all()
        return list(found)


def time_passes(bot: RunningBot) -> None:
    """Backoff and the settle wait are over (instead of waiting them out)."""
    with bot.db.session_scope() as session:
        session.execute(update(OutboundMessage).where(OutboundMessage.status != "sent").values(next_attempt_at=utcnow() - timedelta(seconds=1)))


def resend_after_outage(bot: RunningBot, slack: SlackDouble) -> list:
    """Slack answers on time again and the sweeper goes over what was left unsure;
    returns the chat.postMessage calls it made."""
    slack.answer_late("chat.postMessage", 0)
    before = len(slack.calls("chat.postMessage"))
    for _ in range(3):  # a card found in Slack queues its catch-up update: the next pass sends it
        time_passes(bot)
        bot.bot.deliverer.drain(max_seconds=30)
    assert [(r.id, r.kind, r.status, r.last_error) for r in rows(bot) if r.status != "sent"] == []
    return slack.calls("chat.postMessage")[before:]


def names(call_or_row_metadata: object, row: OutboundMessage) -> bool:
    """Whether this metadata names the outbox row (its own, or the one the deliverer adds)."""
    if not isinstance(call_or_row_metadata, dict):
        return False
    if "metadata" in row.payload:
        return call_or_row_metadata == row.payload["metadata"]
    payload = call_or_row_metadata.get("event_payload") or {}
    return call_or_row_metadata.get("event_type") == "okrbot_outbox" and payload.get("outbox_id") == row.id and payload.get("team") == row.team_id


def assert_each_post_once(bot: RunningBot, slack: SlackDouble) -> None:
    """Slack holds exactly one message per post the outbox made, at the ts the outbox keeps."""
    posts = [r for r in rows(bot) if r.method == "chat.postMessage"]
    held = {(m["channel"], m["ts"]) for m in slack.messages()}
    assert len(slack.messages()) == len(posts), f"{len(slack.messages())} messages in Slack for {len(posts)} posts: {slack.describe()}"
    for row in posts:
        taken = [c for c in slack.delivered("chat.postMessage") if names(c.args.get("metadata"), row)]
        assert len(taken) == 1, f"outbox row {row.id} ({row.kind}) was posted {len(taken)} times: {slack.describe()}"
        assert taken[0].response["ts"] == row.sent_ts, f"row {row.id} keeps {row.sent_ts}, Slack has it at {taken[0].response['ts']}"
        assert (taken[0].response["channel"], row.sent_ts) in held


def test_every_kind_of_post_shows_once_when_slack_answers_after_the_timeout(team, bot, client, slack):
    on_time = len(rows(bot))
    on_time_posts = len([r for r in rows(bot) if r.method == "chat.postMessage"])
    slack.answer_late("chat.postMessage", LATE)

    team.ok('initiative add KR-1 "Build the pipeline"')  # its card, in #CTEAM
    team.ok("link I-1 KR-2")  # the card is still on its way: it gets KR-2 too, no second card
    assert client.event(app_mention("status", user="U1", channel=TEAM)).status_code == 200  # answered in the thread
    bot.settle()
    team.ok("review now", user=ADMIN)  # a DM to U1 and to U2
    bot.settle()

    unsure = [r for r in rows(bot)[on_time:] if r.method == "chat.postMessage"]
    assert Counter(r.kind for r in unsure) == {"initiative": 1, "reply": 1, "nudge": 2}
    assert all(r.status == "posting" for r in unsure), [(r.kind, r.status) for r in unsure]
    assert all(c.status == 200 for c in slack.calls("chat.postMessage")), "Slack took every post; the bot never heard"

    assert resend_after_outage(bot, slack) == []
    assert_each_post_once(bot, slack)
    (card_row,) = [r for r in rows(bot) if r.kind == "initiative"]
    (card,) = [m for m in slack.messages(TEAM) if m["ts"] == card_row.sent_ts]
    assert "KR-2" in block_text(card["blocks"]), "the card found in Slack was brought up to date"

    # Late again: ✅ on the card finds its initiative and is announced (with Undo); reminders
    # go into the DM threads, the objective owner is told in a DM; the review closes with a digest in #CTEAM.
    slack.answer_late("chat.postMessage", LATE)
    before = len(rows(bot))
    assert client.event(reaction_added("white_check_mark", user="U1", channel=TEAM, ts=card_row.sent_ts)).status_code == 200
    bot.settle()
    with bot.db.session_scope() as session:
        assert session.exec(select(Initiative.status).where(Initiative.number == 1)).one() == "done"
        closes_at = session.exec(select(ReviewCycle.closes_at)).one()
    assert [(r.kind, r.status) for r in rows(bot)[before:] if r.method == "chat.postMessage"] == [("progress", "posting")]
    before = len(rows(bot))
    review_tick(bot.bot, now=utcnow() + timedelta(days=3, minutes=1))
    review_tick(bot.bot, now=closes_at + timedelta(minutes=1))
    time_passes(bot)  # the ticks ran days ahead, so what they queued is due then: send it now
    bot.bot.deliverer.deliver()
    unsure = [r for r in rows(bot)[before:] if r.method == "chat.postMessage"]
    assert Counter(r.kind for r in unsure) == {"nudge_reminder": 2, "nudge_escalation": 1, "review_digest": 1}
    assert all(r.status == "posting" for r in unsure), [(r.kind, r.status) for r in unsure]

    assert resend_after_outage(bot, slack) == []
    assert_each_post_once(bot, slack)
    posts = [r for r in rows(bot) if r.method == "chat.postMessage"]
    print(f"\n{len(posts) - on_time_posts} posts answered after the timeout; {len(slack.messages())} messages in Slack for {len(posts)} posts")
    (announcement,) = [m for m in slack.messages(TEAM) if m["text"].startswith("Progress moved")]
    assert Action.UNDO.value in json.dumps(announcement["blocks"])
    cards = [m for m in slack.messages(TEAM) if "work_1" in json.dumps(m["blocks"])]
    assert len(cards) == 1 and Action.MARK_DONE.value not in json.dumps(cards[0]["blocks"]), "one card, and it shows the work done"
    reminders = [r for r in rows(bot) if r.kind == "nudge_reminder"]
    assert all(m.get("thread_ts") for r in reminders for m in slack.messages() if m["ts"] == r.sent_ts)


def test_a_post_slack_makes_late_is_looked_up_only_after_it_had_time_to_land(team, bot, slack):
    # Slack holds the request, then acts: a look-up too soon would miss it and post it twice.
    slack.delay("chat.postMessage", LATE)
    began = utcnow()
    team.ok('initiative add KR-1 "Build the pipeline"')
    (card_row,) = [r for r in rows(bot) if r.kind == "initiative"]
    assert card_row.status == "posting"
    assert card_row.next_attempt_at >= began + timedelta(seconds=3 * TIMEOUT), "looked up before Slack had time to act"

    slack.wait_for("chat.postMessage", predicate=lambda c: str(c.args.get("text", "")).startswith("I-1 "), timeout=5)
    slack.delay("chat.postMessage", 0)
    assert resend_after_outage(bot, slack) == []
    assert_each_post_once(bot, slack)


def test_a_post_lost_in_a_busy_channel_is_found_past_the_first_page_of_history(team, bot, slack):
    # The serve-steady row of bench/faults.py: a serve killed after Slack took an announcement,
    # and by the time its lease ran out the channel had 450 newer messages. Only the first
    # page (200) was read, "not there" was taken for "not posted", and it was posted twice.
    slack.answer_late("chat.postMessage", LATE)
    team.ok('initiative add KR-1 "Build the pipeline"')
    (card_row,) = [r for r in rows(bot) if r.kind == "initiative"]
    assert card_row.status == "posting"
    slack.wait_for("chat.postMessage", predicate=lambda c: str(c.args.get("text", "")).startswith("I-1 "), timeout=5)
    slack.answer_late("chat.postMessage", 0)
    for n in range(450):  # people talk in the channel meanwhile
        slack.add_message(TEAM, f"chatter {n}")

    assert resend_after_outage(bot, slack) == [], "posted again: the look-up stopped at its first page"
    cards = [m for m in slack.messages(TEAM) if m["text"].startswith("I-1 ")]
    assert len(cards) == 1
    (card_row,) = [r for r in rows(bot) if r.kind == "initiative"]
    assert card_row.sent_ts == cards[0]["ts"]


@pytest.mark.parametrize("refusal", ["missing_scope", "not_in_channel"])
def test_a_post_whose_channel_history_cannot_be_read_is_never_posted_blind(team, bot, slack, refusal, caplog):
    slack.answer_late("chat.postMessage", LATE)
    team.ok('initiative add KR-1 "Build the pipeline"')
    slack.fail("conversations.history", status=200, error=refusal, times=100)
    slack.answer_late("chat.postMessage", 0)
    before = len(slack.calls("chat.postMessage"))

    with caplog.at_level(logging.WARNING, logger="okrbot.delivery"):
        for _ in range(12):  # more passes than the look-up is tried
            time_passes(bot)
            bot.bot.deliverer.drain(max_seconds=30)

    (card_row,) = [r for r in rows(bot) if r.kind == "initiative"]
    assert card_row.status == "failed" and refusal in (card_row.last_error or "")
    assert slack.calls("chat.postMessage")[before:] == [], "posted without knowing whether Slack had it"
    assert len([m for m in slack.messages(TEAM) if m["text"].startswith("I-1 ")]) == 1
    assert any("giving up on outbound message" in r.getMessage() and "not sending it again" in r.getMessage() for r in caplog.records)
    if refusal == "not_in_channel":
        assert len(slack.calls("conversations.history")) == 1, "a refusal that cannot heal is not asked again"


def test_a_card_update_that_finds_no_message_never_becomes_a_new_card(team, bot, client, slack):
    team.ok('initiative add KR-1 "Build the pipeline"')
    slack.fail("chat.update", status=200, error="message_not_found", times=100)  # someone deleted the card
    posted = len(slack.calls("chat.postMessage"))

    team.ok("done I-1")
    team.ok("reopen I-1")
    team.ok("link I-1 KR-2")
    time_passes(bot)
    bot.bot.deliverer.drain(max_seconds=30)

    updates = [r for r in rows(bot) if r.kind == "card_update"]
    assert updates and all(r.status == "failed" for r in updates), [(r.status, r.attempts) for r in updates]
    assert all(r.attempts == 1 for r in updates), "message_not_found is not retried"
    new_posts = [c.args.get("text", "") for c in slack.calls("chat.postMessage")[posted:]]
    assert not any(text.startswith("I-1 ") for text in new_posts), f"a second card was posted: {new_posts}"


def test_processes_killed_between_slack_taking_a_post_and_recording_it_leave_each_message_once(team, bot, client, slack, database_url, tmp_path):
    # The in-process bot queues every kind of post but sends none: Slack's first answer is a
    # 429 asking for an hour, so its deliverer holds them all.
    slack.fail("chat.postMessage", status=429, retry_after=3600)
    on_time = len(rows(bot))
    team.ok('initiative add KR-1 "Build the pipeline"')
    team.ok('initiative add KR-1 "Write the docs"')
    team.ok("done I-2")  # an announcement with Undo; I-2's card still on its way shows it done
    assert client.event(app_mention("status", user="U1", channel=TEAM)).status_code == 200
    bot.settle()
    team.ok("review now", user=ADMIN)
    queued = [r for r in rows(bot)[on_time:] if r.method == "chat.postMessage"]
    assert Counter(r.kind for r in queued) == {"initiative": 2, "progress": 1, "reply": 1, "nudge": 2}
    assert {r.status for r in queued} == {"pending"}
    time_passes(bot)

    # `okrbot serve` processes send them; each is SIGKILLed while Slack has the post and has
    # not answered yet, until every post was tried; then one that is left alone finishes.
    slack.answer_late("chat.postMessage", 30)
    kills = 0
    with replicas(slack, database_url, tmp_path) as group:
        while any(r.status == "pending" and r.method == "chat.postMessage" for r in rows(bot)) and kills < 2 * len(queued):
            taken = len(slack.calls("chat.postMessage"))
            process = group.start()
            slack.wait_for("chat.postMessage", count=taken + 1, timeout=60)
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
            kills += 1
        assert not any(r.status == "pending" and r.method == "chat.postMessage" for r in rows(bot)), "every post should have been tried by a killed process"
        slack.answer_late("chat.postMessage", 0)
        group.start()
        deadline = time.monotonic() + 60
        while any(r.status != "sent" for r in rows(bot)):
            assert time.monotonic() < deadline, f"not all sent in 60 s: {[(r.kind, r.status) for r in rows(bot)]}\n{group.log_text()}"
            time.sleep(0.2)

    lookups = len(slack.calls("conversations.history")) + len(slack.calls("conversations.replies"))
    print(f"\n{len(queued)} posts, {kills} processes killed mid-post, {lookups} look-ups, {len(slack.messages())} messages in Slack for {len([r for r in rows(bot) if r.method == 'chat.postMessage'])} posts")
    assert kills >= len(queued)
    assert_each_post_once(bot, slack)
    assert lookups >= kills
    # I-1's card, found in Slack after its process died, still answers a ✅.
    card_ts = [r.sent_ts for r in rows(bot) if r.kind == "initiative" and r.initiative_id == 1]
    assert client.event(reaction_added("white_check_mark", user="U1", channel=TEAM, ts=card_ts[0])).status_code == 200
    bot.settle()
    with bot.db.session_scope() as session:
        assert session.exec(select(Initiative.status).where(Initiative.number == 1)).one() == "done"


def test_a_connection_reset_after_slack_took_the_post_is_looked_up_not_resent_by_the_sdk(team, bot, slack):
    # slack_sdk resends a request once after a connection reset, blind; the outbox must not.
    slack.hang_up("chat.postMessage")
    team.ok('initiative add KR-1 "Build the pipeline"')
    (card_row,) = [r for r in rows(bot) if r.kind == "initiative"]
    assert card_row.status == "posting"
    assert len(slack.calls("chat.postMessage")) == 2, "the objective's announcement and the card, each once"

    assert resend_after_outage(bot, slack) == []
    assert_each_post_once(bot, slack)


def queue_unsure(bot: RunningBot, method: str, payload: dict) -> int:
    """A row whose send was attempted and whose outcome was never learned."""
    with bot.db.session_scope() as session:
        row = outbox.enqueue(session, team_id="T1", kind="test", channel=TEAM, payload=payload, now=utcnow(), method=method)
        stored = session.get(OutboundMessage, row.id)
        stored.status, stored.attempts, stored.next_attempt_at = outbox.POSTING, 1, utcnow() - timedelta(seconds=1)
        return row.id


def status_of_row(bot: RunningBot, row_id: int) -> str:
    return next(r.status for r in rows(bot) if r.id == row_id)


def test_an_unsure_update_is_sent_again_and_an_unsure_answer_with_no_history_is_not(team, bot, slack, caplog):
    posted = slack.messages(TEAM)[0]
    update_id = queue_unsure(bot, "chat.update", {"ts": posted["ts"], "text": "Edited", "blocks": []})
    answer_id = queue_unsure(bot, "response_url", {"url": slack.response_url("late"), "text": "Done", "response_type": "in_channel"})

    with caplog.at_level(logging.WARNING, logger="okrbot.delivery"):
        bot.bot.deliverer.deliver([update_id, answer_id])

    # An update replaces: sending it again cannot add a message.
    assert status_of_row(bot, update_id) == "sent" and slack.messages(TEAM)[0]["text"] == "Edited"
    assert len(slack.messages(TEAM)) == 1
    # An answer Slack keeps no history of is not risked twice: given up, and said so.
    assert status_of_row(bot, answer_id) == "failed" and slack.responses("late") == []
    assert any(str(answer_id) in r.getMessage() and "again" in r.getMessage() for r in caplog.records)
