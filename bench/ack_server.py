"""The baseline server: okrbot's own HTTP stack (uvicorn, its Starlette app, bolt with the
same signing checks and the same WebClient) whose listeners only ack. Whatever okrbot
adds on top of this is okrbot's doing.

    python -m bench.ack_server --port 3001     # env as for `okrbot serve`
"""

from __future__ import annotations

import argparse
import re
import sys

import uvicorn
from slack_bolt import Ack, App
from slack_sdk import WebClient

from okrbot.config import Settings
from okrbot.server import GIL_SWITCH_INTERVAL, create_app
from okrbot.slack.app import build_bot
from okrbot.store.db import Database


def ack_only_bolt(settings: Settings) -> App:
    """The same bolt App configuration as okrbot's, with listeners that only ack."""
    client = WebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url, timeout=10)
    app = App(
        client=client,
        signing_secret=settings.slack_signing_secret,
        request_verification_enabled=True,
        token_verification_enabled=True,
        process_before_response=False,
    )

    @app.command(re.compile(".*"))
    def on_command(ack: Ack) -> None:
        ack()

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    sys.setswitchinterval(GIL_SWITCH_INTERVAL)  # as `okrbot serve` does
    settings = Settings()
    db = Database(settings.database_url)
    _okrbot_bolt, bot = build_bot(settings, db)  # the webhooks routes need a bot; unused here
    app = create_app(settings, db, ack_only_bolt(settings), bot)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
