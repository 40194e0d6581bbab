"""Progress, roll-up and health exactly as SPEC §1."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from okrbot.domain.commands import Direction, Keep, Metric
from okrbot.domain.periods import Period, current_period, parse_period
from okrbot.domain.progress import (
    Health,
    KrState,
    LinkedWork,
    format_percent,
    health,
    kr_progress,
    objective_progress,
    progress_bar,
)

NUM, PCT, BOOL, MILE = Metric.NUMERIC, Metric.PERCENTAGE, Metric.BOOLEAN, Metric.MILESTONE
UP, DOWN, KEEP = Direction.INCREASE, Direction.DECREASE, Direction.MAINTAIN


@pytest.mark.parametrize(
    ("case", "state", "expected"),
    [
        ("increasing half way", KrState(NUM, UP, 0, 100, 50), 0.5),
        ("decreasing 45 → 25 at 35", KrState(NUM, DOWN, 45, 25, 35), 0.5),
        ("decreasing not started", KrState(NUM, DOWN, 45, 25, 45), 0.0),
        ("decreasing reached", KrState(NUM, DOWN, 45, 25, 25), 1.0),
        ("decreasing went the wrong way", KrState(NUM, DOWN, 45, 25, 50), -0.25),
        ("percentage 20% → 40% at 30%", KrState(PCT, UP, 20, 40, 30), 0.5),
        ("over-achievement kept", KrState(NUM, UP, 0, 100, 120), 1.2),
        ("start == target, reached", KrState(NUM, UP, 10, 10, 10), 1.0),
        ("start == target, below", KrState(NUM, UP, 10, 10, 9), 0.0),
        ("start == target decreasing, beaten", KrState(NUM, DOWN, 10, 10, 8), 1.0),
        ("no value yet", KrState(NUM, UP, 0, 100, None), 0.0),
        ("boolean no", KrState(BOOL, UP, 0, 1, 0), 0.0),
        ("boolean yes", KrState(BOOL, UP, 0, 1, 1), 1.0),
        ("boolean never answered", KrState(BOOL, UP, 0, 1, None), 0.0),
        ("maintain above, held", KrState(NUM, KEEP, None, 99.9, 99.95, Keep.ABOVE), 1.0),
        ("maintain above, held exactly", KrState(NUM, KEEP, None, 99.9, 99.9, Keep.ABOVE), 1.0),
        ("maintain above, broken", KrState(NUM, KEEP, None, 99.9, 99.5, Keep.ABOVE), 0.0),
        ("maintain below, held", KrState(NUM, KEEP, None, 200, 180, Keep.BELOW), 1.0),
        ("maintain below, broken", KrState(NUM, KEEP, None, 200, 250, Keep.BELOW), 0.0),
        (
            "milestone weights 1, 1, 2 with the 2 done",
            KrState(MILE, UP, None, None, None, linked=(LinkedWork(1, False), LinkedWork(1, False), LinkedWork(2, True))),
            0.5,
        ),
        (
            "milestone weights 1, 1, 2 with a 1 done",
            KrState(MILE, UP, None, None, None, linked=(LinkedWork(1, True), LinkedWork(1, False), LinkedWork(2, False))),
            0.25,
        ),
        ("milestone with no work", KrState(MILE, UP, None, None, None), 0.0),
        ("milestone all done", KrState(MILE, UP, None, None, None, linked=(LinkedWork(3, True),)), 1.0),
    ],
)
def test_kr_progress(case, state, expected):
    assert kr_progress(state) == pytest.approx(expected), case


@pytest.mark.parametrize(
    ("krs", "expected"),
    [
        ([(0.5, 1), (1.0, 1)], 0.75),
        ([(0.5, 1), (1.0, 3)], 0.875),  # KR weights
        ([(1.5, 1), (0.0, 1)], 0.5),  # one over-achiever cannot hide a KR at zero
        ([(-0.5, 1), (1.0, 1)], 0.5),  # negative progress counts as zero
        ([], 0.0),
        ([(0.4, 0)], 0.0),  # zero weight counts for nothing
    ],
)
def test_objective_roll_up(krs, expected):
    assert objective_progress(krs) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("progress", "expected_share", "has_data", "result"),
    [
        (0.5, 0.5, True, Health.ON_TRACK),
        (0.475, 0.5, True, Health.ON_TRACK),  # exactly 0.95 × expected
        (0.47, 0.5, True, Health.AT_RISK),
        (0.375, 0.5, True, Health.AT_RISK),  # exactly 0.75 × expected
        (0.37, 0.5, True, Health.OFF_TRACK),
        (1.2, 0.5, True, Health.ON_TRACK),
        (0.0, 0.0, True, Health.ON_TRACK),  # the period just began
        (0.0, 0.3, False, Health.NO_DATA),  # never moved: no data, never on track
        (1.0, 0.3, False, Health.NO_DATA),
    ],
)
def test_health(progress, expected_share, has_data, result):
    assert health(progress, expected_share, has_data) is result


@pytest.mark.parametrize(
    ("ratio", "shown"),
    [(0.5, "50%"), (0.29, "29%"), (0.999, "99%"), (1.0, "100%"), (1.2, "120%"), (0.0, "0%"), (2 / 3, "66%")],
)
def test_percent_is_an_integer_with_a_sign(ratio, shown):
    assert format_percent(ratio) == shown


def test_progress_bar_is_clamped():
    assert progress_bar(1.7) == "▓" * 10
    assert progress_bar(-1) == "░" * 10
    assert progress_bar(0.5) == "▓" * 5 + "░" * 5


@pytest.mark.parametrize(
    ("text", "period"),
    [("2026-Q4", Period(2026, 4)), ("2026q1", Period(2026, 1)), ("Q3 2027", Period(2027, 3)), ("q2-2026", Period(2026, 2))],
)
def test_periods_parse(text, period):
    assert parse_period(text) == period
    assert parse_period(str(period)) == period


@pytest.mark.parametrize("text", ["2026-Q5", "Q0 2026", "FY-Q1", "next quarter", ""])
def test_bad_periods_are_refused(text):
    assert parse_period(text) is None


def test_current_period_uses_the_workspace_time_zone():
    new_year_utc = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    assert current_period(new_year_utc, ZoneInfo("UTC")) == Period(2026, 4)
    assert current_period(new_year_utc, ZoneInfo("Europe/Berlin")) == Period(2027, 1)


def test_elapsed_share_of_a_quarter():
    q4 = Period(2026, 4)
    tz = ZoneInfo("UTC")
    assert q4.elapsed_share(datetime(2026, 10, 1, tzinfo=UTC), tz) == 0.0
    assert q4.elapsed_share(datetime(2026, 11, 16, tzinfo=UTC), tz) == pytest.approx(46 / 92)
    assert q4.elapsed_share(datetime(2027, 2, 1, tzinfo=UTC), tz) == 1.0
