"""Review nudges end to end (issue 5): over real HTTP against the Slack double.

A cycle for three owners sends three DMs; owners answer in each DM's thread in
every form the issue lists, press No change or Update; `/okr status` shows what
they said. What reached "Slack" is what is asserted.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlmodel import col, select

from okrbot.domain.schedule import DEFAULT_SCHEDULE, last_run
from okrbot.runtime.reviews_job import review_tick
from okrbot.services.reviews import DIGEST_KIND, ESCALATION_KIND, NUDGE_KIND, REMINDER_KIND
from okrbot.adapters.slack.ids import Action
from okrbot.store.models import CheckIn, KeyResult, Nudge, Workspace
from tests.e2e.conftest import block_text, channel_of, message_of
from tests.fakes.slack_client import dm_message

pytestmark = pytest.mark.usefixtures("valid_blockkit")

ADMIN = "UADMIN"
OWNERS = ("U1", "U2", "U3")
REVIEW_KINDS = (NUDGE_KIND, REMINDER_KIND, ESCALATION_KIND, DIGEST_KIND)


@pytest.fixture
def team(okr, slack):
    """O-1 in #C1 owned by UBOSS: KR-1 (U1, numeric), KR-2 (U2), KR-3 (U3), KR-4 (U1, yes/no)."""
    slack.set_user(ADMIN, is_admin=True)
    okr.ok('objective add "Grow activation" owner <@UBOSS> team <#C1|growth>', user=ADMIN)
    for n in (1, 2, 3):
        okr.ok(f'kr add O-1 "Signups {n}" from 0 to 100 owner <@U{n}>', user=ADMIN)
    okr.ok('kr add O-1 "Launch the pricing page" yes/no owner <@U1>', user=ADMIN)
    return okr


def nudges(slack) -> dict[str, object]:
    """The review DMs Slack received, by owner (a DM is posted to the owner's user id)."""
    found: dict[str, object] = {}
    for call in slack.delivered("chat.postMessage"):
        if (call.args.get("metadata") or {}).get("event_type") == "okrbot_review" and call.args["channel"] in OWNERS:
            assert call.args["channel"] not in found, f"{call.args['channel']} got two nudges"
            found[call.args["channel"]] = call
    return found


def thread(slack, dm) -> list[str]:
    """What the bot said in a nudge's thread, in order."""
    return [
        f"{c.args.get('text', '')}\n{block_text(c.args.get('blocks'))}"
        for c in slack.delivered("chat.postMessage")
        if c.args.get("thread_ts") == dm.response["ts"] and c.args.get("channel") == channel_of(dm)
    ]


def reply(client, bot, slack, dm, owner: str, text: str) -> str:
    """The owner answers in the nudge's thread; returns the bot's answer there."""
    before = len(thread(slack, dm))
    event = dm_message(text, user=owner, channel=channel_of(dm), thread_ts=dm.response["ts"])
    assert client.event(event).status_code == 200
    bot.settle()
    said = thread(slack, dm)
    assert len(said) == before + 1, f"expected one answer in the thread to {text!r}; got {said[before:]}"
    return said[-1]


def test_a_cycle_for_three_owners_sends_three_dms_and_replies_become_check_ins(team, bot, client, slack):
    started = team.ok("review now", user=ADMIN)
    assert "3 owners" in started.text and started.ephemeral
    bot.settle()
    dms = nudges(slack)
    assert sorted(dms) == list(OWNERS)
    u1 = block_text(dms["U1"].args["blocks"])
    assert "KR-1" in u1 and "KR-4" in u1 and "Signups 1" in u1 and "0 → 100" in u1 and "no data" in u1
    assert "KR-2" not in u1 and "Update" in u1 and "No change" in u1
    assert "`KR-1: 42, blocked on legal, 6/10`" in u1  # how to answer, with the owner's own KR

    # Every form of answer, each confirmed in its thread.
    assert "KR-2" in reply(client, bot, slack, dms["U2"], "U2", "42") and "now 42" in thread(slack, dms["U2"])[-1]
    assert "now 42" in reply(client, bot, slack, dms["U3"], "U3", "KR-3 42")
    said = reply(client, bot, slack, dms["U1"], "U1", "KR-1: 42, blocked on legal, 6/10")
    assert "KR-1" in said and "now 42" in said and "confidence 6/10" in said and "blocked on legal" in said
    # An ambiguous reply gets a question, not a guess.
    question = reply(client, bot, slack, dms["U1"], "U1", "yes 42")
    assert "Checked in" not in question and "KR-4" in question
    assert "now done" in reply(client, bot, slack, dms["U1"], "U1", "KR-4 done")
    both = reply(client, bot, slack, dms["U1"], "U1", "KR-1 55\nKR-4 no")
    assert "*KR-1*" in both and "now 55" in both and "*KR-4*" in both and "now not yet" in both

    status = team.ok("status all", user=ADMIN).text
    assert "55 → 100" in status or "55" in status
    assert "42 → 100" in status  # KR-2 and KR-3
    with bot.db.session_scope() as session:
        rows = session.exec(select(KeyResult.number, CheckIn.value, CheckIn.source).join(KeyResult)).all()
    recorded = Counter(number for number, _, source in rows if source == "nudge")
    assert recorded == {1: 2, 2: 1, 3: 1, 4: 2}


def test_a_plain_message_in_the_dm_answers_the_open_review_and_commands_still_work(team, bot, client, slack):
    team.ok("review now", user=ADMIN)
    bot.settle()
    dm = nudges(slack)["U2"]
    channel = channel_of(dm)

    def say(text: str, user: str = "U2", where: str = channel) -> str:
        before = len(slack.delivered("chat.postMessage"))
        assert client.event(dm_message(text, user=user, channel=where)).status_code == 200
        bot.settle()
        (answer,) = [c for c in slack.delivered("chat.postMessage")[before:] if c.args["channel"] == where]
        assert not answer.args.get("thread_ts")  # answered in the DM, where it was asked
        return f"{answer.args.get('text', '')}\n{block_text(answer.args.get('blocks'))}"

    said = say("30, waiting on design, 7/10")  # not in the nudge's thread: in the DM itself
    assert "KR-2" in said and "now 30" in said and "confidence 7/10" in said
    assert "Grow activation" in say("status all")  # a command is still a command
    assert "I don't know `30`" in say("30", user="U9", where="D-U9")  # no review open for U9
    with bot.db.session_scope() as session:
        assert [(c.value, c.source) for c in session.exec(select(CheckIn)).all()] == [(30.0, "nudge")]


def test_a_retried_reply_event_is_applied_once(team, bot, client, slack):
    team.ok("review now", user=ADMIN)
    bot.settle()
    dm = nudges(slack)["U2"]
    event = dm_message("KR-2 30", user="U2", channel=channel_of(dm), thread_ts=dm.response["ts"])
    client.event(event, event_id="EvReview1")
    client.event(event, event_id="EvReview1", retry_num=1)
    bot.settle()
    assert len(thread(slack, dm)) == 1
    with bot.db.session_scope() as session:
        assert len(session.exec(select(CheckIn)).all()) == 1


def test_no_change_and_update_buttons(team, bot, client, slack):
    team.ok("review now", user=ADMIN)
    bot.settle()
    dm = nudges(slack)["U3"]
    message = message_of(dm)
    nudge_id = next(
        e["value"] for b in message["blocks"] for e in b.get("elements", []) if e.get("action_id") == Action.NO_CHANGE.value
    )
    for _ in range(2):  # pressed twice: recorded once
        client.block_action(Action.NO_CHANGE.value, nudge_id, user_id="U3", channel_id=channel_of(dm), message=message)
        bot.settle()
    said = thread(slack, dm)
    assert "Recorded *no change* on *KR-3*" in said[0] and "already has a check-in" in said[1]
    with bot.db.session_scope() as session:
        assert [(c.value, c.source) for c in session.exec(select(CheckIn)).all()] == [(None, "button")]
        assert session.exec(select(Nudge.status).where(Nudge.owner == "U3")).one() == "answered"
    # Someone else's button press records nothing and says why.
    client.block_action(Action.NO_CHANGE.value, nudge_id, user_id="U2", channel_id="DU2", message=message)
    bot.settle()
    with bot.db.session_scope() as session:
        assert len(session.exec(select(CheckIn)).all()) == 1
    # Update opens the check-in modal for that KR.
    client.block_action(Action.CHECKIN_OPEN.value, "KR-3", user_id="U3", channel_id=channel_of(dm), message=message)
    bot.settle()
    view = slack.wait_for("views.open")[-1].args["view"]
    assert view["callback_id"] == "checkin_modal" and "KR-3" in block_text(view["blocks"])


def test_review_now_twice_nudges_nobody_twice(team, bot, slack):
    team.ok("review now", user=ADMIN)
    again = team.ok("review now", user=ADMIN)
    bot.settle()
    assert "Nobody is nudged twice" in again.text
    assert sorted(nudges(slack)) == list(OWNERS)


def test_review_commands_status_schedule_and_off(team, bot, slack):
    refused = team("review schedule \"every 2 weeks friday 16:00\"", user="U1")
    assert refused.problem and "admin" in refused.text
    saved = team.ok('review schedule "every 2 weeks friday 16:00" tz Europe/Berlin', user=ADMIN)
    assert "every 2 weeks on Friday at 16:00" in saved.text and "Europe/Berlin" in saved.text and "Next review:" in saved.text
    bad = team('review schedule "fortnightly on the moon"', user=ADMIN)
    assert bad.problem and "Schedules look like" in bad.text
    status = team.ok("review status", user="U2")
    assert "every 2 weeks on Friday at 16:00" in status.text
    off = team.ok("review off", user=ADMIN)
    assert "off" in off.text
    with bot.db.session_scope() as session:
        workspace = session.get(Workspace, "T1")
        assert workspace.review_enabled is False and workspace.timezone == "Europe/Berlin"
        assert workspace.review_schedule == "every 2 weeks friday 16:00"


def test_the_scheduler_tick_starts_a_due_cycle_once(team, bot, slack):
    """What every `okrbot serve` runs every OKRBOT_REVIEW_TICK_SECONDS (and at start)."""
    now = datetime.now(UTC)
    due = last_run(DEFAULT_SCHEDULE, now, UTC)
    with bot.db.session_scope() as session:
        session.execute(update(Workspace).values(review_since=due - timedelta(days=60)))
    tick = due + timedelta(minutes=1)
    first = review_tick(bot.bot, tick)
    again = review_tick(bot.bot, tick + timedelta(seconds=30))
    bot.settle()
    assert len(first.started) == 1 and again.started == [] and again.queued == []
    assert sorted(nudges(slack)) == list(OWNERS)
    with bot.db.session_scope() as session:
        sent = session.exec(select(Nudge.owner, Nudge.status, Nudge.channel)).all()
    assert sorted(sent) == [(o, "sent", f"D{o}") for o in OWNERS]


def test_okrbot_review_run_sends_the_current_cycle_once(team, bot, slack, monkeypatch):
    from typer.testing import CliRunner

    from okrbot.cli import app

    for name, value in bot.settings.model_dump(by_alias=True).items():
        if name.isupper() and value not in (None, ""):
            monkeypatch.setenv(name, str(value))
    runner = CliRunner()
    first = runner.invoke(app, ["review", "run"])
    assert first.exit_code == 0, first.output
    assert "3 owners get a DM" in first.output and "Sent 3 DMs." in first.output
    again = runner.invoke(app, ["review", "run"])
    assert again.exit_code == 0 and "Nobody is nudged twice" in again.output
    status = runner.invoke(app, ["review", "status"])
    assert "3 owners nudged, 3 DMs delivered, 0 answered" in status.output
    assert sorted(nudges(slack)) == list(OWNERS)
    with bot.db.session_scope() as session:
        assert sorted(session.exec(select(Nudge.channel)).all()) == [f"D{o}" for o in OWNERS]


def review_posts(bot) -> Counter:
    """What the review queued for Slack, by kind: DMs, reminders, notes to objective owners, digests.
    (Read from the outbox: messages queued at a tick's future moment wait there for real time.)"""
    from okrbot.store.models import OutboundMessage

    with bot.db.session_scope() as session:
        return Counter(session.exec(select(OutboundMessage.kind).where(col(OutboundMessage.kind).in_(REVIEW_KINDS))).all())


@pytest.mark.parametrize("closed_early", [False, True], ids=["period-open", "period-closed-mid-review"])
def test_a_period_closed_mid_review_gets_no_reminders_notes_or_digest(team, bot, slack, closed_early):
    """`/okr close` during a review (issue 13): the review stops there; left open, it runs its course."""
    from okrbot.domain.periods import current_period
    from okrbot.store.models import ReviewCycle

    team.ok("review now", user=ADMIN)
    bot.settle()
    assert sorted(nudges(slack)) == list(OWNERS)
    with bot.db.session_scope() as session:
        cycle = session.exec(select(ReviewCycle)).one()
        started, closes = cycle.started_at, cycle.closes_at
    if closed_early:
        period = current_period(started, UTC)
        assert f"{period}* is closed" in team.ok(f"close {period}", user=ADMIN).text
    # The clock the tests control: past the first reminder, then past the review's close.
    review_tick(bot.bot, started + timedelta(days=3, minutes=1))
    review_tick(bot.bot, closes + timedelta(minutes=1))
    review_tick(bot.bot, closes + timedelta(days=1))
    bot.settle()
    posts = review_posts(bot)
    if closed_early:
        assert posts == {NUDGE_KIND: 3}  # the three DMs sent before the close, and nothing since
        # Reopened later, the long-closed review does not wake up.
        period = current_period(started, UTC)
        team.ok(f"reopen-period {period}", user=ADMIN)
        review_tick(bot.bot, closes + timedelta(days=2))
        bot.settle()
        assert review_posts(bot) == {NUDGE_KIND: 3}
    else:
        assert posts == {NUDGE_KIND: 3, REMINDER_KIND: 3, ESCALATION_KIND: 3, DIGEST_KIND: 1}
