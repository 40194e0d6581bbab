"""The HTTP server: POST /slack/events, POST /webhooks/*, GET /healthz (SPEC §8).

It only checks signatures, acknowledges and hands requests on (jobs/): a slash
command, a button or an event gets its 200 at once, whatever the workers are busy
with; a modal submission, a webhook and the like wait for their worker's answer.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import signal
import sys
import time

import uvicorn
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route as Path

from okrbot.config import Settings
from okrbot.jobs import Answer, Route
from okrbot.jobs.job import WEBHOOK_ROUTES
from okrbot.jobs.dispatcher import Dispatcher
from okrbot.jobs.lanes import WorkerFailed
from okrbot.slack.routing import UnreadableRequest, wants_answer
from okrbot.slack.socket_front import SocketModeFront
from okrbot.store.db import Database
from okrbot.store.migrate import upgrade_to_head

log = logging.getLogger("okrbot")

# Slack stops waiting after 3 s and GitHub after 10 s; past this the answer is of no use to anyone.
ANSWER_TIMEOUT = 30.0


def create_app(settings: Settings, db: Database, dispatcher: Dispatcher) -> Starlette:
    async def slack_events(request: Request) -> Response:
        raw = await request.body()
        headers = dict(request.headers)
        if not slack_signed(settings.slack_signing_secret, raw, headers):
            return Response(status_code=401)
        try:
            answer_wanted = wants_answer(raw, headers.get("content-type", ""))
        except UnreadableRequest:
            return Response(status_code=400)  # Slack never sends this; say so rather than show an error page
        future = dispatcher.submit(Route.SLACK, raw, headers=headers, query=request.url.query, answer_wanted=answer_wanted)
        if not answer_wanted:
            return Response(status_code=200)  # the acknowledgement; the answer follows through the Web API
        return as_response(await wait_for_answer(future))

    async def healthz(_request: Request) -> Response:
        working = dispatcher.working()
        workers = f"{working} of {len(dispatcher.lanes)}"
        try:
            await run_in_threadpool(_ping, db)
        except Exception as error:  # noqa: BLE001 - report, don't crash
            return JSONResponse({"ok": False, "database": error.__class__.__name__, "workers": workers}, status_code=503)
        # With no worker up (all starting again) requests are still acknowledged and kept.
        ok = working > 0
        return JSONResponse({"ok": ok, "database": db.backend, "workers": workers}, status_code=200 if ok else 503)

    def webhook(route: Route):
        async def receive(request: Request) -> Response:
            body = await request.body()
            token = request.path_params.get("token", "")
            future = dispatcher.submit(route, body, headers=dict(request.headers), answer_wanted=True, token=token)
            return as_response(await wait_for_answer(future))

        return receive

    routes = [Path("/healthz", healthz, methods=["GET"])]
    for tool, route in WEBHOOK_ROUTES.items():
        routes += [Path(f"/webhooks/{tool}", webhook(route), methods=["POST"]), Path(f"/webhooks/{tool}/{{token}}", webhook(route), methods=["POST"])]
    if not settings.socket_mode:
        # In Socket Mode requests come over the WebSocket, unsigned: an HTTP endpoint
        # would accept anyone's request, so there is none.
        routes.insert(0, Path("/slack/events", slack_events, methods=["POST"]))
    return Starlette(routes=routes)


async def wait_for_answer(future) -> Answer | None:
    try:
        return await asyncio.wait_for(asyncio.wrap_future(future), ANSWER_TIMEOUT)
    except asyncio.TimeoutError:
        return None  # the work goes on; the caller gets a plain 200 instead of an error page


def as_response(answer: Answer | None) -> Response:
    if answer is None:
        return Response(status_code=200)
    return Response(content=answer.body, status_code=answer.status, headers=answer.headers)


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


# How long a thread may hold the GIL while others wait (Python's default: 5 ms). The server
# is mostly the event loop and a few threads that pass jobs on; a shorter slice lets the
# event loop answer the next request sooner. (The ack-only baseline uses the same.)
GIL_SWITCH_INTERVAL = 0.001


def run_server(settings: Settings, *, host: str, port: int) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    sys.setswitchinterval(GIL_SWITCH_INTERVAL)
    upgrade_to_head(settings.database_url)
    db = Database(settings.database_url)  # for /healthz; the workers have their own
    dispatcher = Dispatcher.with_processes(settings, settings.worker_count)
    try:
        dispatcher.start()
    except WorkerFailed as error:
        dispatcher.close(timeout=5)
        raise SystemExit(f"okrbot could not start: {error}") from error
    socket_front = SocketModeFront(settings, dispatcher) if settings.socket_mode else None
    if socket_front is not None:
        socket_front.connect()
    _exit_cleanly_on_stop_signals()
    try:
        uvicorn.run(create_app(settings, db, dispatcher), host=host, port=port, log_level="warning", access_log=False)
    finally:
        if socket_front is not None:
            socket_front.close()
        dispatcher.close()  # what was acknowledged is finished before we go
        db.dispose()
        log.info("okrbot stopped")


def _exit_cleanly_on_stop_signals() -> None:
    """uvicorn stops gracefully on SIGTERM/SIGINT and then raises the signal again; with
    the default handlers that kills the process before the cleanup above has run."""

    def stop(signum: int, _frame: object) -> None:
        raise SystemExit(0)

    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop_signal, stop)
