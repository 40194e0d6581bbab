"""Every row of SPEC §3, typed as `/okr …` over real HTTP; asserts on what reached Slack.

Each test reads the reply the bot POSTed to the command's response_url (ephemeral
or in_channel), the messages it posted or updated in channels, and the modals it
opened. Every payload is also checked as Block Kit (`valid_blockkit`).
"""

from __future__ import annotations

import json
import re
from zoneinfo import ZoneInfo

import httpx
import pytest

from okrbot.domain.periods import current_period
from okrbot.store.types import utcnow
from tests.e2e.blockkit import BlockKitError, assert_valid_payloads, button, mrkdwn_texts
from tests.e2e.conftest import block_text
from tests.fakes.slack_api import SlackDouble

pytestmark = pytest.mark.usefixtures("valid_blockkit")

TEAM = "C9"  # the growth team's channel
ELSEWHERE = "C1"  # a channel with no objectives
OTHER_PERIOD = "2024-Q2"  # another period than this one (one in the past: drafting a coming one opens 14 days before it)


def this_quarter() -> str:
    return str(current_period(utcnow(), ZoneInfo("UTC")))


def seed(okr) -> None:
    """O-1 for the growth team (#C9) with a numeric KR-1 (45 → 25 days) and a milestone KR-2."""
    okr.ok('objective add "Grow activation" team <#C9|growth>')
    okr.ok('kr add O-1 "Cut time to value" from 45 to 25 days')
    okr.ok('kr add O-1 "Ship onboarding" by initiatives')


# --------------------------------------------------------------------------- the ack


def test_every_command_is_acked_at_once_with_an_empty_body_and_answered_later(okr, slack):
    answer = okr("help")
    assert answer.http.status_code == 200
    assert answer.http.text == ""  # the answer goes to the response_url, after the ack
    assert answer.http.elapsed.total_seconds() < 3
    assert answer.ephemeral and "/okr status" in answer.text


# --------------------------------------------------------------------------- status


def test_bare_okr_and_status_me_show_my_okrs_privately(okr):
    seed(okr)
    okr.ok('objective add "Someone else\'s" owner <@U2|bob>')
    for text in ("", "status", "status me"):
        answer = okr.ok(text)
        assert answer.ephemeral
        assert "Your OKRs" in answer.text
        assert "O-1 Grow activation" in answer.text and "KR-1" in answer.text and "KR-2" in answer.text
        assert "Someone else" not in answer.text


def test_status_in_a_team_channel_shows_that_team_and_elsewhere_your_own(okr):
    okr.ok('objective add "Grow activation" team <#C9|growth>')
    okr.ok('objective add "Cut costs" owner <@U2|bob> team <#C8|ops>')
    in_team = okr.ok("status", user="U3", channel=TEAM)
    assert "Grow activation" in in_team.text and "Your OKRs" not in in_team.text
    assert "Cut costs" not in in_team.text
    elsewhere = okr.ok("status", user="U3", channel=ELSEWHERE)
    assert "Your OKRs" in elsewhere.text
    assert "You own no objective or KR" in elsewhere.text and "Grow activation" not in elsewhere.text


def test_status_of_a_user_a_channel_and_everyone(okr):
    okr.ok('objective add "Grow activation" team <#C9|growth>')
    okr.ok('objective add "Cut costs" owner <@U2|bob> team <#C8|ops>')
    theirs = okr.ok("status <@U2|bob>")
    assert "Their OKRs" in theirs.text and "Cut costs" in theirs.text and "Grow activation" not in theirs.text
    channel = okr.ok("status <#C8|ops>")
    assert "Cut costs" in channel.text and "Grow activation" not in channel.text
    everyone = okr.ok("status all")
    assert "All OKRs" in everyone.text
    assert "O-1 Grow activation" in everyone.text and "O-2 Cut costs" in everyone.text


def test_status_of_an_objective_and_of_a_kr(okr):
    seed(okr)
    okr.ok("checkin KR-1 35")
    objective = okr.ok("status O-1")
    assert "O-1" in objective.text and "Grow activation" in objective.text
    assert "KR-1" in objective.text and "50%" in objective.text
    kr = okr.ok("status kr1")  # any case, hyphen optional
    assert kr.ephemeral
    assert "KR-1 · Cut time to value" in kr.text
    assert "35 days → 25 days (from 45 days)" in kr.text and "50%" in kr.text
    assert button(kr.body["blocks"], "kr_checkin_open")["value"] == "KR-1"


def test_status_takes_a_period(okr):
    okr.ok('objective add "This quarter"')
    okr.ok(f'objective add "Later on" period {OTHER_PERIOD}')
    later = okr.ok(f"status all {OTHER_PERIOD}")
    assert OTHER_PERIOD in later.text and "Later on" in later.text and "This quarter" not in later.text
    now = okr.ok("status all")
    assert this_quarter() in now.text
    assert "This quarter" in now.text and "Later on" not in now.text


def test_status_cards_carry_check_in_link_work_and_add_kr_buttons(okr):
    seed(okr)
    blocks = okr.ok("status O-1").body["blocks"]
    assert button(blocks, "kr_new_open")["value"] == "O-1"
    assert button(blocks, "kr_checkin_open")["value"] == "KR-1"
    assert button(blocks, "initiative_link_open")["value"] == "KR-2"


# --------------------------------------------------------------------------- help


def test_help_lists_every_command_and_help_for_one_shows_its_usage(okr):
    everything = okr.ok("help")
    for row in (
        "objective add",
        "kr add",
        "initiative add",
        "link",
        "unlink",
        "done",
        "reopen",
        "checkin",
        "serves",
        "gaps",
        "review",
        "edit",
        "archive",
        "history",
    ):
        assert f"/okr {row}" in everything.text, row
    one = okr.ok("help kr")
    assert "by initiatives" in one.text and "keep above" in one.text and "/okr checkin" not in one.text


# --------------------------------------------------------------------------- objective add


def test_objective_add_with_every_option(okr, slack):
    okr.ok('objective add "Grow activation"')
    answer = okr.ok(
        f"objective add “Harden the platform” owner <@U2|bob> team <#C8|ops> period {OTHER_PERIOD} parent O-1 private"
    )
    assert answer.ephemeral and "Created" in answer.text and "O-2" in answer.text
    assert "<@U2>" in answer.text and ":lock: private" in answer.text and "aligns to O-1" in answer.text
    assert not answer.posts(), "a private objective is never announced in a channel"
    # Private: U2 (the owner) sees it; U3 does not.
    assert "Harden the platform" in okr.ok(f"status all {OTHER_PERIOD}", user="U2").text
    assert "Harden the platform" not in okr.ok(f"status all {OTHER_PERIOD}", user="U3").text


def test_objective_add_for_a_team_is_announced_in_its_channel(okr):
    answer = okr.ok('objective add "Grow activation" team <#C9|growth>')
    assert answer.ephemeral and "Created *O-1 Grow activation*" in answer.text
    assert "/okr kr add O-1" in answer.text  # the next step
    [post] = answer.posts(TEAM)
    assert "New objective" in block_text(post.args["blocks"]) and "O-1 Grow activation" in block_text(
        post.args["blocks"]
    )


def test_objective_add_in_its_own_team_channel_answers_in_channel(okr):
    answer = okr.ok('objective add "Grow activation" team <#C9|growth>', channel=TEAM)
    assert answer.public, "the channel should see its new objective"
    assert "O-1 Grow activation" in answer.text
    assert not answer.posts(), "announced once, by the in_channel reply"


def test_objective_add_without_arguments_opens_the_objective_modal(okr):
    answer = okr("objective add", channel=TEAM)
    assert answer.body is None, "a modal, not a reply"
    view = answer.view
    assert view["callback_id"] == "objective_modal"
    assert view["type"] == "modal" and view["title"]["text"] == "New objective"
    by_id = {block.get("block_id"): block for block in view["blocks"]}
    assert by_id["owner"]["element"]["initial_user"] == "U1"
    assert by_id["team"]["element"]["initial_conversation"] == TEAM
    assert by_id["period"]["element"]["initial_value"] == this_quarter()


# --------------------------------------------------------------------------- kr add

KR_FORMS = [
    ('"Cut time to value" from 45 to 25 days', "45 days → 25 days (from 45 days)", "0%"),
    ('"Raise activation" from 20% to 40%', "20% → 40% (from 20%)", "0%"),
    ('"SOC 2 report" yes/no', "not yet", "0%"),
    ('"Ship onboarding" by initiatives', "0 of 0 initiatives done", "0%"),
    ('"Uptime" keep above 99.9 %', "keep at or above 99.9%", "0%"),
    ('"p95 latency" keep below 200 ms owner <@U2|bob>', "keep at or below 200 ms", "0%"),
]


@pytest.mark.parametrize(
    "words, shown, progress",
    KR_FORMS,
    ids=["numeric", "percentage", "boolean", "milestone", "keep-above", "keep-below"],
)
def test_kr_add_in_every_form(okr, words, shown, progress):
    okr.ok('objective add "Grow activation"')
    answer = okr.ok(f"kr add O-1 {words}")
    assert answer.ephemeral and "Created *KR-1*" in answer.text and "on O-1" in answer.text
    assert "/okr " in answer.text  # says how to move it next
    detail = okr.ok("status KR-1")
    assert shown in detail.text and progress in detail.text


def test_kr_add_with_an_owner_makes_them_the_owner(okr):
    okr.ok('objective add "Grow activation"')
    okr.ok('kr add O-1 "Cut time to value" from 45 to 25 days owner <@U2|bob>')
    assert "KR-1" in okr.ok("status <@U2|bob>").text


# --------------------------------------------------------------------------- initiatives and links


def test_initiative_add_creates_links_and_posts_a_card_with_mark_done(okr):
    seed(okr)
    answer = okr.ok(
        'initiative add KR-2 "Redesign signup" owner <@U2|bob> url https://github.com/acme/app/issues/12 weight 2'
    )
    assert answer.ephemeral and "Created and linked *I-1*" in answer.text and "*KR-2*" in answer.text
    assert f"<#{TEAM}>" in answer.text  # says where the card went
    [card] = answer.posts(TEAM)
    text = block_text(card.args["blocks"])
    assert "I-1" in text and "Redesign signup" in text and "KR-2" in text and "<@U2>" in text
    assert "https://github.com/acme/app/issues/12" in text
    assert button(card.args["blocks"], "initiative_mark_done")["value"] == "I-1"
    assert "I-1" in okr.ok("status KR-2").text


def test_initiative_add_on_a_kr_without_team_channel_posts_the_card_where_it_was_typed(okr):
    okr.ok('objective add "Grow activation"')
    okr.ok('kr add O-1 "Ship onboarding" by initiatives')
    answer = okr.ok('initiative add KR-1 "Redesign signup"', channel="C5")
    [card] = answer.posts("C5")
    assert button(card.args["blocks"], "initiative_mark_done")["value"] == "I-1"


def test_link_an_existing_initiative_by_id(okr):
    seed(okr)
    okr.ok('initiative add KR-2 "Redesign signup"')
    answer = okr.ok("link I-1 KR-1 weight 2")
    assert "Linked *I-1*" in answer.text and "*KR-1*" in answer.text
    # The card posted when I-1 was added now lists both KRs; no second card in the channel.
    assert not answer.posts(TEAM)
    [card] = answer.of("chat.update", TEAM)
    assert "KR-1" in block_text(card.args["blocks"]) and "KR-2" in block_text(card.args["blocks"])
    assert "I-1" in okr.ok("status KR-1").text
    again = okr.ok("link i1 kr1 weight 2")
    assert "already linked" in again.text and not again.posts()


def test_link_by_url_creates_the_initiative_once(okr):
    seed(okr)
    url = "https://github.com/acme/app/pull/7"
    first = okr.ok(f"link <{url}|acme/app#7> KR-2")
    assert "Created and linked *I-1*" in first.text
    assert button(first.posts(TEAM)[0].args["blocks"], "initiative_mark_done")["value"] == "I-1"
    second = okr.ok(f"link {url} KR-1")
    assert "Linked *I-1*" in second.text, "the same URL is the same initiative"
    assert "I-2" not in okr.ok("status KR-1").text


def test_unlink(okr):
    seed(okr)
    okr.ok('initiative add KR-2 "Redesign signup"')
    okr.ok('initiative add KR-2 "Welcome email"')
    okr.ok("done I-1")
    answer = okr.ok("unlink I-1 KR-2")
    assert "Unlinked *I-1* from *KR-2*" in answer.text and "50% → *0%*" in answer.text
    detail = okr.ok("status KR-2")
    assert "I-1" not in detail.text and "I-2" in detail.text


# --------------------------------------------------------------------------- done and reopen


def test_done_moves_milestone_krs_updates_the_card_and_announces_with_undo(okr, slack):
    seed(okr)
    card = okr.ok('initiative add KR-2 "Redesign signup"').posts(TEAM)[0]
    okr.ok('initiative add KR-2 "Welcome email"')
    answer = okr.ok("done I-1")
    assert answer.ephemeral and "marked done" in answer.text and "0% → *50%*" in answer.text
    [update] = answer.of("chat.update")
    assert update.args["channel"] == TEAM and update.args["ts"] == card.response["ts"]
    assert "done" in block_text(update.args["blocks"])
    assert button(update.args["blocks"], "initiative_reopen")["value"] == "I-1"
    [announcement] = answer.posts(TEAM)
    text = block_text(announcement.args["blocks"])
    assert "KR-2" in text and "50%" in text and "<@U1>" in text
    assert button(announcement.args["blocks"], "change_undo")["value"].isdigit()
    assert "50%" in okr.ok("status KR-2").text


def test_done_and_reopen_by_url(okr):
    seed(okr)
    url = "https://github.com/acme/app/issues/12"
    okr.ok(f'initiative add KR-2 "Redesign signup" url {url}')
    assert "100%" in okr.ok(f"done <{url}>").text
    reopened = okr.ok(f"reopen {url}")
    assert "reopened" in reopened.text and "100% → *0%*" in reopened.text
    [update] = reopened.of("chat.update")
    assert button(update.args["blocks"], "initiative_mark_done")["value"] == "I-1"
    assert "0 of 1 initiatives done" in okr.ok("status KR-2").text


def test_done_twice_changes_nothing_the_second_time(okr):
    seed(okr)
    okr.ok('initiative add KR-2 "Redesign signup"')
    okr.ok("done I-1")
    again = okr.ok("done I-1")
    assert "already done" in again.text
    assert not again.posts() and not again.of("chat.update")


# --------------------------------------------------------------------------- check-ins


def test_checkin_with_confidence_and_note_moves_progress_and_announces(okr):
    seed(okr)
    answer = okr.ok('checkin KR-1 35 confidence 7 "halfway there"')
    assert answer.ephemeral
    assert "Recorded *KR-1* = 35 days, confidence 7/10" in answer.text and "0% → *50%*" in answer.text
    [announcement] = answer.posts(TEAM)
    text = block_text(announcement.args["blocks"])
    assert "halfway there" in text and "50%" in text
    assert button(announcement.args["blocks"], "change_undo")
    detail = okr.ok("status KR-1")
    assert "50%" in detail.text and "confidence 7/10" in detail.text


@pytest.mark.parametrize("value, progress", [("yes", "100%"), ("no", "0%")])
def test_checkin_yes_no_on_a_boolean_kr(okr, value, progress):
    okr.ok('objective add "Be compliant" team <#C9|growth>')
    okr.ok('kr add O-1 "SOC 2 report" yes/no')
    if value == "no":
        okr.ok("checkin KR-1 yes")
    answer = okr.ok(f"checkin KR-1 {value} conf 8")
    assert f"= {value}" in answer.text and f"*{progress}*" in answer.text
    assert progress in okr.ok("status KR-1").text


# --------------------------------------------------------------------------- edit, archive, history


@pytest.mark.parametrize(
    "ref, callback, title, initial",
    [
        ("O-1", "objective_modal", "Edit O-1", "Grow activation"),
        ("KR-1", "kr_modal", "Edit KR-1", "Cut time to value"),
        ("I-1", "initiative_modal", "Edit I-1", "Redesign signup"),
    ],
)
def test_edit_opens_the_form_filled_in(okr, ref, callback, title, initial):
    seed(okr)
    okr.ok('initiative add KR-2 "Redesign signup"')
    answer = okr(f"edit {ref}")
    assert answer.body is None
    view = answer.view
    assert view["callback_id"] == callback and view["title"]["text"] == title
    title_block = next(b for b in view["blocks"] if b.get("block_id") == "title")
    assert title_block["element"]["initial_value"] == initial


def test_edit_by_someone_who_may_not_is_refused_privately(okr):
    seed(okr)
    answer = okr("edit O-1", user="U2")
    assert answer.problem and "Only <@U1>" in answer.text
    assert answer.view is None


def test_archive_hides_the_objective_and_keeps_history(okr):
    seed(okr)
    okr.ok("checkin KR-1 40")
    answer = okr.ok("archive O-1")
    assert "Archived *O-1*" in answer.text
    assert "Grow activation" not in okr.ok("status all").text
    assert "40 days" in okr.ok("history KR-1").text
    refused = okr('kr add O-1 "More" yes/no')
    assert refused.problem and "archived" in refused.text


def test_history_lists_check_ins_newest_first(okr):
    seed(okr)
    okr.ok('checkin KR-1 40 confidence 6 "slow start"')
    okr.ok("checkin KR-1 35")
    answer = okr.ok("history KR-1")
    assert answer.ephemeral and "History of KR-1" in answer.text
    text = answer.text
    assert "35 days" in text and "40 days" in text and "confidence 6/10" in text and "slow start" in text
    assert text.index("35 days") < text.index("40 days"), "newest first"


# --------------------------------------------------------------------------- serves, gaps, review
# Each has its own e2e module; here only the row of SPEC §3: it answers the person
# privately and changes no OKR. (While one was unbuilt it answered "not available
# yet"; a row for such a command would assert that message instead.)

READ_ONLY_ROWS = {
    "serves": "serves fix the signup bug",
    "gaps": "gaps",
    "review": "review status",  # review nudges: tests/e2e/test_reviews.py
}


@pytest.mark.parametrize("word", sorted(READ_ONLY_ROWS))
def test_serves_gaps_and_review_answer_privately_and_change_no_okr(okr, word):
    seed(okr)
    before = okr.ok("status all").text
    answer = okr.ok(READ_ONLY_ROWS[word])
    assert answer.ephemeral and "not available yet" not in answer.text
    assert not answer.posts(TEAM) and not answer.of("chat.update")
    assert okr.ok("status all").text == before


# --------------------------------------------------------------------------- bad input

BAD_INPUT = [
    # (typed, what the reply must say, part of the usage it must show)
    ("statsu all", "Did you mean `/okr status`?", "/okr status [me|@user|#channel|O-n|KR-n|all] [period]"),
    ('kr add O-x "Faster" yes/no', "`O-x`", '/okr kr add O-n "Title" yes/no'),
    ("checkin KR-1", "", "/okr checkin KR-n <value>"),
    ('kr add O-1 "Faster" from 10 to', "`to` needs a number", "/okr kr add O-n"),
    ("done I-99", "There is no initiative I-99", "/okr initiative add KR-n"),
    ("checkin KR-99 3", "There is no KR-99", "/okr status all"),
    ("link I-1 KR-99", "There is no KR-99", "/okr status all"),
    ('kr add O-9 "Faster" yes/no', "There is no O-9", "/okr status"),
    ("checkin KR-2 40", "moves with its initiatives", "/okr done I-n"),
    ("checkin KR-3 50", "is a yes/no KR", "/okr checkin KR-3 yes"),
    ("status #nochannel", "which channel #nochannel", "type # and choose it"),
]


@pytest.mark.parametrize("typed, problem, usage", BAD_INPUT, ids=[row[0] for row in BAD_INPUT])
def test_bad_input_gets_a_private_problem_with_usage_and_changes_nothing(okr, typed, problem, usage):
    seed(okr)
    okr.ok('kr add O-1 "SOC 2 report" yes/no')
    okr.ok('initiative add KR-2 "Redesign signup"')
    before = okr.ok("status all").text
    answer = okr(typed)
    assert answer.http.status_code == 200 and answer.http.text == ""  # never an error page to Slack
    assert answer.problem, answer.text
    assert problem in answer.text
    assert usage in answer.text
    assert not answer.posts() and not answer.of("chat.update") and answer.view is None
    assert okr.ok("status all").text == before


def test_checkin_on_someone_elses_kr_is_refused(okr):
    seed(okr)
    answer = okr("checkin KR-1 30", user="U2")
    assert answer.problem and "Only <@U1>" in answer.text
    assert "0%" in okr.ok("status KR-1").text and not answer.posts()


def test_text_people_type_never_pings_a_channel(okr, slack):
    """Titles and notes reach Slack escaped, in blocks and fallback texts alike."""
    ping = "<!channel>"
    typed = "&lt;!channel&gt;"  # how Slack sends a literal <!channel> typed in a slash command
    okr.ok(f'objective add "Grow {typed}" team <#C9|growth>')
    okr.ok(f'kr add O-1 "Cut {typed}" from 45 to 25 days')
    okr.ok(f'kr add O-1 "Ship {typed}" by initiatives')
    okr.ok(f'initiative add KR-2 "Redesign {typed}"')
    okr.ok(f'checkin KR-1 35 "blocked {typed}"')
    okr.ok("done I-1")
    for text in ("status all", "status KR-1", "status KR-2", "history KR-1"):
        okr.ok(text)
    sent = [
        c
        for c in slack.calls()
        if c.method in ("chat.postMessage", "chat.update", "chat.postEphemeral", "response_url")
    ]
    # mrkdwn is parsed for mentions; plain_text (headers, buttons) is shown as typed.
    leaked = [
        text for c in sent for text in [c.args.get("text", ""), *mrkdwn_texts(c.args.get("blocks"))] if ping in text
    ]
    assert not leaked, f"{ping} reached Slack unescaped in {leaked}"
    assert sum("&lt;!channel&gt;" in json.dumps(c.args) for c in sent) >= 8


# --------------------------------------------------------------------------- the Block Kit checker itself


def _recorded(double: SlackDouble, method: str, **args) -> None:
    """Send `args` to the double as the bot would have."""
    url = double.response_url("checker") if method == "response_url" else f"{double.api_url}{method}"
    assert httpx.post(url, json=args, headers={"Authorization": "Bearer xoxb-test"}, timeout=5).status_code == 200


@pytest.mark.parametrize(
    "method, args, complaint",
    [
        ("chat.postMessage", {"channel": "C1", "text": "x", "blocks": [{"type": "divider"}] * 51}, "51 blocks"),
        (
            "chat.postMessage",
            {
                "channel": "C1",
                "text": "x",
                "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "a" * 3001}}],
            },
            "section",
        ),
        ("chat.postMessage", {"channel": "C1", "blocks": [{"type": "divider"}]}, "fallback"),
        (
            "chat.update",
            {
                "channel": "C1",
                "ts": "1.1",
                "text": "x",
                "blocks": [
                    {
                        "type": "actions",
                        "elements": [
                            {"type": "button", "action_id": "a", "text": {"type": "plain_text", "text": "b" * 76}}
                        ],
                    }
                ],
            },
            "button text",
        ),
        (
            "chat.postEphemeral",
            {
                "channel": "C1",
                "user": "U1",
                "text": "x",
                "blocks": [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}],
            },
            "header",
        ),
        (
            "response_url",
            {"text": "x", "blocks": [{"type": "sektion", "text": {"type": "mrkdwn", "text": "hi"}}]},
            "unknown block type",
        ),
        (
            "response_url",
            {"text": "x", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}, "txt": "hi"}]},
            "fields Block Kit does not know: txt",
        ),
        (
            "views.open",
            {
                "view": {
                    "type": "modal",
                    "title": {"type": "plain_text", "text": "t" * 25},
                    "blocks": [{"type": "divider"}],
                }
            },
            "title",
        ),
        (
            "views.open",
            {
                "view": {
                    "type": "modal",
                    "title": {"type": "plain_text", "text": "t"},
                    "private_metadata": "m" * 3001,
                    "blocks": [{"type": "divider"}],
                }
            },
            "private_metadata",
        ),
        (
            "views.publish",
            {"user_id": "U1", "view": {"type": "home", "blocks": [{"type": "divider"}] * 101}},
            "101 blocks",
        ),
        (
            "response_url",
            {
                "text": "x",
                "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "`/okr checkin KR-1 <value>`"}}],
            },
            "<value>",
        ),
    ],
    ids=[
        "50-blocks",
        "section-3000",
        "no-fallback",
        "button-75",
        "header-150",
        "unknown-block",
        "unknown-field",
        "modal-title-24",
        "metadata-3000",
        "view-100-blocks",
        "raw-angle-brackets",
    ],
)
def test_the_block_kit_checker_refuses_what_slack_refuses(method, args, complaint):
    with SlackDouble() as double:
        _recorded(double, method, **args)
        with pytest.raises(BlockKitError, match=re.escape(complaint)):
            assert_valid_payloads(double)


def test_the_block_kit_checker_passes_what_the_bot_sends(okr, slack):
    seed(okr)
    okr.ok('initiative add KR-2 "Redesign signup"')
    okr.ok("done I-1")
    okr("edit KR-1")
    assert assert_valid_payloads(slack) >= 8
