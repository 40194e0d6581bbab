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


def test_team_channels_with_nothing_drafted_are_told_once(okr, bot, slack):
    slack.set_user(ADMIN, is_admin=True)
    now = current_period(utcnow(), UTC)
    okr.ok('objective add "Grow activation" team <#C1|growth>', user=ADMIN)
    okr.ok('objective add "Hire well" team <#C2|people>', user=ADMIN)
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
    assert f"{now.labelled()}* starts" in sales and "has no objective for it yet" in sales and "/okr carry O-3" in sales
    assert told(slack, "C2") == [] and told(slack, "C1") == []  # #people has drafted ("Hire well"); #growth had nothing
