"""The HTTP server: POST /slack/events, POST /webhooks/*, GET /healthz (SPEC §8).

It only checks signatures, writes each request to the inbox (store/inbox.py) and
acknowledges: a slash command, a button or an event gets its 200 as soon as it is on
disk, whatever the workers are busy with; a modal submission, a webhook and the like
wait for their worker's answer. A request that cannot be written gets a 503, so its
sender knows it was not taken (Slack shows its own error; GitHub redelivers).
"""

from __future__ import annotations

import gc
import hashlib
import hmac
import logging
import signal
import sys
import time

import uvicorn
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route as Path

from okrbot.config import Settings
from okrbot.runtime.jobs import Answer, Route
from okrbot.runtime.jobs.dispatcher import Dispatcher
from okrbot.runtime.jobs.job import TOKEN_HEADER, WEBHOOK_ROUTES
from okrbot.runtime.jobs.lanes import WorkerFailed
from okrbot.observability import endpoints
from okrbot.observability.health import Readiness
from okrbot.observability.logs import configure_logging
from okrbot.observability.metrics import Level, ScrapeTimeCollector
from okrbot.observability.requests import AckTimer
from okrbot.adapters.slack.not_taken import not_taken, tell_not_saved
from okrbot.adapters.slack.oauth_routes import oauth_routes
from okrbot.adapters.slack.routing import UnreadableRequest, inspect_request, once
from okrbot.adapters.slack.socket_front import SocketModeFront
from okrbot.store.db import Database
from okrbot.store.migrate import upgrade_to_head

log = logging.getLogger("okrbot")

# Slack stops waiting after 3 s; past this its answer is of no use. GitHub waits 10 s.
SLACK_ANSWER_TIMEOUT = 2.5
WEBHOOK_ANSWER_TIMEOUT = 8.0
# Headers that name a webhook delivery: a redelivery is the same request.
DELIVERY_HEADERS = ("x-github-delivery", "idempotency-key", "x-atlassian-webhook-identifier", "linear-delivery")
SIGNATURE_HEADERS = ("x-hub-signature-256", "x-hub-signature", "x-gitlab-token", "linear-signature", "x-okrbot-signature")


def create_app(settings: Settings, db: Database, dispatcher: Dispatcher) -> Starlette:
    timer = AckTimer(metrics_on=settings.metrics)  # the workers count and log each request when its work is done

    def workers() -> tuple[int, int]:
        return dispatcher.working(), len(dispatcher.lanes)

    async def slack_events(request: Request) -> Response:
        received = time.perf_counter()
        raw = await request.body()
        headers = dict(request.headers)
        if not slack_signed(settings.slack_signing_secret, raw, headers):
            return timer.refused(Route.SLACK, received, Response(status_code=401))
        try:
            about = inspect_request(raw, headers.get("content-type", ""))
        except UnreadableRequest:
            return timer.refused(Route.SLACK, received, Response(status_code=400))  # Slack never sends this; say so rather than show an error page
        accepted = await accept(Route.SLACK, raw, headers, query=request.url.query, key=about.key, answer_wanted=about.answer_wanted, team_id=about.team_id)
        if accepted is None:
            refused = not_taken(raw, headers.get("content-type", ""))
            tell = BackgroundTask(tell_not_saved, refused.tell_url) if refused.tell_url else None
            if refused.body is not None:
                return timer.refused(Route.SLACK, received, JSONResponse(refused.body, status_code=refused.status, background=tell))
            return timer.refused(Route.SLACK, received, Response(status_code=refused.status, background=tell))
        if not about.answer_wanted:
            return timer.acked(Route.SLACK, received, Response(status_code=200))  # the acknowledgement; the answer follows through the Web API
        return timer.acked(Route.SLACK, received, as_response(await run_in_threadpool(dispatcher.answer, accepted, SLACK_ANSWER_TIMEOUT)))

    async def accept(route: Route, body: bytes, headers: dict[str, str], **request):
        try:
            return await run_in_threadpool(lambda: dispatcher.submit(route, body, headers=headers, **request))
        except Exception:  # noqa: BLE001 - not on disk: not acknowledged
            log.exception("a %s request could not be written to the inbox; answered 503", route.value)
            return None

    async def healthz(_request: Request) -> Response:
        # Alive: the process answers. Whether it should get requests is /readyz's question.
        working, total = workers()
        return JSONResponse({"ok": True, "database": db.backend, "workers": f"{working} of {total}"})

    def webhook(route: Route):
        async def receive(request: Request) -> Response:
            received = time.perf_counter()
            body = await request.body()
            headers = dict(request.headers)
            token = request.path_params.get("token", "")
            headers[TOKEN_HEADER] = token  # the path's workspace token travels with the request (never a sender's header)
            accepted = await accept(route, body, headers, key=delivery_key(route, headers, token), answer_wanted=True)
            if accepted is None:
                return timer.refused(route, received, JSONResponse({"ok": False, "error": "Not saved: the database is not answering; send it again."}, status_code=503))
            answer = await run_in_threadpool(dispatcher.answer, accepted, WEBHOOK_ANSWER_TIMEOUT)
            if answer is None:  # on disk and being worked on: it will be applied
                return timer.acked(route, received, JSONResponse({"ok": True, "queued": True}, status_code=202))
            return timer.acked(route, received, as_response(answer))

        return receive

    routes = [
        Path("/healthz", healthz, methods=["GET"]),
        Path("/readyz", endpoints.readyz(Readiness(db, workers=workers, outbox_stuck_seconds=settings.outbox_stuck_seconds)), methods=["GET"]),
    ]
    for tool, route in WEBHOOK_ROUTES.items():
        routes += [Path(f"/webhooks/{tool}", webhook(route), methods=["POST"]), Path(f"/webhooks/{tool}/{{token}}", webhook(route), methods=["POST"])]
    if settings.metrics:
        inbox = [
            Level("okrbot_inbox_backlog", "Acknowledged requests not done yet (waiting or being worked on).", lambda: dispatcher.inbox.backlog().waiting),
            Level("okrbot_inbox_oldest_age_seconds", "Age of the oldest request not done yet (0 when none).", lambda: dispatcher.inbox.backlog().oldest_seconds or 0.0),
        ]
        routes.append(Path("/metrics", endpoints.metrics_page(ScrapeTimeCollector(db, workers, inbox), settings.metrics_token), methods=["GET"]))
    if settings.oauth_mode:
        routes += oauth_routes(settings, db)
    if not settings.socket_mode:
        # In Socket Mode requests come over the WebSocket, unsigned: an HTTP endpoint
        # would accept anyone's request, so there is none.
        routes.insert(0, Path("/slack/events", slack_events, methods=["POST"]))
    return Starlette(routes=routes)


def delivery_key(route: Route, headers: dict[str, str], token: str = "") -> str:
    """A redelivery to the same URL is the same request; two workspaces' URLs never share one.
    The signature is part of it: a delivery signed otherwise (forged, or re-signed after the
    secret was fixed) is a request of its own, answered on its own merits."""
    for name in DELIVERY_HEADERS:
        delivery = headers.get(name, "").strip()
        if delivery:
            signed = hashlib.sha256("\n".join(headers.get(h, "") for h in SIGNATURE_HEADERS).encode()).hexdigest()[:16]
            return f"{route.value}:{token[:40]}:{delivery[:120]}:{signed}"
    return once()


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


# How long a thread may hold the GIL while others wait (Python's default: 5 ms). The server
# is mostly the event loop and a few threads that pass jobs on; a shorter slice lets the
# event loop answer the next request sooner. (The ack-only baseline uses the same.)
GIL_SWITCH_INTERVAL = 0.001


def run_server(settings: Settings, *, host: str, port: int) -> None:
    configure_logging(settings.log_format)
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
    app = create_app(settings, db, dispatcher)
    # Everything loaded so far lives as long as the server: out of the collector's way, so
    # a full collection, which stops every acknowledgement in flight, walks only what
    # requests made.
    gc.freeze()
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
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
