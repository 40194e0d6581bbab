"""Progress, roll-up and health: the arithmetic of SPEC §1, with no I/O.

Progress is a ratio (0.5 is half way). It is kept unclamped so that
over-achievement survives (1.2 shows as "120%"); `clamp` is applied where a
ratio feeds something else, such as an objective's roll-up.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from okrbot.domain.commands import Direction, Keep, Metric


class Health(StrEnum):
    ON_TRACK = "on track"
    AT_RISK = "at risk"
    OFF_TRACK = "off track"
    NO_DATA = "no data"


ON_TRACK_SHARE = 0.95
AT_RISK_SHARE = 0.75


@dataclass(frozen=True)
class LinkedWork:
    """One initiative linked to a milestone KR: its link weight and whether it is done."""

    weight: float
    done: bool


@dataclass(frozen=True)
class KrState:
    """What progress depends on. `current` None means no value was ever recorded."""

    metric: Metric
    direction: Direction
    start: float | None
    target: float | None
    current: float | None
    keep: Keep | None = None
    linked: tuple[LinkedWork, ...] = ()


def kr_progress(kr: KrState) -> float:
    """The KR's progress as a ratio; may fall below 0 or exceed 1."""
    if kr.metric is Metric.MILESTONE:
        return _milestone_progress(kr.linked)
    if kr.current is None or kr.target is None:
        return 0.0
    if kr.metric is Metric.BOOLEAN:
        return 1.0 if kr.current >= 1 else 0.0
    if kr.direction is Direction.MAINTAIN:
        return 1.0 if _is_held(kr.current, kr.target, kr.keep) else 0.0
    start = kr.start if kr.start is not None else 0.0
    if kr.target == start:
        # Nothing to travel: reaching (or passing) the target is the whole job.
        reached = kr.current <= kr.target if kr.direction is Direction.DECREASE else kr.current >= kr.target
        return 1.0 if reached else 0.0
    return (kr.current - start) / (kr.target - start)


def _is_held(current: float, threshold: float, keep: Keep | None) -> bool:
    return current <= threshold if keep is Keep.BELOW else current >= threshold


def _milestone_progress(linked: Iterable[LinkedWork]) -> float:
    total = done = 0.0
    for work in linked:
        total += work.weight
        done += work.weight if work.done else 0.0
    return done / total if total > 0 else 0.0


def clamp(ratio: float) -> float:
    return min(1.0, max(0.0, ratio))


def objective_progress(krs: Sequence[tuple[float, float]]) -> float:
    """Weighted mean of (progress, weight) pairs, each progress clamped to 0–100%
    so one over-achieving KR cannot hide another that is behind."""
    total_weight = sum(weight for _, weight in krs if weight > 0)
    if total_weight == 0:
        return 0.0
    return sum(clamp(progress) * weight for progress, weight in krs if weight > 0) / total_weight


def health(progress: float, expected: float, has_data: bool) -> Health:
    """Compare progress with the elapsed share of the period (SPEC §1)."""
    if not has_data:
        return Health.NO_DATA
    if progress >= ON_TRACK_SHARE * expected:
        return Health.ON_TRACK
    if progress >= AT_RISK_SHARE * expected:
        return Health.AT_RISK
    return Health.OFF_TRACK


def percent(ratio: float) -> int:
    """Integer percent as people see it; rounds down so 100% means done.
    The small epsilon keeps 0.29 * 100 from showing as 28%."""
    return math.floor(ratio * 100 + 1e-9)


def format_percent(ratio: float) -> str:
    return f"{percent(ratio)}%"


def progress_bar(ratio: float, width: int = 10) -> str:
    """A text bar such as ▓▓▓▓░░░░░░ for the clamped ratio."""
    filled = round(clamp(ratio) * width)
    return "▓" * filled + "░" * (width - filled)
