"""Text that displays as written (issue 17), end to end: a title typed with a right-to-left
override or a zero-width space reaches the Slack double without it, and is stored without it.

Each case goes over signed HTTP; every call the Slack double recorded (answers to
response URLs, channel posts, card updates, forms) is checked for the raw characters.
"""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from okrbot.adapters.slack.ids import Field
from okrbot.store.models import CheckIn, Initiative, Objective
from tests.e2e.test_modals import fill

RLO, PDF, ZWSP = "\u202e", "\u202c", "\u200b"
HIDDEN = (RLO, PDF, ZWSP, "\u2066", "\u2069", "\u200f")


def everything_sent(slack) -> str:
    return "\n".join(json.dumps(call.args, ensure_ascii=False) for call in slack.calls())


def assert_clean(slack) -> None:
    sent = everything_sent(slack)
    for char in HIDDEN:
        assert char not in sent, f"U+{ord(char):04X} reached Slack"


def test_a_title_typed_with_a_right_to_left_override_reaches_slack_clean(okr, slack, bot):
    # Trojan Source: shown raw, this reads "Fix login token-based"; the bot shows what is stored.
    typed = f"Fix login {RLO}desab-nekot{PDF}"
    answer = okr.ok(f'objective add "{typed}" team <#C9|growth>')
    assert "Fix login desab-nekot" in answer.text
    assert any("Fix login desab-nekot" in json.dumps(c.args, ensure_ascii=False) for c in slack.calls("chat.postMessage"))
    okr.ok('kr add O-1 "Adopted" by initiatives')
    okr.ok(f'initiative add KR-1 "Ping @{ZWSP}channel {RLO}won"')  # its card goes to #C9
    okr.ok(f'kr add O-1 "Latency" from 400 to 200 m{ZWSP}s')
    okr.ok(f'checkin KR-2 300 "blocked on {RLO}lagel"')
    okr.ok("status all")
    assert_clean(slack)
    cards = [c for c in slack.calls("chat.postMessage") if str(c.args.get("text", "")).startswith("I-1 ")]
    assert cards and "Ping @channel won" in json.dumps(cards[0].args, ensure_ascii=False)
    assert "<!channel>" not in everything_sent(slack)
    with bot.db.session_scope() as session:
        assert session.exec(select(Objective.title)).one() == "Fix login desab-nekot"
        assert session.exec(select(Initiative.title)).one() == "Ping @channel won"
        assert session.exec(select(CheckIn.note)).one() == "blocked on lagel"


@pytest.mark.parametrize("field", [Field.TITLE, Field.DESCRIPTION])
def test_a_form_submitted_with_hidden_characters_is_saved_and_shown_clean(okr, client, slack, bot, field):
    view = okr("objective add").view
    state = fill(view, **{Field.TITLE.value: "Grow activation", field.value: f"Grow {RLO}noitavitca{PDF} now{ZWSP}"})
    response = client.view_submission(view, state_values=state, user_id="U1")
    assert response.status_code == 200 and not response.text, response.text
    bot.settle()
    with bot.db.session_scope() as session:
        objective = session.exec(select(Objective)).one()
    assert getattr(objective, "title" if field is Field.TITLE else "description") == "Grow noitavitca now"
    okr.ok("status O-1")
    assert_clean(slack)


def test_a_refusal_quoting_the_typed_text_shows_it_clean(okr, slack):
    refused = okr(f"done https://example.com/{RLO}x")
    assert refused.problem
    assert_clean(slack)
