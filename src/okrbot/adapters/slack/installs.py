"""Which token speaks for which workspace.

Single-token mode (SLACK_BOT_TOKEN, the default): one client for every workspace.
OAuth mode (SLACK_CLIENT_ID and SLACK_CLIENT_SECRET): each workspace's bot token comes from
slack_sdk's SQLAlchemy installation store on okrbot's own database (tables made by Alembic,
store/installations.py), refreshed by slack_sdk's TokenRotator when it is about to expire. It
is read from the database at each use, so an uninstall stops every process at once: a
workspace with no token gets no scheduled message and no queued one (adapters/slack/delivery.py).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from slack_bolt.authorization.authorize import InstallationStoreAuthorize
from slack_bolt.oauth.oauth_flow import OAuthFlow
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from slack_sdk.oauth.token_rotation import TokenRotator

from okrbot.config import Settings
from okrbot.adapters.slack.scopes import BOT_SCOPES
from okrbot.store import installations
from okrbot.store.db import Database

log = logging.getLogger("okrbot.installs")

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
STATE_SECONDS = 600  # an install link works for 10 minutes, once
CLIENT_CACHE = 1000  # clients kept per process, one per token in use


def installation_store(settings: Settings, db: Database) -> SQLAlchemyInstallationStore:
    return SQLAlchemyInstallationStore(client_id=settings.slack_client_id, engine=db.engine, logger=logging.getLogger("okrbot.installs.store"))


def authorize(settings: Settings, db: Database, client: WebClient) -> InstallationStoreAuthorize:
    """Bolt's authorize for worker processes: the request's workspace (or its Grid organisation's
    org-wide install) gives the token, rotated when due."""
    return InstallationStoreAuthorize(
        installation_store=installation_store(settings, db),
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        token_rotation_expiration_minutes=settings.token_rotation_minutes,
        bot_only=True,
        client=client,
        logger=logging.getLogger("okrbot.bolt"),
    )


def oauth_flow(settings: Settings, db: Database, on_installed: Callable[[Installation], None]) -> OAuthFlow:
    """Bolt's OAuth flow for /slack/install and /slack/oauth_redirect: the state is kept in the
    database (any replica may get the redirect), oauth.v2.access is called at SLACK_API_URL."""
    settings_ = OAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        scopes=list(BOT_SCOPES),
        install_path=INSTALL_PATH,
        install_page_rendering_enabled=False,  # /slack/install goes straight to Slack's consent page
        redirect_uri_path=REDIRECT_PATH,
        installation_store=installation_store(settings, db),
        installation_store_bot_only=True,
        state_store=SQLAlchemyOAuthStateStore(expiration_seconds=STATE_SECONDS, engine=db.engine, logger=logging.getLogger("okrbot.installs.state")),
        token_rotation_expiration_minutes=settings.token_rotation_minutes,
        success_url=None,
        failure_url=None,
    )
    flow = OAuthFlow(client=WebClient(base_url=settings.slack_api_url, timeout=settings.slack_timeout_seconds), settings=settings_, logger=logging.getLogger("okrbot.bolt"))
    store_installation = flow.store_installation

    def store_and_tell(request, installation: Installation) -> None:
        store_installation(request, installation)
        on_installed(installation)

    flow.store_installation = store_and_tell  # type: ignore[method-assign]
    return flow


class TeamClients:
    """The Web API client that speaks for a workspace (None: okrbot is not installed there)."""

    def __init__(self, settings: Settings, db: Database, template: WebClient):
        self.settings = settings
        self.db = db
        self.template = template  # base URL, timeout, retry handlers and call counting for every client
        self.oauth = settings.oauth_mode
        if self.oauth:
            self._store = installation_store(settings, db)
            rotator_client = WebClient(base_url=settings.slack_api_url, timeout=settings.slack_timeout_seconds)
            self._rotator = TokenRotator(client_id=settings.slack_client_id, client_secret=settings.slack_client_secret, client=rotator_client)
        self._clients: dict[str, WebClient] = {}
        self._lock = threading.Lock()

    def for_team(self, team_id: str) -> WebClient | None:
        if not self.oauth:
            return self.template
        token = self.bot_token(team_id)
        return None if token is None else self._client(token)

    def installed(self, team_id: str) -> bool:
        """Whether scheduled work may run for this workspace (always, with a single token)."""
        if not self.oauth:
            return True
        with self.db.session_scope(read_only=True) as session:
            return installations.bot_key(session, self.settings.slack_client_id, team_id) is not None

    def bot_token(self, team_id: str) -> str | None:
        with self.db.session_scope(read_only=True) as session:
            key = installations.bot_key(session, self.settings.slack_client_id, team_id)
        if key is None:
            return None
        bot = self._store.find_bot(enterprise_id=key.enterprise_id, team_id=key.team_id, is_enterprise_install=key.is_enterprise_install)
        if bot is None:
            return None
        if bot.bot_refresh_token:
            rotated = self._rotator.perform_bot_token_rotation(bot=bot, minutes_before_expiration=self.settings.token_rotation_minutes)
            if rotated is not None:
                self._store.save_bot(rotated)
                log.info("bot token of %s rotated", team_id)
                bot = rotated
        return bot.bot_token

    def _client(self, token: str) -> WebClient:
        with self._lock:
            client = self._clients.get(token)
            if client is None:
                if len(self._clients) >= CLIENT_CACHE:
                    self._clients.clear()  # rotated tokens pile up: start again
                t = self.template
                client = type(t)(token=token, base_url=t.base_url, timeout=t.timeout, logger=t.logger, retry_handlers=list(t.retry_handlers))
                self._clients[token] = client
            return client
