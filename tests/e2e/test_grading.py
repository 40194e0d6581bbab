"""Grading and closing a period end to end (issue 13), over HTTP against the Slack double.

The period is the quarter before today's, so the commands (which run on the real
clock) are inside its grading window; the grading tick is given the moments that
matter (before the period ends, after its grading window), never slept towards.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from okrbot.domain.periods import Period, current_period
from okrbot.runtime.grading_job import grading_tick
from okrbot.adapters.slack.ids import Action, Field
from okrbot.store.models import CheckIn, GradingDm, Initiative, KeyResult, KrLink, Objective
from okrbot.store.types import utcnow
from tests.e2e.conftest import block_text, channel_of, message_of
from tests.fakes.slack_client import dm_message

pytestmark = pytest.mark.usefixtures("valid_blockkit")

ADMIN = "UADMIN"
UTC = ZoneInfo("UTC")


def last_quarter() -> Period:
    now = current_period(utcnow(), UTC)
    return Period(now.year - 1, 4) if now.quarter == 1 else Period(now.year, now.quarter - 1)


@pytest.fixture
def quarter(okr, slack) -> Period:
    """O-1 in last quarter: KR-1 (U1, 0→100), KR-2 (U1, yes/no, aspirational), KR-3 (U2, committed), KR-4 (U3, keep above 99.9)."""
    period = last_quarter()
    slack.set_user(ADMIN, is_admin=True)
    okr.ok(f'objective add "Grow activation" owner <@UBOSS> team <#C1|growth> period {period}', user=ADMIN)
    okr.ok('kr add O-1 "Signups" from 0 to 100 owner <@U1>', user=ADMIN)
    okr.ok('kr add O-1 "Pricing page live" yes/no owner <@U1> aspirational', user=ADMIN)
    okr.ok('kr add O-1 "Churn" from 10 to 5 % owner <@U2> committed', user=ADMIN)
    okr.ok('kr add O-1 "Uptime" keep above 99.9 % owner <@U3>', user=ADMIN)
    okr.ok("checkin KR-1 70", user="U1")  # late, inside the grading window: accepted, dated now
    okr.ok("checkin KR-3 7", user="U2")
    okr.ok("checkin KR-4 99.95", user="U3")
    return period


def grading_dms(slack) -> dict[str, object]:
    found: dict[str, object] = {}
    for call in slack.delivered("chat.postMessage"):
        if str(call.args.get("text", "")).startswith("Time to grade") and not call.args.get("thread_ts"):
            assert call.args["channel"] not in found, f"{call.args['channel']} got two grading DMs"
            found[call.args["channel"]] = call
    return found


def in_thread(slack, dm) -> list[str]:
    return [
        f"{c.args.get('text', '')}\n{block_text(c.args.get('blocks'))}"
        for c in slack.delivered("chat.postMessage")
        if c.args.get("thread_ts") == dm.response["ts"] and c.args.get("channel") == channel_of(dm)
    ]


def grades(bot) -> dict[int, tuple[float | None, str | None, str]]:
    with bot.db.session_scope() as session:
        return {kr.number: (kr.grade, kr.grade_source, kr.grade_note) for kr in session.exec(select(KeyResult)).all()}


def test_grading_dms_once_answers_by_button_modal_and_thread_then_the_period_closes(quarter, okr, bot, client, slack):
    ends = quarter.end_at(UTC)
    # Before grading opens: nothing. Then one DM per owner, however often the tick runs.
    grading_tick(bot.bot, ends - timedelta(days=11))  # (#growth is told to plan the next quarter)
    bot.settle()
    assert grading_dms(slack) == {}
    first = grading_tick(bot.bot, ends - timedelta(days=5))
    again = grading_tick(bot.bot, ends - timedelta(days=4))
    bot.settle()
    assert len(first.queued) == 3 and again.queued == []
    dms = grading_dms(slack)
    assert sorted(dms) == ["U1", "U2", "U3"]
    u1 = block_text(dms["U1"].args["blocks"])
    assert f"Time to grade {quarter}" in u1 and quarter.dates_text() in u1
    assert "KR-1" in u1 and "Suggested grade *0.7*" in u1 and "KR-2" in u1 and "Suggested grade *0.0*" in u1 and "KR-3" not in u1

    # U1 grades KR-1 in the thread with a note, then accepts the suggestion for the rest.
    event = dm_message("KR-1 0.7 pairing with sales worked; the trial change didn't", user="U1", channel=channel_of(dms["U1"]), thread_ts=dms["U1"].response["ts"])
    assert client.event(event).status_code == 200
    bot.settle()
    assert "Grade *0.7*" in in_thread(slack, dms["U1"])[-1]
    client.block_action(Action.GRADE_ACCEPT.value, str(_dm_id(bot, "U1")), user_id="U1", channel_id=channel_of(dms["U1"]), message=message_of(dms["U1"]))
    bot.settle()
    assert "*KR-2*" in in_thread(slack, dms["U1"])[-1] and "Grade *0.0*" in in_thread(slack, dms["U1"])[-1]

    # U2 opens the modal from the DM and sets a grade and a retro note.
    client.block_action(Action.GRADE_OPEN.value, "KR-3", user_id="U2", channel_id=channel_of(dms["U2"]), message=message_of(dms["U2"]))
    bot.settle()
    view = slack.wait_for("views.open")[-1].args["view"]
    assert view["callback_id"] == "grade_modal" and "KR-3" in block_text(view["blocks"])
    bad = client.view_submission(view, state_values=form("1.4", ""), user_id="U2")
    assert "0.0 to 1.0" in bad.text  # the form stays open and says what to type
    done = client.view_submission(view, state_values=form("0.6", "legal review slowed the retention emails"), user_id="U2")
    assert done.status_code == 200 and not done.text
    bot.settle()
    assert grades(bot)[1] == (0.7, "owner", "pairing with sales worked; the trial change didn't")
    assert grades(bot)[2][:2] == (0.0, "owner")
    assert grades(bot)[3] == (0.6, "owner", "legal review slowed the retention emails")
    assert grades(bot)[4] == (None, None, "")

    # Status shows grades against each KR's own expectation: 0.6 committed is yellow, not green.
    status = okr.ok(f"status all {quarter}", user=ADMIN).text
    assert "Grade *0.6* :large_yellow_circle: (committed: 1.0 expected)" in status

    # The grading window ends: the period closes, the silent owner's KR takes its suggestion.
    assert grading_tick(bot.bot, ends + timedelta(days=13)).closed == []
    closed = grading_tick(bot.bot, ends + timedelta(days=14))
    assert closed.closed == [f"T1 {quarter}"] and grading_tick(bot.bot, ends + timedelta(days=15)).closed == []
    assert grades(bot)[4][:2] == (1.0, "suggested")  # holds now (its only reading is after the quarter)
    assert "suggested grade, given at close" in okr.ok("status KR-4", user="U3").text

    # Closed: edits and check-ins are refused, saying who can reopen it.
    refused = okr("checkin KR-1 90", user="U1")
    assert refused.problem and f"/okr reopen-period {quarter}" in refused.text and "admin" in refused.text
    assert okr('kr add O-1 "More" yes/no', user="UBOSS").problem
    assert okr("grade KR-1 0.9", user="U1").problem
    assert okr('initiative add KR-1 "Late work"', user="U1").problem
    assert okr("archive O-1", user="UBOSS").problem
    assert okr(f"reopen-period {quarter}", user="U1").problem  # admins only
    okr.ok(f"reopen-period {quarter}", user=ADMIN)
    okr.ok("checkin KR-1 90", user="U1")
    assert grades(bot)[1][0] == 0.7  # grades are kept


def test_close_by_command_grades_the_rest_with_their_suggestion(quarter, okr, bot, slack):
    assert okr(f"close {quarter}", user="U1").problem  # admins only
    closed = okr.ok(f"close {quarter}", user=ADMIN).text
    assert f"{quarter}* is closed" in closed and "4 suggested grades" in closed
    assert {number: grade[:2] for number, grade in grades(bot).items()} == {
        1: (0.7, "suggested"), 2: (0.0, "suggested"), 3: (0.6, "suggested"), 4: (1.0, "suggested")
    }
    assert okr(f"close {quarter}", user=ADMIN).problem  # already closed: says so, changes nothing
    # A closed period gets no grading DMs.
    grading_tick(bot.bot, quarter.end_at(UTC) - timedelta(days=1))
    bot.settle()
    assert grading_dms(slack) == {}


def form(grade: str, note: str) -> dict:
    return {Field.GRADE.value: {"value": grade}, Field.NOTE.value: {"value": note}}


def _dm_id(bot, owner: str) -> int:
    with bot.db.session_scope() as session:
        return session.exec(select(GradingDm.id).where(GradingDm.owner == owner)).one()


def test_carry_over_into_the_next_quarter_with_lineage_and_idempotence(quarter, okr, bot):
    okr.ok('initiative add KR-1 "Pair with sales"', user="U1")
    okr.ok('initiative add KR-1 "Change the trial"', user="U1")
    okr.ok("done I-2", user="U1")
    okr.ok(f"close {quarter}", user=ADMIN)  # a closed quarter can still be carried from
    assert okr("carry O-1 KR-1", user="U2").problem  # only the objective's owner (or an admin)

    carried = okr.ok("carry O-1 KR-1 KR-3", user="UBOSS").text
    following = quarter.next()
    assert f"New objective *O-2* Grow activation in {following}, carried from O-1" in carried
    assert "KR-1 → *KR-5*" in carried and "KR-3 → *KR-6*" in carried and "1 open initiative linked again" in carried
    with bot.db.session_scope() as session:
        new = {kr.number: kr for kr in session.exec(select(KeyResult).where(KeyResult.number.in_([5, 6]))).all()}
        checkins = session.exec(select(CheckIn).where(CheckIn.kr_id.in_([kr.id for kr in new.values()]))).all()
        links = session.exec(select(KrLink.kr_id, Initiative.number).join(Initiative)).all()
    assert (new[5].start, new[5].current, new[5].target, new[5].owner) == (70, 70, 100, "U1")
    assert (new[6].start, new[6].commitment, new[6].owner) == (7, "committed", "U2")
    assert checkins == []  # history stays with the old KRs
    assert sorted(number for kr_row, number in links if kr_row == new[5].id) == [1]  # open work only

    assert "carried from O-1" in okr.ok("status O-2", user="UBOSS").text
    assert "carried to O-2" in okr.ok("status O-1", user="UBOSS").text
    # Carrying twice creates nothing new; a KR not carried yet joins the same objective.
    assert "Nothing new" in okr.ok("carry O-1 KR-1 KR-3", user="UBOSS").text
    assert "Added to *O-2*" in okr.ok("carry O-1 KR-4", user="UBOSS").text
    with bot.db.session_scope() as session:
        assert len(session.exec(select(Objective)).all()) == 2
        assert len(session.exec(select(KeyResult)).all()) == 7


def scorecards(slack, channel: str, title: str = "Scorecard") -> list[str]:
    return [
        block_text(c.args.get("blocks"))
        for c in slack.delivered("chat.postMessage")
        if c.args.get("channel") == channel and str(c.args.get("text", "")).startswith(title)
    ]


def test_scorecards_posted_once_when_a_period_closes_and_on_request(quarter, okr, bot, slack):
    okr.ok('objective add "Hire well" owner <@UHR> team <#C2|people> period ' + str(quarter), user=ADMIN)
    okr.ok('kr add O-2 "Offers accepted" from 0 to 10 owner <@UHR>', user=ADMIN)
    okr.ok('initiative add KR-1 "Pair with sales"', user="U1")
    okr.ok('settings report-channel <#CLEADS|leadership>', user=ADMIN)
    okr.ok("grade KR-3 0.6", user="U2")
    okr.ok("carry O-1 KR-1", user="UBOSS")

    # Anyone sees their team's scorecard; every team's is for admins.
    team = okr.ok(f"report {quarter} <#C1|growth>", user="U1").text
    assert f"Scorecard · {quarter.labelled()} · open" in team and "Grow activation" in team
    assert "carried over: o-1 → o-3" in team.lower() and "Grade *0.6*" in team
    assert "No work linked: *KR-2*, *KR-3*, *KR-4*" in team and "Never checked in: *KR-2*" in team
    assert "Hire well" not in team
    assert okr(f"report {quarter}", user="U1", channel="DU1").problem
    assert "Grow activation" in okr.ok(f"report {quarter}", user="U1").text  # in #growth: that team's
    everyone = okr.ok(f"report {quarter}", user=ADMIN, channel="DADMIN").text
    assert "Grow activation" in everyone and "Hire well" in everyone

    okr.ok(f"close {quarter}", user=ADMIN)
    okr.ok(f"reopen-period {quarter}", user=ADMIN)
    okr.ok(f"close {quarter}", user=ADMIN)  # closed twice: posted once
    bot.settle()
    growth, people = scorecards(slack, "C1"), scorecards(slack, "C2")
    assert len(growth) == 1 and len(people) == 1
    assert "Grow activation" in growth[0] and "Hire well" not in growth[0] and "closed" in growth[0]
    (summary,) = scorecards(slack, "CLEADS", "Company scorecard")
    assert "All teams" in summary and "<#C1>" in summary and "<#C2>" in summary


def test_carry_over_from_the_grading_dm(quarter, okr, bot, client, slack):
    okr.ok('kr add O-1 "Activation" from 0 to 50 owner <@UBOSS>', user=ADMIN)  # UBOSS owns O-1 and a KR
    grading_tick(bot.bot, quarter.end_at(UTC) - timedelta(days=2))
    bot.settle()
    dm = grading_dms(slack)["UBOSS"]
    assert "Carry O-1 over" in block_text(dm.args["blocks"])
    assert "Carry O-1 over" not in block_text(grading_dms(slack)["U1"].args["blocks"])  # U1 owns no objective
    for _ in range(2):  # pressed twice: carried once
        client.block_action(Action.GRADE_CARRY.value, "O-1", user_id="UBOSS", channel_id=channel_of(dm), message=message_of(dm))
        bot.settle()
    said = in_thread(slack, dm)
    assert "New objective *O-2*" in said[0] and f"in {quarter.next()}" in said[0] and "Nothing new" in said[1]
    with bot.db.session_scope() as session:
        assert len(session.exec(select(Objective)).all()) == 2


def test_a_period_closed_early_leaves_does_this_serve_a_kr(okr, slack):
    slack.set_user(ADMIN, is_admin=True)
    period = current_period(utcnow(), ZoneInfo("UTC"))
    okr.ok(f'objective add "Faster checkout" team <#C1|growth> period {period}', user=ADMIN)
    okr.ok('kr add O-1 "Checkout p95 latency" from 900 to 300 ms', user=ADMIN)
    asked = "serves make the checkout page faster, its p95 latency is awful"
    assert "KR-1" in okr.ok(asked, user=ADMIN).text
    okr.ok(f"close {period}", user=ADMIN)
    answer = okr.ok(asked, user=ADMIN).text
    assert "KR-1" not in answer, answer  # graded and frozen: no new work goes to its KRs
