"""Charts (issue 15): `/okr chart KR-n|O-n` and the Chart buttons upload a PNG the current
way (files.getUploadURLExternal, the upload to its URL, files.completeUploadExternal), with
alt text, where it was asked; a private objective's chart never goes to a channel that may
not see it. Asserted on what reached the Slack double."""

from __future__ import annotations

import pytest

from okrbot.adapters.slack.ids import Action
from tests.fakes.slack_api import SlackDouble
from tests.fakes.slack_client import app_mention

pytestmark = pytest.mark.usefixtures("valid_blockkit")

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def checked_in(okr) -> None:
    okr.ok('objective add "Grow activation" team <#C9|growth>')
    okr.ok('kr add O-1 "Cut time to value" from 45 to 25 days')
    okr.ok('kr add O-1 "Ship onboarding" by initiatives')
    for value in (42, 39, 35):
        okr.ok(f"checkin KR-1 {value}")


def uploads(slack: SlackDouble, since: int = 0) -> list[dict]:
    """Each upload as the three calls Slack saw: the URL asked for, the bytes, the completion."""
    calls = slack.calls()[since:]
    asked = [c for c in calls if c.method == "files.getUploadURLExternal"]
    sent = {c.args["file_id"]: c.args["content"] for c in calls if c.method == "file_upload"}
    done = [c for c in calls if c.method == "files.completeUploadExternal"]
    found = []
    for request in asked:
        file_id = request.response["file_id"]
        (completion,) = [c for c in done if any(f["id"] == file_id for f in c.args["files"])]
        found.append({"request": request.args, "content": sent[file_id], "completion": completion.args, "upload_url": request.response["upload_url"]})
    return found


def test_chart_of_a_kr_is_uploaded_where_asked_with_alt_text(okr, slack, checked_in):
    answer = okr.ok("chart KR-1", channel="C1")
    assert answer.ephemeral and "chart of *KR-1*" in answer.body["text"]
    (upload,) = uploads(slack)
    assert upload["upload_url"].startswith("http://127.0.0.1:")
    assert upload["content"].startswith(PNG) and int(upload["request"]["length"]) == len(upload["content"])
    assert upload["request"]["filename"] == "KR-1.png"
    alt = upload["request"]["alt_txt"]
    assert "KR-1 Cut time to value" in alt and "35 days" in alt and "Target 25 days" in alt
    assert upload["completion"]["channel_id"] == "C1"
    assert upload["completion"]["files"][0]["title"] == "KR-1 Cut time to value"


def test_chart_of_an_objective_shows_its_krs(okr, slack, checked_in):
    okr.ok("chart O-1", channel="C9")
    (upload,) = uploads(slack)
    assert upload["completion"]["channel_id"] == "C9" and upload["request"]["filename"] == "O-1.png"
    assert "KR-1" in upload["request"]["alt_txt"] and "KR-2" in upload["request"]["alt_txt"]


def test_a_private_objectives_chart_goes_to_the_dm_not_the_channel(okr, slack):
    okr.ok('objective add "Secret pivot" private')
    okr.ok('kr add O-1 "Pilots signed" from 0 to 5')
    okr.ok("checkin KR-1 2")
    answer = okr.ok("chart KR-1", channel="C1")
    assert "private" in answer.text and "DM" in answer.text
    (upload,) = uploads(slack)
    assert upload["completion"]["channel_id"].startswith("D"), "never into C1, whose members may not see it"
    assert okr("chart KR-1", user="U3").problem, "someone who may not see it gets no chart at all"
    assert len(uploads(slack)) == 1


def test_chart_buttons_on_the_kr_in_status_and_history(okr, client, bot, slack, checked_in):
    for command in ("status KR-1", "history KR-1"):
        answer = okr.ok(command)
        (button,) = [e for b in answer.body["blocks"] if b["type"] == "actions" for e in b["elements"] if e["action_id"] == Action.CHART.value]
        assert button["value"] == "KR-1"
        before = len(slack.calls())
        client.block_action(Action.CHART.value, button["value"], channel_id="C9")
        bot.settle()
        (upload,) = uploads(slack, before)
        assert upload["completion"]["channel_id"] == "C9" and upload["content"].startswith(PNG)


def test_where_the_bot_is_not_a_member_the_chart_goes_to_the_dm(okr, slack, checked_in):
    slack.fail("files.completeUploadExternal", status=200, error="not_in_channel")
    okr.ok("chart KR-1", channel="C5")
    done = [c for c in slack.calls("files.completeUploadExternal")]
    assert [c.args["channel_id"] for c in done] == ["C5", "DU1"]
    notes = [c for c in slack.calls("chat.postEphemeral") if c.args["channel"] == "C5"]
    assert notes and "/invite @okrbot" in notes[-1].args["text"]


def test_chart_of_something_else_says_what_to_type(okr, slack, checked_in):
    assert okr("chart I-1").problem
    missing = okr("chart KR-9")
    assert missing.problem and "There is no KR-9" in missing.text
    assert uploads(slack) == []


def test_a_mention_asking_for_a_chart_gets_it_in_the_thread(okr, client, bot, slack, checked_in):
    event = app_mention("chart KR-1", channel="C9")
    client.event(event)
    bot.settle()
    (upload,) = uploads(slack)
    assert upload["completion"]["channel_id"] == "C9" and upload["completion"]["thread_ts"] == event["ts"]
