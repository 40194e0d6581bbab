"""The bolt app: one WebClient pointed at SLACK_API_URL, and every listener registered."""

from __future__ import annotations

import logging

from slack_bolt import App, BoltResponse
from slack_sdk import WebClient

from okrbot.config import Settings
from okrbot.slack.bot import SlackBot
from okrbot.slack.errors import reference_id
from okrbot.slack.gate import GatedExecutor, WorkGate, gate_middleware
from okrbot.slack.listeners import actions, commands, events, reviews, serves, views
from okrbot.slack.speedups import use_faster_block_kit
from okrbot.store.db import Database

log = logging.getLogger("okrbot")

# Bolt runs every listener, ack() included, on this pool (5 threads by default). When all
# threads are busy with the work after earlier acks, a new request's ack waits for one and
# Slack gives up after 3 s ("didn't call ack()" under 20 concurrent /okr status, bench/latency.py).
# A thread per request in flight keeps acks immediate; the GIL, not the pool, bounds throughput.
LISTENER_THREADS = 64
# Listeners doing their work after the ack at once; the rest wait their turn (slack/gate.py).
WORK_SLOTS = 4


def build_bot(settings: Settings, db: Database) -> tuple[App, SlackBot]:
    use_faster_block_kit()
    gate = WorkGate(WORK_SLOTS)
    client = WebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url, timeout=10)
    app = App(
        client=client,
        signing_secret=settings.slack_signing_secret or None,
        # Socket Mode has no signatures to check; HTTP mode always verifies them.
        request_verification_enabled=not settings.socket_mode,
        token_verification_enabled=True,
        process_before_response=False,
        logger=logging.getLogger("okrbot.bolt"),
        listener_executor=GatedExecutor(gate, max_workers=LISTENER_THREADS, thread_name_prefix="okrbot-listener"),
    )
    app.middleware(gate_middleware(gate))
    bot = SlackBot(settings, db, client)
    for listeners in (commands, events, actions, views, reviews, serves):
        listeners.register(app, bot)

    @app.error
    def on_unexpected(error: Exception, body: dict) -> BoltResponse:
        # Listener errors we did not turn into replies: log with a reference the person can quote.
        ref = reference_id()
        log.error("unhandled error in a listener (ref %s), type=%s", ref, body.get("type"), exc_info=error)
        return BoltResponse(status=200, body="")

    return app, bot
