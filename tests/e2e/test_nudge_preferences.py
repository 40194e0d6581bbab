"""Nudges people control (issue 16), over a simulated quarter, end to end against the Slack double.

The clock is the test's: every review tick is given its moment (every 6 hours from 1 January
to mid-April 2027), and the clock that commands and the outbox read is moved with it, so
check-ins, pauses and queued DMs happen "then". Nothing sleeps. Preferences are set with
`/okr` commands over HTTP; what is asserted is what reached "Slack" and when the outbox sent it.

Cast (workspace schedule: the default, monthly on the first Monday at 10:00 UTC):
- O-1 (monthly, the workspace's): KR-1 U1 (checks in on 30 Jan, so February skips them),
  KR-2 U2 (pauses for a few days in March, after their nudge), KR-6 U3.
- O-2 (`review cadence O-2 weekly`): KR-3 U3, KR-4 U4 (paused until 20 January).
- O-3 (`review cadence O-3 every 2 weeks`): KR-5 U3.
- Holidays 2027-01-04..2027-01-05: the first Monday of January moves to Wednesday the 6th.
U3 never answers: three rhythms of nudges and reminders run into the weekly cap.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlmodel import col, select

import okrbot.adapters.slack.bot
import okrbot.adapters.slack.delivery
from okrbot.runtime.reviews_job import review_tick
from okrbot.store.models import Nudge, OutboundMessage, ReviewCycle, Workspace

pytestmark = pytest.mark.usefixtures("valid_blockkit")

ADMIN, BOSS = "UADMIN", "UBOSS"
START, END = datetime(2027, 1, 1, tzinfo=UTC), datetime(2027, 4, 12, tzinfo=UTC)
TICK = timedelta(hours=6)
DM_KINDS = ("nudge", "nudge_reminder", "nudge_escalation")
WEEK = timedelta(days=7)


class Clock:
    """The moment commands, review ticks and the outbox all read."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock(START)
    yield_clock = clock
    monkeypatch.setattr(okrbot.adapters.slack.bot, "utcnow", clock)  # the actor of every command
    monkeypatch.setattr(okrbot.adapters.slack.delivery, "utcnow", clock)  # when the outbox may send
    return yield_clock


@pytest.fixture
def quarter(okr, bot, slack, clock):
    bot.bot.clock = clock  # people act at the test's moment (the quarter is drafted on its first day)
    slack.set_user(ADMIN, is_admin=True)
    okr.ok('objective add "Grow activation" owner <@UBOSS> team <#C1|growth> period 2027-Q1', user=ADMIN)
    okr.ok('objective add "Ship reliability" owner <@UBOSS> team <#C2|platform> period 2027-Q1', user=ADMIN)
    okr.ok('objective add "Cut costs" owner <@UBOSS> period 2027-Q1', user=ADMIN)
    for objective, title, owner in [
        (1, "Signups", "U1"), (1, "Activation rate", "U2"), (2, "Uptime minutes", "U3"),
        (2, "Incidents closed", "U4"), (3, "Cloud spend", "U3"), (1, "Referrals", "U3"),
    ]:  # fmt: skip
        okr.ok(f'kr add O-{objective} "{title}" from 0 to 100 owner <@{owner}>', user=ADMIN)
    # The owner sets a cadence; someone else may not, and bad words say what to type.
    refused = okr("review cadence O-2 weekly", user="U3")
    assert refused.problem and "UBOSS" in refused.text
    bad = okr("review cadence O-2 daily", user=BOSS)
    assert bad.problem and "weekly, every 2 weeks, monthly or default" in bad.text
    assert "weekly on Monday at 10:00" in okr.ok("review cadence O-2 weekly", user=BOSS).text
    assert "every 2 weeks on Monday at 10:00" in okr.ok("review cadence O-3 every 2 weeks", user=ADMIN).text
    # Holidays are the admins'.
    assert okr("review holidays add 2027-01-04..2027-01-05", user="U1").problem
    assert "2027-01-04..2027-01-05" in okr.ok("review holidays add 2027-01-04..2027-01-05", user=ADMIN).text
    bad = okr("review holidays add 2027-01-05..2027-01-04", user=ADMIN)
    assert bad.problem and "ends before it starts" in bad.text
    assert "2027-01-20" in okr.ok("review pause until 2027-01-20", user="U4").text
    with bot.db.session_scope() as session:
        session.execute(update(Workspace).values(review_since=START - timedelta(days=30)))
    return okr


def run_quarter(bot, okr, clock: Clock, actions: dict[datetime, list[tuple[str, str]]]) -> None:
    """Tick through the quarter; at the moments in `actions`, people type commands first."""
    now = START
    steps = 0
    while now <= END:
        clock.now = now
        for user, text in actions.pop(now, []):
            okr.ok(text, user=user)
        review_tick(bot.bot, now)
        bot.bot.deliverer.deliver(None, limit=500)  # the sweep: DMs whose moment has come
        now += TICK
        steps += 1
        assert steps < 2000  # bounded
    assert not actions, f"moments never reached: {sorted(actions)}"


def sent_dms(bot) -> list[tuple[str, str, datetime, datetime, str | None]]:
    """(person, kind, queued at, sent at, cycle key) of every unprompted DM the outbox sent."""
    with bot.db.session_scope() as session:
        rows = session.exec(
            select(OutboundMessage).where(col(OutboundMessage.kind).in_(DM_KINDS)).order_by(OutboundMessage.sent_at)
        ).all()
        cycles = {c.id: c.key for c in session.exec(select(ReviewCycle)).all()}
        owners = {n.id: n.owner for n in session.exec(select(Nudge)).all()}
        unsent = [r.dedupe_key for r in rows if r.status != "sent"]
    assert unsent == [], f"DMs never sent: {unsent}"
    found = []
    for row in rows:
        parts = row.dedupe_key.split(":")
        cycle = None
        if row.kind == "nudge":
            cycle = cycles[int(parts[1])]
        # nudge:<cycle>:<owner>, nudge-reminder:<nudge>:<n> (in the DM), nudge-escalation:<nudge>:<objective owner>
        person = owners[int(parts[1])] if row.kind == "nudge_reminder" else parts[2]
        found.append((person, row.kind, row.created_at, row.sent_at, cycle))
    return found


def test_a_quarter_of_nudge_preferences(quarter, bot, slack, clock, caplog):
    caplog.set_level(logging.ERROR, logger="okrbot")
    actions = {
        datetime(2027, 1, 30, 12, tzinfo=UTC): [("U1", "checkin KR-1 40")],
        datetime(2027, 3, 1, 18, tzinfo=UTC): [("U2", "review pause until 2027-03-06")],
    }
    run_quarter(bot, quarter, clock, actions)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], [r.getMessage() for r in caplog.records]
    dms = sent_dms(bot)
    by_person: dict[str, list] = defaultdict(list)
    for dm in dms:
        by_person[dm[0]].append(dm)

    # What the outbox says was sent is what reached Slack (a reminder goes to the DM's id, D<user>).
    posted = Counter(
        c.args["channel"].removeprefix("D")
        for c in slack.delivered("chat.postMessage")
        if (c.args.get("metadata") or {}).get("event_type") == "okrbot_review" and c.args["channel"] not in ("C1", "C2")
    )
    assert posted == Counter(dm[0] for dm in dms)

    # Cadences: one review per rhythm per cycle; the January ones moved off the holidays.
    with bot.db.session_scope() as session:
        cycles = {c.key: c for c in session.exec(select(ReviewCycle)).all()}
        nudges = {(n.cycle_id, n.owner): n.status for n in session.exec(select(Nudge)).all()}
    monthly = sorted(k for k in cycles if k[:2] == "20")
    weekly = sorted(k for k in cycles if k.startswith("weekly "))
    fortnightly = sorted(k for k in cycles if k.startswith("every 2 weeks "))
    assert monthly == ["2027-01", "2027-02", "2027-03", "2027-04"]
    # Weekly: 28 Dec (still open on 1 Jan; its period, 2026-Q4, has no KRs) and 4 Jan … 5 Apr;
    # every 2 weeks: 4 Jan … 29 Mar.
    assert weekly[0] == "weekly 2026-W53" and len(weekly) == 15 and len(fortnightly) == 7
    assert cycles["2027-01"].due_at == datetime(2027, 1, 6, 10, tzinfo=UTC)
    assert cycles["weekly 2027-W01"].due_at == datetime(2027, 1, 6, 10, tzinfo=UTC)
    assert not [dm for dm in dms if dm[3].date() in (datetime(2027, 1, 4).date(), datetime(2027, 1, 5).date())]

    # U2 follows only the workspace's monthly rhythm: one nudge a month in the quarter.
    assert [dm[4] for dm in by_person["U2"] if dm[1] == "nudge"] == ["2027-01", "2027-02", "2027-03"]
    # U3's nudges name only the KRs of the rhythm they belong to.
    for call in slack.delivered("chat.postMessage"):
        if call.args["channel"] == "U3" and not call.args.get("thread_ts"):
            text = str(call.args.get("blocks"))
            assert sum(kr in text for kr in ("KR-3", "KR-5", "KR-6")) == 1, text[:300]

    # Skips: U1 checked in on 30 January, so February's review spared them; March did not.
    assert [dm[4] for dm in by_person["U1"] if dm[1] == "nudge"] == ["2027-01", "2027-03"]
    assert nudges[(cycles["2027-02"].id, "U1")] == "skipped"

    # Pauses: nothing reached U4 before 20 January; the week's review reached them that day.
    first = by_person["U4"][0]
    assert first[1] == "nudge" and first[4] == "weekly 2027-W03" and first[3] == datetime(2027, 1, 20, tzinfo=UTC)
    assert all(dm[3] >= datetime(2027, 1, 20, tzinfo=UTC) for dm in by_person["U4"])
    # The ladder waits while paused: U2, nudged on 1 March, paused that evening until the 6th.
    march = [dm for dm in by_person["U2"] if datetime(2027, 3, 1, tzinfo=UTC) <= dm[3] < datetime(2027, 3, 9, tzinfo=UTC)]
    assert [(kind, sent.date().isoformat()) for _, kind, _, sent, _ in march] == [
        ("nudge", "2027-03-01"), ("nudge_reminder", "2027-03-06"),
    ]  # (without the pause: reminders on the 4th and the 7th)

    # The weekly cap: nobody got more than 5 in any 7 days; U3's extra DMs waited, none was lost.
    for person, sent in by_person.items():
        times = sorted(dm[3] for dm in sent)
        for start in times:
            assert sum(1 for t in times if start <= t < start + WEEK) <= 5, f"{person} got more than 5 DMs in a week from {start}"
    waited = [dm for dm in by_person["U3"] if dm[3] - dm[2] > TICK]
    longest = max((dm[3] - dm[2] for dm in waited), default=timedelta(0))
    print(f"\nDMs over the quarter: {dict(sorted(Counter(dm[0] for dm in dms).items()))}; U3: {len(waited)} waited for the cap, the longest {longest}")
    assert waited, "U3's three rhythms should have run into the cap"
    assert len(by_person["U3"]) > 5 * 14 // 7  # ≈ the cap's pace over the quarter: deferred, not dropped


def test_review_status_and_bad_input_say_what_to_type(quarter, bot):
    status = quarter.ok("review status", user="U4").text
    assert "O-2 weekly" in status and "O-3 every 2 weeks" in status and "2027-01-04..2027-01-05" in status
    assert "until 2027-01-20" in status and "within 5 days" in status
    assert "until 2027-01-20" not in quarter.ok("review status", user="U1").text  # a pause is one's own
    for text, hint in [
        ("review pause until soon", "YYYY-MM-DD"),
        ("review pause until 2020-01-01", "not after today"),
        ("review holidays remove 2027-02-01", "no holiday"),
        ("review holidays add christmas", "2026-12-24..2027-01-01"),
        ("settings review-skip-days many", "review-skip-days 5"),
        ("settings review-skip-days 99", "between 0 and 60"),
    ]:
        answer = quarter(text, user=ADMIN)
        assert answer.problem and hint in answer.text, (text, answer.text)
    assert "within the last 3 days" in quarter.ok("settings review-skip-days 3", user=ADMIN).text
    assert quarter("settings review-skip-days 3", user="U1").problem
    assert "Welcome back" in quarter.ok("review resume", user="U4").text
    assert "no pause" in quarter.ok("review resume", user="U4").text
    assert "workspace's schedule" in quarter.ok("review cadence O-2 default", user=BOSS).text
    removed = quarter.ok("review holidays remove 2027-01-04..2027-01-05", user=ADMIN).text
    assert "Removed" in removed and "none" in removed
    with bot.db.session_scope() as session:
        assert session.get(Workspace, "T1").review_skip_days == 3
