"""Periods: quarters and years, calendar or fiscal, read in the workspace's time zone.

Names say which calendar they follow, so stored data never changes meaning:
- `2026-Q4`, `2026` are calendar periods, whatever the workspace's fiscal year;
- `FY2027-Q1`, `FY2027` are periods of a fiscal year that starts in `start_month`
  (a workspace setting). A fiscal year is named after the calendar year it ends
  in: with February as its first month, FY2027 runs 1 Feb 2026 – 31 Jan 2027.
With a fiscal year starting in January, FY names mean the calendar periods and
are written as such (`FY2027-Q1` → `2027-Q1`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_QUARTER = r"q([1-4])"
_YEAR = r"(\d{4})"
_FY = r"fy\s*-?\s*"
_PATTERNS = (
    # (pattern, fiscal, year group, quarter group)
    (re.compile(rf"^{_YEAR}\s*-?\s*{_QUARTER}$", re.IGNORECASE), False, 1, 2),
    (re.compile(rf"^{_QUARTER}\s*-?\s*{_YEAR}$", re.IGNORECASE), False, 2, 1),
    (re.compile(rf"^{_FY}{_YEAR}\s*-?\s*{_QUARTER}$", re.IGNORECASE), True, 1, 2),
    (re.compile(rf"^{_QUARTER}\s*-?\s*{_FY}{_YEAR}$", re.IGNORECASE), True, 2, 1),
    (re.compile(rf"^{_YEAR}$"), False, 1, None),
    (re.compile(rf"^{_FY}{_YEAR}$", re.IGNORECASE), True, 1, None),
)

MONTHS = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip


def month_number(text: str) -> int | None:
    """`february`, `Feb`, `2` → 2; anything else → None."""
    word = text.strip().lower()
    if word.isdigit() and 1 <= int(word) <= 12:
        return int(word)
    if len(word) >= 3:
        for number, name in enumerate(MONTHS, start=1):
            if name.startswith(word):
                return number
    return None


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    year: int  # the calendar year, or the fiscal year's number (the year it ends in)
    quarter: int | None = None  # None: the whole year
    start_month: int = 1  # the month the year starts in; 1 for calendar periods

    @property
    def fiscal(self) -> bool:
        return self.start_month != 1

    @property
    def is_year(self) -> bool:
        return self.quarter is None

    def __str__(self) -> str:
        year = f"FY{self.year}" if self.fiscal else str(self.year)
        return year if self.quarter is None else f"{year}-Q{self.quarter}"

    @property
    def first_day(self) -> date:
        year_start = date(self.year - 1 if self.fiscal else self.year, self.start_month, 1)
        return _add_months(year_start, 3 * ((self.quarter or 1) - 1))

    @property
    def end_day(self) -> date:
        """The first day after the period."""
        return _add_months(self.first_day, 12 if self.quarter is None else 3)

    @property
    def last_day(self) -> date:
        return self.end_day - timedelta(days=1)

    def next(self) -> Period:
        if self.quarter is None:
            return Period(self.year + 1, None, self.start_month)
        if self.quarter == 4:
            return Period(self.year + 1, 1, self.start_month)
        return Period(self.year, self.quarter + 1, self.start_month)

    def year_period(self) -> Period:
        """The (fiscal) year this period belongs to."""
        return Period(self.year, None, self.start_month)

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

    def dates_text(self) -> str:
        """`1 Feb – 30 Apr 2026`: the days the period covers, for help and status."""
        first, last = self.first_day, self.last_day
        head = f"{first.day} {first:%b}" + ("" if first.year == last.year else f" {first.year}")
        return f"{head} – {last.day} {last:%b} {last.year}"

    def labelled(self) -> str:
        """`FY2027-Q1 (1 Feb – 30 Apr 2026)`."""
        return f"{self} ({self.dates_text()})"


def parse_period(text: str, start_month: int = 1) -> Period | None:
    """`2026-Q4`, `Q4 2026`, `2027`, `FY2027-Q1`, `FY2027` → Period; anything else → None.

    FY names are read with the fiscal year starting in `start_month`; calendar names
    ignore it, so `2026-Q4` always means October to December 2026."""
    stripped = text.strip()
    for pattern, fiscal, year_group, quarter_group in _PATTERNS:
        found = pattern.match(stripped)
        if found:
            quarter = int(found.group(quarter_group)) if quarter_group else None
            return Period(int(found.group(year_group)), quarter, start_month if fiscal else 1)
    return None


def period_name(text: str) -> str | None:
    """The canonical spelling of a period as typed, before any workspace reads it:
    `q1 fy2027` → `FY2027-Q1`, `Q4 2026` → `2026-Q4`."""
    # Any month but January keeps the FY prefix in the name.
    period = parse_period(text, start_month=2)
    return str(period) if period else None


def period_of(day: date, start_month: int = 1) -> Period:
    """The quarter that contains `day`, in a year starting in `start_month`."""
    offset = (day.month - start_month) % 12
    year = day.year + (1 if start_month != 1 and day.month >= start_month else 0)
    return Period(year, offset // 3 + 1, start_month)


def current_period(now: datetime, tz: ZoneInfo, start_month: int = 1) -> Period:
    """The quarter that contains `now` in the workspace's time zone."""
    return period_of(now.astimezone(tz).date(), start_month)
