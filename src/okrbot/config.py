"""Settings from the environment or `.env`, built once and passed in (SPEC §8)."""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

from okrbot.domain.periods import month_number

# Values people paste from examples instead of their real credentials.
PLACEHOLDERS = {"", "changeme", "change-me", "xoxb-your-token", "xoxb-...", "your-signing-secret", "secret", "todo"}


class MissingCredentials(Exception):
    """Raised when serving without usable Slack credentials; the message says what to set."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    # Secrets (and a URL that may hold a password) are left out of repr(), so a
    # settings object that ends up in a log line or a traceback shows none of them.
    slack_bot_token: str = Field(default="", alias="SLACK_BOT_TOKEN", repr=False)
    slack_signing_secret: str = Field(default="", alias="SLACK_SIGNING_SECRET", repr=False)
    slack_app_token: str = Field(default="", alias="SLACK_APP_TOKEN", repr=False)
    slack_api_url: str = Field(default="https://slack.com/api/", alias="SLACK_API_URL")
    # OAuth installs (many workspaces): with both set, /slack/install and /slack/oauth_redirect
    # are served and each workspace's token comes from the installation store (adapters/slack/installs.py).
    slack_client_id: str = Field(default="", alias="SLACK_CLIENT_ID")
    slack_client_secret: str = Field(default="", alias="SLACK_CLIENT_SECRET", repr=False)
    # A rotating token (token rotation on in the app's settings) is refreshed this long before it expires.
    token_rotation_minutes: int = Field(default=120, ge=1, le=1440, alias="OKRBOT_TOKEN_ROTATION_MINUTES")
    database_url: str = Field(default="sqlite:///okrbot.db", alias="DATABASE_URL", repr=False)
    timezone: str = Field(default="UTC", alias="OKRBOT_TIMEZONE")
    webhook_secret: str = Field(default="", alias="OKRBOT_WEBHOOK_SECRET", repr=False)
    # GitHub's old SHA-1 signature (X-Hub-Signature) is accepted only when this is on.
    github_allow_sha1: bool = Field(default=False, alias="OKRBOT_GITHUB_ALLOW_SHA1")
    # The bot's address as GitHub, GitLab, Jira and Linear reach it: /okr webhooks shows full URLs.
    public_url: str = Field(default="", alias="OKRBOT_PUBLIC_URL")
    # Jira site (https://acme.atlassian.net) for linking work by key: /okr link PAY-12 KR-3.
    jira_site: str = Field(default="", alias="OKRBOT_JIRA_SITE")
    admins: str = Field(default="", alias="OKRBOT_ADMINS")
    reminder_days: float = Field(default=3.0, alias="OKRBOT_REMINDER_DAYS")
    max_reminders: int = Field(default=2, alias="OKRBOT_MAX_REMINDERS")
    review_window_days: float = Field(default=7.0, alias="OKRBOT_REVIEW_WINDOW_DAYS")
    scheduler_enabled: bool = Field(default=True, alias="OKRBOT_SCHEDULER")
    # How often each process looks for due review cycles, reminders and digests.
    review_tick_seconds: float = Field(default=30.0, gt=0, alias="OKRBOT_REVIEW_TICK_SECONDS")
    # How often each process sends what is left in the outbox (retries, 429s, leftovers after a crash).
    outbox_sweep_seconds: float = Field(default=15.0, gt=0, alias="OKRBOT_OUTBOX_SWEEP_SECONDS")
    # A message being sent is leased to one process for this long; longer than any Slack call may take.
    outbox_lease_seconds: float = Field(default=120.0, ge=1, alias="OKRBOT_OUTBOX_LEASE_SECONDS")
    # How long a Slack Web API call may take before its answer counts as lost (a post is then
    # looked up, not resent blind, a few of these later: adapters/slack/delivery.py).
    slack_timeout_seconds: float = Field(default=10.0, gt=0, le=60, alias="OKRBOT_SLACK_TIMEOUT_SECONDS")

    # The month the fiscal year starts in (a name or 1-12); workspaces may set their own.
    fiscal_year_start: str = Field(default="january", alias="OKRBOT_FISCAL_YEAR_START")
    # Grading opens this many days before a period ends and stays open this long after it.
    grading_lead_days: int = Field(default=10, ge=0, le=90, alias="OKRBOT_GRADING_LEAD_DAYS")
    grading_window_days: int = Field(default=14, ge=0, le=90, alias="OKRBOT_GRADING_WINDOW_DAYS")
    # Team channels with no objective for the coming period are told this many days before it starts.
    planning_lead_days: int = Field(default=14, ge=0, le=366, alias="OKRBOT_PLANNING_LEAD_DAYS")

    # Worker processes behind `okrbot serve` (jobs/); unset: see worker_count. 0: this
    # server only acknowledges, and `okrbot worker` processes do the work.
    workers: int | None = Field(default=None, ge=0, le=32, alias="OKRBOT_WORKERS")

    # Operating it (issue 18): GET /metrics, its bearer token, log lines as JSON, and when
    # /readyz calls the outbox stuck (a message due this long ago and still not sent).
    metrics: bool = Field(default=False, alias="OKRBOT_METRICS")
    metrics_token: str = Field(default="", alias="OKRBOT_METRICS_TOKEN", repr=False)
    log_format: Literal["text", "json"] = Field(default="text", alias="OKRBOT_LOG_FORMAT")
    outbox_stuck_seconds: float = Field(default=900.0, gt=0, alias="OKRBOT_OUTBOX_STUCK_SECONDS")

    # "Does this serve a KR?" with meaning as well as words (issue 12): a sentence-transformers
    # BERT model folder on this machine (all-MiniLM-L6-v2: config.json, vocab.txt, model.safetensors,
    # 1_Pooling/config.json). Unset: words alone. Read with numpy; nothing is downloaded.
    embedding_model: str = Field(default="", alias="OKRBOT_EMBEDDING_MODEL")
    # Where the processes of this install share what they built (the "serves" index of each
    # workspace-period, store/snapshots.py). Unset: next to a SQLite database (okrbot.db-cache/),
    # else $XDG_CACHE_HOME/okrbot (~/.cache/okrbot); "off": nothing is written or read.
    cache_dir: str = Field(default="", alias="OKRBOT_CACHE_DIR")

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"OKRBOT_TIMEZONE={value!r} is not an IANA time zone such as Europe/Berlin") from exc
        return value

    @field_validator("fiscal_year_start")
    @classmethod
    def _known_month(cls, value: str) -> str:
        if month_number(value) is None:
            raise ValueError(f"OKRBOT_FISCAL_YEAR_START={value!r} is not a month; use a name such as february, or 1-12")
        return value

    @property
    def fiscal_start_month(self) -> int:
        return month_number(self.fiscal_year_start) or 1

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        # slack_sdk joins base_url + method, so the slash matters.
        return value if value.endswith("/") else value + "/"

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @cached_property
    def admin_ids(self) -> frozenset[str]:
        return frozenset(part.strip() for part in self.admins.split(",") if part.strip())

    @property
    def worker_count(self) -> int:
        """OKRBOT_WORKERS, or: one on SQLite (its writers queue best within one process),
        one per core up to 4 on PostgreSQL."""
        if self.workers is not None:
            return self.workers
        if self.database_url.startswith("sqlite"):
            return 1
        return max(1, min(os.cpu_count() or 1, 4))

    @property
    def cache_directory(self) -> Path | None:
        """OKRBOT_CACHE_DIR, or its default for this database; None when off (or an in-memory SQLite
        database, which no other process can open)."""
        chosen = self.cache_dir.strip()
        if chosen.lower() == "off":
            return None
        if chosen:
            return Path(chosen).expanduser()
        url = make_url(self.database_url)
        if url.get_backend_name() == "sqlite":
            if url.database in (None, "", ":memory:"):
                return None
            return Path(f"{url.database}-cache")
        try:
            return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "okrbot"
        except RuntimeError:  # no home directory: nowhere to share, so nothing is
            return None

    @property
    def socket_mode(self) -> bool:
        return bool(self.slack_app_token)

    @property
    def oauth_mode(self) -> bool:
        """Installed by OAuth into any number of workspaces, instead of one SLACK_BOT_TOKEN."""
        return bool(self.slack_client_id.strip() and self.slack_client_secret.strip())

    def require_slack_credentials(self) -> None:
        """Refuse to serve with missing or placeholder credentials, naming what to set."""
        needed = {} if self.oauth_mode else {"SLACK_BOT_TOKEN": self.slack_bot_token}
        if self.socket_mode:
            needed["SLACK_APP_TOKEN"] = self.slack_app_token
        else:
            needed["SLACK_SIGNING_SECRET"] = self.slack_signing_secret
        missing = [name for name, value in needed.items() if value.strip().lower() in PLACEHOLDERS]
        if missing:
            raise MissingCredentials(
                f"Set {' and '.join(missing)} in the environment or .env. Create the Slack app from "
                "manifest.yml (api.slack.com/apps → Create New App → From an app manifest), install it, "
                "then copy the Bot User OAuth Token (xoxb-…) and the Signing Secret from the app's settings."
                " For Socket Mode, also set SLACK_APP_TOKEN (xapp-…). To install into several workspaces"
                " instead, set SLACK_CLIENT_ID and SLACK_CLIENT_SECRET (README, OAuth installs)."
            )
