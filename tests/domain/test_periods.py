"""Periods: calendar and fiscal quarters and years, their names, dates and the current one."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from okrbot.domain.periods import Period, current_period, month_number, parse_period, period_name

FEB = 2  # a fiscal year starting in February: FY2027 runs 1 Feb 2026 – 31 Jan 2027


@pytest.mark.parametrize(
    ("text", "start_month", "name", "first", "last"),
    [
        ("2026-Q4", 1, "2026-Q4", date(2026, 10, 1), date(2026, 12, 31)),
        ("2026-Q4", FEB, "2026-Q4", date(2026, 10, 1), date(2026, 12, 31)),  # calendar names ignore the fiscal year
        ("FY2027-Q1", FEB, "FY2027-Q1", date(2026, 2, 1), date(2026, 4, 30)),
        ("q4 fy2027", FEB, "FY2027-Q4", date(2026, 11, 1), date(2027, 1, 31)),  # across the calendar year boundary
        ("FY2027", FEB, "FY2027", date(2026, 2, 1), date(2027, 1, 31)),
        ("fy 2027 q3", 7, "FY2027-Q3", date(2027, 1, 1), date(2027, 3, 31)),
        ("2027", FEB, "2027", date(2027, 1, 1), date(2027, 12, 31)),
        ("FY2027-Q1", 1, "2027-Q1", date(2027, 1, 1), date(2027, 3, 31)),  # January: FY names are calendar ones
        ("FY2027", 1, "2027", date(2027, 1, 1), date(2027, 12, 31)),
    ],
)
def test_names_and_dates(text, start_month, name, first, last):
    period = parse_period(text, start_month)
    assert str(period) == name
    assert (period.first_day, period.last_day) == (first, last)
    assert parse_period(name, start_month) == period


@pytest.mark.parametrize(
    ("period", "following"),
    [
        (Period(2026, 4), "2027-Q1"),
        (Period(2027, 4, FEB), "FY2028-Q1"),
        (Period(2027, 1, FEB), "FY2027-Q2"),
        (Period(2027, None, FEB), "FY2028"),
        (Period(2026), "2027"),
    ],
)
def test_next_period(period, following):
    assert str(period.next()) == following
    assert period.next().first_day == period.end_day


@pytest.mark.parametrize(
    ("moment", "zone", "start_month", "name"),
    [
        (datetime(2026, 1, 31, 23, 30, tzinfo=UTC), "UTC", FEB, "FY2026-Q4"),
        # Already 1 February in Auckland (UTC+13): the new fiscal year has begun there.
        (datetime(2026, 1, 31, 11, 30, tzinfo=UTC), "Pacific/Auckland", FEB, "FY2027-Q1"),
        # Still 31 January in Honolulu (UTC-10) although it is February in UTC.
        (datetime(2026, 2, 1, 9, 0, tzinfo=UTC), "Pacific/Honolulu", FEB, "FY2026-Q4"),
        (datetime(2026, 12, 31, 23, 30, tzinfo=UTC), "Pacific/Kiritimati", 1, "2027-Q1"),  # UTC+14
        (datetime(2026, 12, 31, 23, 30, tzinfo=UTC), "UTC", FEB, "FY2027-Q4"),
        (datetime(2027, 1, 1, 0, 30, tzinfo=UTC), "UTC", FEB, "FY2027-Q4"),  # the calendar year turned, the fiscal one did not
    ],
)
def test_current_period_in_the_workspace_time_zone(moment, zone, start_month, name):
    assert str(current_period(moment, ZoneInfo(zone), start_month)) == name


@pytest.mark.parametrize(
    ("text", "name"),
    [("q1 fy2027", "FY2027-Q1"), ("FY 2027", "FY2027"), ("Q4 2026", "2026-Q4"), ("2027", "2027"), ("2027-Q5", None), ("FY27", None)],
)
def test_period_names_as_typed(text, name):
    assert period_name(text) == name


@pytest.mark.parametrize(
    ("text", "month"), [("february", 2), ("Feb", 2), ("12", 12), ("sept", 9), ("ju", None), ("13", None), ("smarch", None)]
)
def test_month_names(text, month):
    assert month_number(text) == month


def test_dates_text_names_both_years_only_when_they_differ():
    assert parse_period("FY2027-Q4", FEB).labelled() == "FY2027-Q4 (1 Nov 2026 – 31 Jan 2027)"
    assert parse_period("FY2027-Q1", FEB).labelled() == "FY2027-Q1 (1 Feb – 30 Apr 2026)"


def test_elapsed_share_of_a_fiscal_year():
    year = parse_period("FY2027", FEB)
    utc = ZoneInfo("UTC")
    assert year.elapsed_share(datetime(2026, 2, 1, tzinfo=UTC), utc) == 0.0
    assert year.elapsed_share(datetime(2026, 8, 2, 12, tzinfo=UTC), utc) == pytest.approx(0.5)
