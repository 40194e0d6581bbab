"""`okrbot doctor` (issue 18) against the Slack double: one line per check, each failing
one with its fix; a token missing a scope is named by that scope."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from okrbot.cli import app
from okrbot.adapters.slack.scopes import BOT_SCOPES
from okrbot.store.models import Initiative, WebhookSecret, Workspace
from tests.fakes.slack_api import SlackDouble, manifest_scopes

MANIFEST = Path(__file__).resolve().parents[2] / "manifest.yml"


@pytest.fixture
def doctor(slack: SlackDouble, database_url, monkeypatch):
    for name, value in {
        "SLACK_BOT_TOKEN": "xoxb-doctor", "SLACK_SIGNING_SECRET": "doctor-secret", "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": database_url, "OKRBOT_TIMEZONE": "Europe/Berlin",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("SLACK_APP_TOKEN", raising=False)
    monkeypatch.delenv("OKRBOT_WEBHOOK_SECRET", raising=False)

    def run() -> tuple[int, list[str]]:
        result = CliRunner().invoke(app, ["doctor"])
        return result.exit_code, result.output.splitlines()

    return run


def failing(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith("FIX")]


def test_the_scopes_doctor_expects_are_the_manifests():
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    assert sorted(BOT_SCOPES) == sorted(manifest["oauth_config"]["scopes"]["bot"]) == sorted(manifest_scopes())


def test_a_well_configured_install_passes_every_check(doctor, slack):
    code, lines = doctor()
    assert code == 0, lines
    assert failing(lines) == [] and lines[-1] == "All good."
    assert any("Slack token" in line and "T1" in line for line in lines)
    assert [call.token for call in slack.calls("auth.test")] == ["xoxb-doctor"]


def test_a_token_missing_a_scope_names_that_scope(doctor, slack):
    slack.set_scopes([scope for scope in manifest_scopes() if scope != "im:write"])
    code, lines = doctor()
    assert code == 1
    (line,) = failing(lines)
    assert line.startswith("FIX  Slack scopes:") and "im:write" in line and "reinstall" in line
    assert not any(scope in line for scope in manifest_scopes() if scope != "im:write")


def test_a_token_slack_refuses_and_a_missing_signing_secret_are_each_named(doctor, slack, monkeypatch):
    slack.set_response("auth.test", {"ok": False, "error": "invalid_auth"})
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "")
    code, lines = doctor()
    assert code == 1
    problems = failing(lines)
    assert any("Slack token" in line and "invalid_auth" in line for line in problems)
    assert any("SLACK_SIGNING_SECRET" in line and "Signing Secret" in line for line in problems)
    assert any(line.startswith("ok   Database") for line in lines)  # one problem does not hide the rest


def test_github_in_use_needs_its_webhook_secret_and_a_stored_schedule_must_parse(doctor, db):
    with db.session_scope() as session:
        session.add(Workspace(team_id="T1", review_schedule="fortnightly on blursday", timezone="Mars/Olympus"))
        session.flush()
        session.add(Initiative(team_id="T1", number=1, title="Ship", url="https://github.com/acme/app/issues/12"))
        session.add(Initiative(team_id="T1", number=2, title="Pay", url="https://acme.atlassian.net/browse/PAY-12"))
        session.add(Initiative(team_id="T1", number=3, title="Docs", url="https://gitlab.com/acme/docs/-/issues/3"))
        session.flush()
        session.add(WebhookSecret(team_id="T1", vendor="gitlab", token="t" * 32, secret="s" * 32))
    code, lines = doctor()
    assert code == 1
    problems = failing(lines)
    assert any("GitHub webhooks" in line and "OKRBOT_WEBHOOK_SECRET" in line for line in problems)
    assert any("Jira webhooks" in line and "T1" in line and "/okr webhooks" in line for line in problems)
    assert any(line.startswith("ok   GitLab webhooks") and "its own secret" in line for line in lines)
    assert not any("Linear" in line for line in lines)  # not in use
    assert any("Review schedule" in line and "T1" in line and "/okr review schedule" in line for line in problems)
    assert any("Time zone" in line and "Mars/Olympus" in line for line in problems)


def test_a_database_behind_the_newest_migration_says_run_migrate(doctor, slack, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'never-migrated.db'}")
    code, lines = doctor()
    assert code == 1
    assert any(line.startswith("FIX  Schema") and "okrbot migrate" in line for line in lines)


def test_in_oauth_mode_no_bot_token_is_needed_and_each_installed_workspaces_token_is_checked(doctor, slack, database_url, monkeypatch):
    from tests.e2e.oauth import CLIENT_ID, CLIENT_SECRET, install, oauth_bot

    with oauth_bot(slack, database_url) as (bot, _client):
        tokens = {team: install(bot, slack, team) for team in ("T1", "T2")}
    for name, value in {"SLACK_BOT_TOKEN": "", "SLACK_CLIENT_ID": CLIENT_ID, "SLACK_CLIENT_SECRET": CLIENT_SECRET}.items():
        monkeypatch.setenv(name, value)
    before = len(slack.calls("auth.test"))
    code, lines = doctor()
    assert code == 0, lines
    assert any(line.startswith("ok   Slack app: OAuth installs") for line in lines)
    assert any(line.startswith("ok   Slack token of T1: valid") for line in lines) and any(line.startswith("ok   Slack token of T2") for line in lines)
    assert sorted(call.token for call in slack.calls("auth.test")[before:]) == sorted(tokens.values())

    slack.revoke(tokens["T2"])
    code, lines = doctor()
    assert code == 1
    (line,) = failing(lines)
    assert line.startswith("FIX  Slack token of T2") and "token_revoked" in line and "/slack/install" in line
