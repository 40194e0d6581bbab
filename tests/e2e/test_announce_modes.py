"""Quieter channels (issue 15): `/okr channel announce every|thread|daily [17:00]` over real HTTP.

Moments are set on the bot's clock (`bot.bot.clock`) and given to the digest tick; they lie
in the past, so that what they queue is due on the real clock the outbox sends by.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from okrbot.runtime.announce_job import digest_tick
from okrbot.domain.periods import current_period
from tests.e2e.blockkit import has_button
from tests.e2e.conftest import block_text
from tests.e2e.test_buttons import Press

pytestmark = pytest.mark.usefixtures("valid_blockkit")

TEAM = "C9"
OWNER, MEMBER, ADMIN = "U1", "U2", "U3"


@pytest.fixture
def press(client, slack, bot) -> Press:
    return Press(client, slack, bot)


def at(bot, moment: datetime) -> None:
    bot.bot.clock = lambda: moment


def seed(okr, moment: datetime) -> None:
    """O-1 and O-2 of #C9 owned by U1, in the period of `moment`: KR-1 and KR-2 on O-1, KR-3 on O-2."""
    period = current_period(moment, UTC)
    okr.ok(f'objective add "Grow activation" team <#{TEAM}|growth> period {period}')
    okr.ok('kr add O-1 "Cut time to value" from 45 to 25 days')
    okr.ok('kr add O-1 "Signups" from 0 to 100')
    okr.ok(f'objective add "Hire well" team <#{TEAM}|growth> period {period}')
    okr.ok('kr add O-2 "Offers accepted" from 0 to 10')


def progress_posts(calls, channel: str = TEAM):
    return [c for c in calls if c.method == "chat.postMessage" and c.args.get("channel") == channel and str(c.args.get("text", "")).startswith("Progress moved")]


def last_monday(now: datetime) -> datetime:
    """Monday 00:00 UTC of last week: the week boundary the thread tests cross, in the past."""
    monday = (now - timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    return monday - timedelta(days=7)


# --------------------------------------------------------------------------- the setting


def test_every_change_by_default_and_the_command_shows_the_mode(okr):
    seed(okr, datetime.now(UTC))
    shown = okr.ok("channel announce", channel=TEAM)
    assert shown.ephemeral and "every change" in shown.text and "the default" in shown.text
    first, second = okr.ok("checkin KR-1 35", channel=TEAM), okr.ok("checkin KR-1 30", channel=TEAM)
    for answer in (first, second):
        (post,) = progress_posts(answer.calls)
        assert "thread_ts" not in post.args and has_button(post.args["blocks"], "change_undo")


def test_only_admins_and_the_channels_objective_owners_choose_and_the_refusal_names_them(okr, slack):
    slack.set_user(ADMIN, is_admin=True)
    seed(okr, datetime.now(UTC))
    refused = okr("channel announce thread", user=MEMBER, channel=TEAM)
    assert refused.problem and f"<@{OWNER}>" in refused.text and "admin" in refused.text
    assert "every change" in okr.ok("channel announce", user=MEMBER, channel=TEAM).text  # unchanged
    by_owner = okr.ok("channel announce thread", user=OWNER, channel=TEAM)
    assert by_owner.public and "one thread per objective per week" in by_owner.text
    by_admin = okr.ok("channel announce daily 9:30", user=ADMIN, channel=TEAM)
    assert "daily digest at 09:30" in by_admin.text
    shown = okr.ok("channel announce", user=MEMBER, channel=TEAM).text
    assert "daily digest at 09:30" in shown and f"<@{ADMIN}>" in shown


@pytest.mark.parametrize(
    ("typed", "told"),
    [
        ("channel announce weekly", "takes every, thread or daily"),
        ("channel announce daily 25:00", "the hour must be 0–23"),
        ("channel announce daily soon", "like `17:00`"),
        ("channel announce thread now", "I don't understand `now`"),
        ("channel announse", "Did you mean `/okr channel announce`?"),
    ],
)
def test_bad_input_says_what_to_type_and_changes_nothing(okr, typed, told):
    seed(okr, datetime.now(UTC))
    answer = okr(typed, channel=TEAM)
    assert answer.problem and told in answer.text and "/okr channel announce every|thread|daily [17:00]" in answer.text
    assert "every change" in okr.ok("channel announce", channel=TEAM).text


def test_in_a_dm_it_says_to_type_it_in_the_team_channel(okr):
    answer = okr("channel announce thread", channel="D1")
    assert answer.problem and "in that channel" in answer.text


# --------------------------------------------------------------------------- thread


def test_thread_mode_one_thread_per_objective_per_week_across_the_week_boundary(okr, bot, press):
    monday = last_monday(datetime.now(UTC))
    at(bot, monday - timedelta(hours=3))  # Sunday evening, the week before
    seed(okr, monday - timedelta(hours=3))
    okr.ok("channel announce thread", channel=TEAM)

    (opened,) = progress_posts(okr.ok("checkin KR-1 35", channel=TEAM).calls)
    assert "thread_ts" not in opened.args
    at(bot, monday - timedelta(minutes=1))
    (reply,) = progress_posts(okr.ok("checkin KR-2 10", channel=TEAM).calls)
    assert reply.args["thread_ts"] == opened.response["ts"]
    assert "KR-2" in block_text(reply.args["blocks"]) and has_button(reply.args["blocks"], "change_undo")
    (other,) = progress_posts(okr.ok("checkin KR-3 2", channel=TEAM).calls)
    assert "thread_ts" not in other.args  # another objective, its own thread

    at(bot, monday + timedelta(minutes=1))  # a new ISO week: a new thread
    (new_week,) = progress_posts(okr.ok("checkin KR-1 30", channel=TEAM).calls)
    assert "thread_ts" not in new_week.args
    at(bot, monday + timedelta(hours=5))
    (later,) = progress_posts(okr.ok("checkin KR-1 28", channel=TEAM).calls)
    assert later.args["thread_ts"] == new_week.response["ts"]

    # Undo from the reply in the thread: the reply shows who undid it, the thread hears it.
    pressed = press.on_message(later, "change_undo")
    (update,) = pressed.of("chat.update", TEAM)
    assert update.args["ts"] == later.response["ts"] and "Undone by" in block_text(update.args["blocks"])
    assert not has_button(update.args["blocks"], "change_undo")
    (undone,) = progress_posts(pressed.calls)
    assert undone.args["thread_ts"] == new_week.response["ts"] and "Undone" in block_text(undone.args["blocks"])
    assert "30 days" in okr.ok("status KR-1").text


def test_a_thread_reply_waits_for_its_first_message(okr, bot, slack):
    """The reply's outbox row names its parent: while the parent is not in Slack, the reply
    is not sent; once the parent has its ts the reply goes into its thread."""
    seed(okr, datetime.now(UTC))
    okr.ok("channel announce thread", channel=TEAM)
    slack.fail("chat.postMessage", error="internal_error", times=1, status=500)  # the parent's answer is lost
    okr.ok("checkin KR-1 35", channel=TEAM)
    reply = okr.ok("checkin KR-2 10", channel=TEAM)
    assert not progress_posts(reply.calls), "no reply before its thread exists"
    _sweep_until(bot, slack, 2)
    opened, replied = progress_posts(slack.delivered("chat.postMessage"))
    assert "thread_ts" not in opened.args and replied.args["thread_ts"] == opened.response["ts"]


def _sweep_until(bot, slack, posts: int) -> None:
    """Run the outbox sweeper, with every row due now, until `posts` announcements are in Slack."""
    from sqlalchemy import update

    from okrbot.store.models import OutboundMessage
    from okrbot.store.types import utcnow

    for _ in range(10):
        with bot.db.session_scope() as session:
            session.execute(update(OutboundMessage).where(OutboundMessage.status != "sent").values(next_attempt_at=utcnow() - timedelta(seconds=1)))
        bot.bot.deliverer.drain()
        if len(progress_posts(slack.delivered("chat.postMessage"))) >= posts:
            return


# --------------------------------------------------------------------------- daily


def test_daily_digest_once_a_day_at_its_hour_with_undo(okr, bot, slack, press):
    day = (datetime.now(UTC) - timedelta(days=3)).replace(hour=0, minute=0, second=0, microsecond=0)
    at(bot, day + timedelta(hours=9))
    seed(okr, day)
    okr.ok("channel announce daily 17:00", channel=TEAM)
    first = okr.ok("checkin KR-1 35", channel=TEAM)
    assert not progress_posts(first.calls) and "Recorded *KR-1*" in first.body["text"]
    at(bot, day + timedelta(hours=11))
    assert not progress_posts(okr.ok("checkin KR-3 4", channel=TEAM).calls)

    assert digest_tick(bot.bot, day + timedelta(hours=16, minutes=59)) == []  # not yet
    # Two replicas tick at the same moment: one digest.
    ticks = [threading.Thread(target=digest_tick, args=(bot.bot, day + timedelta(hours=17, minutes=1))) for _ in range(2)]
    for tick in ticks:
        tick.start()
    for tick in ticks:
        tick.join()
    bot.settle()
    assert digest_tick(bot.bot, day + timedelta(hours=17, minutes=2)) == []  # and a restart sends none again
    (digest,) = digests(slack)
    shown = block_text(digest.args["blocks"])
    assert "2 changes" in shown and "KR-1" in shown and "KR-3" in shown and "35 days" in shown
    assert len(buttons(digest.args["blocks"], "change_undo")) == 2  # one Undo per change

    # Undo from the digest: only that change's button is replaced; the other stays.
    second = buttons(digest.args["blocks"], "change_undo")[1]
    pressed = press.on_message(digest, "change_undo", value=second["value"])
    (update,) = pressed.of("chat.update", TEAM)
    assert update.args["ts"] == digest.response["ts"]
    assert len(buttons(update.args["blocks"], "change_undo")) == 1 and "Undone by" in block_text(update.args["blocks"])
    assert not progress_posts(pressed.calls)  # the undo itself waits for the next digest
    assert "0%" in okr.ok("status KR-3").text

    # After the hour, a change waits for the next day's digest.
    at(bot, day + timedelta(hours=18))
    okr.ok("checkin KR-1 30", channel=TEAM)
    assert digest_tick(bot.bot, day + timedelta(hours=23)) == []
    digest_tick(bot.bot, day + timedelta(days=1, hours=17))
    bot.settle()
    _, next_day = digests(slack)
    shown = block_text(next_day.args["blocks"])
    assert "2 changes" in shown and "30 days" in shown and "Undone" in shown  # the undo, then the check-in
    assert digest_tick(bot.bot, day + timedelta(days=1, hours=20)) == []


def test_leaving_daily_posts_what_was_held_and_then_every_change(okr, bot, slack):
    seed(okr, datetime.now(UTC))
    okr.ok("channel announce daily", channel=TEAM)
    okr.ok("checkin KR-1 35", channel=TEAM)
    switched = okr.ok("channel announce every", channel=TEAM)
    assert "1 change held for the digest is posted now" in switched.text
    (held,) = [c for c in switched.posts(TEAM) if str(c.args.get("text", "")).startswith("Progress held")]
    assert "35 days" in block_text(held.args["blocks"]) and has_button(held.args["blocks"], "change_undo")
    (now,) = progress_posts(okr.ok("checkin KR-1 30", channel=TEAM).calls)
    assert "30 days" in block_text(now.args["blocks"])
    assert digest_tick(bot.bot) == []


def digests(slack):
    return [c for c in slack.delivered("chat.postMessage") if c.args.get("channel") == TEAM and str(c.args.get("text", "")).startswith("Daily progress digest")]


def buttons(blocks, action_id: str) -> list[dict]:
    found = []
    for block in blocks:
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            if element.get("action_id") == action_id:
                found.append(element)
    return found



def test_a_fixed_check_in_is_corrected_in_the_digest_to_come_and_in_the_one_posted(okr, bot, slack):
    day = (datetime.now(UTC) - timedelta(days=2)).replace(hour=0, minute=0, second=0, microsecond=0)
    at(bot, day + timedelta(hours=9))
    seed(okr, day)
    okr.ok("channel announce daily 12:00", channel=TEAM)
    okr.ok("checkin KR-1 35", channel=TEAM)
    okr.ok("checkin fix KR-1 36", channel=TEAM)  # before the digest: it goes out corrected
    okr.ok("checkin KR-3 4", channel=TEAM)
    digest_tick(bot.bot, day + timedelta(hours=12))
    bot.settle()
    (digest,) = digests(slack)
    shown = block_text(digest.args["blocks"])
    assert "36 days" in shown and "corrected from 35 days" in shown
    fixed = okr.ok("checkin fix KR-3 5", channel=TEAM)  # after it: the digest is updated in place
    (update,) = fixed.of("chat.update", TEAM)
    assert update.args["ts"] == digest.response["ts"]
    shown = block_text(update.args["blocks"])
    assert "5" in shown and "corrected from 4" in shown and "36 days" in shown
    assert len(buttons(update.args["blocks"], "change_undo")) == 2
    assert not progress_posts(fixed.calls)


def test_the_digest_hour_is_the_workspaces_time_zone(okr, bot, slack):
    day = (datetime.now(UTC) - timedelta(days=2)).replace(hour=0, minute=0, second=0, microsecond=0)
    at(bot, day)
    seed(okr, day)
    slack.set_user(ADMIN, is_admin=True)
    okr.ok('review schedule "monthly first monday 10:00" tz Asia/Tokyo', user=ADMIN)
    okr.ok("channel announce daily 17:00", channel=TEAM)
    okr.ok("checkin KR-1 35", channel=TEAM)  # 09:00 in Tokyo
    assert digest_tick(bot.bot, day + timedelta(hours=7, minutes=59)) == []  # 16:59 in Tokyo
    digest_tick(bot.bot, day + timedelta(hours=8, minutes=1))
    bot.settle()
    assert len(digests(slack)) == 1


def test_a_reply_whose_first_message_was_given_up_is_posted_on_its_own(okr, bot, slack):
    seed(okr, datetime.now(UTC))
    okr.ok("channel announce thread", channel=TEAM)
    slack.fail("chat.postMessage", status=200, error="invalid_blocks", times=1)  # Slack refuses the first for good
    okr.ok("checkin KR-1 35", channel=TEAM)
    (alone,) = progress_posts(okr.ok("checkin KR-2 10", channel=TEAM).calls)
    assert "thread_ts" not in alone.args and "KR-2" in block_text(alone.args["blocks"])


def test_a_busy_day_digest_comes_in_parts_within_slacks_limits(okr, bot, slack):
    day = (datetime.now(UTC) - timedelta(days=2)).replace(hour=0, minute=0, second=0, microsecond=0)
    at(bot, day + timedelta(hours=9))
    seed(okr, day)
    okr.ok("channel announce daily 17:00", channel=TEAM)
    for value in range(1, 22):
        okr.ok(f"checkin KR-2 {value}", channel=TEAM)
    digest_tick(bot.bot, day + timedelta(hours=17))
    bot.settle()
    first, second = digests(slack)
    assert len(buttons(first.args["blocks"], "change_undo")) == 20 and len(buttons(second.args["blocks"], "change_undo")) == 1
    assert "(1–20)" in block_text(first.args["blocks"]) and "(21–21)" in block_text(second.args["blocks"])
    fixed = okr.ok("checkin fix KR-2 25", channel=TEAM)  # the last change, in the second part
    (update,) = fixed.of("chat.update", TEAM)
    assert update.args["ts"] == second.response["ts"] and "corrected from 21" in block_text(update.args["blocks"])
