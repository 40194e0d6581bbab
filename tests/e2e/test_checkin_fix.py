"""Fix a check-in typed wrong (issue 15): `/okr checkin fix|delete KR-n` over real HTTP.

The announcement in the team channel is updated in place (chat.update on its ts), never
posted again; the KR is recomputed and history keeps the correction.
"""

from __future__ import annotations

import pytest
from sqlmodel import select

from okrbot.services.summaries import progress_of
from okrbot.store.models import CheckIn, KeyResult
from tests.e2e.conftest import block_text
from tests.e2e.harness import RunningBot
from tests.e2e.test_modals import fill

pytestmark = pytest.mark.usefixtures("valid_blockkit")

TEAM = "C9"


def kr_state(bot: RunningBot, number: int = 1) -> tuple[float | None, float]:
    with bot.db.session_scope() as session:
        kr = session.exec(select(KeyResult).where(KeyResult.number == number)).one()
        return kr.current, progress_of(session, kr)


def checkins(bot: RunningBot) -> list[float | None]:
    with bot.db.session_scope() as session:
        return [c.value for c in session.exec(select(CheckIn).order_by(CheckIn.id)).all()]


@pytest.fixture
def announced(okr, slack) -> str:
    """KR-1 (45 → 25 days) of O-1 for the team channel C9, checked in at 35 by U1; returns the announcement's ts."""
    slack.set_members(TEAM, ["U1", "U2"])
    okr.ok(f'objective add "Grow activation" team <#{TEAM}|growth>')
    okr.ok('kr add O-1 "Cut time to value" from 45 to 25 days')
    answer = okr.ok('checkin KR-1 35 "first week"')
    (post,) = [c for c in answer.posts(TEAM) if str(c.args["text"]).startswith("Progress moved")]
    assert "35 days" in block_text(post.args["blocks"])
    return post.response["ts"]


def test_fix_corrects_the_value_recomputes_progress_and_updates_the_announcement_in_place(okr, bot, announced):
    assert kr_state(bot) == (35.0, 0.5)
    answer = okr.ok("checkin fix KR-1 40")
    assert "Corrected your check-in" in answer.text and "35 days → *40 days*" in answer.text
    assert kr_state(bot) == (40.0, 0.25)
    assert checkins(bot) == [40.0]
    assert not answer.posts(TEAM), "the correction is not posted again"
    (update,) = answer.of("chat.update", TEAM)
    assert update.args["ts"] == announced
    shown = block_text(update.args["blocks"])
    assert "40 days" in shown and "corrected from 35 days" in shown and "first week" in shown and "25%" in shown
    history = okr.ok("history KR-1").text
    assert "Corrected the check-in" in history and "35 days → 40 days" in history


def test_fix_keeps_confidence_and_note_unless_given(okr, bot, announced):
    okr.ok('checkin fix KR-1 38 confidence 4 "after the recount"')
    with bot.db.session_scope() as session:
        (checkin,) = session.exec(select(CheckIn)).all()
        assert (checkin.value, checkin.confidence, checkin.note) == (38.0, 4, "after the recount")
        assert session.exec(select(KeyResult.confidence)).one() == 4
    okr.ok("checkin fix KR-1 37")
    with bot.db.session_scope() as session:
        (checkin,) = session.exec(select(CheckIn)).all()
        assert (checkin.value, checkin.confidence, checkin.note) == (37.0, 4, "after the recount")


def test_delete_puts_the_kr_back_and_strikes_the_announcement(okr, bot, announced):
    okr.ok("checkin KR-1 30")  # a second check-in; delete acts on the latest
    assert kr_state(bot) == (30.0, 0.75)
    answer = okr.ok("checkin delete KR-1")
    assert "Deleted the check-in" in answer.text and "30 days" in answer.text
    assert kr_state(bot) == (35.0, 0.5), "back to the previous check-in"
    assert not answer.posts(TEAM)
    (update,) = answer.of("chat.update", TEAM)
    assert "deleted by <@U1>" in block_text(update.args["blocks"])
    assert all(b["type"] != "actions" for b in update.args["blocks"]), "no Undo on a deleted check-in"
    okr.ok("checkin delete KR-1")
    assert kr_state(bot) == (45.0, 0.0), "no check-in left: back to where it started"
    assert checkins(bot) == []
    (first_update,) = [c for c in okr.slack.calls("chat.update") if c.args["ts"] == announced]
    assert "35 days" in block_text(first_update.args["blocks"])
    history = okr.ok("history KR-1").text
    assert history.count("Deleted the check-in") == 2
    nothing = okr("checkin delete KR-1")
    assert nothing.problem and "no check-in on KR-1" in nothing.text and "/okr checkin KR-1" in nothing.text


def test_only_your_own_check_ins_and_only_while_the_period_is_open(okr, bot, announced):
    theirs = okr("checkin fix KR-1 20", user="U2")
    assert theirs.problem and "You have no check-in on KR-1" in theirs.text
    assert kr_state(bot) == (35.0, 0.5)
    okr.ok('objective add "Last year" period 2025-Q1')
    okr.ok('kr add O-2 "Old number" from 0 to 10')
    okr.ok("checkin KR-2 4")
    closed = okr("checkin fix KR-2 5")
    assert closed.problem and "2025-Q1" in closed.text and "is over" in closed.text
    assert kr_state(bot, 2)[0] == 4.0
    bad = okr("checkin fix KR-1")
    assert bad.problem and "/okr checkin fix KR-n" in bad.text
    assert kr_state(bot) == (35.0, 0.5)


# --------------------------------------------------------------------------- from /okr history


def history_buttons(answer) -> dict[str, list[dict]]:
    """action_id → the buttons with it in a history answer."""
    found: dict[str, list[dict]] = {}
    for block in answer.body["blocks"]:
        for element in block.get("elements", []) if block["type"] == "actions" else []:
            found.setdefault(element["action_id"], []).append(element)
    return found


def test_history_shows_edit_and_delete_on_your_own_check_ins_only(okr, announced):
    okr.ok("checkin KR-1 30", user="U2")
    mine = history_buttons(okr.ok("history KR-1"))
    assert len(mine["checkin_edit_open"]) == 1 and len(mine["checkin_delete"]) == 1
    (delete,) = mine["checkin_delete"]
    assert delete["confirm"]["confirm"]["text"] == "Delete", "deleting asks first"
    theirs = history_buttons(okr.ok("history KR-1", user="U2"))
    assert len(theirs["checkin_edit_open"]) == 1 and theirs["checkin_edit_open"][0]["value"] != mine["checkin_edit_open"][0]["value"]
    assert set(history_buttons(okr.ok("history KR-1", user="U3"))) == {"chart_show"}, "only the chart for others"


def test_edit_from_history_opens_the_form_filled_in_and_saving_fixes_an_older_check_in(okr, bot, client, slack, announced):
    okr.ok("checkin KR-1 30")  # now the latest; the fix below is on the older one
    (edit, _newer) = history_buttons(okr.ok("history KR-1"))["checkin_edit_open"][::-1]
    before = len(slack.calls())
    client.block_action("checkin_edit_open", edit["value"], user_id="U1")
    bot.settle()
    (opened,) = [c for c in slack.calls()[before:] if c.method == "views.open"]
    view = opened.args["view"]
    values = {b["block_id"]: b["element"].get("initial_value") for b in view["blocks"] if b["type"] == "input"}
    assert values["value"] == "35" and values["note"] == "first week"
    response = client.view_submission(view, state_values=fill(view, value="36", note="recounted"), user_id="U1")
    assert response.status_code == 200 and response.text == ""
    bot.settle()
    assert kr_state(bot) == (30.0, 0.75), "an older check-in does not move the KR"
    assert checkins(bot) == [36.0, 30.0]
    (update,) = [c for c in slack.calls()[before:] if c.method == "chat.update"]
    assert update.args["ts"] == announced and "36 days" in block_text(update.args["blocks"]) and "recounted" in block_text(update.args["blocks"])


def test_delete_from_history_and_someone_elses_button_is_refused(okr, bot, client, slack, announced):
    (delete,) = history_buttons(okr.ok("history KR-1"))["checkin_delete"]
    before = len(slack.calls())
    client.block_action("checkin_delete", delete["value"], user_id="U2")
    bot.settle()
    assert kr_state(bot) == (35.0, 0.5)
    assert "Only <@U1>, who made that check-in, or an admin" in "\n".join(
        str(c.args.get("text")) for c in slack.calls()[before:]
    )
    client.block_action("checkin_delete", delete["value"], user_id="U1")
    bot.settle()
    assert kr_state(bot) == (45.0, 0.0) and checkins(bot) == []
