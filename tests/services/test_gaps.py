"""`/okr gaps` on a real database: a fixture organisation, every flag, exact ids.

The organisation mirrors tests/domain/test_hygiene.py's, built through the
services (and a few direct edits for states the commands refuse to create),
plus rows that must stay out of the report: another period, an archived
objective, another workspace, and a private objective.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlmodel import select

from okrbot.config import Settings
from okrbot.domain.commands import Direction, Keep, Metric
from okrbot.domain.hygiene import DRAFT_ONLY, GAP_TITLES, GapFlag, KrFacts, ObjectiveFacts, find_gaps
from okrbot.services import okrs, work
from okrbot.services.context import Actor
from okrbot.services.gaps import GapReport, gap_report
from okrbot.adapters.slack.commands.runner import CommandRunner
from okrbot.adapters.slack.text_render import blocks_to_text
from okrbot.adapters.slack.views.gaps import gaps_blocks
from okrbot.store.db import Database
from okrbot.store.models import KeyResult
from tests.conftest import NOW

PERIOD = "2026-Q4"  # NOW is in its week 6: missing work is urgent

EXPECTED = [
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

NUMERIC = (Metric.NUMERIC, Direction.INCREASE)
# (objective, title, (metric, direction), start, target, linked initiatives)
KRS = [
    (1, "Increase mid-market ARR from $2M to $3M", NUMERIC, 2, 3, 2),
    (1, "Raise win rate against competitors from 20% to 30%", (Metric.PERCENTAGE, Direction.INCREASE), 20, 30, 0),
    (1, "Reduce sales cycle from 45 days to 25", (Metric.NUMERIC, Direction.DECREASE), 45, 25, 5),
    (2, "Increase activation from 30% to 40%", (Metric.PERCENTAGE, Direction.INCREASE), 30, 40, 1),
    (2, "Launch the new onboarding wizard", (Metric.MILESTONE, Direction.INCREASE), None, None, 0),
    (2, "Reduce time to first value", (Metric.NUMERIC, Direction.DECREASE), 10, 5, 1),  # target removed below
    (2, "Increase sign-ups to 5,000 a month", NUMERIC, 2000, 5000, 1),
    (2, "Improve onboarding NPS from 30 to 45", NUMERIC, 30, 45, 1),  # last check-in 31 days ago
    (2, "Onboarding completion at 60%", (Metric.PERCENTAGE, Direction.INCREASE), 60, 60, 1),
    (4, "Grow Twitter followers from 5k to 10k", NUMERIC, 5000, 10000, 0),
    (5, "Migrate 100% of customers to billing v2", (Metric.PERCENTAGE, Direction.INCREASE), 0, 100, 1),
    (6, "Hire 3 senior engineers", NUMERIC, 0, 3, 1),  # created on Oct 5, never checked in
    (7, "Pass the SOC 2 audit", (Metric.BOOLEAN, Direction.INCREASE), None, None, 1),
    (8, "Keep EU checkout uptime above 99.9%", (Metric.PERCENTAGE, Direction.MAINTAIN), None, 99.9, 1),
    (8, "Increase paying teams in Europe from 40 to 120", NUMERIC, 40, 120, 4),
]
OBJECTIVES = [
    ("Win the mid-market", "U1"),
    ("Make onboarding effortless", "U2"),
    ("Be the fastest in the category", "U3"),
    ("Grow the brand", "U4"),
    ("Modernise billing", "U4"),
    ("Build a great team", "U4"),
    ("Secure the platform", "U4"),
    ("Expand to Europe", "U4"),
    ("Reduce support load", "U4"),
]


def as_admin(actor: Actor) -> Actor:
    return replace(actor, is_admin=True)


def build_organisation(db: Database, actor: Actor) -> None:
    setup = replace(as_admin(actor), now=NOW - timedelta(days=2))
    with db.session_scope() as session:
        for title, owner in OBJECTIVES:
            okrs.create_objective(session, setup, okrs.NewObjective(title=title, owner=owner, period=PERIOD))
        for objective, title, (metric, direction), start, target, linked in KRS:
            keep = Keep.ABOVE if direction is Direction.MAINTAIN else None
            kr = okrs.create_kr(
                session, setup, okrs.NewKr(objective, title, metric, direction, "U1", start=start, target=target, keep=keep)
            )
            for i in range(linked):
                work.create_initiative(session, setup, kr_number=kr.number, title=f"Work {i} on KR-{kr.number}", owner="U1")

        def kr(number: int) -> KeyResult:
            return session.exec(select(KeyResult).where(KeyResult.team_id == actor.team_id, KeyResult.number == number)).one()

        kr(6).target = None  # e.g. imported without one: the commands refuse to make it
        kr(8).last_progress_at = NOW - timedelta(days=31)
        kr(12).created_at = NOW.replace(month=10, day=5)

        # Left out of the report: another period, an archived objective, another workspace.
        drafting = replace(setup, planning_lead=timedelta(days=366))  # a workspace that drafts a year ahead
        okrs.create_objective(session, drafting, okrs.NewObjective(title="Next quarter", owner="U1", period="2027-Q1"))
        archived = okrs.create_objective(session, setup, okrs.NewObjective(title="Dropped", owner="U1", period=PERIOD))
        okrs.archive_objective(session, setup, archived.number)
        okrs.create_objective(session, replace(setup, team_id="T2"), okrs.NewObjective(title="Theirs", owner="U1", period=PERIOD))
        # Private (O-12, KR-16): only its owner U5, its KR owners and admins may see it.
        secret = okrs.create_objective(
            session, setup, okrs.NewObjective(title="Acquire Initech", owner="U5", period=PERIOD, private=True)
        )
        okrs.create_kr(session, setup, okrs.NewKr(secret.number, "Launch the bid", Metric.MILESTONE, Direction.INCREASE, "U6"))


def ids(report) -> list[tuple[GapFlag, tuple[str, ...]]]:
    return [(gap.flag, gap.ids) for gap in report.gaps]


@pytest.fixture
def organisation(db: Database, actor: Actor) -> Database:
    build_organisation(db, actor)
    return db


def test_the_fixture_organisation_lists_exactly_the_expected_ids_for_each_flag(organisation, actor):
    with organisation.session_scope() as session:
        report = gap_report(session, actor, PERIOD)

    assert ids(report) == EXPECTED
    assert (report.objectives, report.krs) == (9, 15)
    assert [gap.urgent for gap in report.gaps if gap.flag is GapFlag.KR_NO_INITIATIVE] == [True, True, True]
    assert not any(gap.urgent for gap in report.gaps if gap.flag is not GapFlag.KR_NO_INITIATIVE)


def test_the_current_period_is_the_default(organisation, actor):
    with organisation.session_scope() as session:
        assert ids(gap_report(session, actor)) == EXPECTED


def test_missing_work_is_not_urgent_in_the_first_week(organisation, actor):
    first_week = replace(actor, now=NOW.replace(month=10, day=3))
    with organisation.session_scope() as session:
        report = gap_report(session, first_week, PERIOD)
    assert not any(gap.urgent for gap in report.gaps)


def test_a_check_in_and_done_work_clear_staleness_and_linking_clears_missing_work(organisation, actor):
    runner = CommandRunner(organisation, Settings(_env_file=None), offline=True)
    for text in ("checkin KR-8 40", 'initiative add KR-2 "Competitive deck"', "checkin KR-12 1"):
        assert not runner.run(text, as_admin(actor)).reply.error, text
    with organisation.session_scope() as session:
        report = gap_report(session, actor, PERIOD)
    assert (GapFlag.KR_STALE, ("KR-8",)) not in ids(report)
    assert (GapFlag.KR_STALE, ("KR-12",)) not in ids(report)
    assert (GapFlag.KR_NO_INITIATIVE, ("KR-2",)) not in ids(report)
    assert len(report.gaps) == len(EXPECTED) - 3


@pytest.mark.parametrize("viewer", ["U5", "U6", "admin"])
def test_a_private_objective_shows_only_to_those_who_may_see_it(organisation, actor, viewer):
    who = as_admin(actor) if viewer == "admin" else replace(actor, user_id=viewer)
    with organisation.session_scope() as session:
        report = gap_report(session, who, PERIOD)
    assert (GapFlag.KR_NO_INITIATIVE, ("KR-16",)) in ids(report)
    assert (GapFlag.KR_OUTPUT_WORDED, ("KR-16",)) in ids(report)
    assert [gap for gap in ids(report) if "KR-16" not in gap[1]] == EXPECTED


def test_a_private_objective_never_shows_to_others(organisation, actor):
    with organisation.session_scope() as session:
        report = gap_report(session, actor, PERIOD)
    text = blocks_to_text(block.to_dict() for block in gaps_blocks(report))
    assert "KR-16" not in text and "O-12" not in text and "Initech" not in text and "bid" not in text


def test_the_command_shows_each_flag_heading_with_its_ids(organisation, actor):
    outcome = CommandRunner(organisation, Settings(_env_file=None), offline=True).run(f"gaps {PERIOD}", actor)

    assert not outcome.reply.error and not outcome.reply.public
    text = blocks_to_text(outcome.reply.block_dicts())
    sections = _sections_by_heading(text)
    assert list(sections) == [GAP_TITLES[flag] for flag in GapFlag if flag not in DRAFT_ONLY]  # a period under way
    for flag, gap_ids in EXPECTED:
        body = sections[GAP_TITLES[flag]]
        assert all(ident.lstrip("@") in body for ident in gap_ids), (flag, gap_ids)
    assert sections[GAP_TITLES[GapFlag.KR_NO_INITIATIVE]].count("urgent") == 3
    assert "17 gaps in 9 objectives and 15 KRs, 3 urgent." in text
    assert '/okr initiative add KR-2 "…"' in text


def test_other_periods_and_empty_periods_say_so(organisation, actor):
    runner = CommandRunner(organisation, Settings(_env_file=None), offline=True)
    empty = blocks_to_text(runner.run("gaps 2025-Q1", actor).reply.block_dicts())
    assert "No objectives in 2025-Q1 to check" in empty
    next_quarter = blocks_to_text(runner.run("gaps 2027-Q1", actor).reply.block_dicts())
    assert "Objectives with no KRs" in next_quarter and "O-10" in next_quarter
    refused = runner.run("gaps someday", actor).reply
    assert refused.error and "period" in refused.text


def _sections_by_heading(text: str) -> dict[str, str]:
    """Split the report's text at each flag heading."""
    headings = set(GAP_TITLES.values())
    sections: dict[str, str] = {}
    current = None
    for line in text.splitlines():
        heading = line.rsplit(" (", 1)[0]
        if heading in headings:
            current = heading
            sections[current] = ""
        elif current:
            sections[current] += line + "\n"
    return sections


# --- the Block Kit report -------------------------------------------------------------


def report_of(gaps, objectives=1, krs=1) -> GapReport:
    return GapReport(period=PERIOD, objectives=objectives, krs=krs, gaps=gaps)


def test_a_clean_report_says_so():
    blocks = [block.to_dict() for block in gaps_blocks(report_of([], objectives=3, krs=9))]
    assert "No gaps in 2026-Q4: 3 objectives and 9 KRs checked" in blocks_to_text(blocks)


@pytest.mark.parametrize("count", [1, 40, 400, 5000])
def test_any_number_of_gaps_fits_slack_and_keeps_every_flag(count):
    long_title = "Increase the number of weekly active teams that use the new reporting dashboards " * 5
    facts = [
        KrFacts(n, n, long_title, "U1", "numeric", "increase", None, None, 0, None, NOW - timedelta(days=60))
        for n in range(1, count + 1)
    ]
    objectives = [ObjectiveFacts(n, f"Objective {n}", "U4", 0) for n in range(1, count + 1)]
    gaps = find_gaps(objectives, facts, period_start=NOW.date().replace(month=10, day=1), today=NOW.date(), now=NOW)

    blocks = [block.to_dict() for block in gaps_blocks(report_of(gaps, count, count))]

    assert len(blocks) <= 50
    sections = [block["text"]["text"] for block in blocks if block["type"] == "section"]
    assert all(len(text) <= 3000 for text in sections)
    text = blocks_to_text(blocks)
    for flag in {gap.flag for gap in gaps}:
        assert GAP_TITLES[flag] in text
    assert f"KR-{count}" in text or "more" in text
    assert "urgent" in text or ":warning:" in str(blocks)


def test_titles_cannot_inject_mentions_or_links():
    gaps = find_gaps(
        [ObjectiveFacts(1, "<!channel> look <https://evil.example|here>", "U1", 0)], [],
        period_start=NOW.date().replace(month=10, day=1), today=NOW.date(), now=NOW,
    )
    text = str([block.to_dict() for block in gaps_blocks(report_of(gaps))])
    assert "<!channel>" not in text and "<https://evil" not in text and "&lt;!channel&gt;" in text
