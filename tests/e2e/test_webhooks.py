"""POST /webhooks/github and /webhooks/work move work done outside Slack (SPEC §8, issue 4).

Signed like GitHub signs (X-Hub-Signature-256: sha256=<HMAC of the body>)
with the bot's OKRBOT_WEBHOOK_SECRET, sent over real HTTP to the running bot;
judged by the database and the announcements that reached the Slack double.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import select

from okrbot.services.summaries import progress_of
from okrbot.store.models import Change, Initiative, KeyResult
from tests.e2e.conftest import block_text
from tests.e2e.harness import WEBHOOK_SECRET, RunningBot
from tests.fakes.slack_api import SlackDouble

TEAM = "CTEAM"
ISSUE = "https://github.com/acme/app/issues/12"
PULL = "https://github.com/acme/app/pull/7"


def signature(body: bytes, secret: str = WEBHOOK_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def github(bot: RunningBot, event: str, payload: dict, *, delivery: str | None = None, secret: str = WEBHOOK_SECRET, body: bytes | None = None) -> httpx.Response:
    body = json.dumps(payload).encode() if body is None else body
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/abc123",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-Hub-Signature-256": signature(body, secret),
    }
    return httpx.post(f"{bot.url}/webhooks/github", content=body, headers=headers, timeout=10)


def work_hook(bot: RunningBot, payload: dict | None = None, *, body: bytes | None = None, secret: str = WEBHOOK_SECRET) -> httpx.Response:
    body = json.dumps(payload).encode() if body is None else body
    headers = {"Content-Type": "application/json", "X-Okrbot-Signature": signature(body, secret)}
    return httpx.post(f"{bot.url}/webhooks/work", content=body, headers=headers, timeout=10)


def issue(action: str, url: str = ISSUE, **fields) -> dict:
    return {"action": action, "issue": {"html_url": url, "number": 12, "state": "closed", **fields}, "sender": {"login": "alice"}}


def pull_request(action: str, merged: bool, url: str = PULL) -> dict:
    return {"action": action, "pull_request": {"html_url": url, "merged": merged}, "sender": {"login": "bob"}}


def statuses(bot: RunningBot) -> dict[int, str]:
    with bot.db.session_scope() as session:
        return dict(session.exec(select(Initiative.number, Initiative.status)).all())


def kr_progress(bot: RunningBot) -> float:
    with bot.db.session_scope() as session:
        return progress_of(session, session.exec(select(KeyResult).where(KeyResult.number == 1)).one())


def changes(bot: RunningBot) -> int:
    with bot.db.session_scope() as session:
        return session.exec(select(func.count(Change.id))).one()


def changes_since_links(bot: RunningBot) -> int:
    """Changes other than the three links the fixture made."""
    return changes(bot) - 3


def announcements(slack: SlackDouble) -> list[str]:
    return [block_text(c.args["blocks"]) for c in slack.calls("chat.postMessage") if str(c.args.get("text", "")).startswith("Progress moved")]


@pytest.fixture
def linked_work(okr) -> None:
    """KR-1 (milestone, team channel CTEAM) fed by I-1 (an issue), I-2 (a PR) and I-3 (no URL), weights 1."""
    okr.ok(f'objective add "Ship the app" team <#{TEAM}|app>')
    okr.ok('kr add O-1 "App release milestones" by initiatives')
    okr.ok(f"link {ISSUE} KR-1")
    okr.ok(f"link {PULL} KR-1")
    okr.ok('initiative add KR-1 "Release notes"')


pytestmark = [pytest.mark.usefixtures("valid_blockkit"), pytest.mark.usefixtures("linked_work")]


# --- GitHub -------------------------------------------------------------------------


def test_a_closed_issue_marks_its_work_done_once_however_often_the_delivery_is_replayed(bot, slack, okr):
    delivery = str(uuid.uuid4())
    body = json.dumps(issue("closed")).encode()

    answers = [github(bot, "issues", {}, delivery=delivery, body=body) for _ in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 200]
    assert statuses(bot)[1] == "done"
    assert round(kr_progress(bot), 4) == 0.3333
    (announced,) = announcements(slack)
    assert "acme/app#12" in announced and "0% → *33%*" in announced and "github:alice" in announced
    assert "33%" in okr.ok("status KR-1").text
    history = okr.ok("history KR-1").text
    assert history.count("acme/app#12” done") == 1 and "via webhook" in history


def test_the_same_close_sent_again_as_a_new_delivery_still_moves_once(bot, slack):
    for _ in range(3):
        assert github(bot, "issues", issue("closed")).status_code == 200
    assert len(announcements(slack)) == 1 and changes_since_links(bot) == 1


def test_a_reopened_issue_reopens_its_work(bot, slack):
    github(bot, "issues", issue("closed"))
    assert github(bot, "issues", issue("reopened")).status_code == 200
    assert statuses(bot)[1] == "todo" and kr_progress(bot) == 0.0
    assert "33% → *0%*" in announcements(slack)[-1]


def test_a_merged_pull_request_marks_done_and_a_closed_unmerged_one_is_ignored(bot, slack):
    assert github(bot, "pull_request", pull_request("closed", merged=False)).status_code == 202
    assert statuses(bot)[2] == "todo" and announcements(slack) == []

    assert github(bot, "pull_request", pull_request("closed", merged=True)).status_code == 200
    assert statuses(bot)[2] == "done"
    assert "acme/app#7 (PR)" in announcements(slack)[0] and "github:bob" in announcements(slack)[0]


def test_an_issue_closed_as_completed_marks_its_work_done(bot):
    assert github(bot, "issues", issue("closed", state_reason="completed")).status_code == 200
    assert statuses(bot)[1] == "done"


def test_urls_match_whatever_tail_or_case_github_sends(bot):
    assert github(bot, "issues", issue("closed", url="https://GitHub.com/Acme/App/issues/12/")).status_code == 200
    assert statuses(bot)[1] == "done"


@pytest.mark.parametrize(
    ("event", "payload"),
    [
        ("issues", issue("closed", url="https://github.com/acme/app/issues/999")),  # not an initiative
        ("issues", issue("opened")),
        ("issues", issue("closed", state_reason="not_planned")),
        ("issues", issue("closed", state_reason="duplicate")),
        ("issues", issue("edited")),
        ("pull_request", pull_request("opened", merged=False)),
        ("ping", {"zen": "Keep it logically awesome.", "hook_id": 1}),
        ("push", {"ref": "refs/heads/main"}),
    ],
    ids=["unknown url", "opened", "closed as not planned", "closed as a duplicate", "edited", "pr opened", "ping", "push"],
)
def test_events_that_do_not_move_known_work_are_accepted_and_ignored(bot, slack, event, payload):
    before = changes(bot)
    response = github(bot, event, payload)
    assert response.status_code == 202 and response.json()["ok"] is True
    assert changes(bot) == before and set(statuses(bot).values()) == {"todo"} and announcements(slack) == []


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Hub-Signature-256": "sha256=" + "0" * 64},
        {"X-Hub-Signature-256": signature(json.dumps(issue("closed")).encode(), "wrong-secret")},
        {"X-Hub-Signature": "sha1=" + "0" * 40},  # GitHub's old SHA-1 header is not enough
        {},
    ],
    ids=["zeros", "wrong secret", "sha1 only", "unsigned"],
)
def test_a_bad_github_signature_gets_401_and_changes_nothing(bot, slack, headers):
    before = changes(bot)
    body = json.dumps(issue("closed")).encode()
    response = httpx.post(
        f"{bot.url}/webhooks/github",
        content=body,
        headers={"Content-Type": "application/json", "X-GitHub-Event": "issues", "X-GitHub-Delivery": "d1", **headers},
        timeout=10,
    )
    assert response.status_code == 401
    assert statuses(bot)[1] == "todo" and changes(bot) == before and announcements(slack) == []


def test_a_signed_body_that_was_altered_in_transit_gets_401(bot):
    body = json.dumps(issue("closed")).encode()
    response = httpx.post(
        f"{bot.url}/webhooks/github",
        content=body.replace(b"closed", b"reopened"),
        headers={"X-GitHub-Event": "issues", "X-GitHub-Delivery": "d2", "X-Hub-Signature-256": signature(body)},
        timeout=10,
    )
    assert response.status_code == 401 and statuses(bot)[1] == "todo"


# --- /webhooks/work -------------------------------------------------------------------


def test_work_marked_done_by_id_and_by_url(bot, slack):
    assert work_hook(bot, {"initiative": "I-3", "status": "done"}).status_code == 200
    assert statuses(bot)[3] == "done"
    assert work_hook(bot, {"url": PULL, "status": "done"}).status_code == 200
    assert statuses(bot)[2] == "done"
    assert round(kr_progress(bot), 4) == 0.6667
    assert len(announcements(slack)) == 2 and "by webhook" in announcements(slack)[0]

    for _ in range(2):  # replays of a signed body change nothing
        assert work_hook(bot, {"url": PULL, "status": "done"}).status_code == 200
    assert len(announcements(slack)) == 2

    assert work_hook(bot, {"initiative": "i3", "status": "todo"}).status_code == 200
    assert statuses(bot)[3] == "todo" and round(kr_progress(bot), 4) == 0.3333

    # The same body after a reopen is new news, not a replay: it marks the work done again.
    assert work_hook(bot, {"initiative": "I-3", "status": "done"}).status_code == 200
    assert statuses(bot)[3] == "done"


def test_a_delivery_id_makes_a_work_event_apply_once(bot, slack, okr):
    payload = {"initiative": "I-3", "status": "done", "delivery": "d-42"}
    assert work_hook(bot, payload).status_code == 200
    okr("reopen I-3")
    assert work_hook(bot, payload).status_code == 200  # a replay of delivery d-42: ignored
    assert statuses(bot)[3] == "todo"


def test_unknown_work_is_accepted_and_ignored(bot, slack):
    for payload in ({"initiative": "I-99", "status": "done"}, {"url": "https://example.com/nope", "status": "done"}):
        response = work_hook(bot, payload)
        assert response.status_code == 202 and response.json()["ok"] is True
    assert set(statuses(bot).values()) == {"todo"} and announcements(slack) == []


def test_a_bad_work_signature_gets_401_and_changes_nothing(bot, slack):
    before = changes(bot)
    assert work_hook(bot, {"initiative": "I-1", "status": "done"}, secret="not-the-secret").status_code == 401
    unsigned = httpx.post(f"{bot.url}/webhooks/work", json={"initiative": "I-1", "status": "done"}, timeout=10)
    assert unsigned.status_code == 401
    assert statuses(bot)[1] == "todo" and changes(bot) == before and announcements(slack) == []


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        json.dumps({"initiative": "KR-3", "status": "done"}).encode(),
        json.dumps({"status": "done"}).encode(),
        json.dumps({"initiative": "I-1", "status": "finished"}).encode(),
        json.dumps({"url": 42, "status": "done"}).encode(),
    ],
    ids=["not json", "not an object", "not an initiative id", "no work named", "unknown status", "url not text"],
)
def test_a_malformed_body_gets_400_and_changes_nothing(bot, body):
    before = changes(bot)
    response = work_hook(bot, body=body)
    assert response.status_code == 400 and response.json()["error"]
    assert changes(bot) == before and set(statuses(bot).values()) == {"todo"}
