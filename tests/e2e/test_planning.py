"""Planning the coming period end to end (issue 13): drafts show as next quarter and nudge
nobody, team channels with nothing drafted are told once, `/okr gaps next` checks drafts."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from okrbot.domain.periods import Period, current_period
from okrbot.runtime.grading_job import grading_tick
from okrbot.store.types import utcnow
from tests.e2e.conftest import block_text

pytestmark = pytest.mark.usefixtures("valid_blockkit")

ADMIN = "UADMIN"
UTC = ZoneInfo("UTC")


def told(slack, channel: str) -> list[str]:
    return [
        block_text(c.args.get("blocks"))
        for c in slack.delivered("chat.postMessage")
        if c.args.get("channel") == channel and str(c.args.get("text", "")).startswith("Plan ")
    ]


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

    # The tick is given the moment, ten days before a quarter starts. (The quarter that began
    # last stands in for it, so that the messages it queues are due on the real clock.)
    last = Period(now.year - 1, 4) if now.quarter == 1 else Period(now.year, now.quarter - 1)
    okr.ok(f'objective add "Old growth" team <#C3|sales> period {last}', user=ADMIN)
    okr.ok(f'objective add "Old hiring" team <#C2|people> period {last}', user=ADMIN)
    starts = now.start_at(UTC)
    assert grading_tick(bot.bot, starts - timedelta(days=15)).queued == []  # too early
    grading_tick(bot.bot, starts - timedelta(days=10))
    grading_tick(bot.bot, starts - timedelta(days=9))  # told once
    bot.settle()
    (sales,) = told(slack, "C3")
    assert f"{now.labelled()}* starts" in sales and "has no objective for it yet" in sales and "/okr carry O-9" in sales
    assert told(slack, "C2") == [] and told(slack, "C1") == []  # #people has drafted; #growth had nothing
