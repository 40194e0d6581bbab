"""Review schedules: what admins may type, and when reviews run across time zones and DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from okrbot.domain.schedule import (
    DEFAULT_SCHEDULE,
    LAST,
    RHYTHM_EPOCH,
    ReviewSchedule,
    ScheduleError,
    cycle_key,
    last_run,
    next_run,
    parse_schedule,
)

NEW_YORK = "America/New_York"
BERLIN = "Europe/Berlin"
MON, TUE, WED, THU, FRI, SUN = 0, 1, 2, 3, 4, 6


def monthly_weekday(ordinal: int, weekday: int, hour: int, minute: int = 0) -> ReviewSchedule:
    return ReviewSchedule(kind="monthly_weekday", ordinal=ordinal, weekday=weekday, hour=hour, minute=minute)


def monthly_day(day: int, hour: int, minute: int = 0) -> ReviewSchedule:
    return ReviewSchedule(kind="monthly_day", day=day, hour=hour, minute=minute)


def weekly(
    weekday: int, hour: int, minute: int = 0, every: int = 1, anchor: date | None = None
) -> ReviewSchedule:
    return ReviewSchedule(
        kind="weekly", weekday=weekday, interval_weeks=every, anchor=anchor, hour=hour, minute=minute
    )


def local(tz: str, text: str) -> datetime:
    """An aware datetime for a wall time in `tz` ("2026-03-08 02:30"); fold=0."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(tz))


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# --- parsing ------------------------------------------------------------------

ACCEPTED = [
    ("monthly first monday 10:00", monthly_weekday(1, MON, 10)),
    ("monthly second tuesday 9:30", monthly_weekday(2, TUE, 9, 30)),
    ("monthly third wed 14:00", monthly_weekday(3, WED, 14)),
    ("monthly 4th thursday 8am", monthly_weekday(4, THU, 8)),
    ("monthly last friday 16:00", monthly_weekday(LAST, FRI, 16)),
    ("Monthly  LAST   Friday   at 4pm", monthly_weekday(LAST, FRI, 16)),
    ("monthly on the first monday of the month at 10:00", monthly_weekday(1, MON, 10)),
    ("every month on the 1st monday 10:00", monthly_weekday(1, MON, 10)),
    ("monthly on the 15th 09:00", monthly_day(15, 9)),
    ("monthly day 1 10:00", monthly_day(1, 10)),
    ("monthly day 28 10:00", monthly_day(28, 10)),
    ("monthly 2nd 10:00", monthly_day(2, 10)),
    ("monthly first day 10:00", monthly_day(1, 10)),
    ("monthly last day 17:00", monthly_day(LAST, 17)),
    ("monthly on the last day at 5pm", monthly_day(LAST, 17)),
    ("weekly monday 10:00", weekly(MON, 10)),
    ("weekly on mon at 10am", weekly(MON, 10)),
    ("WEEKLY ON MONDAYS AT 10 AM", weekly(MON, 10)),
    ("weekly tues 10:30am", weekly(TUE, 10, 30)),
    ("weekly thurs 12pm", weekly(THU, 12)),
    ("weekly sun 12am", weekly(SUN, 0)),
    ("weekly fri 4 p.m.", weekly(FRI, 16)),
    ("weekly fri noon", weekly(FRI, 12)),
    ("every monday 10:00", weekly(MON, 10)),
    ("every week on friday 16:00", weekly(FRI, 16)),
    ("every 1 week friday 16:00", weekly(FRI, 16)),
    ("every 2 weeks friday 16:00", weekly(FRI, 16, every=2)),
    ("every 3 weeks wed 14:30", weekly(WED, 14, 30, every=3)),
    ("every other week thu 9:00", weekly(THU, 9, every=2)),
    ("every two weeks on thursday at 9:00", weekly(THU, 9, every=2)),
    ("fortnightly thu 9:00", weekly(THU, 9, every=2)),
    ("every 2 weeks friday 16:00 from 2026-01-16", weekly(FRI, 16, every=2, anchor=date(2026, 1, 16))),
    # A start date that is not on the weekday moves to the next such weekday.
    ("every 2 weeks friday 16:00 starting 2026-01-14", weekly(FRI, 16, every=2, anchor=date(2026, 1, 16))),
    ("  “weekly monday 10:00”  ", weekly(MON, 10)),
    ("monthly first monday", monthly_weekday(1, MON, 10)),  # no time: 10:00
]


@pytest.mark.parametrize(("text", "expected"), ACCEPTED)
def test_parse_schedule_accepts(text: str, expected: ReviewSchedule) -> None:
    assert parse_schedule(text) == expected


@pytest.mark.parametrize(("text", "expected"), ACCEPTED)
def test_text_parses_back_to_the_same_schedule(text: str, expected: ReviewSchedule) -> None:
    schedule = parse_schedule(text)
    assert parse_schedule(schedule.text()) == schedule
    assert schedule.text() == schedule.text().lower()


@pytest.mark.parametrize(
    ("text", "canonical", "sentence"),
    [
        ("monthly first monday 10:00", "monthly first monday 10:00", "monthly on the first Monday at 10:00"),
        ("monthly last fri 4pm", "monthly last friday 16:00", "monthly on the last Friday at 16:00"),
        ("monthly on the 15th 9:00", "monthly on the 15th 09:00", "monthly on the 15th at 09:00"),
        ("monthly day 22 9:00", "monthly on the 22nd 09:00", "monthly on the 22nd at 09:00"),
        ("monthly last day 17:00", "monthly on the last day 17:00", "monthly on the last day at 17:00"),
        ("weekly on mon at 10am", "weekly monday 10:00", "weekly on Monday at 10:00"),
        ("every 3 weeks wed 14:30", "every 3 weeks wednesday 14:30", "every 3 weeks on Wednesday at 14:30"),
        (
            "every 2 weeks fri 16:00 from 2026-01-16",
            "every 2 weeks friday 16:00 from 2026-01-16",
            "every 2 weeks on Friday at 16:00 from 2026-01-16",
        ),
    ],
)
def test_text_and_describe(text: str, canonical: str, sentence: str) -> None:
    schedule = parse_schedule(text)
    assert schedule.text() == canonical
    assert schedule.describe() == sentence


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("monthly first funday 10:00", "`funday` is not a weekday"),
        ("weekly moonday 10:00", "`moonday` is not a weekday"),
        ("every 2 weeks fryday 16:00", "`fryday` is not a weekday"),
        ("monthly on the 29th 10:00", "not every month has a 29th"),
        ("monthly on the 30th 10:00", "`last day`"),
        ("monthly day 31 10:00", "not every month has a 31st"),
        ("monthly day 0 10:00", "1–28"),
        ("monthly day 32 10:00", "1–28"),
        ("monthly fifth friday 10:00", "use `last friday`"),
        ("weekly monday 24:00", "the hour must be 0–23"),
        ("weekly monday 25:30", "the hour must be 0–23"),
        ("weekly monday 10:60", "minutes must be 00–59"),
        ("weekly monday 13pm", "with am/pm the hour is 1–12"),
        ("weekly monday 10", "write times like 10:00 or 10am"),
        ("weekly monday 10:00 11:00", "two times"),
        ("every 0 weeks monday 10:00", "`every 0 weeks` would never run"),
        ("every 53 weeks monday 10:00", "at most 52 weeks"),
        ("every few weeks monday 10:00", "number of weeks"),
        ("monthly first monday 10:00 please", "I don't understand `please`"),
        ("weekly monday tuesday 10:00", "I don't understand `tuesday`"),
        ("monthly 10:00", "say which day of the month"),
        ("monthly last 10:00", "`last` needs a weekday or `day`"),
        ("weekly 10:00", "say which weekday"),
        ("daily 10:00", "start with monthly, weekly or every N weeks"),
        ("biweekly monday 10:00", "start with monthly, weekly or every N weeks"),
        ("monday 10:00", "start with monthly, weekly or every N weeks"),
        ("weekly monday 10:00 from 2026-01-05", "only applies to `every N weeks`"),
        ("every 2 weeks monday 10:00 from next week", "is not a date"),
        ("every 2 weeks monday 10:00 from", "needs a date"),
    ],
)
def test_parse_schedule_rejects_with_a_message_that_shows_the_forms(text: str, says: str) -> None:
    with pytest.raises(ScheduleError) as raised:
        parse_schedule(text)
    assert says in str(raised.value)
    assert "monthly first monday 10:00" in str(raised.value)  # shows what to type instead


@pytest.mark.parametrize(
    "fields",
    [
        {"kind": "weekly", "weekday": FRI, "interval_weeks": 2, "anchor": date(2026, 1, 8)},  # a Thursday
        {"kind": "weekly", "weekday": 7},
        {"kind": "monthly_day", "day": 29},
        {"kind": "monthly_weekday", "ordinal": 5, "weekday": MON},
        {"kind": "monthly_weekday", "ordinal": 1, "weekday": MON, "day": 3},
        {"kind": "daily"},
    ],
)
def test_review_schedule_refuses_impossible_fields(fields: dict) -> None:
    with pytest.raises(ScheduleError):
        ReviewSchedule(hour=10, minute=0, **fields)


def test_default_schedule_is_the_first_monday_at_ten() -> None:
    assert DEFAULT_SCHEDULE == monthly_weekday(1, MON, 10)


def test_every_n_weeks_default_anchor_is_the_first_weekday_on_or_after_the_epoch() -> None:
    assert RHYTHM_EPOCH == date(2026, 1, 5)
    assert weekly(MON, 10, every=2).anchor == date(2026, 1, 5)
    assert weekly(FRI, 16, every=2).anchor == date(2026, 1, 9)
    assert weekly(SUN, 16, every=3).anchor == date(2026, 1, 11)
    assert weekly(FRI, 16).anchor is None  # every week has no rhythm to anchor


# --- next_run / last_run --------------------------------------------------------

NEXT_RUNS = [
    # UTC, month and year boundaries
    ("monthly first monday 10:00", "UTC", utc("2026-01-01 00:00"), "2026-01-05 10:00"),
    ("monthly first monday 10:00", "UTC", utc("2026-01-05 09:59:59"), "2026-01-05 10:00"),
    ("monthly first monday 10:00", "UTC", utc("2026-01-05 10:00"), "2026-02-02 10:00"),  # strictly after
    ("monthly first monday 10:00", "UTC", utc("2026-12-07 10:00"), "2027-01-04 10:00"),
    ("monthly on the 15th 09:00", "UTC", utc("2026-01-15 09:00:01"), "2026-02-15 09:00"),
    ("monthly last day 17:00", "UTC", utc("2026-02-01 00:00"), "2026-02-28 17:00"),
    ("monthly last day 17:00", "UTC", utc("2028-02-01 00:00"), "2028-02-29 17:00"),  # leap year
    ("monthly last day 17:00", "UTC", utc("2026-12-31 17:00"), "2027-01-31 17:00"),
    ("weekly monday 10:00", "UTC", utc("2026-12-29 00:00"), "2027-01-04 10:00"),
    # "last friday": 5 Fridays in January and May 2026, 4 in February
    ("monthly last friday 16:00", "UTC", utc("2026-01-01 00:00"), "2026-01-30 16:00"),
    ("monthly 4th friday 16:00", "UTC", utc("2026-01-01 00:00"), "2026-01-23 16:00"),
    ("monthly last friday 16:00", "UTC", utc("2026-01-30 16:00"), "2026-02-27 16:00"),
    ("monthly 4th friday 16:00", "UTC", utc("2026-01-23 16:00"), "2026-02-27 16:00"),
    ("monthly last friday 16:00", "UTC", utc("2026-05-01 00:00"), "2026-05-29 16:00"),
    ("monthly first friday 16:00", "UTC", utc("2026-05-01 00:00"), "2026-05-01 16:00"),
    # the `after` time zone does not matter, only the instant
    ("monthly first monday 10:00", "UTC", local("Asia/Tokyo", "2026-01-05 18:59"), "2026-01-05 10:00"),
    ("monthly first monday 10:00", "UTC", local("Asia/Tokyo", "2026-01-05 19:00"), "2026-02-02 10:00"),
    # New York: spring forward on Sun 2026-03-08 (02:00 EST → 03:00 EDT)
    ("weekly sunday 10:00", NEW_YORK, local(NEW_YORK, "2026-02-28 12:00"), "2026-03-01 15:00"),
    ("weekly sunday 10:00", NEW_YORK, local(NEW_YORK, "2026-03-07 12:00"), "2026-03-08 14:00"),
    ("weekly sunday 02:30", NEW_YORK, local(NEW_YORK, "2026-03-01 12:00"), "2026-03-08 07:00"),  # → 03:00 EDT
    ("weekly sunday 02:00", NEW_YORK, local(NEW_YORK, "2026-03-01 12:00"), "2026-03-08 07:00"),
    ("weekly sunday 02:30", NEW_YORK, utc("2026-03-08 07:00"), "2026-03-15 06:30"),
    ("monthly second sunday 02:30", NEW_YORK, local(NEW_YORK, "2026-03-01 00:00"), "2026-03-08 07:00"),
    ("weekly sunday 01:59", NEW_YORK, local(NEW_YORK, "2026-03-07 12:00"), "2026-03-08 06:59"),
    # New York: fall back on Sun 2026-11-01 (01:00–01:59 happens twice); run once, at the first
    ("weekly sunday 01:30", NEW_YORK, local(NEW_YORK, "2026-10-31 12:00"), "2026-11-01 05:30"),
    ("weekly sunday 01:30", NEW_YORK, utc("2026-11-01 05:30"), "2026-11-08 06:30"),  # not 06:30 that day
    ("monthly first sunday 01:30", NEW_YORK, local(NEW_YORK, "2026-10-15 00:00"), "2026-11-01 05:30"),
    ("weekly sunday 10:00", NEW_YORK, local(NEW_YORK, "2026-10-31 12:00"), "2026-11-01 15:00"),
    # Berlin: spring forward on Sun 2026-03-29 (02:00 CET → 03:00 CEST)
    ("weekly sunday 10:00", BERLIN, utc("2026-03-22 00:00"), "2026-03-22 09:00"),
    ("weekly sunday 10:00", BERLIN, utc("2026-03-23 00:00"), "2026-03-29 08:00"),
    ("monthly last sunday 02:30", BERLIN, utc("2026-03-01 00:00"), "2026-03-29 01:00"),  # → 03:00 CEST
    ("weekly sunday 01:30", BERLIN, utc("2026-03-23 00:00"), "2026-03-29 00:30"),
    # Berlin: fall back on Sun 2026-10-25 (02:00–02:59 happens twice)
    ("monthly last sunday 02:30", BERLIN, utc("2026-10-01 00:00"), "2026-10-25 00:30"),
    ("monthly last sunday 02:30", BERLIN, utc("2026-10-25 00:30"), "2026-11-29 01:30"),
    ("weekly sunday 01:30", BERLIN, utc("2026-10-19 00:00"), "2026-10-24 23:30"),
    ("weekly sunday 10:00", BERLIN, utc("2026-10-19 00:00"), "2026-10-25 09:00"),
    # every N weeks: counted from the first matching weekday on/after 2026-01-05
    ("every 2 weeks friday 16:00", "UTC", utc("2026-01-01 00:00"), "2026-01-09 16:00"),
    ("every 2 weeks friday 16:00", "UTC", utc("2026-01-09 16:00"), "2026-01-23 16:00"),
    ("every 2 weeks friday 16:00", "UTC", utc("2026-01-10 00:00"), "2026-01-23 16:00"),
    ("every 2 weeks friday 16:00 from 2026-01-16", "UTC", utc("2026-01-01 00:00"), "2026-01-02 16:00"),
    ("every 2 weeks friday 16:00 from 2026-01-16", "UTC", utc("2026-01-03 00:00"), "2026-01-16 16:00"),
    ("every 3 weeks wed 14:30", "UTC", utc("2026-01-08 00:00"), "2026-01-28 14:30"),
    ("every 2 weeks sunday 02:30", NEW_YORK, local(NEW_YORK, "2026-03-01 00:00"), "2026-03-08 07:00"),
]


@pytest.mark.parametrize(("text", "tz", "after", "expected"), NEXT_RUNS)
def test_next_run(text: str, tz: str, after: datetime, expected: str) -> None:
    run = next_run(parse_schedule(text), after, ZoneInfo(tz))
    assert run == utc(expected)
    assert run.utcoffset() == timedelta(0)


LAST_RUNS = [
    ("monthly first monday 10:00", "UTC", utc("2026-01-05 10:00"), "2026-01-05 10:00"),  # at or before
    ("monthly first monday 10:00", "UTC", utc("2026-01-05 09:59:59"), "2025-12-01 10:00"),
    # the bot was down from 3 Jan to 10 Feb: the February cycle is caught up
    ("monthly first monday 10:00", "UTC", utc("2026-02-10 08:00"), "2026-02-02 10:00"),
    ("monthly last friday 16:00", "UTC", utc("2026-03-01 00:00"), "2026-02-27 16:00"),
    ("monthly last day 17:00", "UTC", utc("2026-03-01 00:00"), "2026-02-28 17:00"),
    ("weekly monday 10:00", "UTC", utc("2027-01-01 00:00"), "2026-12-28 10:00"),
    ("every 2 weeks friday 16:00", "UTC", utc("2026-01-05 00:00"), "2025-12-26 16:00"),  # before the anchor
    ("every 2 weeks friday 16:00", "UTC", utc("2027-01-07 00:00"), "2026-12-25 16:00"),
    ("weekly sunday 02:30", NEW_YORK, utc("2026-03-08 07:00"), "2026-03-08 07:00"),
    ("weekly sunday 02:30", NEW_YORK, utc("2026-03-08 06:59:59"), "2026-03-01 07:30"),
    ("weekly sunday 01:30", NEW_YORK, utc("2026-11-01 06:45"), "2026-11-01 05:30"),  # 01:45 EST, second pass
    ("weekly sunday 01:30", NEW_YORK, utc("2026-11-01 05:29"), "2026-10-25 05:30"),
    ("monthly last sunday 02:30", BERLIN, utc("2026-03-29 00:59"), "2026-02-22 01:30"),
    ("monthly last sunday 02:30", BERLIN, utc("2026-03-29 01:00"), "2026-03-29 01:00"),
    ("monthly last sunday 02:30", BERLIN, utc("2026-10-25 01:45"), "2026-10-25 00:30"),
]


@pytest.mark.parametrize(("text", "tz", "at", "expected"), LAST_RUNS)
def test_last_run(text: str, tz: str, at: datetime, expected: str) -> None:
    run = last_run(parse_schedule(text), at, ZoneInfo(tz))
    assert run == utc(expected)
    assert run is not None and run.utcoffset() == timedelta(0)


def test_last_run_is_none_before_the_calendar_starts() -> None:
    assert last_run(DEFAULT_SCHEDULE, datetime(1, 1, 1, tzinfo=UTC), ZoneInfo("UTC")) is None


@pytest.mark.parametrize("function", [next_run, last_run, cycle_key])
def test_naive_datetimes_are_refused(function) -> None:
    with pytest.raises(ValueError, match="no time zone"):
        function(DEFAULT_SCHEDULE, datetime(2026, 1, 1), ZoneInfo("UTC"))


SCHEDULES = [
    "monthly first monday 10:00",
    "monthly last friday 16:00",
    "monthly last day 23:30",
    "monthly on the 15th 00:00",
    "weekly sunday 02:30",
    "weekly sunday 01:30",
    "every 2 weeks friday 16:00",
    "every 3 weeks sun 2:30",
]
ZONES = ["UTC", NEW_YORK, BERLIN, "Australia/Lord_Howe"]  # Lord Howe shifts by 30 minutes


def runs_in(text: str, tz: str, start: datetime, end: datetime) -> list[datetime]:
    schedule, zone = parse_schedule(text), ZoneInfo(tz)
    runs, run = [], next_run(schedule, start, zone)
    while run < end:
        runs.append(run)
        run = next_run(schedule, run, zone)
    return runs


@pytest.mark.parametrize("tz", ZONES)
@pytest.mark.parametrize("text", SCHEDULES)
def test_next_and_last_run_agree_every_few_hours_of_2026(text: str, tz: str) -> None:
    schedule, zone = parse_schedule(text), ZoneInfo(tz)
    moment = utc("2026-01-01 00:00")
    while moment.year == 2026:
        previous, following = last_run(schedule, moment, zone), next_run(schedule, moment, zone)
        assert previous is not None and previous <= moment < following
        assert next_run(schedule, previous, zone) == following
        moment += timedelta(hours=13, minutes=7)  # drifts through every hour of the day


@pytest.mark.parametrize("tz", ZONES)
@pytest.mark.parametrize("text", SCHEDULES)
def test_runs_happen_at_the_wall_time_or_just_after_a_gap(text: str, tz: str) -> None:
    schedule, zone = parse_schedule(text), ZoneInfo(tz)
    for run in runs_in(text, tz, utc("2026-01-01 00:00"), utc("2027-01-01 00:00")):
        wall = run.astimezone(zone)
        if (wall.hour, wall.minute) != (schedule.hour, schedule.minute):
            # only on a spring-forward day, at the first instant after the gap
            just_before = (run - timedelta(seconds=1)).astimezone(zone)
            assert wall.date() == just_before.date()
            assert wall.utcoffset() > just_before.utcoffset()
            planned = (schedule.hour, schedule.minute)
            assert (just_before.hour, just_before.minute) < planned < (wall.hour, wall.minute)


def test_every_two_weeks_keeps_its_rhythm_across_the_year_end() -> None:
    runs = runs_in("every 2 weeks friday 16:00", NEW_YORK, utc("2026-11-01 00:00"), utc("2027-03-31 00:00"))
    days = [run.astimezone(ZoneInfo(NEW_YORK)).date() for run in runs]
    assert days[:5] == [
        date(2026, 11, 13),
        date(2026, 11, 27),
        date(2026, 12, 11),
        date(2026, 12, 25),
        date(2027, 1, 8),
    ]
    assert all(later - earlier == timedelta(weeks=2) for earlier, later in zip(days, days[1:], strict=False))
    # Same rhythm from a replica computing it a year later, from another starting point
    schedule = parse_schedule("every 2 weeks friday 16:00")
    later = next_run(schedule, utc("2027-01-01 00:00"), ZoneInfo(NEW_YORK))
    assert later.astimezone(ZoneInfo(NEW_YORK)).date() == date(2027, 1, 8)


# --- cycle keys ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tz", "run_at", "key"),
    [
        ("monthly first monday 10:00", "UTC", utc("2026-11-02 10:00"), "2026-11"),
        ("monthly on the 15th 09:00", BERLIN, utc("2026-11-15 08:00"), "2026-11"),
        # 23:30 on 30 Nov in New York is already December in UTC: the local month counts
        ("monthly last day 23:30", NEW_YORK, utc("2026-12-01 04:30"), "2026-11"),
        ("weekly friday 16:00", "UTC", utc("2026-11-20 16:00"), "2026-W47"),
        ("weekly monday 10:00", "UTC", utc("2026-12-28 10:00"), "2026-W53"),
        ("weekly friday 10:00", "UTC", utc("2027-01-01 10:00"), "2026-W53"),  # ISO year
        ("weekly monday 10:00", "UTC", utc("2027-01-04 10:00"), "2027-W01"),
        ("every 2 weeks friday 16:00", "UTC", utc("2026-11-27 16:00"), "2026-11-27"),
        ("every 2 weeks friday 16:00", NEW_YORK, utc("2026-11-27 21:00"), "2026-11-27"),
        ("every 2 weeks friday 16:00", "UTC", utc("2027-01-08 16:00"), "2027-01-08"),
        # any instant in a cycle's days (e.g. `/okr review now`) names the run day that opens it
        ("every 2 weeks friday 16:00", "UTC", utc("2026-12-02 09:00"), "2026-11-27"),
        ("every 2 weeks friday 16:00", "UTC", utc("2026-11-26 23:59"), "2026-11-13"),
        ("monthly first monday 10:00", "UTC", utc("2026-11-30 23:59"), "2026-11"),
        ("weekly friday 16:00", "UTC", utc("2026-11-16 00:00"), "2026-W47"),
    ],
)
def test_cycle_key(text: str, tz: str, run_at: datetime, key: str) -> None:
    assert cycle_key(parse_schedule(text), run_at, ZoneInfo(tz)) == key


@pytest.mark.parametrize(
    ("text", "runs_in_2026"),
    [
        ("monthly first monday 10:00", 12),
        ("monthly last day 23:30", 12),
        ("weekly sunday 02:30", 52),
        ("weekly friday 16:00", 52),
        ("every 2 weeks friday 16:00", 26),
        ("every 3 weeks sun 2:30", 17),
    ],
)
@pytest.mark.parametrize("tz", ZONES)
def test_cycle_keys_are_unique_and_stable_over_a_year(text: str, runs_in_2026: int, tz: str) -> None:
    schedule, zone = parse_schedule(text), ZoneInfo(tz)
    start, end = local(tz, "2026-01-01 00:00") - timedelta(microseconds=1), local(tz, "2027-01-01 00:00")
    runs = runs_in(text, tz, start, end)
    keys = [cycle_key(schedule, run, zone) for run in runs]
    assert len(runs) == runs_in_2026
    assert len(set(keys)) == len(keys)
    # the same run gives the same key however the instant is expressed
    assert keys == [cycle_key(schedule, run.astimezone(ZoneInfo("Asia/Kolkata")), zone) for run in runs]
