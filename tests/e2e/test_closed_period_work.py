"""Work done after a period closed (issue 13): its KRs keep what they had at the close.

Over real HTTP against the Slack double, from every place work is marked done:
`/okr done`, the card's Mark done button, ✅ on the card, and a GitHub webhook. Each is
refused with who can reopen the period, and nothing moves. Work carried into the next
period still moves the new KR, never the closed one.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from okrbot.domain.periods import current_period
from okrbot.store.types import utcnow
from tests.e2e.conftest import message_of
from tests.e2e.harness import running_bot
from tests.e2e.test_webhooks import ISSUE, github, issue
from tests.e2e.test_work_done import TEAM, announcements, card, kr_progress, react, status

pytestmark = pytest.mark.usefixtures("valid_blockkit")

ADMIN = "UADMIN"


@pytest.fixture
def served(slack, database_url):
    """Drafting a year ahead, so carrying into the next quarter works whatever today's date."""
    with running_bot(slack, database_url, OKRBOT_PLANNING_LEAD_DAYS="366") as pair:
        yield pair


@pytest.fixture
def closed(okr, slack) -> str:
    """KR-1 (milestone, this quarter, team channel CTEAM) fed by I-1 (a GitHub issue) and I-2;
    then an admin closes the quarter early."""
    slack.set_user(ADMIN, is_admin=True)
    slack.set_members(TEAM, ["U1", "U2"])
    period = str(current_period(utcnow(), ZoneInfo("UTC")))
    okr.ok(f'objective add "Ship the platform" team <#{TEAM}|platform> period {period}')
    okr.ok('kr add O-1 "Platform adopted by every squad" by initiatives')
    okr.ok(f"link {ISSUE} KR-1")
    okr.ok('initiative add KR-1 "Write the docs"')
    okr.ok(f"close {period}", user=ADMIN)
    return period


def said_to(slack, user: str) -> list[str]:
    """What the bot told one person privately (ephemeral messages)."""
    return [str(c.args.get("text", "")) for c in slack.calls("chat.postEphemeral") if c.args.get("user") == user]


def test_marking_done_is_refused_everywhere_and_says_who_can_reopen(closed, okr, bot, client, slack):
    refused = okr("done I-2")
    assert refused.problem
    assert f"{closed} is closed" in refused.text and "KR-1" in refused.text
    assert f"/okr reopen-period {closed}" in refused.text and "admin" in refused.text

    channel, ts = card(slack, 2)
    message = message_of(next(c for c in slack.calls("chat.postMessage") if c.response.get("ts") == ts))
    (button,) = [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert client.block_action(button["action_id"], button["value"], user_id="U2", channel_id=channel, message=message).status_code == 200
    bot.settle()
    assert any(f"{closed} is closed" in text for text in said_to(slack, "U2"))

    react(client, bot, "added", "white_check_mark", channel, ts, user="U1")
    assert sum(f"{closed} is closed" in text for text in said_to(slack, "U1")) >= 1

    answer = github(bot, "issues", issue("closed"))
    assert answer.status_code == 403 and f"{closed} is closed" in answer.json()["error"]

    assert status(bot, 1) == status(bot, 2) == "todo" and kr_progress(bot) == 0.0
    assert announcements(slack) == []
    assert "0%" in okr.ok("status KR-1").text

    okr.ok(f"reopen-period {closed}", user=ADMIN)  # reopened, the same ✅ moves it again
    react(client, bot, "added", "heavy_check_mark", channel, ts, user="U1")
    assert status(bot, 2) == "done" and kr_progress(bot) == 0.5


def test_carried_work_moves_the_new_kr_and_never_the_closed_one(closed, okr, bot, slack):
    carried = okr.ok("carry O-1", user=ADMIN).text
    assert "O-2" in carried
    done = okr.ok("done I-2").text  # I-2 now feeds KR-1 (closed) and KR-2 (next quarter)
    assert "KR-2" in done and "0% → *50%*" in done
    assert f"Its KRs in {closed} kept what they had at the close" in done  # told why KR-1 stayed
    assert kr_progress(bot, 1) == 0.0 and kr_progress(bot, 2) == 0.5
    assert github(bot, "issues", issue("closed")).status_code == 200
    assert kr_progress(bot, 1) == 0.0 and kr_progress(bot, 2) == 1.0
    # Reopened, the closed quarter reads its work as it is now: both pieces done.
    okr.ok(f"reopen-period {closed}", user=ADMIN)
    assert kr_progress(bot, 1) == 1.0
