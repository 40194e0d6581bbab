"""Nudge preferences as pure decisions of a clock and preferences (domain/nudge_prefs.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from okrbot.domain.nudge_prefs import (
    Holiday,
    PreferenceError,
    cadence_schedule,
    dm_slot,
    due_run,
    is_paused,
    parse_cadence,
    parse_holiday,
    recently_checked_in,
    schedule_cycle_key,
    shifted_run,
    upcoming_run,
)
from okrbot.domain.schedule import parse_schedule

MONTHLY = parse_schedule("monthly first monday 10:00")
WEEKLY_FRI = parse_schedule("weekly friday 16:00")
WINDOW = timedelta(days=7)
PARIS = ZoneInfo("Europe/Paris")
WINTER = (Holiday(date(2026, 12, 24), date(2027, 1, 1)),)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@pytest.mark.parametrize(
    ("text", "cadence"),
    [("weekly", "weekly"), ("Every 2 weeks", "every 2 weeks"), ("fortnightly", "every 2 weeks"), ("monthly", "monthly"), ("default", None)],
)
def test_cadence_words(text, cadence):
    assert parse_cadence(text) == cadence


@pytest.mark.parametrize("text", ["daily", "every 3 weeks", "", "weekly monday"])
def test_cadence_words_refused_say_what_to_type(text):
    with pytest.raises(PreferenceError, match="weekly, every 2 weeks, monthly or default"):
        parse_cadence(text)


@pytest.mark.parametrize(
    ("cadence", "workspace", "expected"),
    [
        (None, MONTHLY, "monthly first monday 10:00"),
        ("monthly", MONTHLY, "monthly first monday 10:00"),  # the workspace's own: one cycle, not two
        ("weekly", MONTHLY, "weekly monday 10:00"),
        ("every 2 weeks", MONTHLY, "every 2 weeks monday 10:00"),
        ("weekly", WEEKLY_FRI, "weekly friday 16:00"),
        ("monthly", WEEKLY_FRI, "monthly first friday 16:00"),
        ("weekly", parse_schedule("monthly on the 15th 09:00"), "weekly monday 09:00"),
    ],
)
def test_an_objectives_cadence_keeps_the_workspaces_day_and_time(cadence, workspace, expected):
    assert cadence_schedule(cadence, workspace) == parse_schedule(expected)


def test_cycles_of_different_rhythms_never_share_a_key():
    run = at("2026-12-07T10:00:00+00:00")
    weekly = cadence_schedule("weekly", MONTHLY)
    assert schedule_cycle_key(MONTHLY, MONTHLY, run, UTC) == "2026-12"
    assert schedule_cycle_key(weekly, MONTHLY, run, UTC) == "weekly 2026-W50"
    assert schedule_cycle_key(cadence_schedule("every 2 weeks", MONTHLY), MONTHLY, run, UTC).startswith("every 2 weeks 2026-")


@pytest.mark.parametrize(
    ("text", "first", "last"),
    [
        ("2026-12-24..2027-01-01", date(2026, 12, 24), date(2027, 1, 1)),
        ("2026-12-25", date(2026, 12, 25), date(2026, 12, 25)),
        ("2026-12-24 to 2026-12-26", date(2026, 12, 24), date(2026, 12, 26)),
    ],
)
def test_holiday_ranges(text, first, last):
    assert parse_holiday(text) == Holiday(first, last)


@pytest.mark.parametrize(
    ("text", "problem"),
    [("christmas", "not a date or a range"), ("2027-01-05..2027-01-01", "ends before it starts"), ("2026-02-30", "does not exist"),
     ("2026-01-01..2027-06-01", "longer than a year")],
)
def test_bad_holidays_say_what_to_type(text, problem):
    with pytest.raises(PreferenceError, match=problem):
        parse_holiday(text)


@pytest.mark.parametrize(
    ("run", "moved"),
    [
        ("2026-12-21T10:00:00+00:00", "2026-12-21T10:00:00+00:00"),  # not a holiday
        ("2026-12-24T10:00:00+00:00", "2027-01-04T10:00:00+00:00"),  # Thu in the break → Mon after (Sat/Sun skipped)
        ("2027-01-01T10:00:00+00:00", "2027-01-04T10:00:00+00:00"),  # the last day counts
        ("2026-12-26T10:00:00+00:00", "2027-01-04T10:00:00+00:00"),
    ],
)
def test_a_run_on_a_holiday_moves_to_the_next_working_day_at_the_same_time(run, moved):
    assert shifted_run(at(run), WINTER, UTC) == at(moved)


def test_a_weekend_run_the_schedule_asked_for_stays_put():
    saturday = at("2026-12-19T10:00:00+00:00")
    assert shifted_run(saturday, WINTER, UTC) == saturday


def test_the_same_wall_time_across_a_time_zone_change():
    # 24 Dec in Paris is CET; a move stays at 10:00 local.
    run = datetime(2026, 12, 24, 10, 0, tzinfo=PARIS).astimezone(UTC)
    assert shifted_run(run, WINTER, PARIS).astimezone(PARIS).replace(tzinfo=None) == datetime(2027, 1, 4, 10, 0)


WEEKLY_MON = parse_schedule("weekly monday 10:00")


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # The Monday 28 Dec run falls in the break: the review of 21 Dec stays the open one…
        ("2026-12-28T09:00:00+00:00", ("2026-12-21T10:00:00+00:00", "2026-12-21T10:00:00+00:00")),
        ("2026-12-28T12:00:00+00:00", None),  # …until its window closes; nothing starts that day
        # …and it is merged into the 4 Jan run (the next working day is that run's own day).
        ("2027-01-04T10:00:00+00:00", ("2027-01-04T10:00:00+00:00", "2027-01-04T10:00:00+00:00")),
        ("2027-01-04T09:59:00+00:00", None),  # 21 Dec's window closed, 28 Dec's not started
    ],
)
def test_due_run_after_holidays(now, expected):
    due = due_run(WEEKLY_MON, at(now), UTC, WINTER, WINDOW)
    if expected is None:
        assert due is None
    else:
        assert (due.scheduled, due.at) == (at(expected[0]), at(expected[1]))


def test_a_monthly_run_on_a_holiday_starts_on_the_next_working_day():
    holiday = (Holiday(date(2027, 2, 1), date(2027, 2, 2)),)  # first Monday of Feb and the Tuesday
    assert due_run(MONTHLY, at("2027-02-01T11:00:00+00:00"), UTC, holiday, WINDOW) is None
    due = due_run(MONTHLY, at("2027-02-03T10:00:00+00:00"), UTC, holiday, WINDOW)
    assert due.scheduled == at("2027-02-01T10:00:00+00:00") and due.at == at("2027-02-03T10:00:00+00:00")
    assert upcoming_run(MONTHLY, at("2027-01-20T00:00:00+00:00"), UTC, holiday) == at("2027-02-03T10:00:00+00:00")


@pytest.mark.parametrize(
    ("ago", "days", "skip"),
    [
        ([1, 4], 5, True),
        ([1, 6], 5, False),  # one KR not checked in recently
        ([1, None], 5, False),  # one KR never checked in
        ([1, 1], 0, False),  # 0 days: never skip
        ([], 5, False),
    ],
)
def test_skip_when_every_kr_was_checked_in_recently(ago, days, skip):
    now = at("2027-01-11T10:00:00+00:00")
    times = [None if a is None else now - timedelta(days=a) for a in ago]
    assert recently_checked_in(times, now, days) is skip


def test_a_pause_lasts_until_the_start_of_its_day_in_the_workspaces_zone():
    until = date(2027, 1, 5)
    assert is_paused(until, datetime(2027, 1, 4, 23, 59, tzinfo=PARIS), PARIS)
    assert not is_paused(until, datetime(2027, 1, 5, 0, 0, tzinfo=PARIS), PARIS)
    assert not is_paused(None, datetime(2027, 1, 4, tzinfo=PARIS), PARIS)


def test_the_cap_allows_five_dms_in_any_seven_days_and_defers_the_sixth():
    start = at("2027-01-04T10:00:00+00:00")
    booked: list[datetime] = []
    for day in range(5):
        now = start + timedelta(days=day)
        assert dm_slot(booked, now) == now
        booked.append(now)
    sixth = dm_slot(booked, start + timedelta(days=5))
    assert sixth == start + timedelta(days=7)  # when the first of the five is a week old
    booked.append(sixth)
    # A seventh waits for the second one's week, never lands inside a full window.
    seventh = dm_slot(booked, start + timedelta(days=5))
    assert seventh == start + timedelta(days=8)
    everything = sorted([*booked, seventh])
    for first in everything:
        assert sum(1 for b in everything if first <= b < first + timedelta(days=7)) <= 5


def test_the_cap_looks_at_dms_already_waiting_in_the_future():
    now = at("2027-01-04T10:00:00+00:00")
    waiting = [now + timedelta(days=2, hours=h) for h in range(5)]  # five queued for Wednesday
    slot = dm_slot(waiting, now)
    window = timedelta(days=7)
    assert slot == waiting[0] + window
    assert all(sum(1 for b in [*waiting, slot] if s <= b < s + window) <= 5 for s in [*waiting, slot])
