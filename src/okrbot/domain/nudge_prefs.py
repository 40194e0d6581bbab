"""What people control about their nudges, as pure decisions of a clock and preferences.

- an objective's review cadence (weekly, every 2 weeks, monthly) overriding the workspace's;
- skipping an owner whose KRs were all checked in within the last N days;
- a person's pause ("until 2027-01-05": nothing before that day starts);
- workspace holidays: a run falling on one moves to the next working day;
- the weekly cap: at most DM_CAP unprompted DMs in any rolling DM_CAP_WINDOW; one over
  it waits for the earliest moment the cap allows (never dropped).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from okrbot.domain.schedule import ReviewSchedule, cycle_key, last_run, next_run

CADENCES = ("weekly", "every 2 weeks", "monthly")
DEFAULT_CADENCE_WORD = "default"
_CADENCE_WORDS = {
    "weekly": "weekly",
    "every week": "weekly",
    "every 2 weeks": "every 2 weeks",
    "every two weeks": "every 2 weeks",
    "every other week": "every 2 weeks",
    "biweekly": "every 2 weeks",
    "fortnightly": "every 2 weeks",
    "monthly": "monthly",
    "every month": "monthly",
}

DEFAULT_SKIP_DAYS = 5
MAX_SKIP_DAYS = 60
DM_CAP = 5
DM_CAP_WINDOW = timedelta(days=7)
_LOOKBACK_RUNS = 16  # runs examined around a moment: holidays longer than that many runs merge them all
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:\s*(?:\.\.|–|—|to)\s*(\d{4}-\d{2}-\d{2}))?$")


class PreferenceError(ValueError):
    """Input that cannot be read; the message says what to type instead."""


# --------------------------------------------------------------------------- cadence


def parse_cadence(text: str) -> str | None:
    """"weekly" | "every 2 weeks" | "monthly", or None for "default" (the workspace's)."""
    words = " ".join(text.strip().strip("\"'“”").lower().split())
    if words in (DEFAULT_CADENCE_WORD, "workspace", "reset"):
        return None
    if words not in _CADENCE_WORDS:
        raise PreferenceError(f"`{text.strip()}` is not a cadence; use weekly, every 2 weeks, monthly or default")
    return _CADENCE_WORDS[words]


def cadence_schedule(cadence: str | None, workspace: ReviewSchedule) -> ReviewSchedule:
    """The schedule an objective with `cadence` follows: the workspace's own when it has that
    rhythm already, else that rhythm on the workspace's weekday (Monday) and time of day."""
    if cadence is None:
        return workspace
    weekday = workspace.weekday if workspace.weekday is not None else 0
    clock = {"hour": workspace.hour, "minute": workspace.minute}
    if cadence == "monthly":
        if workspace.kind != "weekly":
            return workspace
        return ReviewSchedule(kind="monthly_weekday", ordinal=1, weekday=weekday, **clock)
    interval = 1 if cadence == "weekly" else 2
    if workspace.kind == "weekly" and workspace.interval_weeks == interval:
        return workspace
    return ReviewSchedule(kind="weekly", weekday=weekday, interval_weeks=interval, **clock)


def schedule_cycle_key(schedule: ReviewSchedule, workspace: ReviewSchedule, run_at: datetime, tz: tzinfo) -> str:
    """The workspace's own cycles keep their plain keys ("2026-11"); a cadence's carry its rhythm
    ("weekly 2026-W47"), so two rhythms never share a cycle."""
    key = cycle_key(schedule, run_at, tz)
    return key if schedule == workspace else f"{rhythm_name(schedule)} {key}"


def rhythm_name(schedule: ReviewSchedule) -> str:
    if schedule.kind != "weekly":
        return "monthly"
    return "weekly" if schedule.interval_weeks == 1 else f"every {schedule.interval_weeks} weeks"


# --------------------------------------------------------------------------- holidays


@dataclass(frozen=True)
class Holiday:
    first: date
    last: date

    def covers(self, day: date) -> bool:
        return self.first <= day <= self.last

    def text(self) -> str:
        return self.first.isoformat() if self.first == self.last else f"{self.first.isoformat()}..{self.last.isoformat()}"


def parse_holiday(text: str) -> Holiday:
    """"2026-12-24..2027-01-01" (both days included) or one day "2026-12-25"."""
    found = _RANGE.match(text.strip())
    if not found:
        raise PreferenceError(f"`{text.strip()}` is not a date or a range; write `2026-12-24..2027-01-01` or `2026-12-25`")
    try:
        first = date.fromisoformat(found.group(1))
        last = date.fromisoformat(found.group(2) or found.group(1))
    except ValueError:
        raise PreferenceError(f"`{text.strip()}` names a day that does not exist; write dates as YYYY-MM-DD") from None
    if last < first:
        raise PreferenceError(f"`{text.strip()}` ends before it starts; put the first day first")
    if (last - first).days > 366:
        raise PreferenceError(f"`{text.strip()}` is longer than a year; to stop reviews use `/okr review off`")
    return Holiday(first, last)


def is_working_day(day: date, holidays: Iterable[Holiday]) -> bool:
    """Monday to Friday, and not a workspace holiday."""
    return day.weekday() < 5 and not any(h.covers(day) for h in holidays)


def next_working_day(day: date, holidays: Sequence[Holiday]) -> date:
    for _ in range(400 + 7 * len(holidays)):  # bounded: holidays are at most a year each
        if is_working_day(day, holidays):
            return day
        day += timedelta(days=1)
    return day


def shifted_run(run: datetime, holidays: Sequence[Holiday], tz: tzinfo) -> datetime:
    """A run on a holiday happens at the same wall time on the next working day; any other
    run (a weekend one included, when the schedule says so) stays where it is."""
    local = run.astimezone(tz)
    if not any(h.covers(local.date()) for h in holidays):
        return run
    day = next_working_day(local.date(), holidays)
    return datetime.combine(day, time(local.hour, local.minute), tzinfo=tz).astimezone(run.tzinfo)


@dataclass(frozen=True)
class DueRun:
    scheduled: datetime  # the schedule's own run: names the cycle
    at: datetime  # when it happens, after holidays


def due_run(schedule: ReviewSchedule, now: datetime, tz: tzinfo, holidays: Sequence[Holiday], window: timedelta) -> DueRun | None:
    """The run whose review should be open at `now`: the latest one that has happened (after
    holidays) and whose window has not closed. A run moved onto or past the next run is merged
    into it: one review, never two in a day."""
    runs = _runs_around(schedule, now, tz)
    for earlier, later in zip(reversed(runs[:-1]), reversed(runs[1:]), strict=True):
        moved = shifted_run(earlier, holidays, tz)
        if moved > now or moved >= later:
            continue
        return DueRun(earlier, moved) if now < moved + window else None
    return None


def upcoming_run(schedule: ReviewSchedule, now: datetime, tz: tzinfo, holidays: Sequence[Holiday]) -> datetime | None:
    """When the next review happens after `now`, holidays considered."""
    runs = _runs_around(schedule, now, tz, ahead=_LOOKBACK_RUNS)
    moved = [shifted_run(run, holidays, tz) for run in runs[:-1]]
    later = [at for at, following in zip(moved, runs[1:], strict=True) if now < at < following]
    return min(later) if later else None


def _runs_around(schedule: ReviewSchedule, now: datetime, tz: tzinfo, ahead: int = 1) -> list[datetime]:
    """Runs ascending: up to _LOOKBACK_RUNS at or before `now`, then `ahead` after it."""
    before: list[datetime] = []
    at = now
    for _ in range(_LOOKBACK_RUNS):
        run = last_run(schedule, at, tz)
        if run is None:
            break
        before.append(run)
        at = run - timedelta(seconds=1)
    after = []
    at = now
    for _ in range(ahead):
        at = next_run(schedule, at, tz)
        after.append(at)
    return list(reversed(before)) + after


# --------------------------------------------------------------------------- skipping and pausing


def recently_checked_in(last_checkins: Sequence[datetime | None], now: datetime, days: int) -> bool:
    """True when every KR was checked in within the last `days` days (0: never skip)."""
    if days <= 0 or not last_checkins:
        return False
    since = now - timedelta(days=days)
    return all(at is not None and at >= since for at in last_checkins)


def resume_at(paused_until: date | None, tz: tzinfo) -> datetime | None:
    """The first instant nudges reach a person again: the start of their `until` day."""
    if paused_until is None:
        return None
    return datetime.combine(paused_until, time(0, 0), tzinfo=tz)


def is_paused(paused_until: date | None, now: datetime, tz: tzinfo) -> bool:
    start = resume_at(paused_until, tz)
    return start is not None and now < start


# --------------------------------------------------------------------------- the weekly cap


def dm_slot(
    booked: Sequence[datetime], now: datetime, *, cap: int = DM_CAP, window: timedelta = DM_CAP_WINDOW
) -> datetime:
    """The earliest moment at or after `now` when one more DM keeps every rolling `window`
    at most `cap` DMs, given the DMs already `booked` (sent, or waiting for their moment)."""
    times = sorted(booked)
    candidates = sorted({now, *(b + window for b in times if b + window > now)})
    for moment in candidates:
        if _fits(times, moment, cap, window):
            return moment
    return candidates[-1]  # unreachable: past the last booked DM's window every window has room


def _fits(times: Sequence[datetime], moment: datetime, cap: int, window: timedelta) -> bool:
    # Any window [s, s + window) holding `moment` is as full as one starting at a booked DM in
    # (moment - window, moment], or at `moment` itself.
    starts = [b for b in times if moment - window < b <= moment] + [moment]
    return all(sum(1 for b in times if s <= b < s + window) < cap for s in starts)
