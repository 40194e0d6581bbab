"""Every modal, end to end: opened by a command or a button, taken from the views.open
the Slack double recorded, filled in and submitted as Slack submits it.

A good submission is acked with an empty body (the modal closes) and its effect shows
in `/okr status`, history or the channel; a bad one is acked with
`{"response_action": "errors", "errors": {block_id: message}}` and changes nothing.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.e2e.blockkit import has_button
from tests.e2e.conftest import block_text, told

pytestmark = pytest.mark.usefixtures("valid_blockkit")

TEAM = "C9"


# --------------------------------------------------------------------------- filling a modal in


def typed(value: str | None) -> dict:
    return {"type": "plain_text_input", "value": value}


def picked_user(user: str | None) -> dict:
    return {"type": "users_select", "selected_user": user}


def picked_channel(channel: str | None) -> dict:
    return {"type": "conversations_select", "selected_conversation": channel}


def chosen(value: str | None) -> dict:
    option = {"text": {"type": "plain_text", "text": value}, "value": value} if value else None
    return {"type": "static_select", "selected_option": option}


def ticked(*values: str) -> dict:
    return {
        "type": "checkboxes",
        "selected_options": [{"text": {"type": "plain_text", "text": v}, "value": v} for v in values],
    }


def as_shown(view: dict) -> dict[str, dict[str, Any]]:
    """The state Slack submits for an untouched modal: each input at its initial value."""
    state: dict[str, dict[str, Any]] = {}
    for block in view["blocks"]:
        if block.get("type") != "input":
            continue
        element = block["element"]
        kind = element["type"]
        if kind == "plain_text_input":
            value = typed(element.get("initial_value"))
        elif kind == "users_select":
            value = picked_user(element.get("initial_user"))
        elif kind == "conversations_select":
            value = picked_channel(element.get("initial_conversation"))
        elif kind == "static_select":
            value = chosen((element.get("initial_option") or {}).get("value"))
        elif kind == "external_select":
            value = {"type": "external_select", "selected_option": element.get("initial_option")}
        elif kind == "checkboxes":
            value = ticked(*[o["value"] for o in element.get("initial_options") or []])
        else:
            raise AssertionError(f"the test does not know how Slack submits a {kind}")
        state[block["block_id"]] = {element["action_id"]: value}
    return state


def fill(view: dict, **fields: Any) -> dict[str, dict[str, Any]]:
    """The modal as shown, with `fields` changed: a str is typed, a dict is a chosen element."""
    state = as_shown(view)
    for block_id, value in fields.items():
        assert block_id in state, f"the modal has no {block_id!r} input; it has {sorted(state)}"
        action_id = next(iter(state[block_id]))
        state[block_id] = {action_id: value if isinstance(value, dict) else typed(value)}
    return state


class Modals:
    """Opens modals the way a person does and submits them the way Slack does."""

    def __init__(self, okr, client, slack, bot):
        self.okr, self.client, self.slack, self.bot = okr, client, slack, bot

    def by_command(self, text: str, *, user: str = "U1", channel: str = TEAM) -> dict:
        answer = self.okr(text, user=user, channel=channel)
        assert answer.view is not None, f"/okr {text} opened no modal: {answer.text}"
        return answer.view

    def by_button(self, action_id: str, value: str, *, user: str = "U1", channel: str = TEAM) -> dict:
        before = len(self.slack.calls("views.open"))
        response = self.client.block_action(action_id, value, user_id=user, channel_id=channel)
        assert response.status_code == 200
        self.bot.settle()
        opened = self.slack.calls("views.open")[before:]
        assert len(opened) == 1, f"{action_id} opened {len(opened)} modals; {self.slack.describe()}"
        return opened[0].args["view"]

    def submit(self, view: dict, state: dict, *, user: str = "U1") -> dict | None:
        """Submit; returns the ack's JSON (None when the body is empty: the modal closes)."""
        response = self.client.view_submission(view, state_values=state, user_id=user)
        assert response.status_code == 200, response.text
        assert response.elapsed.total_seconds() < 3, "Slack gives up on a view_submission after 3 s"
        self.bot.settle()
        return json.loads(response.text) if response.text else None

    def closes(self, view: dict, state: dict, *, user: str = "U1") -> None:
        ack = self.submit(view, state, user=user)
        assert ack is None, f"the modal should close; the bot answered {ack}"

    def errors(self, view: dict, state: dict, *, user: str = "U1") -> dict[str, str]:
        ack = self.submit(view, state, user=user)
        assert ack and ack.get("response_action") == "errors", f"expected field errors, got {ack}"
        shown = {b.get("block_id") for b in view["blocks"] if b.get("type") == "input"}
        assert set(ack["errors"]) <= shown, f"Slack refuses errors for blocks the modal lacks: {ack['errors']}"
        return ack["errors"]

    def confirmations(self, user: str = "U1") -> str:
        """Everything the bot told `user` privately (ephemeral notes and DMs), newest last."""
        return told(self.slack.calls(), user)


@pytest.fixture
def modals(okr, client, slack, bot) -> Modals:
    return Modals(okr, client, slack, bot)


def seed(okr) -> None:
    okr.ok('objective add "Grow activation" team <#C9|growth>')
    okr.ok('kr add O-1 "Cut time to value" from 45 to 25 days')
    okr.ok('kr add O-1 "Ship onboarding" by initiatives')
    okr.ok('kr add O-1 "SOC 2 report" yes/no')


# --------------------------------------------------------------------------- objectives


def test_objective_create_modal(okr, modals, slack):
    view = modals.by_command("objective add", channel="C5")
    assert view["callback_id"] == "objective_modal"
    modals.closes(
        view,
        fill(
            view,
            title="Grow activation",
            owner=picked_user("U2"),
            team=picked_channel(TEAM),
            description="Because users churn",
        ),
    )
    assert "Created" in modals.confirmations() and "O-1 Grow activation" in modals.confirmations()
    [announcement] = [c for c in slack.calls("chat.postMessage") if c.args["channel"] == TEAM]
    assert "New objective" in block_text(announcement.args["blocks"])
    shown = okr.ok("status O-1").text
    assert "Grow activation" in shown and "<@U2>" in shown and f"<#{TEAM}>" in shown


def test_objective_created_in_its_team_channel_by_modal_is_seen_by_the_channel(okr, modals, slack):
    view = modals.by_command("objective add", channel=TEAM)
    modals.closes(view, fill(view, title="Grow activation"))  # the team defaults to where it was opened
    seen = [c for c in slack.calls("chat.postMessage") if c.args["channel"] == TEAM]
    assert seen and "O-1 Grow activation" in block_text(seen[-1].args["blocks"])


def test_objective_create_modal_with_parent_and_private(okr, modals):
    okr.ok('objective add "Company goal"')
    view = modals.by_command("objective add", channel="C5")
    modals.closes(view, fill(view, title="Secret plan", parent="o1", private=ticked("private")))
    shown = okr.ok("status O-2").text
    assert "aligns to O-1" in shown and ":lock: private" in shown
    assert "Secret plan" not in okr.ok("status all", user="U3").text


def test_objective_edit_modal(okr, modals):
    seed(okr)
    view = modals.by_command("edit O-1")
    assert view["title"]["text"] == "Edit O-1"
    modals.closes(view, fill(view, title="Grow activation fast"))
    assert "Saved *O-1* Grow activation fast" in modals.confirmations()
    assert "Grow activation fast" in okr.ok("status O-1").text


@pytest.mark.parametrize(
    "fields, field, says",
    [
        ({"title": "   "}, "title", "required"),
        ({"parent": "KR-1"}, "parent", "O-3"),
        ({"parent": "O-99"}, "parent", "no O-99"),
        ({"period": "next year"}, "period", "not a period"),
    ],
    ids=["empty-title", "parent-not-an-objective", "parent-missing", "bad-period"],
)
def test_objective_modal_field_errors(okr, modals, fields, field, says):
    seed(okr)
    before = okr.ok("status all").text
    view = modals.by_command("objective add")
    errors = modals.errors(view, fill(view, **{"title": "New one", **fields}))
    assert field in errors and says in errors[field], errors
    assert okr.ok("status all").text == before


# --------------------------------------------------------------------------- key results

KR_KINDS = [
    # kind, fields typed, what status KR-n shows
    ("numeric", {"start": "45", "target": "25", "unit": "days"}, "45 days → 25 days (from 45 days)"),
    ("percentage", {"start": "20", "target": "40%"}, "20% → 40% (from 20%)"),
    ("keep_above", {"target": "99.9", "unit": "%"}, "keep at or above 99.9"),
    ("keep_below", {"target": "200", "unit": "ms"}, "keep at or below 200 ms"),
    ("boolean", {}, "not yet"),
    ("milestone", {}, "0 of 0 initiatives done"),
]


@pytest.mark.parametrize("kind, fields, shown", KR_KINDS, ids=[k[0] for k in KR_KINDS])
def test_kr_create_modal_in_each_kind(okr, modals, kind, fields, shown):
    okr.ok('objective add "Grow activation" team <#C9|growth>')
    view = modals.by_button("kr_new_open", "O-1")
    assert view["callback_id"] == "kr_modal" and view["title"]["text"] == "New key result"
    modals.closes(view, fill(view, title=f"A {kind} KR", metric=chosen(kind), owner=picked_user("U2"), **fields))
    assert "Created *KR-1*" in modals.confirmations()
    detail = okr.ok("status KR-1").text
    assert f"A {kind} KR" in detail and shown in detail and "<@U2>" in detail


def test_the_add_kr_button_is_on_the_status_card_and_refuses_those_who_may_not(okr, modals, slack):
    okr.ok('objective add "Grow activation" team <#C9|growth>')
    assert has_button(okr.ok("status O-1").body["blocks"], "kr_new_open")
    before = len(slack.calls("views.open"))
    modals.client.block_action("kr_new_open", "O-1", user_id="U2", channel_id=TEAM)
    modals.bot.settle()
    assert len(slack.calls("views.open")) == before
    assert "Only <@U1>" in modals.confirmations("U2")


def test_kr_edit_modal_keeps_its_kind_and_changes_the_target(okr, modals):
    seed(okr)
    okr.ok("checkin KR-1 35")
    view = modals.by_command("edit KR-1")
    state = as_shown(view)
    assert state["metric"]["value"]["selected_option"]["value"] == "numeric"
    assert state["start"]["value"]["value"] == "45" and state["target"]["value"]["value"] == "25"
    modals.closes(view, fill(view, target="15"))
    assert "Saved *KR-1*" in modals.confirmations()
    detail = okr.ok("status KR-1").text
    assert "35 days → 15 days (from 45 days)" in detail and "33%" in detail


@pytest.mark.parametrize(
    "fields, field, says",
    [
        ({"title": "  "}, "title", "required"),
        ({"start": "lots"}, "start", "not a number"),
        ({"target": "25 days"}, "target", "not a number"),
        ({"target": ""}, "target", "target"),
        ({"start": ""}, "start", "start"),
        ({"weight": "0"}, "weight", "above 0"),
    ],
    ids=["empty-title", "start-not-a-number", "target-not-a-number", "no-target", "no-start", "zero-weight"],
)
def test_kr_modal_field_errors(okr, modals, fields, field, says):
    okr.ok('objective add "Grow activation"')
    before = okr.ok("status all").text
    view = modals.by_button("kr_new_open", "O-1")
    good = {"title": "Cut time to value", "metric": chosen("numeric"), "start": "45", "target": "25"}
    errors = modals.errors(view, fill(view, **{**good, **fields}))
    assert field in errors and says in errors[field], errors
    assert okr.ok("status all").text == before


# --------------------------------------------------------------------------- initiatives


def test_initiative_create_modal_links_and_posts_the_card(okr, modals, slack):
    seed(okr)
    detail = okr.ok("status KR-2")
    assert has_button(detail.body["blocks"], "initiative_new_open")
    view = modals.by_button("initiative_new_open", "KR-2")
    assert view["callback_id"] == "initiative_modal" and view["title"]["text"] == "New initiative"
    url = "https://github.com/acme/app/issues/12"
    modals.closes(view, fill(view, title="Redesign signup", url=url, weight="2", owner=picked_user("U2")))
    assert "Created and linked *I-1*" in modals.confirmations()
    [card] = [c for c in slack.calls("chat.postMessage") if "I-1" in c.args.get("text", "")]
    assert card.args["channel"] == TEAM
    assert url in block_text(card.args["blocks"]) and "initiative_mark_done" in json.dumps(card.args["blocks"])
    assert "I-1" in okr.ok("status KR-2").text


def test_initiative_edit_modal_renames_and_marking_done_moves_the_kr(okr, modals, slack):
    seed(okr)
    card = okr.ok('initiative add KR-2 "Redesign signup"').posts(TEAM)[0]
    view = modals.by_command("edit I-1")
    assert as_shown(view)["status"]["value"]["selected_option"]["value"] == "todo"
    modals.closes(view, fill(view, title="Redesign signup v2", status=chosen("done")))
    assert "0% → *100%*" in modals.confirmations()
    update = slack.calls("chat.update")[-1]
    assert update.args["ts"] == card.response["ts"]
    assert "Redesign signup v2" in block_text(update.args["blocks"]) and "initiative_reopen" in json.dumps(
        update.args["blocks"]
    )
    detail = okr.ok("status KR-2").text
    assert "Redesign signup v2" in detail and "100%" in detail


@pytest.mark.parametrize(
    "fields, field, says",
    [
        ({"title": ""}, "title", "required"),
        ({"url": "github.com/acme/app/issues/12"}, "url", "https://"),
        ({"weight": "heavy"}, "weight", "not a number"),
    ],
    ids=["empty-title", "bad-url", "weight-not-a-number"],
)
def test_initiative_modal_field_errors(okr, modals, fields, field, says):
    seed(okr)
    before = okr.ok("status KR-2").text
    view = modals.by_button("initiative_new_open", "KR-2")
    errors = modals.errors(view, fill(view, **{"title": "Redesign signup", **fields}))
    assert field in errors and says in errors[field], errors
    assert okr.ok("status KR-2").text == before


# --------------------------------------------------------------------------- check-ins


def test_checkin_modal_numeric(okr, modals, slack):
    seed(okr)
    view = modals.by_button("kr_checkin_open", "KR-1")
    assert view["callback_id"] == "checkin_modal" and view["title"]["text"] == "Check in KR-1"
    modals.closes(view, fill(view, value="35", confidence=chosen("7"), note="halfway there"))
    assert "Recorded *KR-1* = 35 days, confidence 7/10" in modals.confirmations()
    [announcement] = [c for c in slack.calls("chat.postMessage") if "change_undo" in json.dumps(c.args.get("blocks"))]
    assert announcement.args["channel"] == TEAM and "halfway there" in block_text(announcement.args["blocks"])
    detail = okr.ok("status KR-1").text
    assert "50%" in detail and "confidence 7/10" in detail
    assert "via modal" in okr.ok("history KR-1").text


def test_the_modal_closes_before_the_confirmation_and_announcement_are_posted(okr, modals, client, slack, bot):
    # Slack closes the modal when the HTTP answer comes; what the bot posts next must not hold it open.
    seed(okr)
    view = modals.by_button("kr_checkin_open", "KR-1")
    for method in ("chat.postEphemeral", "chat.postMessage"):
        slack.delay(method, 3)
    posted_before = len(slack.delivered("chat.postEphemeral")) + len(slack.delivered("chat.postMessage"))
    response = client.view_submission(view, state_values=fill(view, value="35"), user_id="U1")
    assert response.status_code == 200 and not response.text  # closed
    assert len(slack.delivered("chat.postEphemeral")) + len(slack.delivered("chat.postMessage")) == posted_before
    bot.settle(timeout=15)
    assert "Recorded *KR-1* = 35 days" in modals.confirmations()


@pytest.mark.parametrize("answer, progress", [("yes", "100%"), ("no", "0%")])
def test_checkin_modal_boolean(okr, modals, answer, progress):
    seed(okr)
    view = modals.by_button("kr_checkin_open", "KR-3")
    [value_block] = [b for b in view["blocks"] if b.get("block_id") == "value"]
    assert value_block["element"]["type"] == "static_select"
    modals.closes(view, fill(view, value=chosen(answer)))
    assert f"Recorded *KR-3* = {answer}" in modals.confirmations()
    assert progress in okr.ok("status KR-3").text
    assert "checked in" in okr.ok("history KR-3").text


@pytest.mark.parametrize(
    "value, says",
    [("about forty", "not a number"), ("", "required"), ("-", "not a number")],
    ids=["words", "empty", "dash"],
)
def test_checkin_modal_refuses_a_value_that_is_not_a_number(okr, modals, value, says):
    seed(okr)
    view = modals.by_button("kr_checkin_open", "KR-1")
    errors = modals.errors(view, fill(view, value=value))
    assert says in errors["value"], errors
    assert "Nothing yet" in okr.ok("history KR-1").text


def test_checkin_modal_by_someone_who_may_not_edit_the_kr_shows_why_on_the_form(okr, modals):
    seed(okr)
    view = modals.by_button("kr_checkin_open", "KR-1", user="U2")
    errors = modals.errors(view, fill(view, value="30"), user="U2")
    assert "Only <@U1>" in errors["value"]
    assert "0%" in okr.ok("status KR-1").text and "Nothing yet" in okr.ok("history KR-1").text


def test_a_form_with_garbled_metadata_asks_to_reopen_it(okr, modals):
    seed(okr)
    view = modals.by_button("kr_checkin_open", "KR-1")
    errors = modals.errors({**view, "private_metadata": "{not json"}, fill(view, value="30"))
    assert "out of date" in errors["value"]


# --------------------------------------------------------------------------- linking work


def test_link_modal_by_id(okr, modals, slack):
    seed(okr)
    okr.ok('kr add O-1 "More onboarding" by initiatives')
    okr.ok('initiative add KR-2 "Redesign signup"')
    okr.ok("done I-1")
    view = modals.by_button("initiative_link_open", "KR-4")
    assert view["callback_id"] == "link_modal" and view["title"]["text"] == "Link to KR-4"
    modals.closes(view, fill(view, url="i1"))
    assert "Linked *I-1*" in modals.confirmations() and "0% → *100%*" in modals.confirmations()
    detail = okr.ok("status KR-4").text
    assert "I-1" in detail and "100%" in detail


def test_link_modal_by_url_creates_the_initiative(okr, modals, slack):
    seed(okr)
    view = modals.by_button("initiative_link_open", "KR-2")
    url = "https://github.com/acme/app/pull/7"
    modals.closes(view, fill(view, url=url, weight="2"))
    assert "Created and linked *I-1*" in modals.confirmations()
    [card] = [c for c in slack.calls("chat.postMessage") if c.args.get("text", "").startswith("I-1")]
    assert card.args["channel"] == TEAM and url in block_text(card.args["blocks"])
    assert "I-1" in okr.ok("status KR-2").text


def test_check_in_on_a_milestone_kr_opens_the_link_modal(modals):
    seed(modals.okr)
    view = modals.by_button("kr_checkin_open", "KR-2")
    assert view["callback_id"] == "link_modal"


@pytest.mark.parametrize(
    "url, says",
    [
        ("not a link", "neither an initiative id"),
        ("I-99", "no initiative I-99"),
        ("KR-1", "neither an initiative id"),
        ("", "required"),
    ],
    ids=["words", "unknown-initiative", "a-kr-id", "empty"],
)
def test_link_modal_field_errors(okr, modals, url, says):
    seed(okr)
    before = okr.ok("status KR-2").text
    view = modals.by_button("initiative_link_open", "KR-2")
    errors = modals.errors(view, fill(view, url=url))
    assert says in errors["url"], errors
    assert okr.ok("status KR-2").text == before


def test_renaming_an_initiative_updates_its_card(okr, modals, slack):
    seed(okr)
    card = okr.ok('initiative add KR-2 "Redesign signup"').posts(TEAM)[0]
    view = modals.by_command("edit I-1")
    modals.closes(view, fill(view, title="Redesign the whole signup", url="https://github.com/acme/app/issues/3"))
    assert "Saved *I-1*" in modals.confirmations()
    [update] = [c for c in slack.calls("chat.update") if c.args["ts"] == card.response["ts"]]
    text = block_text(update.args["blocks"])
    assert "Redesign the whole signup" in text and "https://github.com/acme/app/issues/3" in text
    assert "initiative_mark_done" in json.dumps(update.args["blocks"]), "still open: the button stays Mark done"


@pytest.mark.parametrize("how", ["objective", "kr-create", "kr-edit", "initiative"])
def test_titles_from_forms_cannot_ping_the_channel(okr, modals, slack, how):
    """A title is the person's text: `<!channel>` in it must reach Slack escaped."""
    seed(okr)
    title = "Fix it <!channel> now"
    if how == "objective":
        view = modals.by_command("edit O-1")
    elif how == "kr-create":
        view = modals.by_button("kr_new_open", "O-1")
    elif how == "kr-edit":
        view = modals.by_command("edit KR-2")
    else:
        okr.ok('initiative add KR-2 "Redesign signup"')
        view = modals.by_command("edit I-1")
    fields = {"title": title}
    if how == "kr-create":
        fields["metric"] = chosen("boolean")
    modals.closes(view, fill(view, **fields))
    sent = [
        c
        for c in slack.calls()
        if c.method in ("chat.postEphemeral", "chat.postMessage", "chat.update", "response_url")
    ]
    assert sent and not any("<!channel>" in json.dumps(c.args) for c in sent)
    assert "&lt;!channel&gt;" in json.dumps(sent[-1].args)
