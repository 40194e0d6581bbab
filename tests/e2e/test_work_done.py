"""Work done moves progress, from every place a team marks it done (issue 4).

Over real HTTP against the Slack double: `/okr done`, the card's Mark done
button, ✅ on the card (the ts the double gave the bot's message), and the
Undo button on the announcement. Judged by what reached Slack and what is in
the database.
"""

from __future__ import annotations

import pytest
from sqlmodel import select

from okrbot.services.summaries import progress_of
from okrbot.adapters.slack.ids import Action
from okrbot.store.models import Initiative, KeyResult
from tests.e2e.conftest import block_text, channel_of, message_of
from tests.e2e.harness import RunningBot
from tests.fakes.slack_api import Call, SlackDouble
from tests.fakes.slack_client import reaction_added, reaction_removed

pytestmark = pytest.mark.usefixtures("valid_blockkit")

TEAM = "CTEAM"  # the objective's team channel; commands are typed in C1


def kr_progress(bot: RunningBot, number: int = 1) -> float:
    with bot.db.session_scope() as session:
        kr = session.exec(select(KeyResult).where(KeyResult.number == number)).one()
        return progress_of(session, kr)


def status(bot: RunningBot, number: int) -> str:
    with bot.db.session_scope() as session:
        return session.exec(select(Initiative.status).where(Initiative.number == number)).one()


def card(slack: SlackDouble, number: int) -> tuple[str, str]:
    """(channel, ts) of the initiative's card, as the double recorded it."""
    cards = [c for c in slack.calls("chat.postMessage") if str(c.args.get("text", "")).startswith(f"I-{number} ")]
    assert len(cards) == 1, slack.describe()
    return channel_of(cards[0]), cards[0].response["ts"]


def announcements(slack: SlackDouble) -> list[Call]:
    return [c for c in slack.calls("chat.postMessage") if str(c.args.get("text", "")).startswith("Progress moved")]


def undo_value(call: Call) -> str:
    (button,) = [e for b in call.args["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert button["action_id"] == Action.UNDO.value
    return button["value"]


@pytest.fixture
def two_pieces_of_work(okr, slack) -> None:
    """KR-1 (milestone) in O-1, whose team channel is CTEAM, fed by I-1 and I-2.
    U1, U2 and U3 are in the team channel, so each may mark its work done."""
    slack.set_members(TEAM, ["U1", "U2", "U3"])
    okr.ok(f'objective add "Ship the platform" team <#{TEAM}|platform>')
    okr.ok('kr add O-1 "Platform adopted by every squad" by initiatives')
    okr.ok('initiative add KR-1 "Build the pipeline"')
    okr.ok('initiative add KR-1 "Write the docs"')
    assert card(slack, 1)[0] == card(slack, 2)[0] == TEAM  # cards go to the team channel


def react(client, bot, kind: str, emoji: str, channel: str, ts: str, user: str = "U2") -> None:
    event = (reaction_added if kind == "added" else reaction_removed)(emoji, user=user, channel=channel, ts=ts)
    assert client.event(event).status_code == 200
    bot.settle()


@pytest.mark.usefixtures("two_pieces_of_work")
def test_done_by_command_then_by_reaction_moves_the_kr_once(bot, client, slack, okr):
    answer = okr.ok("done I-1")

    assert "0% → *50%*" in answer.text and f"Announced in <#{TEAM}>" in answer.text
    (announced,) = announcements(slack)
    assert channel_of(announced) == TEAM
    text = block_text(announced.args["blocks"])
    assert "Build the pipeline" in text and "KR-1" in text and "0% → *50%*" in text and "<@U1>" in text

    react(client, bot, "added", "white_check_mark", *card(slack, 1))

    assert kr_progress(bot) == 0.5
    assert len(announcements(slack)) == 1  # the ✅ on work already done changed nothing
    assert "50%" in okr.ok("status KR-1").text
    # The card now shows the work done, with Reopen instead of Mark done.
    updates = [c for c in slack.calls("chat.update") if c.args["ts"] == card(slack, 1)[1]]
    assert updates and "Reopen" in block_text(updates[-1].args["blocks"])


@pytest.mark.usefixtures("two_pieces_of_work")
def test_a_check_mark_marks_done_and_taking_it_away_reopens(bot, client, slack, okr):
    channel, ts = card(slack, 2)

    react(client, bot, "added", "heavy_check_mark", channel, ts)
    assert status(bot, 2) == "done" and kr_progress(bot) == 0.5
    assert "by <@U2>" in block_text(announcements(slack)[-1].args["blocks"])

    react(client, bot, "added", "white_check_mark", channel, ts, user="U3")  # a second ✅: still once
    assert len(announcements(slack)) == 1

    react(client, bot, "removed", "heavy_check_mark", channel, ts)
    assert status(bot, 2) == "todo" and kr_progress(bot) == 0.0
    assert "50% → *0%*" in block_text(announcements(slack)[-1].args["blocks"])
    assert "0%" in okr.ok("status KR-1").text

    # Other emoji, and ✅ on messages that are not cards, do nothing.
    react(client, bot, "added", "tada", channel, ts)
    react(client, bot, "added", "white_check_mark", TEAM, "1699999999.000001")
    assert status(bot, 2) == "todo" and len(announcements(slack)) == 2


@pytest.mark.usefixtures("two_pieces_of_work")
def test_the_mark_done_button_then_a_reaction_moves_once(bot, client, slack, okr):
    channel, ts = card(slack, 1)
    message = message_of(next(c for c in slack.calls("chat.postMessage") if c.response.get("ts") == ts))
    (button,) = [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]

    response = client.block_action(button["action_id"], button["value"], user_id="U2", channel_id=channel, message=message)
    assert response.status_code == 200
    bot.settle()
    react(client, bot, "added", "white_check_mark", channel, ts)

    assert status(bot, 1) == "done" and kr_progress(bot) == 0.5
    assert len(announcements(slack)) == 1
    confirmation = slack.calls("chat.postEphemeral")[-1]
    assert confirmation.args["user"] == "U2" and "marked done" in confirmation.args["text"]


@pytest.mark.usefixtures("two_pieces_of_work")
def test_undo_restores_the_exact_previous_progress_and_history_shows_both(bot, client, slack, okr):
    okr.ok("done I-2")
    assert kr_progress(bot) == 0.5
    with bot.db.session_scope() as session:
        before = session.exec(select(KeyResult.last_progress_at).where(KeyResult.number == 1)).one()
    okr.ok("done I-1")
    assert kr_progress(bot) == 1.0
    announced = announcements(slack)[-1]

    response = client.block_action(
        Action.UNDO.value, undo_value(announced), user_id="U1", channel_id=TEAM, message=message_of(announced)
    )
    assert response.status_code == 200
    bot.settle()

    assert kr_progress(bot) == 0.5 and status(bot, 1) == "todo" and status(bot, 2) == "done"
    with bot.db.session_scope() as session:
        assert session.exec(select(KeyResult.last_progress_at).where(KeyResult.number == 1)).one() == before
    assert "50%" in okr.ok("status KR-1").text
    # The announcement loses its Undo button and says who undid it; the team is told.
    (edited,) = [c for c in slack.calls("chat.update") if c.args["ts"] == announced.response["ts"]]
    assert "Undone by <@U1>" in block_text(edited.args["blocks"])
    assert not [b for b in edited.args["blocks"] if b["type"] == "actions"]
    assert "100% → *50%*" in block_text(announcements(slack)[-1].args["blocks"])

    history = okr.ok("history KR-1").text
    assert "Undid: I-1 “Build the pipeline” done (100% → 50%)" in history
    assert "I-1 “Build the pipeline” done (50% → 100%) _(undone)_" in history
    assert "I-2 “Write the docs” done (0% → 50%)" in history

    # The same Undo clicked again (a second tab, a slow double-click) changes nothing.
    client.block_action(Action.UNDO.value, undo_value(announced), user_id="U1", channel_id=TEAM, message=message_of(announced))
    bot.settle()
    assert kr_progress(bot) == 0.5
    assert "already undone" in slack.calls("chat.postEphemeral")[-1].args["text"]


def test_a_milestone_kr_with_weights_1_1_and_2_reads_50_percent_after_the_weight_2_work(bot, okr):
    okr.ok(f'objective add "Launch in Europe" team <#{TEAM}|platform>')
    okr.ok('kr add O-1 "European rollout milestones" by initiatives')
    okr.ok('initiative add KR-1 "Legal entity"')
    okr.ok('initiative add KR-1 "Payments"')
    okr.ok('initiative add KR-1 "Localised product" weight 2')

    answer = okr.ok("done I-3")

    assert "0% → *50%*" in answer.text
    assert "50%" in okr.ok("status KR-1").text and "1 of 3 initiatives done" in okr.ok("status KR-1").text
    assert kr_progress(bot) == 0.5
    okr.ok("done I-1")
    assert kr_progress(bot) == 0.75


def test_gaps_lists_the_kr_without_work_until_work_is_linked(okr):
    okr.ok(f'objective add "Ship the platform" team <#{TEAM}|platform>')
    okr.ok('kr add O-1 "Platform adopted by every squad" by initiatives')

    report = okr.ok("gaps")
    assert report.ephemeral
    assert "KRs with no work behind them" in report.text and "*KR-1*" in report.text
    assert "/okr initiative add KR-1" in report.text

    okr.ok('initiative add KR-1 "Build the pipeline"')
    assert "KRs with no work behind them" not in okr.ok("gaps").text


@pytest.mark.usefixtures("two_pieces_of_work")
def test_new_work_that_moves_a_kr_is_announced_and_undo_takes_the_link_back(bot, client, slack, okr):
    okr.ok("done I-1")
    okr.ok('initiative add KR-1 "Train the squads"')  # one more piece of work: 50% → 33%

    announced = announcements(slack)[-1]
    text = block_text(announced.args["blocks"])
    assert "*I-3* Train the squads was linked to *KR-1*" in text and "50% → *33%*" in text
    client.block_action(Action.UNDO.value, undo_value(announced), user_id="U1", channel_id=TEAM, message=message_of(announced))
    bot.settle()

    assert kr_progress(bot) == 0.5
    assert "I-3" not in okr.ok("status KR-1").text
    assert "Undid: I-3 linked to KR-1 (33% → 50%)" in okr.ok("history KR-1").text


@pytest.mark.usefixtures("two_pieces_of_work")
def test_linking_and_unlinking_update_the_card_already_posted_instead_of_posting_another(bot, slack, okr):
    okr.ok('kr add O-1 "Onboarding under a day" from 5 to 1 days')
    channel, ts = card(slack, 1)

    answer = okr.ok("link I-1 KR-2")
    assert "Posted it" not in answer.text
    card(slack, 1)  # still exactly one card for I-1 in the team channel
    updates = [c for c in slack.calls("chat.update") if c.args["ts"] == ts and c.args["channel"] == channel]
    assert updates and "KR-2" in block_text(updates[-1].args["blocks"])

    okr.ok("unlink I-1 KR-2")
    updates = [c for c in slack.calls("chat.update") if c.args["ts"] == ts and c.args["channel"] == channel]
    assert "KR-2" not in block_text(updates[-1].args["blocks"]) and "KR-1" in block_text(updates[-1].args["blocks"])
