"""Review nudges (issue 5): due cycles in the workspace's time zone, claiming each
owner's nudge exactly once, answers in the thread, reminders, escalation, digest,
and the outbox that sends them exactly once through 429s and crashes.

Runs on SQLite and, with OKRBOT_TEST_DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk import WebClient
from sqlalchemy import update
from sqlmodel import func, select

from okrbot.config import Settings
from okrbot.services import reviews
from okrbot.services.context import Actor
from okrbot.services.reviews import ReviewPolicy
from okrbot.adapters.slack.commands.runner import CommandRunner
from okrbot.adapters.slack.delivery import Deliverer
from okrbot.adapters.slack.views.reviews import SlackReviewMessages
from okrbot.store import outbox
from okrbot.store.db import Database
from okrbot.store.types import utcnow
from okrbot.store.models import CheckIn, KeyResult, Nudge, OutboundMessage, ReviewCycle, Workspace
from okrbot.store.workspaces import ensure_workspace
from tests.fakes.slack_api import SlackDouble
from tests.services.test_query_counts import counting

RUN = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)  # the first Monday of November 2026, 10:00 UTC
POLICY = ReviewPolicy()  # 7-day window, reminders after 3 days, at most 2
MESSAGES = SlackReviewMessages()


def admin(now: datetime = RUN - timedelta(days=1), team: str = "T1") -> Actor:
    return Actor(team_id=team, user_id="UADMIN", is_admin=True, now=now)


def run(db: Database, text: str, actor: Actor) -> str:
    outcome = CommandRunner(db, Settings(_env_file=None), offline=True).run(text, actor)
    assert not outcome.reply.error, f"/okr {text}: {outcome.reply.text}"
    return outcome.reply.text


def seed(db: Database, owners: int = 3, *, team: str = "T1", since: datetime = RUN - timedelta(days=30)) -> None:
    """O-1 owned by UBOSS in #C1 with one numeric KR per owner U1…Un, plus a yes/no KR for U1."""
    actor = admin(team=team)
    run(db, 'objective add "Grow activation" owner @UBOSS team #C1', actor)
    for n in range(1, owners + 1):
        run(db, f'kr add O-1 "Signups {n}" from 0 to 100 owner @U{n}', actor)
    run(db, 'kr add O-1 "Launch pricing page" yes/no owner @U1', actor)
    with db.session_scope() as session:
        workspace = ensure_workspace(session, team)
        workspace.review_since = since


def start(db: Database, now: datetime = RUN + timedelta(minutes=1), team: str = "T1") -> reviews.CycleRun | None:
    with db.session_scope() as session:
        return reviews.start_due_cycle(session, team, now, POLICY, MESSAGES)


def count(db: Database, model, *where) -> int:
    with db.session_scope() as session:
        return session.exec(select(func.count()).select_from(model).where(*where)).one()


def deliver_fake(db: Database, ids, now: datetime) -> None:
    """Mark queued nudge DMs sent as Slack would answer (D<user>, a fresh ts)."""
    with db.session_scope() as session:
        for message in session.exec(select(OutboundMessage).where(OutboundMessage.id.in_(list(ids)))).all():
            ts = f"1800000000.{message.id:06d}"
            outbox.mark_sent(session, message.id, ts=ts, now=now)
            reviews.nudge_delivered(session, message.team_id, message.dedupe_key, f"D{message.channel}", ts, now)


# --------------------------------------------------------------------------- when a review is due

BERLIN, NEW_YORK = "Europe/Berlin", "America/New_York"


# (schedule, tz, now, the run that is due (UTC) or None, its cycle key)
DUE = [
    # Default: first Monday 10:00 in the workspace's zone; due from that instant for the 7-day window.
    (None, "UTC", "2026-11-02T10:00:00+00:00", "2026-11-02T10:00:00+00:00", "2026-11"),
    (None, "UTC", "2026-11-02T09:59:00+00:00", None, None),  # October's window is long closed
    (None, "UTC", "2026-11-09T09:59:00+00:00", "2026-11-02T10:00:00+00:00", "2026-11"),  # last minute of the window
    (None, "UTC", "2026-11-09T10:00:00+00:00", None, None),  # closed: too late to catch up
    # Berlin: summer time ends 25 Oct 2026, so 10:00 is 08:00 UTC in October and 09:00 UTC in November.
    (None, BERLIN, "2026-10-05T08:00:00+00:00", "2026-10-05T08:00:00+00:00", "2026-10"),
    (None, BERLIN, "2026-10-05T07:59:00+00:00", None, None),
    (None, BERLIN, "2026-11-02T08:30:00+00:00", None, None),  # 09:30 local: not yet
    (None, BERLIN, "2026-11-02T09:00:00+00:00", "2026-11-02T09:00:00+00:00", "2026-11"),
    # New York: DST ends 1 Nov 2026 (the day before the run): 10:00 EST is 15:00 UTC.
    (None, NEW_YORK, "2026-11-02T14:30:00+00:00", None, None),
    (None, NEW_YORK, "2026-11-02T15:00:00+00:00", "2026-11-02T15:00:00+00:00", "2026-11"),
    (None, NEW_YORK, "2026-10-05T14:00:00+00:00", "2026-10-05T14:00:00+00:00", "2026-10"),  # EDT
    # Weekly across the spring change in Berlin (29 Mar 2026): 10:00 stays 10:00 local.
    ("weekly monday 10:00", BERLIN, "2026-03-23T09:00:00+00:00", "2026-03-23T09:00:00+00:00", "2026-W13"),
    ("weekly monday 10:00", BERLIN, "2026-03-30T08:00:00+00:00", "2026-03-30T08:00:00+00:00", "2026-W14"),
    ("weekly monday 10:00", BERLIN, "2026-03-30T07:59:00+00:00", "2026-03-23T09:00:00+00:00", "2026-W13"),
    # A wall time the spring change skips (02:30 on 8 Mar 2026 in New York) runs at 03:00 EDT.
    ("monthly second sunday 2:30", NEW_YORK, "2026-03-08T07:00:00+00:00", "2026-03-08T07:00:00+00:00", "2026-03"),
    # Every 2 weeks: only the weeks of its rhythm.
    ("every 2 weeks friday 16:00", "UTC", "2026-11-13T16:00:00+00:00", "2026-11-13T16:00:00+00:00", "2026-11-13"),
    ("every 2 weeks friday 16:00", "UTC", "2026-11-19T16:00:00+00:00", "2026-11-13T16:00:00+00:00", "2026-11-13"),
    ("every 2 weeks friday 16:00", "UTC", "2026-11-20T16:00:00+00:00", None, None),  # an off week; the last run closed
    ("every 2 weeks friday 16:00", "UTC", "2026-11-27T16:00:00+00:00", "2026-11-27T16:00:00+00:00", "2026-11-27"),
    ("monthly last day 17:00", "UTC", "2026-02-28T17:00:00+00:00", "2026-02-28T17:00:00+00:00", "2026-02"),
]


@pytest.mark.parametrize(("schedule", "tz", "now", "expected", "key"), DUE)
def test_due_run_in_the_workspace_time_zone(schedule, tz, now, expected, key):
    workspace = Workspace(team_id="T1", timezone=tz, review_schedule=schedule, created_at=datetime(2025, 1, 1, tzinfo=UTC))
    due = reviews.due_run(workspace, datetime.fromisoformat(now), POLICY)
    if expected is None:
        assert due is None
    else:
        assert due == (datetime.fromisoformat(expected), key)


def test_no_review_is_due_when_off_or_before_the_schedule_was_set():
    workspace = Workspace(team_id="T1", created_at=datetime(2025, 1, 1, tzinfo=UTC))
    now = RUN + timedelta(hours=1)
    assert reviews.due_run(workspace, now, POLICY) == (RUN, "2026-11")
    assert reviews.due_run(replace_ws(workspace, review_enabled=False), now, POLICY) is None
    # Setting a schedule after its latest run never nudges everyone at once for that run.
    assert reviews.due_run(replace_ws(workspace, review_since=RUN + timedelta(minutes=5)), now, POLICY) is None
    assert reviews.due_run(replace_ws(workspace, created_at=RUN + timedelta(minutes=5)), now, POLICY) is None


def replace_ws(workspace: Workspace, **changes) -> Workspace:
    return Workspace(**{**workspace.model_dump(), **changes})


# --------------------------------------------------------------------------- claiming a cycle


def test_a_due_cycle_nudges_each_owner_once_with_their_krs(db):
    seed(db, owners=3)
    first = start(db)
    assert first.created and first.key == "2026-11" and first.period == "2026-Q4"
    assert first.nudged == ["U1", "U2", "U3"]
    with db.session_scope() as session:
        dms = session.exec(select(OutboundMessage).where(OutboundMessage.kind == "nudge").order_by(OutboundMessage.channel)).all()
        assert [dm.channel for dm in dms] == ["U1", "U2", "U3"]
        assert [dm.dedupe_key for dm in dms] == [f"nudge:{first.cycle_id}:U{n}" for n in (1, 2, 3)]
        text = str(dms[0].payload["blocks"])
        assert "KR-1" in text and "KR-4" in text and "Signups 1" in text and "KR-2" not in text
        assert "0 → 100" in text and "no data" in text
        assert dms[0].payload["metadata"] == {"event_type": "okrbot_review", "event_payload": {"key": dms[0].dedupe_key}}
    # Every later tick of the same cycle does nothing, however often it runs.
    for minutes in (2, 60, 60 * 24 * 3):
        assert start(db, RUN + timedelta(minutes=minutes)) is None
    assert count(db, ReviewCycle) == 1
    assert count(db, Nudge) == 3
    assert count(db, OutboundMessage, OutboundMessage.kind == "nudge") == 3


def test_review_now_nudges_only_owners_not_yet_nudged_in_the_cycle(db):
    seed(db, owners=2)
    now = RUN + timedelta(days=1)
    with db.session_scope() as session:
        first = reviews.run_now(session, admin(now), POLICY, MESSAGES)
    assert first.created and first.nudged == ["U1", "U2"]
    run(db, 'kr add O-1 "Signups 3" from 0 to 100 owner @U3', admin(now))
    with db.session_scope() as session:
        second = reviews.run_now(session, admin(now + timedelta(minutes=1)), POLICY, MESSAGES)
    assert not second.created and second.key == first.key
    assert second.nudged == ["U3"] and second.already == 2
    # The scheduled run of the same month finds the cycle and sends nothing more.
    assert start(db, RUN + timedelta(days=1, minutes=5)) is None
    assert count(db, Nudge) == 3 and count(db, OutboundMessage, OutboundMessage.kind == "nudge") == 3


def test_review_now_is_for_admins(db):
    seed(db)
    with db.session_scope() as session, pytest.raises(reviews.NotAllowed):
        reviews.run_now(session, replace(admin(), is_admin=False, user_id="U1"), POLICY, MESSAGES)


def test_racing_processes_claim_the_cycle_and_each_nudge_once(database_url):
    """Eight "processes" (own engines, real threads) all find the cycle due at the same moment."""
    seed_db = Database(database_url)
    seed(seed_db, owners=40)
    seed_db.dispose()
    barrier = threading.Barrier(8)
    results, errors = [], []

    def replica() -> None:
        db = Database(database_url)
        try:
            barrier.wait()
            results.append(start(db))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            db.dispose()

    threads = [threading.Thread(target=replica) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    winners = [r for r in results if r is not None and r.created]
    assert len(winners) == 1 and len(winners[0].nudged) == 40
    db = Database(database_url)
    assert count(db, ReviewCycle) == 1 and count(db, Nudge) == 40
    with db.session_scope() as session:
        channels = Counter(session.exec(select(OutboundMessage.channel).where(OutboundMessage.kind == "nudge")).all())
    db.dispose()
    assert len(channels) == 40 and set(channels.values()) == {1}


def test_nudge_content_takes_the_same_queries_for_few_or_many_owners(database_url):
    def statements(owners: int, team: str) -> list[str]:
        db = Database(database_url)
        seed(db, owners=owners, team=team)
        with counting(db) as found:
            result = start(db, team=team)
        db.dispose()
        assert len(result.nudged) == owners
        return [" ".join(s.split()[:3]) for s in found]

    few, many = statements(3, "T1"), statements(60, "T2")
    print(f"\nstarting a cycle: {len(few)} statements for 3 owners, {len(many)} for 60")
    # (15 before nudge preferences: holidays, cadences, pauses, latest check-ins and the DM cap read 3 more)
    assert few == many and len(few) <= 18


# --------------------------------------------------------------------------- answers


def started_and_sent(db: Database, owners: int = 3) -> reviews.CycleRun:
    seed(db, owners=owners)
    result = start(db)
    deliver_fake(db, result.queued, RUN + timedelta(minutes=2))
    return result


def answer(db: Database, owner: str, text: str, now: datetime = RUN + timedelta(hours=1)) -> reviews.Answer:
    actor = Actor(team_id="T1", user_id=owner, channel_id=f"D{owner}", source="nudge", now=now)
    with db.session_scope() as session:
        nudge = session.exec(select(Nudge).where(Nudge.owner == owner)).one()
        found = reviews.find_nudge(session, "T1", nudge.channel, nudge.ts)
        assert found is not None and found.id == nudge.id
        return reviews.answer_in_thread(session, actor, found.id, text)


def krs(db: Database) -> dict[int, KeyResult]:
    with db.session_scope() as session:
        return {kr.number: kr for kr in session.exec(select(KeyResult)).all()}


def checkins(db: Database) -> list[tuple[int, float | None, int | None, str, str]]:
    with db.session_scope() as session:
        rows = session.exec(select(KeyResult.number, CheckIn.value, CheckIn.confidence, CheckIn.note, CheckIn.source).join(KeyResult)).all()
    return sorted(rows, key=lambda row: (row[0], str(row)))


def test_thread_replies_in_every_form_become_check_ins(db):
    started_and_sent(db)  # U1 owns KR-1 (numeric) and KR-4 (yes/no); U2 KR-2; U3 KR-3
    assert [r.kr.number for r in answer(db, "U2", "42").recorded] == [2]
    assert [r.kr.number for r in answer(db, "U3", "KR-3 42").recorded] == [3]
    full = answer(db, "U1", "KR-1: 42, blocked on legal, 6/10")
    assert [(r.kr.number, r.note, r.confidence, r.value_changed) for r in full.recorded] == [(1, "blocked on legal", 6, True)]
    assert full.question is None
    done = answer(db, "U1", "KR-4 done")
    assert [r.kr.number for r in done.recorded] == [4]
    several = answer(db, "U1", "KR-1 55\nKR-4 no")
    assert [r.kr.number for r in several.recorded] == [1, 4]
    values = {number: kr.current for number, kr in krs(db).items()}
    assert values == {1: 55.0, 2: 42.0, 3: 42.0, 4: 0.0}
    assert ("blocked on legal", 6) in [(note, confidence) for _, _, confidence, note, _ in checkins(db)]
    assert {source for *_, source in checkins(db)} == {"nudge"}
    with db.session_scope() as session:
        assert set(session.exec(select(Nudge.status)).all()) == {"answered"}


def test_an_ambiguous_reply_gets_a_question_and_records_nothing(db):
    started_and_sent(db)
    result = answer(db, "U1", "yes 42")  # U1 has a numeric and a yes/no KR: which is which?
    assert result.recorded == [] and result.question
    unclear = answer(db, "U1", "it's going fine")
    assert unclear.recorded == [] and "KR-1" in unclear.question
    assert checkins(db) == []
    with db.session_scope() as session:
        assert session.exec(select(Nudge.answered_at).where(Nudge.owner == "U1")).one() is None


def test_done_on_a_numeric_kr_reaches_its_target(db):
    started_and_sent(db)
    answer(db, "U2", "KR-2 done")
    assert krs(db)[2].current == 100.0


def test_no_change_records_once(db):
    result = started_and_sent(db)
    actor = Actor(team_id="T1", user_id="U1", channel_id="DU1", source="button", now=RUN + timedelta(hours=2))
    with db.session_scope() as session:
        nudge_id = session.exec(select(Nudge.id).where(Nudge.owner == "U1", Nudge.cycle_id == result.cycle_id)).one()
        first = reviews.no_change(session, actor, nudge_id)
    with db.session_scope() as session:
        second = reviews.no_change(session, replace(actor, now=actor.now + timedelta(minutes=1)), nudge_id)
    assert [kr.number for kr in first] == [1, 4] and second == []
    assert [(number, value) for number, value, *_ in checkins(db)] == [(1, None), (4, None)]
    with db.session_scope() as session, pytest.raises(reviews.NotAllowed):
        reviews.no_change(session, replace(actor, user_id="U2"), nudge_id)


# --------------------------------------------------------------------------- reminders, escalation, digest


def follow(db: Database, now: datetime) -> list[OutboundMessage]:
    with db.session_scope() as session:
        ids = reviews.follow_up(session, "T1", now, POLICY, MESSAGES) + reviews.send_digests(session, "T1", now, POLICY, MESSAGES)
    with db.session_scope() as session:
        return list(session.exec(select(OutboundMessage).where(OutboundMessage.id.in_(ids)).order_by(OutboundMessage.id)).all())


def test_reminders_then_a_note_to_the_objective_owner_then_the_digest(db):
    started_and_sent(db, owners=3)
    answer(db, "U2", "KR-2 60")  # answers in the thread
    run(db, "checkin KR-3 10", replace(admin(RUN + timedelta(hours=3)), user_id="U3", is_admin=False))  # or anywhere else
    sent = RUN + timedelta(minutes=2)

    assert follow(db, sent + timedelta(days=2, hours=23)) == []  # not yet 3 days
    first = follow(db, sent + timedelta(days=3))
    assert [(m.kind, m.channel) for m in first] == [("nudge_reminder", "DU1")]
    assert first[0].payload["thread_ts"] and first[0].payload["reply_broadcast"] is True
    assert follow(db, sent + timedelta(days=3, hours=1)) == []  # one per step, however many ticks
    second = follow(db, sent + timedelta(days=6))
    assert [(m.kind, m.channel) for m in second] == [("nudge_reminder", "DU1")]
    # Reminders used up: the objective's owner hears at the latest when the window closes.
    closing = follow(db, RUN + POLICY.window)
    kinds = [(m.kind, m.channel) for m in closing]
    assert ("nudge_escalation", "UBOSS") in kinds and ("review_digest", "C1") in kinds
    escalation = next(m for m in closing if m.kind == "nudge_escalation")
    assert "<@U1>" in str(escalation.payload["blocks"]) and "2 reminders" in str(escalation.payload["blocks"])
    digest = str(next(m for m in closing if m.kind == "review_digest").payload["blocks"])
    assert "<@U2>, <@U3>" in digest  # who checked in
    assert "No answer:* <@U1>" in digest
    assert "*KR-2* Signups 2: 0% → *60%*" in digest  # what moved
    assert "Off track" in digest and "KR-3" in digest  # 10% in week 6 of 13 is off track
    assert follow(db, RUN + POLICY.window + timedelta(days=1)) == []  # all once
    with db.session_scope() as session:
        assert session.exec(select(Nudge.status).where(Nudge.owner == "U3")).one() == "answered"


def test_reminders_are_configurable(db):
    started_and_sent(db, owners=1)
    policy = ReviewPolicy(remind_after=timedelta(days=1), max_reminders=1)
    sent = RUN + timedelta(minutes=2)
    with db.session_scope() as session:
        one = reviews.follow_up(session, "T1", sent + timedelta(days=1), policy, MESSAGES)
    with db.session_scope() as session:
        escalated = reviews.follow_up(session, "T1", sent + timedelta(days=2), policy, MESSAGES)
    assert len(one) == 1 and len(escalated) == 1
    with db.session_scope() as session:
        assert session.get(OutboundMessage, escalated[0]).kind == "nudge_escalation"


# --------------------------------------------------------------------------- sending exactly once


@pytest.fixture
def slack():
    with SlackDouble() as double:
        yield double


def deliverer(db: Database, slack: SlackDouble, sleeps: list[float] | None = None) -> Deliverer:
    sender = Deliverer(db, WebClient(token="xoxb-test", base_url=slack.api_url), lease=timedelta(seconds=60), sleep=(sleeps if sleeps is not None else []).append)
    sender.on_sent.append(lambda session, sent: reviews.nudge_delivered(session, sent.team_id, sent.dedupe_key, sent.channel, sent.ts, RUN))
    return sender


def test_sending_records_where_each_nudge_landed(db, slack):
    seed(db, owners=3)
    result = start(db)
    assert deliverer(db, slack).deliver(result.queued) == 3
    with db.session_scope() as session:
        nudges = session.exec(select(Nudge).order_by(Nudge.owner)).all()
    posted = {call.response["channel"]: call.response["ts"] for call in slack.delivered("chat.postMessage")}
    assert [(n.status, n.channel, n.ts) for n in nudges] == [("sent", f"DU{i}", posted[f"DU{i}"]) for i in (1, 2, 3)]


def test_the_sweeper_sends_every_due_message_not_one_batch_per_sweep(db, slack):
    seed(db, owners=7)
    start(db)
    queued = count(db, OutboundMessage, OutboundMessage.status == "pending")  # 7 nudges and what seeding announced
    sender = deliverer(db, slack)
    assert sender.deliver(limit=2) == 2  # one pass is one batch
    assert sender.drain(batch=2) == queued - 2  # a sweep drains the rest, batch after batch
    assert sender.drain(batch=2) == 0
    assert count(db, OutboundMessage, OutboundMessage.status == "sent") == queued
    nudged = Counter(call.args["channel"] for call in slack.delivered("chat.postMessage") if call.args["channel"].startswith("U"))
    assert nudged == {f"U{n}": 1 for n in range(1, 8)}


def test_a_429_slows_sending_and_nothing_is_dropped_or_doubled(db, slack):
    seed(db, owners=6)
    result = start(db)
    slack.rate_limit_every(3, method="chat.postMessage", retry_after=2)
    sleeps: list[float] = []
    sender = deliverer(db, slack, sleeps)
    sender.deliver(result.queued)
    assert sleeps and all(1 < s <= 2 for s in sleeps)  # it waited as Slack asked before the next call
    with db.session_scope() as session:
        session.execute(update(OutboundMessage).values(next_attempt_at=RUN))  # let the retries come due now
    while sender.deliver(result.queued):
        pass
    delivered = Counter(call.args["channel"] for call in slack.delivered("chat.postMessage"))
    assert delivered == {f"U{n}": 1 for n in range(1, 7)}
    with db.session_scope() as session:
        rows = session.exec(select(OutboundMessage.status, OutboundMessage.attempts).where(OutboundMessage.kind == "nudge")).all()
    assert {status for status, _ in rows} == {"sent"}
    assert {attempts for _, attempts in rows} == {1}  # a 429 is not a failed attempt


def test_a_send_whose_outcome_was_lost_is_not_posted_twice(db, slack):
    """A process died after Slack took the DM but before it could mark it sent."""
    seed(db, owners=2)
    result = start(db)
    client = WebClient(token="xoxb-test", base_url=slack.api_url)
    with db.session_scope() as session:
        rows = session.exec(select(OutboundMessage).where(OutboundMessage.kind == "nudge").order_by(OutboundMessage.channel)).all()
        lost, untouched = rows
        # Both rows claimed (posting); only the first one's call reached Slack.
        for row in rows:
            assert outbox.claim(session, row.id, "pending", utcnow(), lease=timedelta(minutes=2)) is not None
        client.api_call("chat.postMessage", json=lost.payload)
    sender = deliverer(db, slack)
    assert sender.deliver(result.queued) == 0  # leases still held: nothing to do yet
    with db.session_scope() as session:
        session.execute(update(OutboundMessage).values(next_attempt_at=RUN))  # the leases ran out
    assert sender.deliver(result.queued) == 2
    posted = Counter(call.args["channel"] for call in slack.delivered("chat.postMessage"))
    assert posted == {"U1": 1, "U2": 1}
    assert [c.args["channel"] for c in slack.calls("conversations.history")] == ["DU1", "DU2"]
    with db.session_scope() as session:
        nudge = session.exec(select(Nudge).where(Nudge.owner == lost.channel)).one()
    assert nudge.ts == slack.delivered("chat.postMessage")[0].response["ts"] and nudge.channel == "DU1"
    assert untouched.channel == "U2"


def test_no_answer_from_slack_leaves_the_message_to_be_checked_not_resent_blindly(db, slack):
    seed(db, owners=1)
    result = start(db)
    slack.fail("chat.postMessage", status=503, times=1)
    sender = deliverer(db, slack)
    assert sender.deliver(result.queued) == 0
    with db.session_scope() as session:
        row = session.get(OutboundMessage, result.queued[0])
        assert row.status == "posting"
        session.execute(update(OutboundMessage).values(next_attempt_at=RUN))
    assert sender.deliver(result.queued) == 1
    assert len(slack.calls("conversations.history")) == 1 and len(slack.delivered("chat.postMessage")) == 1


def test_a_short_window_still_tells_the_objective_owner_when_it_closes(db):
    seed(db, owners=1)
    policy = ReviewPolicy(window=timedelta(days=4))  # room for one reminder of two
    with db.session_scope() as session:
        started = reviews.start_due_cycle(session, "T1", RUN + timedelta(minutes=1), policy, MESSAGES)
    sent = RUN + timedelta(minutes=2)
    deliver_fake(db, started.queued, sent)
    with db.session_scope() as session:
        reminder = reviews.follow_up(session, "T1", sent + timedelta(days=3), policy, MESSAGES)
    with db.session_scope() as session:
        assert reviews.follow_up(session, "T1", RUN + timedelta(days=3, hours=23), policy, MESSAGES) == []
        escalated = reviews.follow_up(session, "T1", RUN + policy.window, policy, MESSAGES)
    with db.session_scope() as session:
        kinds = [session.get(OutboundMessage, i).kind for i in reminder + escalated]
    assert kinds == ["nudge_reminder", "nudge_escalation"]
