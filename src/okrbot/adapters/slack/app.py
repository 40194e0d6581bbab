"""The bolt app: one WebClient pointed at SLACK_API_URL, and every listener registered."""

from __future__ import annotations

import logging

from slack_bolt import App, BoltResponse

from okrbot.config import Settings
from okrbot.observability.slack_calls import CountingWebClient
from okrbot.adapters.slack.bot import SlackBot
from okrbot.adapters.slack.errors import reference_id
from okrbot.adapters.slack import installs as oauth
from okrbot.adapters.slack.listeners import actions, commands, events, grading, installs, reviews, serves, shortcuts, views
from okrbot.adapters.slack.speedups import use_faster_block_kit
from okrbot.store.db import Database

log = logging.getLogger("okrbot")


def build_bot(settings: Settings, db: Database) -> tuple[App, SlackBot]:
    """The app a worker runs (runtime/jobs/runner.py). The server in front of it has already checked
    each request's signature and acknowledged it, unless Slack reads the answer (a modal's
    field errors), so listeners run to the end before dispatch returns."""
    use_faster_block_kit()
    # OAuth installs: no token of its own; each request's comes from the installation store.
    token = None if settings.oauth_mode else settings.slack_bot_token
    client = CountingWebClient(token=token, base_url=settings.slack_api_url, timeout=settings.slack_timeout_seconds)
    per_workspace = {"installation_store": oauth.installation_store(settings, db), "authorize": oauth.authorize(settings, db, client)} if settings.oauth_mode else {}
    app = App(
        client=client,
        signing_secret=settings.slack_signing_secret or None,
        request_verification_enabled=False,  # server.slack_signed did it, on the raw bytes
        token_verification_enabled=not settings.oauth_mode,
        process_before_response=True,
        logger=logging.getLogger("okrbot.bolt"),
        **per_workspace,
    )
    bot = SlackBot(settings, db, client)
    for listeners in (installs, commands, events, actions, views, reviews, serves, shortcuts, grading):
        listeners.register(app, bot)

    @app.error
    def on_unexpected(error: Exception, body: dict) -> BoltResponse:
        # Listener errors we did not turn into replies: log with a reference the person can quote.
        ref = reference_id()
        log.error("unhandled error in a listener (ref %s), type=%s", ref, body.get("type"), exc_info=error)
        return BoltResponse(status=200, body="")

    return app, bot
