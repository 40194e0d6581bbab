from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from okrbot.domain.hygiene import (
    GAP_TITLES,
    GapFlag,
    KrFacts,
    ObjectiveFacts,
    find_gaps,
    is_output_worded,
    vanity_metric,
)

PERIOD_START = date(2026, 10, 1)
TODAY = date(2026, 11, 20)
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def kr(number: int, objective: int, title: str, **facts) -> KrFacts:
    """A healthy numeric KR unless told otherwise."""
    defaults = dict(
        owner="U1",
        metric="numeric",
        direction="increase",
        start=10.0,
        target=20.0,
        linked_initiatives=1,
        last_checkin_at=NOW - timedelta(days=2),
        created_at=datetime(2026, 10, 1, 9, 0, tzinfo=UTC),
    )
    return KrFacts(number, objective, title, **(defaults | facts))


def objective(number: int, title: str, owner: str, krs: list[KrFacts]) -> ObjectiveFacts:
    return ObjectiveFacts(number, title, owner, sum(k.objective == number for k in krs))


def gaps_for(objectives=(), krs=(), *, today=TODAY, now=NOW, period_start=PERIOD_START):
    return find_gaps(objectives, krs, period_start=period_start, today=today, now=now)


def flagged(gaps, flag: GapFlag) -> list[tuple[str, ...]]:
    return [g.ids for g in gaps if g.flag is flag]


def flagged_gaps(flag, krs):
    return [g for g in gaps_for((), krs) if g.flag is flag]


# --- a whole organisation, every flag's ids listed explicitly ---------------

FIXTURE_KRS = [
    kr(1, 1, "Increase mid-market ARR from $2M to $3M", linked_initiatives=2),
    kr(2, 1, "Raise win rate against competitors from 20% to 30%", metric="percentage",
       start=20.0, target=30.0, linked_initiatives=0),
    kr(3, 1, "Reduce sales cycle from 45 days to 25", direction="decrease",
       start=45.0, target=25.0, linked_initiatives=5),
    kr(4, 2, "Increase activation from 30% to 40%", metric="percentage", start=30.0, target=40.0),
    kr(5, 2, "Launch the new onboarding wizard", metric="milestone", start=None, target=None,
       linked_initiatives=0),
    kr(6, 2, "Reduce time to first value", direction="decrease", start=10.0, target=None),
    kr(7, 2, "Increase sign-ups to 5,000 a month", start=2000.0, target=5000.0),
    kr(8, 2, "Improve onboarding NPS from 30 to 45", start=30.0, target=45.0,
       last_checkin_at=NOW - timedelta(days=31)),
    kr(9, 2, "Onboarding completion at 60%", metric="percentage", start=60.0, target=60.0),
    kr(10, 4, "Grow Twitter followers from 5k to 10k", start=5000.0, target=10000.0,
       linked_initiatives=0),
    kr(11, 5, "Migrate 100% of customers to billing v2", metric="percentage",
       start=0.0, target=100.0),
    kr(12, 6, "Hire 3 senior engineers", start=0.0, target=3.0, last_checkin_at=None,
       created_at=datetime(2026, 10, 5, 9, 0, tzinfo=UTC)),
    kr(13, 7, "Pass the SOC 2 audit", metric="boolean", start=None, target=None),
    kr(14, 8, "Keep EU checkout uptime above 99.9%", metric="percentage", direction="maintain",
       start=None, target=99.9, last_checkin_at=NOW - timedelta(days=30)),
    kr(15, 8, "Increase paying teams in Europe from 40 to 120", start=40.0, target=120.0,
       linked_initiatives=4),
]

FIXTURE_OBJECTIVES = [
    objective(1, "Win the mid-market", "U1", FIXTURE_KRS),
    objective(2, "Make onboarding effortless", "U2", FIXTURE_KRS),
    objective(3, "Be the fastest in the category", "U3", FIXTURE_KRS),
    objective(4, "Grow the brand", "U4", FIXTURE_KRS),
    objective(5, "Modernise billing", "U4", FIXTURE_KRS),
    objective(6, "Build a great team", "U4", FIXTURE_KRS),
    objective(7, "Secure the platform", "U4", FIXTURE_KRS),
    objective(8, "Expand to Europe", "U4", FIXTURE_KRS),
    objective(9, "Reduce support load", "U4", FIXTURE_KRS),
]

FIXTURE_EXPECTED = [
    (GapFlag.KR_NO_INITIATIVE, ("KR-2",)),
    (GapFlag.KR_NO_INITIATIVE, ("KR-5",)),
    (GapFlag.KR_NO_INITIATIVE, ("KR-10",)),
    (GapFlag.KR_OVERLINKED, ("KR-3",)),
    (GapFlag.OWNER_OVERLOADED, ("@U4", "O-4", "O-5", "O-6", "O-7", "O-8", "O-9")),
    (GapFlag.OBJECTIVE_TOO_MANY_KRS, ("O-2",)),
    (GapFlag.OBJECTIVE_NO_KRS, ("O-3",)),
    (GapFlag.OBJECTIVE_NO_KRS, ("O-9",)),
    (GapFlag.KR_NOT_MEASURABLE, ("KR-6",)),
    (GapFlag.KR_NOT_MEASURABLE, ("KR-9",)),
    (GapFlag.KR_OUTPUT_WORDED, ("KR-5",)),
    (GapFlag.KR_OUTPUT_WORDED, ("KR-11",)),
    (GapFlag.KR_OUTPUT_WORDED, ("KR-12",)),
    (GapFlag.KR_VANITY, ("KR-7",)),
    (GapFlag.KR_VANITY, ("KR-10",)),
    (GapFlag.KR_STALE, ("KR-8",)),
    (GapFlag.KR_STALE, ("KR-12",)),
]


def test_fixture_organisation_reports_exactly_the_ids_at_fault_in_order():
    gaps = gaps_for(FIXTURE_OBJECTIVES, FIXTURE_KRS)

    assert [(g.flag, g.ids) for g in gaps] == FIXTURE_EXPECTED


def test_order_does_not_depend_on_input_order():
    shuffled = gaps_for(FIXTURE_OBJECTIVES[::-1], FIXTURE_KRS[::-1])

    assert [(g.flag, g.ids) for g in shuffled] == FIXTURE_EXPECTED


def test_every_gap_says_what_is_wrong_and_what_to_type():
    for gap in gaps_for(FIXTURE_OBJECTIVES, FIXTURE_KRS):
        assert gap.problem.endswith(".") and gap.ids[0] in gap.problem
        assert "/okr " in gap.advice


def test_advice_quotes_the_commands_for_the_kr_at_fault():
    gaps = {(g.flag, g.ids): g for g in gaps_for(FIXTURE_OBJECTIVES, FIXTURE_KRS)}

    no_work = gaps[GapFlag.KR_NO_INITIATIVE, ("KR-2",)]
    assert '/okr initiative add KR-2 "…"' in no_work.advice
    output = gaps[GapFlag.KR_OUTPUT_WORDED, ("KR-5",)]
    assert '/okr initiative add KR-5 "Launch the new onboarding wizard"' in output.advice
    assert "/okr edit KR-5" in output.advice
    assert "/okr kr add O-3 " in gaps[GapFlag.OBJECTIVE_NO_KRS, ("O-3",)].advice
    assert "/okr checkin KR-8 <value>" in gaps[GapFlag.KR_STALE, ("KR-8",)].advice
    assert "/okr unlink I-n KR-3" in gaps[GapFlag.KR_OVERLINKED, ("KR-3",)].advice


def test_milestone_without_work_says_it_cannot_move():
    (gap,) = flagged_gaps(GapFlag.KR_NO_INITIATIVE, [FIXTURE_KRS[4]])

    assert "cannot move" in gap.problem


def test_every_flag_has_a_report_heading():
    assert set(GAP_TITLES) == set(GapFlag)
    assert all(GAP_TITLES.values())


# --- thresholds at their boundaries -------------------------------------------


@pytest.mark.parametrize(
    ("days_into_period", "urgent"),
    [(-3, False), (0, False), (6, False), (7, True), (40, True)],
)
def test_no_initiative_is_urgent_from_the_second_week(days_into_period, urgent):
    lonely = kr(1, 1, "Increase activation from 30% to 40%", linked_initiatives=0)
    today = PERIOD_START + timedelta(days=days_into_period)

    (gap,) = gaps_for((), [lonely], today=today)

    assert gap.urgent is urgent


def test_only_missing_work_is_urgent():
    gaps = gaps_for(FIXTURE_OBJECTIVES, FIXTURE_KRS)

    assert {g.flag for g in gaps if g.urgent} == {GapFlag.KR_NO_INITIATIVE}


@pytest.mark.parametrize(("links", "overlinked"), [(1, False), (4, False), (5, True), (9, True)])
def test_more_than_four_initiatives_is_overlinked(links, overlinked):
    busy = kr(1, 1, "Increase activation from 30% to 40%", linked_initiatives=links)

    expected = [("KR-1",)] if overlinked else []
    assert flagged(gaps_for((), [busy]), GapFlag.KR_OVERLINKED) == expected


@pytest.mark.parametrize(("owned", "overloaded"), [(5, False), (6, True)])
def test_more_than_five_objectives_overloads_an_owner(owned, overloaded):
    objectives = [ObjectiveFacts(n, f"Objective {n}", "U7", 3) for n in range(1, owned + 1)]
    objectives.append(ObjectiveFacts(99, "Someone else's", "U8", 3))

    expected = [("@U7", *(f"O-{n}" for n in range(1, owned + 1)))] if overloaded else []
    assert flagged(gaps_for(objectives), GapFlag.OWNER_OVERLOADED) == expected


def test_owner_written_with_an_at_sign_is_the_same_owner():
    objectives = [ObjectiveFacts(n, "x", "@U7" if n % 2 else "U7", 3) for n in range(1, 7)]

    assert flagged(gaps_for(objectives), GapFlag.OWNER_OVERLOADED) == [
        ("@U7", "O-1", "O-2", "O-3", "O-4", "O-5", "O-6")
    ]


@pytest.mark.parametrize(
    ("kr_count", "too_many", "none"),
    [(0, False, True), (1, False, False), (5, False, False), (6, True, False)],
)
def test_objective_kr_count_bounds(kr_count, too_many, none):
    gaps = gaps_for([ObjectiveFacts(4, "Grow", "U1", kr_count)])

    assert flagged(gaps, GapFlag.OBJECTIVE_TOO_MANY_KRS) == ([("O-4",)] if too_many else [])
    assert flagged(gaps, GapFlag.OBJECTIVE_NO_KRS) == ([("O-4",)] if none else [])


# --- staleness ------------------------------------------------------------------

SECOND = timedelta(seconds=1)
THIRTY_DAYS = timedelta(days=30)


@pytest.mark.parametrize(
    ("last_checkin_at", "created_at", "stale"),
    [
        (NOW - THIRTY_DAYS, NOW - 2 * THIRTY_DAYS, False),
        (NOW - THIRTY_DAYS - SECOND, NOW - 2 * THIRTY_DAYS, True),
        (None, NOW - THIRTY_DAYS, False),
        (None, NOW - THIRTY_DAYS - SECOND, True),
        (NOW - timedelta(days=1), NOW - 2 * THIRTY_DAYS, False),
    ],
)
def test_stale_after_exactly_thirty_days_without_a_checkin(last_checkin_at, created_at, stale):
    quiet = kr(1, 1, "Increase activation from 30% to 40%",
               last_checkin_at=last_checkin_at, created_at=created_at)
    period_start = (NOW - 3 * THIRTY_DAYS).date()

    gaps = gaps_for((), [quiet], period_start=period_start)

    assert flagged(gaps, GapFlag.KR_STALE) == ([("KR-1",)] if stale else [])


def test_stale_clock_starts_no_earlier_than_the_period():
    drafted_early = kr(1, 1, "Increase activation from 30% to 40%",
                       last_checkin_at=None, created_at=NOW - timedelta(days=60))

    ten_days_in = gaps_for((), [drafted_early], period_start=(NOW - timedelta(days=10)).date())
    forty_days_in = gaps_for((), [drafted_early], period_start=(NOW - timedelta(days=40)).date())

    assert flagged(ten_days_in, GapFlag.KR_STALE) == []
    assert flagged(forty_days_in, GapFlag.KR_STALE) == [("KR-1",)]
    assert "40 days" in forty_days_in[0].problem


def test_naive_datetimes_are_read_as_utc():
    naive = kr(1, 1, "Increase activation from 30% to 40%",
               last_checkin_at=datetime(2026, 10, 1, 9, 0), created_at=datetime(2026, 9, 1))

    assert flagged(gaps_for((), [naive]), GapFlag.KR_STALE) == [("KR-1",)]


# --- measurability ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("metric", "direction", "start", "target", "measurable"),
    [
        ("numeric", "increase", 10.0, 20.0, True),
        ("numeric", "decrease", 45.0, 25.0, True),
        ("percentage", "increase", 0.0, 100.0, True),
        ("numeric", "increase", 10.0, None, False),
        ("percentage", "decrease", None, None, False),
        ("numeric", "increase", None, 20.0, False),
        ("numeric", "increase", 20.0, 20.0, False),
        ("numeric", "decrease", 25.0, 25.0, False),
        ("numeric", "increase", 20.0, 10.0, False),
        ("numeric", "decrease", 25.0, 45.0, False),
        ("percentage", "maintain", None, 99.9, True),
        ("numeric", "maintain", None, None, False),
        ("boolean", "increase", None, None, True),
        ("milestone", "increase", None, None, True),
    ],
)
def test_measurable_target(metric, direction, start, target, measurable):
    item = kr(1, 1, "Improve onboarding", metric=metric, direction=direction,
              start=start, target=target, linked_initiatives=0)

    assert flagged(gaps_for((), [item]), GapFlag.KR_NOT_MEASURABLE) == (
        [] if measurable else [("KR-1",)]
    )


def test_unmeasurable_problem_names_the_reason():
    def problem(**facts):
        item = kr(1, 1, facts.pop("title", "Improve onboarding"), **facts)
        (gap,) = flagged_gaps(GapFlag.KR_NOT_MEASURABLE, [item])
        return gap.problem

    assert "no target" in problem(target=None)
    assert "number in its title" in problem(title="Reduce churn to 3%", target=None)
    assert "no starting value" in problem(start=None)
    assert "starts and ends at 40" in problem(start=40.0, target=40.0)
    assert "target 10 is below its start 20" in problem(start=20.0, target=10.0)


# --- output vs outcome wording ----------------------------------------------------

OUTPUT_TITLES = [
    "Launch the new mobile app",
    "Ship v2 of the billing API",
    "Release the redesigned dashboard",
    "Build a partner portal",
    "Create an onboarding email sequence",
    "Implement SSO for enterprise customers",
    "Deliver the data warehouse",
    "Write 12 blog posts",
    "Publish 4 customer case studies",
    "Migrate 100% of customers to v2",  # decided: a migration's share is a project's progress
    "Roll out the new pricing to all regions",
    "Complete the SOC 2 audit",
    "Finish the GDPR review",
    "Develop an Android client",
    "Design a new onboarding flow",
    "Set up an on-call rotation for payments",
    "Hire 3 senior engineers",  # decided: headcount is capacity, not a result
    "Run 5 customer workshops",
    "Do 20 customer interviews",
    "Deploy the search service to all regions",
    "Successfully launch the EU data centre",
    "Launch: self-serve checkout",
    "SHIP THE IOS APP",
    "1. Ship dark mode",
    "Mobile app launched by end of Q3",
    "New checkout live by March",
    "Get the new pricing page live",
]

OUTCOME_TITLES = [
    "Reduce churn from 5% to 3%",
    "Increase activation to 40%",
    "Launch-to-activation rate above 40%",  # decided: a hyphenated compound names a metric
    "Reduce time to ship from 10 days to 3",  # decided: led by an outcome verb
    "Grow weekly active teams from 120 to 200",
    "Keep uptime above 99.9%",
    "Raise NPS from 30 to 45",
    "Release frequency from 2 to 8 per month",
    "Build time under 5 minutes",
    "Run rate above $1M ARR",
    "Design partner NPS above 50",
    "Deployment frequency of 10 per week",
    "Shipping cost per order below $4",
    "Improve trial-to-paid conversion from 8% to 12%",
    "Halve the median support response time",
    "Customers who complete onboarding in week one: 60%",
    "Hiring manager satisfaction above 8/10",
    "Launches adopted by 30% of users within a month",
    "Cut infrastructure cost per customer by 20%",
    "Get 1,000 paying customers",
    "Test coverage of the billing code above 80%",
    "Reduce bugs released to production by 50%",
    "Double the share of invoices paid on time",
    "Increase orders delivered by end of next day from 70% to 90%",  # outcome verb wins
]


@pytest.mark.parametrize("title", OUTPUT_TITLES)
def test_output_worded_titles_are_flagged(title):
    assert is_output_worded(title)


@pytest.mark.parametrize("title", OUTCOME_TITLES)
def test_outcome_worded_titles_are_not_flagged(title):
    assert not is_output_worded(title)


# --- vanity metrics -----------------------------------------------------------------

VANITY_TITLES = [
    ("Reach 1M page views per month", "page views"),
    ("Pageviews on the blog up 50%", "page views"),
    ("Double ad impressions", "impressions"),
    ("Grow Twitter followers from 5k to 10k", "followers"),
    ("Get 5,000 likes on LinkedIn posts", "likes"),
    ("Website visitors to 100k a month", "visits"),
    ("Reach 100k app downloads", "downloads"),
    ("Increase app installs to 50k", "app installs"),
    ("Grow registered users from 10k to 20k", "sign-ups"),
    ("Increase sign-ups to 2,000 a month", "sign-ups"),
    ("10,000 signups by end of Q4", "sign-ups"),
    ("Ship 50k lines of code", "lines of code"),
    ("Hold 30 customer meetings a month", "meetings"),
    ("Send 20,000 marketing emails", "emails sent"),
    ("Tickets closed per week above 300", "tickets closed"),
    ("Close 500 support tickets", "tickets closed"),
]

VALUE_TITLES = [
    "Increase signup-to-activation rate to 40%",
    "Grow activated sign-ups from 500 to 900",
    "Increase 30-day retention of app installs to 25%",
    "Convert 5% of downloads to paid plans",
    "Grow paying subscribers to 1,000",
    "Increase weekly active users from 2k to 3k",
    "Conduct 20 customer interviews",
    "Raise NPS from 30 to 45",
    "Market share in DACH from 5% to 8%",
    "Reduce time to first response on support tickets",
    "Previews rendered in under 200 ms",
    "Cache hits above 95%",
    "Increase email open rate to 35%",
    "Improve app store reviews to 4.5 stars",
    "Increase revenue from website visitors by 20%",
]


@pytest.mark.parametrize(("title", "metric"), VANITY_TITLES)
def test_vanity_metrics_are_named(title, metric):
    assert vanity_metric(title) == metric


@pytest.mark.parametrize("title", VALUE_TITLES)
def test_value_metrics_are_not_vanity(title):
    assert vanity_metric(title) is None


def test_a_decreasing_count_is_not_vanity():
    fewer = kr(1, 1, "Reduce meetings per engineer from 12 to 6 a week", direction="decrease",
               start=12.0, target=6.0)
    more = replace(fewer, title="Increase meetings per engineer from 6 to 12", direction="increase",
                   start=6.0, target=12.0)

    assert flagged(gaps_for((), [fewer]), GapFlag.KR_VANITY) == []
    assert flagged(gaps_for((), [more]), GapFlag.KR_VANITY) == [("KR-1",)]


def test_a_healthy_kr_has_no_gaps():
    healthy = kr(1, 1, "Increase weekly active teams from 40 to 60")

    assert gaps_for([ObjectiveFacts(1, "Grow", "U1", 1)], [healthy]) == []
