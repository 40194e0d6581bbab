"""The HTTP server: POST /slack/events, POST /webhooks/*, GET /healthz (SPEC §8).

Bolt's dispatch is synchronous; it runs in Starlette's thread pool so a slow
request never blocks the event loop.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import signal
import time
import sys

import uvicorn
from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.request import BoltRequest
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from okrbot.config import Settings
from okrbot.slack.app import build_bot
from okrbot.slack.bot import SlackBot
from okrbot.slack.errors import reference_id
from okrbot.store.db import Database
from okrbot.store.migrate import upgrade_to_head
from okrbot.webhooks import WebhookReceiver

log = logging.getLogger("okrbot")


def create_app(settings: Settings, db: Database, bolt: App, bot: SlackBot) -> Starlette:
    webhooks = WebhookReceiver(settings, bot)

    async def slack_events(request: Request) -> Response:
        raw = await request.body()
        headers = dict(request.headers)
        try:
            bolt_request = BoltRequest(body=raw.decode("utf-8", errors="replace"), query=request.url.query, headers=headers)
        except Exception:  # noqa: BLE001 - bolt parses the body before checking the signature
            # Slack never sends a body bolt can't read (malformed JSON in `payload=`): refuse it
            # as unsigned (401) or as bad (400), never with an error page.
            return Response(status_code=400 if slack_signed(settings.slack_signing_secret, raw, headers) else 401)
        try:
            bolt_response = await run_in_threadpool(bolt.dispatch, bolt_request)
        except Exception:  # noqa: BLE001 - bolt answers listener errors itself; this is a bug in between
            log.exception("bolt could not dispatch a request (ref %s)", reference_id())
            return Response(status_code=200)  # an error page would show Slack's "failed" banner and nothing useful
        return Response(
            content=bolt_response.body,
            status_code=bolt_response.status,
            headers={key: values[0] for key, values in bolt_response.headers.items() if values},
        )

    async def healthz(_request: Request) -> Response:
        try:
            await run_in_threadpool(_ping, db)
        except Exception as error:  # noqa: BLE001 - report, don't crash
            return JSONResponse({"ok": False, "database": error.__class__.__name__}, status_code=503)
        return JSONResponse({"ok": True, "database": db.backend})

    async def github(request: Request) -> Response:
        body = await request.body()
        status, payload = await run_in_threadpool(webhooks.github, body, dict(request.headers))
        return JSONResponse(payload, status_code=status)

    async def work(request: Request) -> Response:
        body = await request.body()
        status, payload = await run_in_threadpool(webhooks.work, body, dict(request.headers))
        return JSONResponse(payload, status_code=status)

    routes = [
        Route("/webhooks/github", github, methods=["POST"]),
        Route("/webhooks/work", work, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
    ]
    if not settings.socket_mode:
        # In Socket Mode bolt skips signature checks (requests come over the WebSocket),
        # so an HTTP endpoint would accept anyone's unsigned request: don't offer one.
        routes.insert(0, Route("/slack/events", slack_events, methods=["POST"]))
    return Starlette(routes=routes)


def slack_signed(secret: str, body: bytes, headers: dict[str, str]) -> bool:
    """Slack's v0 signature over the raw bytes, within 5 minutes (slack_sdk's verifier
    wants text, and this body may not even be UTF-8)."""
    timestamp, signature = headers.get("x-slack-request-timestamp", ""), headers.get("x-slack-signature", "")
    if not secret or not timestamp.isdigit() or abs(time.time() - int(timestamp)) > 300:
        return False
    expected = "v0=" + hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


def _ping(db: Database) -> None:
    with db.engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def start_socket_mode(bolt: App, settings: Settings) -> SocketModeHandler:
    """Connect to Slack over Socket Mode: apps.connections.open (at SLACK_API_URL, with
    SLACK_APP_TOKEN), then commands, events and interactivity arrive over the WebSocket.
    Returns at once; the handler reconnects by itself and stops with close()."""
    handler = SocketModeHandler(bolt, settings.slack_app_token)
    handler.connect()
    log.info("Socket Mode connected")
    return handler


# How long a thread may hold the GIL while others wait (Python's default: 5 ms). An ack is a
# few short steps on different threads (bolt's dispatch, the listener's ack(), the event
# loop), and each step waits its turn behind every thread still working on earlier
# requests: at 20 concurrent `/okr status`, ack p99 was 4.7x the bare-ack server's at
# 5 ms and 1.6x at 1 ms, for about the same CPU per request (bench/latency.py).
GIL_SWITCH_INTERVAL = 0.001


def run_server(settings: Settings, *, host: str, port: int) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    sys.setswitchinterval(GIL_SWITCH_INTERVAL)
    upgrade_to_head(settings.database_url)
    db = Database(settings.database_url)
    bolt, bot = build_bot(settings, db)
    from okrbot.scheduler import start_scheduler

    scheduler = start_scheduler(settings, bot)
    socket_handler = start_socket_mode(bolt, settings) if settings.socket_mode else None
    _exit_cleanly_on_stop_signals()
    try:
        uvicorn.run(create_app(settings, db, bolt, bot), host=host, port=port, log_level="warning", access_log=False)
    finally:
        if socket_handler is not None:
            socket_handler.close()
        # What bolt runs after its acks (answers, announcements) finishes before we go.
        bolt.listener_runner.listener_executor.shutdown(wait=True)
        scheduler.shutdown(wait=False)
        db.dispose()
        log.info("okrbot stopped")


def _exit_cleanly_on_stop_signals() -> None:
    """uvicorn stops gracefully on SIGTERM/SIGINT and then raises the signal again; with
    the default handlers that kills the process before the cleanup above has run."""

    def stop(signum: int, _frame: object) -> None:
        raise SystemExit(0)

    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop_signal, stop)
