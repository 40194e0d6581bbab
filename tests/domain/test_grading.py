"""Grades: suggestions from progress, the bands against each KR's expectation, objective grades."""

from datetime import UTC, datetime, timedelta

import pytest

from okrbot.domain.commands import Commitment, Direction, Keep, Metric
from okrbot.domain.grading import (
    Band,
    GradeReplyError,
    Reading,
    band,
    format_grade,
    grading_window,
    held_share,
    objective_grade,
    parse_grade_reply,
    suggested_grade,
)
from okrbot.domain.progress import KrState, LinkedWork, kr_progress

COMMITTED, ASPIRATIONAL = Commitment.COMMITTED, Commitment.ASPIRATIONAL


@pytest.mark.parametrize(
    ("grade", "commitment", "expected"),
    [
        (1.0, None, Band.GREEN),
        (0.7, None, Band.GREEN),
        (0.1 * 7, None, Band.GREEN),  # 0.7000000000000001 and 0.69999… alike
        (0.6, None, Band.YELLOW),
        (0.4, None, Band.YELLOW),
        (0.39, None, Band.RED),
        (0.0, None, Band.RED),
        (0.7, ASPIRATIONAL, Band.GREEN),
        (0.5, ASPIRATIONAL, Band.YELLOW),
        (1.0, COMMITTED, Band.GREEN),
        (0.9, COMMITTED, Band.YELLOW),  # a committed KR that fell short is not a success
        (0.6, COMMITTED, Band.YELLOW),
        (0.5, COMMITTED, Band.RED),
    ],
)
def test_bands_against_the_expectation(grade, commitment, expected):
    assert band(grade, commitment) is expected


def _numeric(current, start=0.0, target=10.0):
    return KrState(Metric.NUMERIC, Direction.INCREASE if target >= start else Direction.DECREASE, start, target, current)


@pytest.mark.parametrize(
    ("kr", "held", "grade"),
    [
        (_numeric(7), None, 0.7),
        (_numeric(12), None, 1.0),  # over-achievement is clamped
        (_numeric(-3), None, 0.0),
        (_numeric(6.99), None, 0.69),  # rounded down: not yet 0.7
        (_numeric(35, start=45, target=25), None, 0.5),  # decreasing targets
        (KrState(Metric.BOOLEAN, Direction.INCREASE, 0, 1, 1), None, 1.0),
        (KrState(Metric.BOOLEAN, Direction.INCREASE, 0, 1, 0), None, 0.0),
        (KrState(Metric.BOOLEAN, Direction.INCREASE, 0, 1, None), None, 0.0),
        (KrState(Metric.MILESTONE, Direction.INCREASE, None, None, None, linked=(LinkedWork(1, True), LinkedWork(3, False))), None, 0.25),
        (KrState(Metric.NUMERIC, Direction.MAINTAIN, None, 99.9, 99.95, Keep.ABOVE), 0.8, 0.8),
        (KrState(Metric.NUMERIC, Direction.MAINTAIN, None, 99.9, 99.95, Keep.ABOVE), None, 1.0),  # nothing dated: holds now
    ],
)
def test_suggested_grades(kr, held, grade):
    assert suggested_grade(kr.metric, kr.direction, kr_progress(kr), held) == pytest.approx(grade)


START = datetime(2026, 10, 1, tzinfo=UTC)
END = datetime(2027, 1, 1, tzinfo=UTC)


def _at(days):
    return START + timedelta(days=days)


@pytest.mark.parametrize(
    ("readings", "keep", "share"),
    [
        ([], Keep.ABOVE, None),
        ([Reading(_at(0), 99.95)], Keep.ABOVE, 1.0),
        ([Reading(_at(0), 99.95), Reading(_at(46), 99.5)], Keep.ABOVE, 0.5),  # broken half way through 92 days
        ([Reading(_at(-30), 99.5), Reading(_at(23), 99.95)], Keep.ABOVE, 0.75),  # a reading before the period counts from its start
        ([Reading(_at(46), 180)], Keep.BELOW, 1.0),  # unknown time before the first reading is left out
        ([Reading(_at(0), 250), Reading(_at(69), 150)], Keep.BELOW, 0.25),
        ([Reading(_at(100), 1)], Keep.ABOVE, None),  # after the period: nothing known within it
    ],
)
def test_share_of_time_held(readings, keep, share):
    threshold = 99.9 if keep is Keep.ABOVE else 200
    found = held_share(readings, threshold, keep, START, END)
    assert found == (pytest.approx(share) if share is not None else None)


@pytest.mark.parametrize(
    ("pairs", "grade"),
    [([(1.0, 1), (0.4, 1)], 0.7), ([(1.0, 3), (0.0, 1)], 0.75), ([], None), ([(0.5, 0)], None)],
)
def test_objective_grade_is_the_weighted_mean(pairs, grade):
    found = objective_grade(pairs)
    assert found == (pytest.approx(grade) if grade is not None else None)


@pytest.mark.parametrize(("grade", "text"), [(0.7, "0.7"), (0.65, "0.65"), (1, "1.0"), (0.0, "0.0"), (0.333333, "0.33")])
def test_grades_read_as_people_write_them(grade, text):
    assert format_grade(grade) == text


@pytest.mark.parametrize(
    ("text", "owned", "found"),
    [
        ("0.7", [3], [(3, 0.7, "")]),
        ("0.7 shipped half, legal slowed us", [3], [(3, 0.7, "shipped half, legal slowed us")]),
        ("KR-4: 0.4 - hiring froze", [3, 4], [(4, 0.4, "hiring froze")]),
        ("kr3 70% pairing worked\nKR-4 1", [3, 4], [(3, 0.7, "pairing worked"), (4, 1.0, "")]),
        (".5", [9], [(9, 0.5, "")]),
    ],
)
def test_grade_replies(text, owned, found):
    assert [(r.kr, pytest.approx(r.grade), r.note) for r in parse_grade_reply(text, owned)] == found


@pytest.mark.parametrize(
    ("text", "owned", "message"),
    [
        ("", [3], "Reply with a grade"),
        ("great quarter", [3], "can't find a grade"),
        ("1.5", [3], "grades go from 0.0 to 1.0"),
        ("0.7", [3, 4], "Say which KR"),
        ("KR-9 0.7", [3, 4], "KR-9 is not one of"),
    ],
)
def test_grade_replies_that_say_what_to_type(text, owned, message):
    with pytest.raises(GradeReplyError) as raised:
        parse_grade_reply(text, owned)
    assert message in str(raised.value)


def test_the_grading_window_around_a_period_end():
    from zoneinfo import ZoneInfo

    from okrbot.domain.periods import parse_period

    window = grading_window(parse_period("FY2027-Q4", 2), ZoneInfo("Pacific/Auckland"), timedelta(days=10), timedelta(days=14))
    assert window.ends_at == datetime(2027, 2, 1, tzinfo=ZoneInfo("Pacific/Auckland"))
    assert window.opens_at.date().isoformat() == "2027-01-22"
    assert not window.is_open(window.opens_at - timedelta(seconds=1))
    assert window.is_open(window.opens_at) and window.is_open(window.closes_at - timedelta(seconds=1))
    assert not window.is_open(window.closes_at)
