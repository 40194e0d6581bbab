"""`okrbot doctor`: check the configuration end to end, one line per check with the fix.

Each check is independent, so one problem does not hide the next: the Slack token and
its scopes (auth.test; Slack sends the granted scopes in the X-OAuth-Scopes header of
every Web API answer), the signing secret or app token, the database and its schema,
webhook secrets for the integrations in use, time zones and review schedules, and the
optional embedding model ("does this serve a KR?").
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlmodel import Session, col, select

from okrbot.config import PLACEHOLDERS, Settings
from okrbot.domain.schedule import ScheduleError, parse_schedule
from okrbot.observability.health import current_revision, head_revision
from okrbot.adapters.slack.scopes import BOT_SCOPES
from okrbot.store.db import make_engine
from okrbot.store.models import Initiative, WebhookSecret, Workspace

SCOPES_HEADER = "x-oauth-scopes"
APP_SETTINGS = "api.slack.com/apps → your app"


@dataclass(frozen=True)
class Finding:
    check: str
    ok: bool
    say: str  # what was found, or what to do about it

    def line(self) -> str:
        return f"{'ok  ' if self.ok else 'FIX '} {self.check}: {self.say}"


# An integration is in use in a workspace when one of its initiatives links to the tool's site;
# its deliveries are then verified only with a secret: the workspace's own (`/okr webhooks`) or,
# on the shared /webhooks/github URL, OKRBOT_WEBHOOK_SECRET.
@dataclass(frozen=True)
class Integration:
    name: str
    vendor: str  # WebhookSecret.vendor
    url_contains: str
    shared_setting: str | None = None
    shared_secret: Callable[[Settings], str] = lambda _settings: ""


INTEGRATIONS = (
    Integration("GitHub", "github", "github.com/", "OKRBOT_WEBHOOK_SECRET", lambda settings: settings.webhook_secret),
    Integration("GitLab", "gitlab", "/-/"),
    Integration("Jira", "jira", "/browse/"),
    Integration("Linear", "linear", "linear.app/"),
)


def run_checks(settings: Settings) -> list[Finding]:
    findings = [*(oauth_app_checks(settings) if settings.oauth_mode else slack_checks(settings)), app_credentials(settings)]
    database = database_checks(settings)
    findings += database.findings
    findings.append(timezone_check(settings.timezone, "OKRBOT_TIMEZONE"))
    findings.append(embedding_model_check(settings))
    if database.engine is not None:
        try:
            if settings.oauth_mode:
                findings += installed_token_checks(settings, database.engine)
            findings += list(workspace_checks(settings, database.engine))
        finally:
            database.engine.dispose()
    return findings


# ------------------------------------------------------------------ Slack


def slack_checks(settings: Settings) -> list[Finding]:
    if _unset(settings.slack_bot_token):
        return [Finding("Slack token", False, f"SLACK_BOT_TOKEN is not set: copy the Bot User OAuth Token (xoxb-…) from {APP_SETTINGS} → OAuth & Permissions"
                        " (or set SLACK_CLIENT_ID and SLACK_CLIENT_SECRET to install okrbot into workspaces by OAuth).")]
    return token_checks(settings, settings.slack_bot_token, "Slack token", "copy the Bot User OAuth Token again from " + APP_SETTINGS + " → OAuth & Permissions")


def oauth_app_checks(settings: Settings) -> list[Finding]:
    where = f"{settings.public_url.rstrip('/')}/slack/install" if settings.public_url else "https://<your host>/slack/install"
    return [Finding("Slack app", True, f"OAuth installs (SLACK_CLIENT_ID set; no SLACK_BOT_TOKEN needed): each workspace installs okrbot at {where}")]


def installed_token_checks(settings: Settings, engine) -> list[Finding]:
    """OAuth mode: each installed workspace's (or Grid organisation's) newest bot token."""
    from okrbot.store.models import bots

    with Session(engine) as session:
        rows = session.execute(
            select(bots.c.team_id, bots.c.enterprise_id, bots.c.bot_token)
            .where(bots.c.client_id == settings.slack_client_id, bots.c.bot_token.is_not(None))
            .order_by(bots.c.installed_at, bots.c.id)
        ).all()
    newest = {(row.team_id, row.enterprise_id): row.bot_token for row in rows}
    if not newest:
        return [Finding("Installs", False, "no workspace has installed okrbot yet: open /slack/install in a browser signed in to the workspace.")]
    findings = []
    for (team_id, enterprise_id), token in sorted(newest.items(), key=lambda item: str(item[0])):
        label = f"Slack token of {team_id or f'the {enterprise_id} organisation (org-wide)'}"
        findings += token_checks(settings, token, label, "install okrbot again from /slack/install (a token okrbot rotates is refreshed at its next use)")
    return findings


def token_checks(settings: Settings, token: str, label: str, again: str) -> list[Finding]:
    client = WebClient(token=token, base_url=settings.slack_api_url, timeout=10)
    try:
        answer = client.auth_test()
    except SlackApiError as error:
        code = error.response.get("error") or error.response.status_code
        return [Finding(label, False, f"Slack refused it ({code}): {again}, and reinstall the app if it was revoked.")]
    except Exception as error:  # noqa: BLE001 - no answer at all: say where we asked
        return [Finding(label, False, f"no answer from {settings.slack_api_url} ({error.__class__.__name__}): check SLACK_API_URL and the network.")]
    found = [Finding(label, True, f"valid for workspace {answer.get('team')} ({answer.get('team_id')}) as @{answer.get('user')}")]
    granted = _granted_scopes(answer.headers)
    if granted is None:
        found.append(Finding("Slack scopes", False, f"Slack did not say which scopes the token has (no {SCOPES_HEADER} header); check them in {APP_SETTINGS} → OAuth & Permissions against manifest.yml."))
        return found
    missing = [scope for scope in BOT_SCOPES if scope not in granted]
    if missing:
        found.append(Finding("Slack scopes", False, f"the token lacks {', '.join(missing)}: add {'them' if len(missing) > 1 else 'it'} under {APP_SETTINGS} → OAuth & Permissions → Bot Token Scopes (or update the app from manifest.yml), then reinstall the app."))
    else:
        found.append(Finding("Slack scopes", True, f"all {len(BOT_SCOPES)} scopes manifest.yml asks for"))
    return found


def _granted_scopes(headers: dict) -> set[str] | None:
    for name, value in (headers or {}).items():
        if name.lower() == SCOPES_HEADER:
            value = value[0] if isinstance(value, list) else value
            return {scope.strip() for scope in str(value).split(",") if scope.strip()}
    return None


def app_credentials(settings: Settings) -> Finding:
    if settings.socket_mode:
        if not settings.slack_app_token.startswith("xapp-"):
            return Finding("Socket Mode app token", False, f"SLACK_APP_TOKEN should start with xapp-: create an app-level token with connections:write in {APP_SETTINGS} → Basic Information.")
        return Finding("Socket Mode app token", True, "set (requests come over the WebSocket; no signing secret needed)")
    if _unset(settings.slack_signing_secret):
        return Finding("Signing secret", False, f"SLACK_SIGNING_SECRET is not set: copy the Signing Secret from {APP_SETTINGS} → Basic Information → App Credentials.")
    return Finding("Signing secret", True, "set")


def _unset(value: str) -> bool:
    return value.strip().lower() in PLACEHOLDERS


# ------------------------------------------------------------------ database


@dataclass
class _Database:
    findings: list[Finding]
    engine: object | None  # open when the schema is at head, for the checks that read it


def database_checks(settings: Settings) -> _Database:
    engine = make_engine(settings.database_url)
    try:
        revision = current_revision(engine)
    except Exception as error:  # noqa: BLE001 - unreachable: say so and go on with the rest
        engine.dispose()
        return _Database([Finding("Database", False, f"unreachable ({error.__class__.__name__}): check DATABASE_URL and that the server is up.")], None)
    head = head_revision(settings.database_url)
    reached = Finding("Database", True, f"reachable ({engine.dialect.name})")
    if revision != head:
        engine.dispose()
        return _Database([reached, Finding("Schema", False, f"at {revision or 'no version'}, this okrbot needs {head}: run `okrbot migrate`.")], None)
    return _Database([reached, Finding("Schema", True, f"at the newest migration ({head})")], engine)


def workspace_checks(settings: Settings, engine) -> Iterator[Finding]:
    """What the database says about the integrations in use and each workspace's reviews."""
    with Session(engine) as session:
        for integration in INTEGRATIONS:
            if integration.shared_setting and not _unset(integration.shared_secret(settings)):
                yield Finding(f"{integration.name} webhooks", True, f"{integration.shared_setting} is set (the shared /webhooks/{integration.vendor} URL)")
        for team_id in session.exec(select(Workspace.team_id).order_by(Workspace.team_id)).all():
            yield from _integrations_in_use(settings, session, team_id)
        for workspace in session.exec(select(Workspace).order_by(Workspace.team_id)).all():
            if workspace.timezone:
                yield timezone_check(workspace.timezone, f"workspace {workspace.team_id} time zone")
            if workspace.review_schedule:
                yield schedule_check(workspace.team_id, workspace.review_schedule)


def _integrations_in_use(settings: Settings, session: Session, team_id: str) -> Iterator[Finding]:
    for integration in INTEGRATIONS:
        linked = session.exec(
            select(Initiative.id).where(Initiative.team_id == team_id, col(Initiative.url).contains(integration.url_contains)).limit(1)
        ).first()
        if linked is None:
            continue
        own = session.exec(select(WebhookSecret.id).where(WebhookSecret.team_id == team_id, WebhookSecret.vendor == integration.vendor)).first()
        shared = integration.shared_setting is not None and not _unset(integration.shared_secret(settings))
        if own is not None or shared:
            yield Finding(f"{integration.name} webhooks", True, f"workspace {team_id}: deliveries are verified ({'its own secret' if own is not None else integration.shared_setting})")
            continue
        also = f", or set {integration.shared_setting} for the shared /webhooks/{integration.vendor} URL" if integration.shared_setting else ""
        yield Finding(
            f"{integration.name} webhooks",
            False,
            f"workspace {team_id}'s initiatives link to {integration.name} but no webhook secret is set: an admin types "
            f"`/okr webhooks` in Slack and pastes that URL and secret into {integration.name}'s webhook settings{also}.",
        )


def embedding_model_check(settings: Settings) -> Finding:
    """OKRBOT_EMBEDDING_MODEL: unset is fine; set, the model must load and run."""
    from okrbot.services.embedding_model import describe

    ok, say = describe(settings)
    return Finding("Embedding model", ok, say)


def timezone_check(name: str, where: str) -> Finding:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return Finding("Time zone", False, f"{where}={name!r} is not an IANA time zone: use one such as Europe/Berlin or America/New_York.")
    return Finding("Time zone", True, f"{where} is {name}")


def schedule_check(team_id: str, text: str) -> Finding:
    try:
        parse_schedule(text)
    except ScheduleError as error:
        return Finding("Review schedule", False, f"workspace {team_id}'s schedule {text!r} does not parse ({error}): set it again with /okr review schedule \"monthly first monday 10:00\".")
    return Finding("Review schedule", True, f"workspace {team_id}: {text}")
