"""Every button the bot sends, pressed over real HTTP on the message (or view) it came in.

The message is the one the Slack double recorded when the bot posted it, so a test
presses exactly what a person would see; assertions are on what the bot then sent.
"""

from __future__ import annotations

import json

import pytest

from tests.e2e.blockkit import button, has_button
from tests.e2e.conftest import block_text, channel_of, message_of, told

pytestmark = pytest.mark.usefixtures("valid_blockkit")

TEAM = "C9"


class Press:
    """Presses a button on a recorded message and waits for the bot to finish."""

    def __init__(self, client, slack, bot):
        self.client, self.slack, self.bot = client, slack, bot

    def on_message(self, call, action_id: str, *, user: str = "U1", value: str | None = None):
        message = message_of(call)
        shown = button(message["blocks"], action_id)
        return self._press(
            action_id,
            shown.get("value") if value is None else value,
            user=user,
            channel_id=channel_of(call),
            message=message,
            block_id=_block_id_of(message["blocks"], action_id),
        )

    def on_ephemeral(self, blocks, action_id: str, *, channel: str, user: str = "U1"):
        """A button on an ephemeral reply (a /okr status card): Slack sends no message body."""
        shown = button(blocks, action_id)
        container = {"type": "message", "message_ts": "1700000000.000001", "channel_id": channel, "is_ephemeral": True}
        return self._press(action_id, shown.get("value"), user=user, channel_id=channel, container=container)

    def on_view(self, view: dict, action_id: str, *, user: str = "U1", value: str | None = None):
        shown = button(view["blocks"], action_id)
        return self._press(action_id, shown.get("value") if value is None else value, user=user, view=view)

    def raw(self, action_id: str, value: str, *, user: str = "U1", channel: str = TEAM):
        return self._press(action_id, value, user=user, channel_id=channel)

    def _press(self, action_id: str, value, *, user: str, **kwargs):
        before = len(self.slack.calls())
        response = self.client.block_action(action_id, value, user_id=user, **kwargs)
        assert response.status_code == 200 and response.text == "", "buttons are acked at once, with nothing to show"
        assert response.elapsed.total_seconds() < 3
        self.bot.settle()
        return Pressed([c for c in self.slack.calls()[before:] if c.method != "users.info"])


class Pressed:
    def __init__(self, calls):
        self.calls = calls

    def of(self, method: str, channel: str | None = None):
        return [c for c in self.calls if c.method == method and (channel is None or c.args.get("channel") == channel)]

    def told(self, user: str = "U1") -> str:
        """What the presser was told privately (ephemeral, or a DM from the App Home)."""
        return told(self.calls, user)

    @property
    def changed_channels(self) -> bool:
        """Anything posted to or edited in a channel (DMs to the presser aside)."""
        posted = [c for c in self.of("chat.postMessage") if str(c.args.get("channel", "")).startswith(("C", "G"))]
        return bool(posted or self.of("chat.update"))


def _block_id_of(blocks, action_id: str) -> str | None:
    for block in blocks:
        if has_button([block], action_id):
            return block.get("block_id")
    return None


@pytest.fixture
def press(client, slack, bot) -> Press:
    return Press(client, slack, bot)


def seed(okr):
    """O-1 for #C9: KR-1 numeric (45 → 25 days), KR-2 milestone with I-1 and I-2; returns I-1's card."""
    okr.ok('objective add "Grow activation" team <#C9|growth>')
    okr.ok('kr add O-1 "Cut time to value" from 45 to 25 days')
    okr.ok('kr add O-1 "Ship onboarding" by initiatives')
    card = okr.ok('initiative add KR-2 "Redesign signup"').posts(TEAM)[0]
    okr.ok('initiative add KR-2 "Welcome email"')
    return card


# --------------------------------------------------------------------------- Mark done and Reopen


def test_mark_done_on_the_card_marks_it_done_and_updates_the_card(okr, press):
    card = seed(okr)
    pressed = press.on_message(card, "initiative_mark_done")
    [update] = pressed.of("chat.update", TEAM)
    assert update.args["ts"] == card.response["ts"]
    assert "done" in block_text(update.args["blocks"])
    assert button(update.args["blocks"], "initiative_reopen")["value"] == "I-1"
    assert not has_button(update.args["blocks"], "initiative_mark_done")
    [announcement] = pressed.of("chat.postMessage", TEAM)
    assert "0% → *50%*" in block_text(announcement.args["blocks"])
    assert has_button(announcement.args["blocks"], "change_undo")
    assert "marked done" in pressed.told()
    assert "50%" in okr.ok("status KR-2").text


def test_reopen_on_the_updated_card_reopens_it(okr, press, slack):
    card = seed(okr)
    done = press.on_message(card, "initiative_mark_done").of("chat.update")[0]
    pressed = press.on_message(done, "initiative_reopen")
    [update] = pressed.of("chat.update", TEAM)
    assert update.args["ts"] == card.response["ts"]
    assert button(update.args["blocks"], "initiative_mark_done")["value"] == "I-1"
    assert "to do" in block_text(update.args["blocks"])
    assert "reopened" in pressed.told()
    assert "0 of 2 initiatives done" in okr.ok("status KR-2").text


def test_mark_done_pressed_twice_moves_progress_once(okr, press):
    card = seed(okr)
    press.on_message(card, "initiative_mark_done")
    again = press.on_message(card, "initiative_mark_done")  # a second click on the old card
    assert "already done" in again.told()
    assert not again.of("chat.postMessage", TEAM)
    assert "1 of 2 initiatives done" in okr.ok("status KR-2").text


# --------------------------------------------------------------------------- Undo


def test_undo_on_a_check_in_announcement_restores_progress(okr, press):
    seed(okr)
    announcement = okr.ok("checkin KR-1 35 confidence 7").posts(TEAM)[0]
    assert "50%" in okr.ok("status KR-1").text
    pressed = press.on_message(announcement, "change_undo")
    [update] = pressed.of("chat.update", TEAM)
    assert update.args["ts"] == announcement.response["ts"]
    assert "Undone by <@U1>" in block_text(update.args["blocks"])
    assert not has_button(update.args["blocks"], "change_undo")
    assert "Undone" in pressed.told()
    detail = okr.ok("status KR-1").text
    assert "45 days → 25 days" in detail and "50%" not in detail and "confidence 7/10" not in detail
    assert "(undone)" in okr.ok("history KR-1").text


def test_undo_on_a_done_announcement_reopens_the_work_and_its_card(okr, press):
    card = seed(okr)
    announcement = okr.ok("done I-1").posts(TEAM)[0]
    pressed = press.on_message(announcement, "change_undo")
    updates = {c.args["ts"]: c for c in pressed.of("chat.update", TEAM)}
    assert "Undone by <@U1>" in block_text(updates[announcement.response["ts"]].args["blocks"])
    assert has_button(updates[card.response["ts"]].args["blocks"], "initiative_mark_done")
    assert "0 of 2 initiatives done" in okr.ok("status KR-2").text


def test_undo_twice_is_refused_and_changes_nothing(okr, press):
    seed(okr)
    announcement = okr.ok("checkin KR-1 35").posts(TEAM)[0]
    press.on_message(announcement, "change_undo")
    okr.ok("checkin KR-1 30")
    again = press.on_message(announcement, "change_undo")
    assert "already undone" in again.told()
    assert not again.of("chat.update") and not again.of("chat.postMessage", TEAM)
    assert "75%" in okr.ok("status KR-1").text


def test_undo_by_someone_who_may_not_edit_the_kr_is_refused(okr, press):
    seed(okr)
    announcement = okr.ok("checkin KR-1 35").posts(TEAM)[0]
    pressed = press.on_message(announcement, "change_undo", user="U2")
    assert "Only <@U1>" in pressed.told("U2")
    assert not pressed.of("chat.update")
    assert "50%" in okr.ok("status KR-1").text


# --------------------------------------------------------------------------- buttons that open modals


def test_check_in_button_on_a_status_card_opens_the_check_in_modal(okr, press):
    seed(okr)
    status = okr.ok("status O-1", channel=TEAM)
    pressed = press.on_ephemeral(status.body["blocks"], "kr_checkin_open", channel=TEAM)
    [opened] = pressed.of("views.open")
    view = opened.args["view"]
    assert view["callback_id"] == "checkin_modal" and view["title"]["text"] == "Check in KR-1"
    assert json.loads(view["private_metadata"]) == {"number": 1, "channel": TEAM}
    assert opened.args["trigger_id"], "views.open needs the trigger of the click"


def test_link_work_button_on_a_milestone_kr_opens_the_link_modal(okr, press):
    seed(okr)
    status = okr.ok("status O-1", channel=TEAM)
    assert button(status.body["blocks"], "initiative_link_open")["value"] == "KR-2"
    pressed = press.on_ephemeral(status.body["blocks"], "initiative_link_open", channel=TEAM)
    [opened] = pressed.of("views.open")
    assert opened.args["view"]["callback_id"] == "link_modal"
    assert "KR-2" in opened.args["view"]["title"]["text"]


@pytest.mark.parametrize(
    "action_id, callback",
    [("initiative_new_open", "initiative_modal"), ("edit_open", "kr_modal")],
)
def test_kr_detail_buttons_open_their_modals(okr, press, action_id, callback):
    seed(okr)
    detail = okr.ok("status KR-2", channel=TEAM)
    [opened] = press.on_ephemeral(detail.body["blocks"], action_id, channel=TEAM).of("views.open")
    assert opened.args["view"]["callback_id"] == callback


def test_add_kr_button_on_an_objective_card_opens_the_kr_modal(okr, press):
    seed(okr)
    status = okr.ok("status all", channel=TEAM)
    [opened] = press.on_ephemeral(status.body["blocks"], "kr_new_open", channel=TEAM).of("views.open")
    assert opened.args["view"]["callback_id"] == "kr_modal"
    assert json.loads(opened.args["view"]["private_metadata"])["objective"] == 1


# --------------------------------------------------------------------------- App Home


def open_home(client, slack, bot, user: str = "U1") -> dict:
    before = len(slack.calls("views.publish"))
    assert client.event(client.app_home_opened(user)).status_code == 200
    slack.wait_for("views.publish", count=before + 1)
    bot.settle()
    published = slack.calls("views.publish")[-1]
    assert published.args["user_id"] == user
    return published.args["view"]


def test_app_home_shows_my_okrs_and_what_i_owe(okr, client, slack, bot):
    seed(okr)
    home = open_home(client, slack, bot)
    assert home["type"] == "home"
    text = block_text(home["blocks"])
    assert "O-1" in text and "KR-1" in text and "I-1" in text
    assert has_button(home["blocks"], "home_new_objective") and has_button(home["blocks"], "home_refresh")


def test_new_objective_on_app_home_opens_the_objective_modal(okr, client, slack, bot, press):
    home = open_home(client, slack, bot)
    [opened] = press.on_view(home, "home_new_objective").of("views.open")
    view = opened.args["view"]
    assert view["callback_id"] == "objective_modal" and view["title"]["text"] == "New objective"


def test_refresh_on_app_home_publishes_it_again_with_what_changed(okr, client, slack, bot, press):
    home = open_home(client, slack, bot)
    assert "Grow activation" not in block_text(home["blocks"])
    seed(okr)
    [published] = press.on_view(home, "home_refresh").of("views.publish")
    assert published.args["user_id"] == "U1"
    assert "Grow activation" in block_text(published.args["view"]["blocks"])


def test_mark_done_on_app_home_marks_it_done_and_republishes_home(okr, client, slack, bot, press):
    card = seed(okr)
    home = open_home(client, slack, bot)
    pressed = press.on_view(home, "initiative_mark_done", value="I-1")
    assert "marked done" in pressed.told()  # from the App Home: a DM
    [update] = pressed.of("chat.update", TEAM)
    assert update.args["ts"] == card.response["ts"]
    assert pressed.of("views.publish"), "the home tab shows the new state"
    assert "1 of 2 initiatives done" in okr.ok("status KR-2").text


# --------------------------------------------------------------------------- stale or garbage buttons


@pytest.mark.parametrize(
    "action_id, value, says",
    [
        ("initiative_mark_done", "garbage", "out of date"),
        ("initiative_mark_done", "KR-1", "out of date"),
        ("initiative_reopen", "", "out of date"),
        ("change_undo", "abc", "out of date"),
        ("change_undo", "999999", "no longer exists"),
        ("kr_checkin_open", "O-1", "out of date"),
        ("kr_checkin_open", "KR-99", "There is no KR-99"),
        ("initiative_link_open", "I-1", "out of date"),
        ("edit_open", "nonsense", "out of date"),
        ("kr_new_open", "KR-1", "out of date"),
        ("initiative_new_open", "KR-99", "There is no KR-99"),
        ("initiative_mark_done", "I-99", "no initiative I-99"),
    ],
)
def test_stale_or_garbage_buttons_answer_privately_and_change_nothing(okr, press, action_id, value, says):
    seed(okr)
    before = okr.ok("status all").text
    pressed = press.raw(action_id, value)
    assert says in pressed.told(), pressed.calls
    assert not pressed.changed_channels and not pressed.of("views.open")
    assert okr.ok("status all").text == before
