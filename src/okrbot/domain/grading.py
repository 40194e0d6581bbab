"""End-of-period grades: the suggestion from progress, the bands, an objective's grade.

A grade goes from 0.0 to 1.0. The usual bands (0.7–1.0 green, 0.4–0.6 yellow,
below red) are the aspirational ones, where 0.7 is success; a committed KR is
expected to reach 1.0, so its grade is read against that: 1.0 is green, 0.7
yellow, and so on. Pure functions, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo
from enum import StrEnum

from okrbot.domain.commands import Commitment, Direction, Keep, Metric
from okrbot.domain.periods import Period
from okrbot.domain.progress import clamp

SUCCESS = 0.7  # the usual bands: what "green" starts at
YELLOW_FROM = 0.4
_EPSILON = 1e-9  # 0.7 typed is 0.69999… after arithmetic; it is still green
EXPECTATION = {Commitment.COMMITTED: 1.0, Commitment.ASPIRATIONAL: SUCCESS}


class Band(StrEnum):
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


def expectation(commitment: Commitment | None) -> float:
    """The grade the KR is expected to reach: 1.0 committed, 0.7 aspirational or unsaid."""
    return EXPECTATION.get(commitment, SUCCESS) if commitment else SUCCESS


def band(grade: float, commitment: Commitment | None = None) -> Band:
    """The band of a grade, read against the KR's own expectation."""
    scaled = grade * SUCCESS / expectation(commitment)
    if scaled >= SUCCESS - _EPSILON:
        return Band.GREEN
    if scaled >= YELLOW_FROM - _EPSILON:
        return Band.YELLOW
    return Band.RED


@dataclass(frozen=True)
class Reading:
    """A dated value of a maintain KR (a check-in)."""

    at: datetime
    value: float


def held_share(readings: Sequence[Reading], threshold: float, keep: Keep | None, start: datetime, end: datetime) -> float | None:
    """The share of [start, end) a maintain KR was held, each reading counting until the next.

    Time before the first reading in the period is unknown and left out; None when
    nothing is known (no reading before `end`)."""
    ordered = sorted(readings, key=lambda reading: reading.at)
    held = known = 0.0
    for index, reading in enumerate(ordered):
        since = max(reading.at, start)
        until = min(ordered[index + 1].at if index + 1 < len(ordered) else end, end)
        if until <= since:
            continue
        seconds = (until - since).total_seconds()
        known += seconds
        is_held = reading.value <= threshold if keep is Keep.BELOW else reading.value >= threshold
        held += seconds if is_held else 0.0
    return held / known if known > 0 else None


def suggested_grade(metric: Metric, direction: Direction, progress: float, held: float | None = None) -> float:
    """What the owner is offered: progress (domain/progress.py) clamped to 0.0–1.0, two decimals.

    Yes/no KRs are 0 or 1; maintain KRs the share of the time they were held
    (`held`, from held_share), or whether they hold now when nothing is dated."""
    if direction is Direction.MAINTAIN and held is not None:
        return round(clamp(held), 2)
    progress = clamp(progress)
    if metric is Metric.BOOLEAN:
        return 1.0 if progress >= 1.0 else 0.0
    # Rounded down, like percent(): 0.699 is not yet 0.7.
    return int(progress * 100 + _EPSILON) / 100


def objective_grade(krs: Sequence[tuple[float, float]]) -> float | None:
    """The weighted mean of (grade, weight) pairs; None when no KR is graded."""
    total = sum(weight for _, weight in krs if weight > 0)
    if total == 0:
        return None
    return sum(grade * weight for grade, weight in krs if weight > 0) / total


def format_grade(grade: float) -> str:
    """0.7 → `0.7`, 0.65 → `0.65`, 1 → `1.0`."""
    text = f"{grade:.2f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


@dataclass(frozen=True)
class GradingWindow:
    """When a period is graded: from `lead` before its end until `after` past it, then it closes."""

    opens_at: datetime
    ends_at: datetime
    closes_at: datetime

    def is_open(self, now: datetime) -> bool:
        return self.opens_at <= now < self.closes_at


def grading_window(period: Period, tz: ZoneInfo, lead: timedelta, after: timedelta) -> GradingWindow:
    ends_at = period.end_at(tz)
    return GradingWindow(opens_at=ends_at - lead, ends_at=ends_at, closes_at=ends_at + after)


# --- a reply in the grading DM's thread ---------------------------------------------

_GRADE_LINE = re.compile(
    r"^\s*(?:kr\s*-?\s*(?P<kr>\d{1,9})\s*[:,]?\s*)?(?P<grade>\d*\.\d+|\d+(?:\.\d*)?)\s*(?P<percent>%)?\s*[,:;-]?\s*(?P<note>.*)$",
    re.IGNORECASE | re.DOTALL,
)


@dataclass(frozen=True)
class GradeReply:
    kr: int
    grade: float
    note: str


class GradeReplyError(ValueError):
    """A reply that gives no grade okrbot can read; the message says what to type."""


def parse_grade_reply(text: str, owned: Sequence[int]) -> list[GradeReply]:
    """`0.7 shipped half` (one KR owned), `KR-3 0.7 note` or one such line per KR."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    if not lines:
        raise GradeReplyError("Reply with a grade from 0.0 to 1.0, like `0.7` or `KR-3 0.7 what worked`.")
    found: list[GradeReply] = []
    for line in lines:
        match = _GRADE_LINE.match(line)
        if match is None:
            raise GradeReplyError(f"I can't find a grade in “{line.strip()[:60]}”; reply like `KR-3 0.7 what worked, what didn't`.")
        grade = float(match["grade"]) / (100 if match["percent"] else 1)
        if not 0.0 <= grade <= 1.0:
            raise GradeReplyError(f"{match['grade']}{match['percent'] or ''} is not a grade; grades go from 0.0 to 1.0.")
        if match["kr"] is not None:
            number = int(match["kr"])
        elif len(owned) == 1:
            number = owned[0]
        else:
            shown = ", ".join(f"KR-{n}" for n in owned[:5])
            raise GradeReplyError(f"Say which KR the grade is for ({shown}): `KR-{owned[0] if owned else 3} 0.7 note`.")
        if number not in owned:
            raise GradeReplyError(f"KR-{number} is not one of the KRs in this grading message.")
        found.append(GradeReply(kr=number, grade=grade, note=match["note"].strip()))
    return found
