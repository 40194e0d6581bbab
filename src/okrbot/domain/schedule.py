"""Review schedules: the words an admin types, and the instants reviews run.

A schedule is a wall-clock rule ("monthly first monday 10:00") read in the
workspace's time zone. Runs are computed, never stored, so every replica that
reads the same rule agrees on the same runs and the same cycle keys.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Literal

ScheduleKind = Literal["monthly_weekday", "monthly_day", "weekly"]

LAST = -1
"""`ordinal` / `day` value meaning the last one in the month."""

RHYTHM_EPOCH = date(2026, 1, 5)
"""A Monday. "every N weeks" counts N-week blocks from the first matching
weekday on or after it (unless the schedule names its own start), so the
rhythm does not depend on when or where the schedule was saved."""

DEFAULT_TIME = time(10, 0)
"""Used when a schedule names no time of day."""

ACCEPTED_FORMS = (
    "monthly first monday 10:00",
    "monthly last friday 4pm",
    "monthly on the 15th 09:00",
    "monthly last day 17:00",
    "weekly monday 10:00",
    "every 2 weeks friday 16:00",
)

WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAYS = {
    **{name: i for i, name in enumerate(WEEKDAY_NAMES)},
    **{name + "s": i for i, name in enumerate(WEEKDAY_NAMES)},  # "mondays"
    **{name[:3]: i for i, name in enumerate(WEEKDAY_NAMES)},
    "tues": 1, "weds": 2, "thur": 3, "thurs": 3,
}  # fmt: skip
_ORDINAL_WORDS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "last": LAST}
_ORDINAL_NAMES = {1: "first", 2: "second", 3: "third", 4: "fourth", LAST: "last"}
_COUNT_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "other": 2, "second": 2, "third": 3}
_MAX_INTERVAL_WEEKS = 52

_NUMBERED = re.compile(r"^(\d{1,3})(st|nd|rd|th)?$")
_CLOCK = re.compile(r"^(\d{1,2})(?:[:.](\d{2}))?(am|pm)?$")
_FILLERS = {"on", "the", "at", "@", "in"}


class ScheduleError(ValueError):
    """A schedule that cannot be read; the message is meant for the person who typed it."""

    def __init__(self, problem: str) -> None:
        self.problem = problem
        forms = ", ".join(f"`{form}`" for form in ACCEPTED_FORMS)
        super().__init__(f"{problem}. Schedules look like: {forms}.")


@dataclass(frozen=True, kw_only=True)
class ReviewSchedule:
    """When reviews run, in the workspace's wall-clock time.

    - monthly_weekday: the `ordinal` (1..4, or LAST) `weekday` of each month
    - monthly_day: `day` (1..28, or LAST) of each month
    - weekly: `weekday` every `interval_weeks`; for more than one week, the
      weeks are counted from `anchor` (a date on that weekday)
    """

    kind: ScheduleKind
    hour: int
    minute: int
    ordinal: int | None = None
    weekday: int | None = None
    day: int | None = None
    interval_weeks: int = 1
    anchor: date | None = None

    def __post_init__(self) -> None:
        if not (0 <= self.hour <= 23 and 0 <= self.minute <= 59):
            raise ScheduleError(f"{self.hour:02d}:{self.minute:02d} is not a time of day")
        if self.kind == "monthly_weekday":
            self._check_monthly_weekday()
        elif self.kind == "monthly_day":
            self._check_monthly_day()
        elif self.kind == "weekly":
            self._check_weekly()
        else:
            raise ScheduleError(f"unknown schedule kind {self.kind!r}")

    def _check_monthly_weekday(self) -> None:
        if self.ordinal not in _ORDINAL_NAMES or self.weekday not in range(7):
            raise ScheduleError("a monthly weekday needs first, second, third, fourth or last and a weekday")
        if self.day is not None or self.interval_weeks != 1 or self.anchor is not None:
            raise ScheduleError("a monthly weekday schedule has no day number or week interval")

    def _check_monthly_day(self) -> None:
        if self.day != LAST and self.day not in range(1, 29):
            raise ScheduleError("the day of the month must be 1–28 or the last day")
        not_for_days = (self.ordinal, self.weekday, self.anchor)
        if not_for_days != (None, None, None) or self.interval_weeks != 1:
            raise ScheduleError("a day-of-month schedule has no weekday or week interval")

    def _check_weekly(self) -> None:
        if self.weekday not in range(7) or self.ordinal is not None or self.day is not None:
            raise ScheduleError("a weekly schedule needs a weekday and nothing else")
        if not 1 <= self.interval_weeks <= _MAX_INTERVAL_WEEKS:
            raise ScheduleError(f"the week interval must be 1–{_MAX_INTERVAL_WEEKS}")
        if self.interval_weeks == 1:
            object.__setattr__(self, "anchor", None)  # every week: nothing to anchor
        elif self.anchor is None:
            object.__setattr__(self, "anchor", default_anchor(self.weekday))
        elif self.anchor.weekday() != self.weekday:
            raise ScheduleError(f"the start date {self.anchor} is not a {WEEKDAY_NAMES[self.weekday]}")

    def text(self) -> str:
        """Canonical words for this schedule; `parse_schedule(s.text()) == s`."""
        clock = f"{self.hour:02d}:{self.minute:02d}"
        if self.kind == "monthly_weekday":
            return f"monthly {_ORDINAL_NAMES[self.ordinal]} {WEEKDAY_NAMES[self.weekday]} {clock}"
        if self.kind == "monthly_day":
            return f"monthly on the {_day_words(self.day)} {clock}"
        if self.interval_weeks == 1:
            return f"weekly {WEEKDAY_NAMES[self.weekday]} {clock}"
        weekday = WEEKDAY_NAMES[self.weekday]
        return f"every {self.interval_weeks} weeks {weekday} {clock}{self._anchor_words()}"

    def describe(self) -> str:
        """A sentence for people: "monthly on the first Monday at 10:00"."""
        clock = f"{self.hour:02d}:{self.minute:02d}"
        if self.kind == "monthly_weekday":
            weekday = WEEKDAY_NAMES[self.weekday].capitalize()
            return f"monthly on the {_ORDINAL_NAMES[self.ordinal]} {weekday} at {clock}"
        if self.kind == "monthly_day":
            return f"monthly on the {_day_words(self.day)} at {clock}"
        weekday = WEEKDAY_NAMES[self.weekday].capitalize()
        if self.interval_weeks == 1:
            return f"weekly on {weekday} at {clock}"
        return f"every {self.interval_weeks} weeks on {weekday} at {clock}{self._anchor_words()}"

    def _anchor_words(self) -> str:
        if self.anchor is None or self.anchor == default_anchor(self.weekday):
            return ""
        return f" from {self.anchor.isoformat()}"


def default_anchor(weekday: int) -> date:
    """The first `weekday` on or after RHYTHM_EPOCH."""
    return RHYTHM_EPOCH + timedelta(days=(weekday - RHYTHM_EPOCH.weekday()) % 7)


def _day_words(day: int | None) -> str:
    if day == LAST:
        return "last day"
    assert day is not None
    suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


# --- parsing -----------------------------------------------------------------


def parse_schedule(text: str) -> ReviewSchedule:
    """Read a schedule like "monthly first monday 10:00" or "every 2 weeks fri 4pm".

    Any case and spacing; "on", "the", "at" are optional. Raises ScheduleError
    with a message that says what was wrong and shows the accepted forms.
    """
    tokens = _tokens(text)
    if not tokens:
        raise ScheduleError("the schedule is empty")
    clock, tokens = _take_clock(tokens)
    anchor, tokens = _take_anchor(tokens)
    cadence, interval, body = _take_cadence(tokens)
    if anchor is not None and interval == 1:
        raise ScheduleError("a start date only applies to `every N weeks` schedules")
    if cadence == "monthly":
        return _monthly(body, clock)
    return _weekly(body, clock, interval, anchor)


def _tokens(text: str) -> list[str]:
    text = text.strip().strip("\"'“”‘’").lower()
    text = re.sub(r"([ap])\.m\.?(?=\s|$)", r"\1m", text)  # "4 p.m." → "4 pm"
    text = re.sub(r"(\d)\s+([ap]m)\b", r"\1\2", text)  # "4 pm" → "4pm"
    text = re.sub(r"\bof\s+(?:the\s+|every\s+|each\s+)?month\b", " ", text)
    text = text.replace(",", " ")
    return [token for token in text.split() if token not in _FILLERS]


def _take_clock(tokens: list[str]) -> tuple[time, list[str]]:
    clocks = [t for t in tokens if _looks_like_clock(t)]
    if len(clocks) > 1:
        raise ScheduleError(f"two times given ({clocks[0]} and {clocks[1]}); give one")
    if not clocks:
        return DEFAULT_TIME, tokens
    return _clock(clocks[0]), [t for t in tokens if t != clocks[0]]


def clock_of(token: str) -> time:
    """A time of day as people type it (17:00, 5pm, 9.30, noon); ScheduleError when it is none."""
    if not _looks_like_clock(token.lower()):
        raise ScheduleError(f"`{token}` is not a time of day")
    return _clock(token.lower())


def _looks_like_clock(token: str) -> bool:
    found = _CLOCK.match(token)
    return token in ("noon", "midnight") or bool(found and (found.group(2) or found.group(3)))


def _clock(token: str) -> time:
    if token in ("noon", "midnight"):
        return time(12 if token == "noon" else 0)
    found = _CLOCK.match(token)
    assert found is not None
    hour, minute, half = int(found.group(1)), int(found.group(2) or 0), found.group(3)
    if half:
        if not 1 <= hour <= 12:
            raise ScheduleError(f"`{token}` is not a time: with am/pm the hour is 1–12")
        hour = hour % 12 + (12 if half == "pm" else 0)
    if hour > 23:
        raise ScheduleError(f"`{token}` is not a time: the hour must be 0–23")
    if minute > 59:
        raise ScheduleError(f"`{token}` is not a time: minutes must be 00–59")
    return time(hour, minute)


def _take_anchor(tokens: list[str]) -> tuple[date | None, list[str]]:
    for i, token in enumerate(tokens):
        if token in ("from", "starting", "start", "beginning"):
            if i + 1 >= len(tokens):
                raise ScheduleError(f"`{token}` needs a date like 2026-11-20")
            return _iso_date(tokens[i + 1]), tokens[:i] + tokens[i + 2 :]
    return None, tokens


def _iso_date(token: str) -> date:
    try:
        return date.fromisoformat(token)
    except ValueError:
        raise ScheduleError(f"`{token}` is not a date; write it as YYYY-MM-DD") from None


def _take_cadence(tokens: list[str]) -> tuple[str, int, list[str]]:
    """("monthly" | "weekly", interval in weeks, the remaining tokens)."""
    head, rest = tokens[0], tokens[1:]
    if head == "monthly":
        return "monthly", 1, rest
    if head == "weekly":
        return "weekly", 1, rest
    if head == "fortnightly":
        return "weekly", 2, rest
    if head == "every" and rest:
        if rest[0] == "month":
            return "monthly", 1, rest[1:]
        if rest[0] in ("week", "weeks"):
            return "weekly", 1, rest[1:]
        if rest[0] in _WEEKDAYS:  # "every monday"
            return "weekly", 1, rest
        if rest[1:2] in (["week"], ["weeks"]):  # "every 2 weeks", "every other week"
            return "weekly", _interval(rest[0]), rest[2:]
    said = " ".join(tokens)
    raise ScheduleError(f"`{said}` does not say how often: start with monthly, weekly or every N weeks")


def _interval(token: str) -> int:
    found = _NUMBERED.match(token)
    count = int(found.group(1)) if found else _COUNT_WORDS.get(token)
    if count is None:
        raise ScheduleError(f"`every {token} weeks`: the number of weeks must be a number like 2")
    if count == 0:
        raise ScheduleError("`every 0 weeks` would never run; use every 1 week or more")
    if count > _MAX_INTERVAL_WEEKS:
        raise ScheduleError(f"`every {count} weeks` is too long; use at most {_MAX_INTERVAL_WEEKS} weeks")
    return count


def _monthly(body: list[str], clock: time) -> ReviewSchedule:
    if not body:
        raise ScheduleError("say which day of the month, like `first monday` or `the 15th`")
    first, rest = body[0], body[1:]
    if first == "day":  # "day 15"
        if not rest:
            raise ScheduleError("`day` needs a number, like `day 15`")
        return _monthly_day(_day_number(rest[0]), rest[1:], clock)
    ordinal = _week_ordinal(first)
    if ordinal is not None and rest and rest[0] != "day":
        return _monthly_weekday(ordinal, rest, clock)
    if first == "last" and rest[:1] == ["day"]:
        return _monthly_day(LAST, rest[1:], clock)
    if first == "first" and rest[:1] == ["day"]:
        return _monthly_day(1, rest[1:], clock)
    if first == "last":
        raise ScheduleError("`last` needs a weekday or `day`, like `last friday` or `last day`")
    if _NUMBERED.match(first):
        return _monthly_day(_day_number(first), rest[1:] if rest[:1] == ["day"] else rest, clock)
    raise _unknown(first)


def _week_ordinal(token: str) -> int | None:
    """first/1st … fifth/5th or last; None when the token is no such word."""
    if token in _ORDINAL_WORDS:
        return _ORDINAL_WORDS[token]
    found = _NUMBERED.match(token)
    if found and found.group(2) and 1 <= int(found.group(1)) <= 5:
        return int(found.group(1))
    return None


def _monthly_weekday(ordinal: int, rest: list[str], clock: time) -> ReviewSchedule:
    weekday = _weekday(rest[0])
    if ordinal == 5:
        name = WEEKDAY_NAMES[weekday]
        raise ScheduleError(f"not every month has a fifth {name}; use `last {name}`")
    _no_leftovers(rest[1:])
    return ReviewSchedule(
        kind="monthly_weekday", ordinal=ordinal, weekday=weekday, hour=clock.hour, minute=clock.minute
    )


def _monthly_day(day: int, rest: list[str], clock: time) -> ReviewSchedule:
    _no_leftovers(rest)
    return ReviewSchedule(kind="monthly_day", day=day, hour=clock.hour, minute=clock.minute)


def _day_number(token: str) -> int:
    found = _NUMBERED.match(token)
    if not found:
        raise ScheduleError(f"`{token}` is not a day of the month; use 1–28 or `last day`")
    day = int(found.group(1))
    if 29 <= day <= 31:
        raise ScheduleError(
            f"not every month has a {_day_words(day)}, so reviews would skip months; "
            "use a day from 1 to 28, or `last day` for the end of each month"
        )
    if not 1 <= day <= 28:
        raise ScheduleError(f"`{token}` is not a day of the month; use 1–28 or `last day`")
    return day


def _weekly(body: list[str], clock: time, interval: int, anchor: date | None) -> ReviewSchedule:
    if not body:
        raise ScheduleError("say which weekday, like `weekly monday 10:00`")
    weekday = _weekday(body[0])
    _no_leftovers(body[1:])
    if anchor is not None:  # start on the first such weekday on or after the given date
        anchor += timedelta(days=(weekday - anchor.weekday()) % 7)
    return ReviewSchedule(
        kind="weekly",
        weekday=weekday,
        interval_weeks=interval,
        anchor=anchor,
        hour=clock.hour,
        minute=clock.minute,
    )


def _weekday(token: str) -> int:
    if token not in _WEEKDAYS:
        raise ScheduleError(f"`{token}` is not a weekday; use monday … sunday, or mon, tue, … sun")
    return _WEEKDAYS[token]


def _no_leftovers(tokens: list[str]) -> None:
    if tokens:
        raise _unknown(tokens[0])


def _unknown(token: str) -> ScheduleError:
    if token.isdigit():
        return ScheduleError(f"`{token}` is not a time; write times like {token}:00 or {token}am")
    return ScheduleError(f"I don't understand `{token}`")


DEFAULT_SCHEDULE = parse_schedule("monthly first monday 10:00")


# --- runs --------------------------------------------------------------------


def next_run(schedule: ReviewSchedule, after: datetime, tz: tzinfo) -> datetime:
    """The first run strictly after `after`, as an aware UTC datetime."""
    _require_aware(after)
    # A run on local day D happens on local day D (gaps resolve forward within the day),
    # so no run before the local day of `after` can come after it.
    for day in _days_from(schedule, after.astimezone(tz).date()):
        run = _wall_to_utc(day, schedule.hour, schedule.minute, tz)
        if run > after:
            return run
    raise ValueError(f"no review runs after {after.isoformat()}")


def last_run(schedule: ReviewSchedule, at: datetime, tz: tzinfo) -> datetime | None:
    """The most recent run at or before `at` (UTC), or None if the calendar has none."""
    _require_aware(at)
    for day in _days_until(schedule, at.astimezone(tz).date()):
        run = _wall_to_utc(day, schedule.hour, schedule.minute, tz)
        if run <= at:
            return run
    return None


def cycle_key(schedule: ReviewSchedule, run_at: datetime, tz: tzinfo) -> str:
    """A stable id of the cycle containing `run_at`: "2026-11", "2026-W47" or "2026-11-20".

    A cycle is a span of local days holding exactly one run: monthly kinds, the
    month; weekly, the ISO week; every N weeks, the N-week block named by its
    run day (for a run, its own local date). So runs never share a key, and an
    off-schedule moment (`/okr review now`) gets the key of its period's run.
    """
    _require_aware(run_at)
    local = run_at.astimezone(tz).date()
    if schedule.kind != "weekly":
        return f"{local.year:04d}-{local.month:02d}"
    if schedule.interval_weeks == 1:
        iso = local.isocalendar()
        return f"{iso.year:04d}-W{iso.week:02d}"
    return _block_start(schedule, local).isoformat()


def _require_aware(moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment.isoformat()} has no time zone; pass an aware datetime")


def _wall_to_utc(day: date, hour: int, minute: int, tz: tzinfo) -> datetime:
    """The instant the wall clock in `tz` shows `day hour:minute`.

    fold=0 picks the first of two instants when clocks fall back; a time that
    clocks skip (spring forward) becomes the first instant after the gap.
    """
    wall = datetime.combine(day, time(hour, minute), tzinfo=tz)
    instant = wall.astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) == wall.replace(tzinfo=None):
        return instant
    return _gap_end(wall, tz)


def _gap_end(wall: datetime, tz: tzinfo) -> datetime:
    # In a gap, fold=0 and fold=1 read the wall time with the offsets before and
    # after the change; the change itself lies between those two instants.
    low, high = sorted((wall.astimezone(UTC), wall.replace(fold=1).astimezone(UTC)))
    offset_after = high.astimezone(tz).utcoffset()
    while high - low > timedelta(seconds=1):
        middle = low + timedelta(seconds=(high - low).total_seconds() // 2)
        if middle.astimezone(tz).utcoffset() == offset_after:
            high = middle
        else:
            low = middle
    return high


def _days_from(schedule: ReviewSchedule, start: date) -> Iterator[date]:
    """Run days on or after `start`, ascending."""
    if schedule.kind == "weekly":
        step = timedelta(weeks=schedule.interval_weeks)
        day = _block_start(schedule, start)
        day = day if day >= start else day + step
        while True:
            yield day
            day += step
    year, month = start.year, start.month
    while True:
        day = _day_in_month(schedule, year, month)
        if day >= start:
            yield day
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def _days_until(schedule: ReviewSchedule, end: date) -> Iterator[date]:
    """Run days on or before `end`, descending, until the calendar runs out."""
    try:
        if schedule.kind == "weekly":
            step = timedelta(weeks=schedule.interval_weeks)
            day = _block_start(schedule, end)
            while True:
                yield day
                day -= step
        year, month = end.year, end.month
        while year >= 1:
            day = _day_in_month(schedule, year, month)
            if day <= end:
                yield day
            year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    except OverflowError:
        return


def _block_start(schedule: ReviewSchedule, day: date) -> date:
    """The weekly run day on or before `day` that opens its N-week block."""
    assert schedule.weekday is not None
    anchor = schedule.anchor or default_anchor(schedule.weekday)
    step_days = 7 * schedule.interval_weeks
    return anchor + timedelta(days=(day - anchor).days // step_days * step_days)


def _day_in_month(schedule: ReviewSchedule, year: int, month: int) -> date:
    last_day = calendar.monthrange(year, month)[1]
    if schedule.kind == "monthly_day":
        return date(year, month, last_day if schedule.day == LAST else schedule.day)
    assert schedule.weekday is not None and schedule.ordinal is not None
    if schedule.ordinal == LAST:
        last = date(year, month, last_day)
        return last - timedelta(days=(last.weekday() - schedule.weekday) % 7)
    first = date(year, month, 1)
    return first + timedelta(days=(schedule.weekday - first.weekday()) % 7 + 7 * (schedule.ordinal - 1))
