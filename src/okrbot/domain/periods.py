"""Periods are calendar quarters named like `2026-Q4`, read in the workspace's time zone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

_PERIOD = re.compile(r"^(\d{4})\s*-?\s*q([1-4])$|^q([1-4])\s*-?\s*(\d{4})$", re.IGNORECASE)


@dataclass(frozen=True, order=True)
class Period:
    year: int
    quarter: int

    def __str__(self) -> str:
        return f"{self.year}-Q{self.quarter}"

    @property
    def first_day(self) -> date:
        return date(self.year, 3 * (self.quarter - 1) + 1, 1)

    @property
    def end_day(self) -> date:
        """The first day after the period."""
        following = self.next()
        return following.first_day

    def next(self) -> Period:
        return Period(self.year + 1, 1) if self.quarter == 4 else Period(self.year, self.quarter + 1)

    def start_at(self, tz: ZoneInfo) -> datetime:
        return datetime.combine(self.first_day, time(0), tzinfo=tz)

    def end_at(self, tz: ZoneInfo) -> datetime:
        return datetime.combine(self.end_day, time(0), tzinfo=tz)

    def elapsed_share(self, now: datetime, tz: ZoneInfo) -> float:
        """How much of the period has passed at `now`, from 0.0 to 1.0."""
        start, end = self.start_at(tz), self.end_at(tz)
        share = (now - start) / (end - start)
        return min(1.0, max(0.0, share))

    def week_of(self, day: date) -> int:
        """1 for the period's first seven days, 2 for the next seven, …"""
        return (day - self.first_day).days // 7 + 1


def parse_period(text: str) -> Period | None:
    """`2026-Q4`, `2026q4`, `Q4 2026`, `q4-2026` → Period; anything else → None."""
    found = _PERIOD.match(text.strip())
    if not found:
        return None
    if found.group(1):
        return Period(int(found.group(1)), int(found.group(2)))
    return Period(int(found.group(4)), int(found.group(3)))


def period_of(day: date) -> Period:
    return Period(day.year, (day.month - 1) // 3 + 1)


def current_period(now: datetime, tz: ZoneInfo) -> Period:
    """The quarter that contains `now` in the workspace's time zone."""
    return period_of(now.astimezone(tz).date())
