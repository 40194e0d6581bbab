"""GitHub, GitLab, Jira and Linear deliveries move work, per workspace (issue 14).

Every body is a capture the vendor sent or published (tests/fixtures/, SOURCES.md),
replayed over real HTTP to the URL `/okr webhooks` shows an admin and signed with the
secret it shows, as each vendor signs. Judged by the database and by what reached the
Slack double.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from sqlmodel import select

from okrbot.domain.urls import url_key
from okrbot.store.models import Initiative
from tests.e2e.conftest import Okr
from tests.e2e.harness import WEBHOOK_SECRET, RunningBot, running_bot
from tests.e2e.test_webhooks import announcements, changes
from tests.fakes.slack_api import SlackDouble
from tests.fakes.slack_client import SignedSlackClient

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
ADMIN = "UADMIN"
TEAM_CHANNEL = "CTEAM"

GITHUB_ISSUE = "https://github.com/codinasion/codinasion-bot/issues/2"
GITHUB_PR = "https://github.com/codinasion/codinasion-bot-try/pull/14"
GITHUB_MILESTONE = "https://github.com/HephaestusTest/TestRepository/milestone/3"
GITLAB_ISSUE = "https://gitlab.lrz.de/hephaestustest/demo-repository/-/issues/5"
GITLAB_MR = "https://gitlab.lrz.de/hephaestustest/demo-repository/-/merge_requests/2"
GITLAB_MR_UNMERGED = "https://gitlab.lrz.de/hephaestustest/demo-repository/-/merge_requests/3"
GITLAB_MILESTONE = "https://gitlab.lrz.de/hephaestustest/demo-repository/-/milestones/2"
JIRA_ISSUE = "https://some-instance-test.atlassian.net/browse/TES-41"
JIRA_SERVER_ISSUE = "http://some-instance-test.centralus.cloudapp.azure.com:8080/browse/TES-4"
LINEAR_ISSUE = "https://linear.app/korosuke613/issue/KOR-11"  # linked without the title slug
LINEAR_PROJECT = "https://linear.app/xxxx/project/rename-project-37f87fe3d558"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def compact(payload: dict) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def hmac_hex(secret: str, body: bytes, digest=hashlib.sha256) -> str:
    return hmac.new(secret.encode(), body, digest).hexdigest()


@dataclass(frozen=True)
class Hook:
    path: str
    secret: str


def webhook_setup(bot: RunningBot, slack: SlackDouble, client: SignedSlackClient, team: str = "T1", text: str = "webhooks") -> dict[str, Hook]:
    """What `/okr <text>` shows an admin of `team`: each tool's URL path and secret."""
    slack.set_user(ADMIN, is_admin=True)
    url = slack.response_url(f"webhooks-{team}-{uuid.uuid4().hex}")
    response = client.command(text, team_id=team, user_id=ADMIN, channel_id="C1", response_url=url)
    assert response.status_code == 200
    bot.settle()
    (answer,) = [c.args for c in slack.calls("response_url") if c.path.endswith(url.rsplit("/", 1)[1])]
    assert answer.get("response_type", "ephemeral") == "ephemeral"
    found = re.findall(r"(/webhooks/(\w+)/[\w-]+) secret (\S+)", answer["text"])
    return {tool: Hook(path, secret) for path, tool, secret in found}


def post(bot: RunningBot, path: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(f"{bot.url}{path}", content=body, headers=headers, timeout=10)


def github(bot: RunningBot, hook: Hook, event: str, payload: dict, *, delivery: str | None = None, form: bool = False, secret: str | None = None) -> httpx.Response:
    headers = {name: value for name, value in fixture("github_delivery_headers.json").items() if not name.startswith("X-Hub")}
    body = urlencode({"payload": json.dumps(payload)}).encode() if form else compact(payload)
    headers.update(
        {
            "Content-Type": "application/x-www-form-urlencoded" if form else "application/json",
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
            "X-Hub-Signature-256": "sha256=" + hmac_hex(secret or hook.secret, body),
        }
    )
    return post(bot, hook.path, body, headers)


def gitlab(bot: RunningBot, hook: Hook, event: str, payload: dict, *, key: str | None = None, token: str | None = None) -> httpx.Response:
    headers = dict(fixture("gitlab_delivery_headers.json"))
    headers.update(
        {
            "Content-Type": "application/json",
            "X-Gitlab-Event": event,
            "X-Gitlab-Instance": "https://gitlab.lrz.de",
            "X-Gitlab-Event-UUID": str(uuid.uuid4()),
            "Idempotency-Key": key or str(uuid.uuid4()),
            "X-Gitlab-Token": hook.secret if token is None else token,
        }
    )
    return post(bot, hook.path, compact(payload), headers)


def jira(bot: RunningBot, hook: Hook, payload: dict, *, identifier: str | None = None, secret: str | None = None) -> httpx.Response:
    body = compact(payload)
    headers = {
        "Content-Type": "application/json",
        "X-Atlassian-Webhook-Identifier": identifier or str(uuid.uuid4()),
        "X-Atlassian-Webhook-Flow": "Primary",
        "X-Hub-Signature": "sha256=" + hmac_hex(secret or hook.secret, body),
    }
    return post(bot, hook.path, body, headers)


def linear(bot: RunningBot, hook: Hook, payload: dict, *, delivery: str | None = None, secret: str | None = None, stamp_ms: int | None = None) -> httpx.Response:
    body = compact({**payload, "webhookTimestamp": int(time.time() * 1000) if stamp_ms is None else stamp_ms})
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "Linear-Delivery": delivery or str(uuid.uuid4()),
        "Linear-Event": payload["type"],
        "Linear-Signature": hmac_hex(secret or hook.secret, body),
    }
    return post(bot, hook.path, body, headers)


def status(bot: RunningBot, url: str, team: str = "T1") -> str:
    with bot.db.session_scope() as session:
        return session.exec(select(Initiative.status).where(Initiative.team_id == team, Initiative.url_key == url_key(url))).one()


@pytest.fixture
def hooks(bot, slack, client, okr) -> dict[str, Hook]:
    """T1: KR-1 (milestone, team channel CTEAM) fed by one linked item of each kind; its URLs."""
    okr.ok(f'objective add "Ship the tracker work" team <#{TEAM_CHANNEL}|work>')
    okr.ok('kr add O-1 "Tracker items shipped" by initiatives')
    for url in (GITHUB_ISSUE, GITHUB_PR, GITHUB_MILESTONE, GITLAB_ISSUE, GITLAB_MR, GITLAB_MR_UNMERGED, GITLAB_MILESTONE, JIRA_ISSUE, JIRA_SERVER_ISSUE, LINEAR_ISSUE, LINEAR_PROJECT):
        okr.ok(f"link {url} KR-1")
    return webhook_setup(bot, slack, client)


pytestmark = pytest.mark.usefixtures("valid_blockkit")


def test_an_admin_sees_one_url_and_secret_per_tool_and_others_see_none(bot, slack, client, okr, hooks):
    assert set(hooks) == {"github", "gitlab", "jira", "linear", "work", "metric"}
    assert len({hook.secret for hook in hooks.values()}) == 6 and len({hook.path for hook in hooks.values()}) == 6
    assert webhook_setup(bot, slack, client) == hooks  # shown again, unchanged
    refused = okr("webhooks", user="U1")
    assert refused.problem and "admin" in refused.text and hooks["github"].secret not in refused.text


# --- GitHub ------------------------------------------------------------------------------


def test_github_closed_issue_marks_done_once_however_often_it_is_redelivered(bot, slack, hooks):
    delivery = str(uuid.uuid4())
    answers = [github(bot, hooks["github"], "issues", fixture("github_issues_closed.json"), delivery=delivery) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert status(bot, GITHUB_ISSUE) == "done"
    (announced,) = announcements(slack)
    assert "github:harshraj8843" in announced and "→" in announced


def test_github_default_form_encoding_is_read(bot, slack, hooks):
    response = github(bot, hooks["github"], "issues", fixture("github_issues_closed.json"), form=True)
    assert response.status_code == 200, response.text
    assert status(bot, GITHUB_ISSUE) == "done"


def test_github_reopened_issue_reopens(bot, slack, hooks):
    github(bot, hooks["github"], "issues", fixture("github_issues_closed.json"))
    reopened = fixture("github_issues_reopened.json")
    reopened["issue"]["html_url"] = GITHUB_ISSUE
    assert github(bot, hooks["github"], "issues", reopened).status_code == 200
    assert status(bot, GITHUB_ISSUE) == "todo"
    assert len(announcements(slack)) == 2


def test_github_issue_closed_as_not_planned_is_not_done(bot, slack, hooks):
    closed = fixture("github_issues_closed.json")
    closed["issue"]["state_reason"] = "not_planned"
    assert github(bot, hooks["github"], "issues", closed).status_code == 202
    assert status(bot, GITHUB_ISSUE) == "todo" and announcements(slack) == []


def test_github_merged_pull_request_is_done_and_an_unmerged_close_is_not(bot, slack, hooks):
    unmerged = fixture("github_pull_request_closed_unmerged.json")
    unmerged["pull_request"]["html_url"] = GITHUB_PR
    assert github(bot, hooks["github"], "pull_request", unmerged).status_code == 202
    assert status(bot, GITHUB_PR) == "todo"
    assert github(bot, hooks["github"], "pull_request", fixture("github_pull_request_closed_merged.json")).status_code == 200
    assert status(bot, GITHUB_PR) == "done"


def test_github_milestone_closed_is_done_and_opened_again_reopens(bot, slack, hooks):
    assert github(bot, hooks["github"], "milestone", fixture("github_milestone_closed.json")).status_code == 200
    assert status(bot, GITHUB_MILESTONE) == "done"
    assert "github:FelixTJDietrich" in announcements(slack)[0]
    assert github(bot, hooks["github"], "milestone", fixture("github_milestone_opened.json")).status_code == 200
    assert status(bot, GITHUB_MILESTONE) == "todo"


@pytest.mark.parametrize(("event", "name"), [("ping", "github_ping.json"), ("issues", "github_issues_closed_2.json")], ids=["ping", "issue not linked"])
def test_github_events_that_move_no_linked_work_are_202_and_ignored(bot, slack, hooks, event, name):
    before = changes(bot)
    response = github(bot, hooks["github"], event, fixture(name))
    assert response.status_code == 202 and response.json()["ok"] is True
    assert changes(bot) == before and announcements(slack) == []


@pytest.mark.parametrize("form", [False, True], ids=["json", "form"])
def test_github_wrong_secret_is_401_and_changes_nothing(bot, slack, hooks, form):
    before = changes(bot)
    response = github(bot, hooks["github"], "issues", fixture("github_issues_closed.json"), secret="not-the-secret", form=form)
    assert response.status_code == 401 and "/okr webhooks" in response.json()["error"]
    assert status(bot, GITHUB_ISSUE) == "todo" and changes(bot) == before


def test_github_sha1_signature_counts_only_when_the_operator_allows_it(slack, database_url):
    body = compact(fixture("github_issues_closed.json"))
    headers = {"Content-Type": "application/json", "X-GitHub-Event": "issues", "X-GitHub-Delivery": str(uuid.uuid4()), "X-Hub-Signature": "sha1=" + hmac_hex(WEBHOOK_SECRET, body, hashlib.sha1)}
    with running_bot(slack, database_url) as (bot, _client):
        assert post(bot, "/webhooks/github", body, headers).status_code == 401
    with running_bot(slack, database_url, OKRBOT_GITHUB_ALLOW_SHA1="true") as (bot, _client):
        assert post(bot, "/webhooks/github", body, headers).status_code == 202  # verified; nothing linked
        wrong = {**headers, "X-Hub-Signature": "sha1=" + hmac_hex("wrong", body, hashlib.sha1)}
        assert post(bot, "/webhooks/github", body, wrong).status_code == 401


@pytest.mark.parametrize(
    ("content_type", "body", "says"),
    [
        ("application/x-www-form-urlencoded", b"zen=Keep+it+logically+awesome", "`payload` field"),
        ("application/x-www-form-urlencoded", b"payload=%7Bnot+json", "not JSON"),
        ("application/json", b"\xff\xfe not text", "not JSON"),
        ("application/json", b"[1, 2]", "not an object"),
    ],
    ids=["form without payload", "form with broken JSON", "not text", "not an object"],
)
def test_an_unreadable_github_body_is_400_naming_the_fix_and_logged(bot, slack, hooks, caplog, content_type, body, says):
    before = changes(bot)
    headers = {"Content-Type": content_type, "X-GitHub-Event": "issues", "X-GitHub-Delivery": str(uuid.uuid4()), "X-Hub-Signature-256": "sha256=" + hmac_hex(hooks["github"].secret, body)}
    with caplog.at_level(logging.WARNING, logger="okrbot.adapters.webhooks"):
        response = post(bot, hooks["github"].path, body, headers)
    assert response.status_code == 400
    error = response.json()["error"]
    assert says in error and "Content type to application/json" in error
    assert any("github webhook refused (400)" in record.getMessage() for record in caplog.records)
    assert changes(bot) == before


# --- per workspace ---------------------------------------------------------------------------


def test_two_workspaces_linking_the_same_issue_move_only_the_one_addressed(bot, slack, client, okr, hooks):
    t2 = webhook_setup(bot, slack, client, team="T2")
    for text in ('objective add "Beta goals"', 'kr add O-1 "Beta items" by initiatives', f"link {GITHUB_ISSUE} KR-1"):
        assert client.command(text, team_id="T2", user_id="U9", channel_id="C9", response_url=slack.response_url(uuid.uuid4().hex)).status_code == 200
        bot.settle()
    assert t2["github"] != hooks["github"]

    assert github(bot, t2["github"], "issues", fixture("github_issues_closed.json")).status_code == 200
    assert status(bot, GITHUB_ISSUE, team="T2") == "done" and status(bot, GITHUB_ISSUE, team="T1") == "todo"
    # T1's secret on T2's URL, and T2's URL under another tool, are refused.
    assert github(bot, t2["github"], "issues", fixture("github_issues_closed.json"), secret=hooks["github"].secret).status_code == 401
    wrong_tool = post(bot, t2["gitlab"].path.replace("gitlab", "github", 1), b"{}", {"X-Hub-Signature-256": "sha256=" + hmac_hex(t2["gitlab"].secret, b"{}")})
    assert wrong_tool.status_code == 404 and "/okr webhooks" in wrong_tool.json()["error"]
    assert status(bot, GITHUB_ISSUE, team="T1") == "todo"


def test_an_unknown_token_is_404_naming_where_to_get_the_url(bot, hooks):
    response = post(bot, "/webhooks/github/not-a-token", b"{}", {"X-Hub-Signature-256": "sha256=" + hmac_hex(hooks["github"].secret, b"{}")})
    assert response.status_code == 404 and "/okr webhooks" in response.json()["error"]


def test_rotating_a_secret_refuses_the_old_one_and_keeps_the_url(bot, slack, client, hooks):
    rotated = webhook_setup(bot, slack, client, text="webhooks rotate github")
    assert rotated["github"].path == hooks["github"].path and rotated["github"].secret != hooks["github"].secret
    assert rotated["gitlab"] == hooks["gitlab"]
    assert github(bot, hooks["github"], "issues", fixture("github_issues_closed.json")).status_code == 401
    assert github(bot, rotated["github"], "issues", fixture("github_issues_closed.json")).status_code == 200


# --- GitLab ----------------------------------------------------------------------------------


def test_gitlab_issue_closed_then_reopened(bot, slack, hooks):
    assert gitlab(bot, hooks["gitlab"], "Issue Hook", fixture("gitlab_issue_close.json")).status_code == 200
    assert status(bot, GITLAB_ISSUE) == "done" and "gitlab:ga84xah" in announcements(slack)[0]
    assert gitlab(bot, hooks["gitlab"], "Issue Hook", fixture("gitlab_issue_reopen.json")).status_code == 200
    assert status(bot, GITLAB_ISSUE) == "todo"


def test_gitlab_merged_request_is_done_and_a_closed_unmerged_one_is_not(bot, slack, hooks):
    assert gitlab(bot, hooks["gitlab"], "Merge Request Hook", fixture("gitlab_merge_request_close.json")).status_code == 202
    assert status(bot, GITLAB_MR_UNMERGED) == "todo"
    assert gitlab(bot, hooks["gitlab"], "Merge Request Hook", fixture("gitlab_merge_request_merge.json")).status_code == 200
    assert status(bot, GITLAB_MR) == "done"


def test_gitlab_milestone_closed_is_done(bot, hooks):
    assert gitlab(bot, hooks["gitlab"], "Milestone Hook", fixture("gitlab_milestone_close.json")).status_code == 200
    assert status(bot, GITLAB_MILESTONE) == "done"


def test_gitlab_resend_with_the_same_idempotency_key_applies_once(bot, slack, okr, hooks):
    key = str(uuid.uuid4())
    assert gitlab(bot, hooks["gitlab"], "Issue Hook", fixture("gitlab_issue_close.json"), key=key).status_code == 200
    okr.ok(f"reopen {GITLAB_ISSUE}")
    assert gitlab(bot, hooks["gitlab"], "Issue Hook", fixture("gitlab_issue_close.json"), key=key).status_code == 200
    assert status(bot, GITLAB_ISSUE) == "todo"  # the resend was the old news, not a new close


def test_gitlab_comment_is_202_and_a_wrong_token_401(bot, slack, hooks):
    before = changes(bot)
    assert gitlab(bot, hooks["gitlab"], "Note Hook", fixture("gitlab_note_issue_create.json")).status_code == 202
    assert gitlab(bot, hooks["gitlab"], "Issue Hook", fixture("gitlab_issue_close.json"), token="wrong").status_code == 401
    assert gitlab(bot, hooks["gitlab"], "Issue Hook", fixture("gitlab_issue_close.json"), token="").status_code == 401
    assert status(bot, GITLAB_ISSUE) == "todo" and changes(bot) == before


# --- Jira ------------------------------------------------------------------------------------


def test_jira_issue_into_done_category_is_done_and_out_of_it_reopens(bot, slack, hooks):
    assert jira(bot, hooks["jira"], fixture("jira_cloud_issue_updated_resolved.json")).status_code == 200
    assert status(bot, JIRA_ISSUE) == "done" and "jira:Test User" in announcements(slack)[0]
    assert jira(bot, hooks["jira"], fixture("jira_cloud_issue_updated_reopened.json")).status_code == 200
    assert status(bot, JIRA_ISSUE) == "todo"


def test_jira_started_work_is_not_done(bot, slack, hooks):
    jira(bot, hooks["jira"], fixture("jira_cloud_issue_updated_started_working.json"))
    assert status(bot, JIRA_ISSUE) == "todo" and announcements(slack) == []


def test_jira_data_center_resolved_is_done(bot, hooks):
    assert jira(bot, hooks["jira"], fixture("jira_server_issue_updated_resolved.json")).status_code == 200
    assert status(bot, JIRA_SERVER_ISSUE) == "done"


def test_jira_retry_with_the_same_identifier_applies_once(bot, slack, okr, hooks):
    identifier = str(uuid.uuid4())
    jira(bot, hooks["jira"], fixture("jira_cloud_issue_updated_resolved.json"), identifier=identifier)
    okr.ok(f"reopen {JIRA_ISSUE}")
    assert jira(bot, hooks["jira"], fixture("jira_cloud_issue_updated_resolved.json"), identifier=identifier).status_code == 200
    assert status(bot, JIRA_ISSUE) == "todo"


def test_jira_comment_is_202_and_a_wrong_signature_401(bot, slack, hooks):
    before = changes(bot)
    assert jira(bot, hooks["jira"], fixture("jira_cloud_comment_created.json")).status_code == 202
    assert jira(bot, hooks["jira"], fixture("jira_cloud_issue_updated_resolved.json"), secret="wrong").status_code == 401
    assert status(bot, JIRA_ISSUE) == "todo" and changes(bot) == before


# --- Linear ----------------------------------------------------------------------------------


def linear_issue_in(state: str) -> dict:
    """The captured issue update, its state moved to Done (completed) or Canceled (canceled)."""
    payload = fixture("linear_issue_update.json")
    if state == "completed":
        payload["data"]["state"].update(name="Done", type="completed", color="#5e6ad2")
        payload["data"]["completedAt"] = "2021-01-30T11:30:00.000Z"
    else:
        payload["data"]["state"].update(name="Canceled", type="canceled", color="#95a2b3")
        payload["data"]["canceledAt"] = "2021-01-30T11:30:00.000Z"
    return payload


def test_linear_issue_completed_is_done_and_back_in_todo_reopens(bot, slack, hooks):
    assert linear(bot, hooks["linear"], linear_issue_in("completed")).status_code == 200
    assert status(bot, LINEAR_ISSUE) == "done"
    assert linear(bot, hooks["linear"], fixture("linear_issue_update.json")).status_code == 200  # as captured: Todo
    assert status(bot, LINEAR_ISSUE) == "todo"


def test_linear_canceled_is_not_done(bot, slack, hooks):
    assert linear(bot, hooks["linear"], linear_issue_in("canceled")).status_code == 202
    assert status(bot, LINEAR_ISSUE) == "todo" and announcements(slack) == []


def test_linear_project_completed_is_done(bot, hooks):
    project = fixture("linear_project_update.json")
    project["data"].update(state="completed", completedAt="2021-02-07T12:45:00.000Z", status={"name": "Completed", "type": "completed"})
    assert linear(bot, hooks["linear"], project).status_code == 200
    assert status(bot, LINEAR_PROJECT) == "done"


def test_linear_redelivery_applies_once(bot, okr, hooks):
    delivery, stamp = str(uuid.uuid4()), int(time.time() * 1000)
    linear(bot, hooks["linear"], linear_issue_in("completed"), delivery=delivery, stamp_ms=stamp)
    okr.ok(f"reopen {LINEAR_ISSUE}")
    assert linear(bot, hooks["linear"], linear_issue_in("completed"), delivery=delivery, stamp_ms=stamp).status_code == 200
    assert status(bot, LINEAR_ISSUE) == "todo"


def test_linear_comment_is_202_and_bad_signature_or_stale_timestamp_401(bot, slack, hooks):
    before = changes(bot)
    assert linear(bot, hooks["linear"], fixture("linear_comment_create.json")).status_code == 202
    assert linear(bot, hooks["linear"], linear_issue_in("completed"), secret="wrong").status_code == 401
    stale = linear(bot, hooks["linear"], linear_issue_in("completed"), stamp_ms=int(time.time() * 1000) - 120_000)
    assert stale.status_code == 401 and "webhookTimestamp" in stale.json()["error"]
    assert status(bot, LINEAR_ISSUE) == "todo" and changes(bot) == before


def test_linear_secret_made_by_linear_can_be_kept(bot, slack, client, hooks):
    own = "lin_wh_" + uuid.uuid4().hex
    kept = webhook_setup(bot, slack, client, text=f"webhooks secret linear {own}")
    assert kept["linear"] == Hook(hooks["linear"].path, own)
    assert linear(bot, kept["linear"], linear_issue_in("completed")).status_code == 200
    assert status(bot, LINEAR_ISSUE) == "done"


def test_jira_work_linked_by_key_on_the_configured_site_moves(slack, database_url):
    with running_bot(slack, database_url, OKRBOT_JIRA_SITE="https://some-instance-test.atlassian.net/") as (bot, client):
        okr = Okr(bot, client, slack)
        okr.ok('objective add "Ship the tracker work"')
        okr.ok('kr add O-1 "Tracker items shipped" by initiatives')
        linked = okr.ok("link tes-41 KR-1")
        assert "TES-41" in linked.text
        hooks = webhook_setup(bot, slack, client)
        assert jira(bot, hooks["jira"], fixture("jira_cloud_issue_updated_resolved.json")).status_code == 200
        assert status(bot, JIRA_ISSUE) == "done"
        assert okr.ok("reopen TES-41").body is not None and status(bot, JIRA_ISSUE) == "todo"


def test_a_jira_key_without_a_configured_site_says_what_to_do(okr):
    okr.ok('objective add "Ship"')
    okr.ok('kr add O-1 "Items" by initiatives')
    refused = okr("link PAY-12 KR-1")
    assert refused.problem and "OKRBOT_JIRA_SITE" in refused.text and "/browse/PAY-12" in refused.text
