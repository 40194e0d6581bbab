"""Drafting the coming period end to end (issue 13): drafts show as next quarter and nudge
nobody, `/okr gaps next` checks them; before drafting opens, okrbot says when and what to type now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from okrbot.config import Settings
from okrbot.domain.periods import current_period
from okrbot.services.context import Actor
from okrbot.adapters.slack.commands.runner import CommandRunner
from okrbot.store.db import Database
from okrbot.store.types import utcnow
from tests.e2e.harness import running_bot

pytestmark = pytest.mark.usefixtures("valid_blockkit")

ADMIN = "UADMIN"


@pytest.fixture
def served(slack, database_url):
    """A workspace drafting up to a year ahead (OKRBOT_PLANNING_LEAD_DAYS=366), so the next quarter
    takes drafts whatever today's date; the 14-day default is held to below with a clock."""
    with running_bot(slack, database_url, OKRBOT_PLANNING_LEAD_DAYS="366") as pair:
        yield pair


def test_drafting_the_next_quarter(okr, bot, slack):
    slack.set_user(ADMIN, is_admin=True)
    now = current_period(utcnow(), UTC)
    coming = now.next()
    okr.ok('objective add "Grow activation" team <#C1|growth>', user=ADMIN)
    okr.ok('kr add O-1 "Signups" from 0 to 100 owner <@U1>', user=ADMIN)
    okr.ok('objective add "Hire well" team <#C2|people>', user=ADMIN)
    # #people drafts next quarter already; #growth does not.
    okr.ok(f'objective add "Hire faster" team <#C2|people> period {coming}', user=ADMIN)
    okr.ok('kr add O-3 "Days to offer" from 40 to 25 owner <@U2>', user=ADMIN)
    okr.ok('kr add O-3 "Launch the hiring page" yes/no owner <@U2>', user=ADMIN)
    for title in ("One", "Two", "Three", "Four", "Five"):
        okr.ok(f'objective add "{title}" team <#C2|people> period {coming}', user=ADMIN)

    drafts = okr.ok("status next", user="U2", channel="C2").text
    assert f"{coming.labelled()} · next quarter, drafts" in drafts and "Hire faster" in drafts
    gaps = okr.ok("gaps next", user=ADMIN).text
    assert "Teams with too many objectives" in gaps and "6 objectives drafted" in gaps
    assert "Objectives with no KRs" in gaps and "O-4" in gaps
    assert "Launch the hiring page" in gaps  # output-worded, in a draft too
    # Drafts nudge nobody: the review of this quarter reaches only this quarter's KR owners.
    assert "1 owner" in okr.ok("review now", user=ADMIN).text


@pytest.mark.parametrize(
    ("tz", "now", "fiscal", "coming", "current", "opens"),
    [
        # Tokyo's day starts 9 hours before UTC's: at 15:00 UTC on 17 Dec it is 18 Dec there.
        ("Asia/Tokyo", datetime(2026, 12, 17, 14, 59, tzinfo=UTC), None, "2027-Q1", "2026-Q4", "18 Dec 2026"),
        ("Asia/Tokyo", datetime(2026, 12, 17, 15, 0, tzinfo=UTC), None, "2027-Q1", "2026-Q4", None),
        # Honolulu's 10 hours after: 18 Dec 09:59 UTC is still 17 Dec there.
        ("Pacific/Honolulu", datetime(2026, 12, 18, 9, 59, tzinfo=UTC), None, "2027-Q1", "2026-Q4", "18 Dec 2026"),
        ("Pacific/Honolulu", datetime(2026, 12, 18, 10, 0, tzinfo=UTC), None, "2027-Q1", "2026-Q4", None),
        # A fiscal year from February, in Auckland (UTC+13 in summer): FY2027-Q4 runs across the new
        # year (Nov 2026 – Jan 2027); FY2028-Q1 starts on 1 Feb 2027, so drafting opens on 18 Jan 2027.
        ("Pacific/Auckland", datetime(2027, 1, 17, 10, 59, tzinfo=UTC), "february", "FY2028-Q1", "FY2027-Q4", "18 Jan 2027"),
        ("Pacific/Auckland", datetime(2027, 1, 17, 11, 0, tzinfo=UTC), "february", "FY2028-Q1", "FY2027-Q4", None),
    ],
)
def test_drafting_opens_14_days_before_the_period_starts_in_the_workspace_time_zone(database_url, tz, now, fiscal, coming, current, opens):
    """`objective add … period <coming>` on a clock the test sets, with the 14-day default."""
    db = Database(database_url)
    runner = CommandRunner(db, Settings(_env_file=None), offline=True)
    admin = Actor(team_id="T1", user_id="UADMIN", is_admin=True, tz=ZoneInfo(tz), now=now)
    if fiscal:
        assert not runner.run(f"settings fiscal-year starts {fiscal}", admin).reply.error
    answer = runner.run(f'objective add "Plan ahead" period {coming}', admin).reply
    listed = str([block.to_dict() for block in runner.run(f"status all {coming}", admin).reply.blocks])
    db.dispose()
    if opens:
        assert answer.error and f"opens on {opens}, 14 days before it starts" in answer.text
        assert f"`period {current}`" in answer.text  # what to type now
        assert "Plan ahead" not in listed  # nothing was created
    else:
        assert not answer.error and "O-1" in answer.text, answer.text
        assert "Plan ahead" in listed


def test_a_period_months_away_is_refused_saying_when_drafting_opens(slack, database_url):
    """On today's clock, with the default: two quarters ahead is always more than 14 days away."""
    with running_bot(slack, database_url) as (bot, client):
        from tests.e2e.conftest import Okr

        okr = Okr(bot, client, slack)
        now = current_period(utcnow(), ZoneInfo("UTC"))
        later = now.next().next()
        refused = okr(f'objective add "Far ahead" period {later}')
        opens = later.start_at(ZoneInfo("UTC")) - timedelta(days=14)
        assert refused.problem and f"Drafting for {later.labelled()} opens on {opens:%-d %b %Y}" in refused.text
        assert f"`period {now}`" in refused.text
        assert "Far ahead" not in okr.ok(f"status all {later}").text
        okr.ok('objective add "This quarter"')
        carried = okr(f"carry O-1 to {later}")  # the refused objective took no number
        assert carried.problem and "Drafting for" in carried.text and "nothing was carried" in carried.text
