"""The baseline server: a bare bolt App that only acks, behind the same server okrbot
uses (uvicorn, Starlette, bolt's dispatch on Starlette's thread pool, the same signing
checks, WebClient and GIL switch interval). This is how a bolt app is usually served;
whatever okrbot adds on top of it is okrbot's doing. With --answer its slash command also
posts a constant reply to the response_url after the ack: the baseline for answer latency.

    python -m bench.ack_server --port 3001 [--answer]     # env as for `okrbot serve`
"""

from __future__ import annotations

import argparse
import re
import sys

import uvicorn
from slack_bolt import Ack, App, Respond
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from okrbot.config import Settings
from okrbot.runtime.server import GIL_SWITCH_INTERVAL


def ack_only_bolt(settings: Settings, *, answer: bool = False) -> App:
    """The same bolt App configuration as okrbot's, with listeners that only ack (and, with
    `answer`, a slash command that then posts a constant reply)."""
    client = WebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url, timeout=10)
    app = App(
        client=client,
        signing_secret=settings.slack_signing_secret,
        request_verification_enabled=True,
        token_verification_enabled=True,
        process_before_response=False,
    )

    @app.command(re.compile(".*"))
    def on_command(ack: Ack, respond: Respond) -> None:
        ack()
        if answer:
            respond(text="ok", response_type="ephemeral")

    @app.event(re.compile(".*"))
    def on_event() -> None:
        """Bolt acks events before listeners run."""

    @app.view(re.compile(".*"))
    def on_view(ack: Ack) -> None:
        ack()

    @app.action(re.compile(".*"))
    def on_action(ack: Ack) -> None:
        ack()

    return app


def ack_only_app(bolt: App) -> Starlette:
    async def slack_events(request: Request) -> Response:
        bolt_request = BoltRequest(body=(await request.body()).decode("utf-8", errors="replace"), query=request.url.query, headers=dict(request.headers))
        answer = await run_in_threadpool(bolt.dispatch, bolt_request)
        return Response(content=answer.body, status_code=answer.status, headers={key: values[0] for key, values in answer.headers.items() if values})

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"ok": True})

    return Starlette(routes=[Route("/slack/events", slack_events, methods=["POST"]), Route("/healthz", healthz, methods=["GET"])])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--answer", action="store_true", help="slash commands also post a constant reply")
    args = parser.parse_args()
    sys.setswitchinterval(GIL_SWITCH_INTERVAL)  # as `okrbot serve` does
    app = ack_only_app(ack_only_bolt(Settings(), answer=args.answer))
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
