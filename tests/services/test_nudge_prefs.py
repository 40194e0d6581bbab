"""Nudge preferences in the review flow (issue 16), at the service level with a fixed clock:
the ladder around pauses and holidays, and the weekly cap on every unprompted DM.

Runs on SQLite and, with OKRBOT_TEST_DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import update
from sqlmodel import select

from okrbot.services import dm_cap, reviews
from okrbot.services.context import Actor
from okrbot.store.db import Database
from okrbot.store.models import CheckIn, KeyResult, Nudge, OutboundMessage, ReviewCycle, ReviewHoliday, ReviewPause, UnpromptedDm
from tests.services.test_reviews import MESSAGES, POLICY, RUN, admin, deliver_fake, run, seed, start


def queued(db: Database, ids) -> list[OutboundMessage]:
    with db.session_scope() as session:
        return list(session.exec(select(OutboundMessage).where(OutboundMessage.id.in_(list(ids))).order_by(OutboundMessage.id)).all())


def follow_up(db: Database, now) -> list[int]:
    with db.session_scope() as session:
        return reviews.follow_up(session, "T1", now, POLICY, MESSAGES)


def test_the_note_to_an_away_objective_owner_waits_for_their_return(db):
    seed(db, owners=1)
    started = start(db)
    sent = RUN + timedelta(minutes=2)
    deliver_fake(db, started.queued, sent)
    with db.session_scope() as session:
        session.add(ReviewPause(team_id="T1", user_id="UBOSS", paused_until=date(2026, 11, 20)))
    reminders = follow_up(db, sent + timedelta(days=3)) + follow_up(db, sent + timedelta(days=6))
    assert [m.kind for m in queued(db, reminders)] == ["nudge_reminder", "nudge_reminder"]  # U1 is not away
    (note,) = queued(db, follow_up(db, RUN + POLICY.window))
    assert note.kind == "nudge_escalation" and note.channel == "UBOSS"
    assert note.next_attempt_at.date() == date(2026, 11, 20)  # queued now, sent when the pause ends


def test_an_owner_away_gets_no_reminder_and_nobody_hears_they_are_late(db):
    seed(db, owners=1)
    started = start(db)
    deliver_fake(db, started.queued, RUN + timedelta(minutes=2))
    with db.session_scope() as session:
        session.add(ReviewPause(team_id="T1", user_id="U1", paused_until=date(2026, 12, 1)))
    for days in (3, 6, 7, 8):
        assert follow_up(db, RUN + timedelta(days=days, minutes=5)) == []


def test_no_reminder_on_a_holiday_it_comes_the_day_after(db):
    seed(db, owners=1)
    started = start(db)
    deliver_fake(db, started.queued, RUN + timedelta(minutes=2))
    with db.session_scope() as session:
        session.add(ReviewHoliday(team_id="T1", first_day=date(2026, 11, 5), last_day=date(2026, 11, 5)))
    assert follow_up(db, RUN + timedelta(days=3, minutes=5)) == []  # Thursday 5 November
    assert [m.kind for m in queued(db, follow_up(db, RUN + timedelta(days=4)))] == ["nudge_reminder"]


def test_a_grading_dm_counts_against_the_cap_like_a_nudge(db):
    seed(db, owners=1)
    with db.session_scope() as session:
        slots = dm_cap.book(
            session, "T1", [dm_cap.DmToBook("U1", "grading_dm", f"g:{i}") for i in range(6)], RUN
        )
    assert [slots[f"g:{i}"] for i in range(5)] == [RUN] * 5 and slots["g:5"] == RUN + timedelta(days=7)
    started = start(db)  # the review's nudge is the seventh in the week: it waits too
    (nudge,) = queued(db, started.queued)
    assert nudge.next_attempt_at == RUN + timedelta(days=7)
    with db.session_scope() as session:  # booking again changes nothing
        assert dm_cap.book(session, "T1", [dm_cap.DmToBook("U1", "grading_dm", "g:5")], RUN)["g:5"] == RUN + timedelta(days=7)


def test_each_rhythm_nudges_about_its_own_krs_and_no_change_records_only_those(db):
    seed(db, owners=1)  # O-1 on the workspace's monthly schedule: KR-1 and KR-2 (U1)
    run(db, 'objective add "Ship reliability" owner @UBOSS', admin())
    run(db, 'kr add O-2 "Uptime" from 0 to 100 owner @U1', admin())
    assert "weekly" in run(db, "review cadence O-2 weekly", admin())
    started = start(db)  # the first Monday of November: both rhythms are due
    assert sorted(started.keys) == ["2026-11", "weekly 2026-W45"] and started.nudged == ["U1", "U1"]
    with db.session_scope() as session:
        weekly = session.exec(
            select(Nudge).join(ReviewCycle, ReviewCycle.id == Nudge.cycle_id).where(ReviewCycle.key == "weekly 2026-W45")
        ).one()
        recorded = reviews.no_change(session, Actor(team_id="T1", user_id="U1", source="button", now=RUN + timedelta(hours=1)), weekly.id)
    assert [kr.number for kr in recorded] == [3]
    with db.session_scope() as session:
        assert [kr_pk for kr_pk in session.exec(select(CheckIn.kr_id)).all()] == [
            session.exec(select(KeyResult.id).where(KeyResult.number == 3)).one()
        ]


def test_bookings_older_than_two_weeks_are_forgotten(db):
    seed(db, owners=1)
    with db.session_scope() as session:
        dm_cap.book(session, "T1", [dm_cap.DmToBook("U1", "nudge", "old"), dm_cap.DmToBook("U1", "nudge", "recent")], RUN)
        session.execute(update(UnpromptedDm).where(UnpromptedDm.dedupe_key == "old").values(at=RUN - timedelta(days=15)))
    with db.session_scope() as session:
        assert dm_cap.forget_old(session, "T1", RUN) == 1
        assert session.exec(select(UnpromptedDm.dedupe_key)).all() == ["recent"]
