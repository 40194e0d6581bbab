"""A running okrbot on 127.0.0.1 (port 0) wired to the Slack double, for end-to-end tests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import uvicorn

from okrbot.config import Settings
from okrbot.runtime.jobs.dispatcher import Dispatcher
from okrbot.runtime.server import create_app
from okrbot.adapters.slack.socket_front import SocketModeFront
from okrbot.store.db import Database
from tests.fakes.slack_api import SlackDouble
from tests.fakes.slack_client import SignedSlackClient

SIGNING_SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test-token"
WEBHOOK_SECRET = "test-webhook-secret"


def bot_settings(slack: SlackDouble, database_url: str, **overrides) -> Settings:
    values = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": database_url,
        "OKRBOT_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "OKRBOT_SCHEDULER": "false",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


class RunningBot:
    def __init__(self, settings: Settings, db: Database):
        self.settings = settings
        self.db = db
        # The server in front, its worker's threads in this process (tests/e2e/test_serve_process.py
        # runs `okrbot serve` with its worker process).
        self.dispatcher = Dispatcher.in_process(settings, db)
        runner = self.dispatcher.lanes[0].runner
        self.bolt, self.bot = runner.bolt, runner.bot
        self.app = create_app(settings, db, self.dispatcher)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        self._socket = sock
        config = uvicorn.Config(self.app, log_level="warning", access_log=False, lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.dispatcher.start()
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("okrbot did not start within 10 s")
            time.sleep(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self._socket.close()
        self.dispatcher.close(timeout=10)

    def settle(self, timeout: float = 30.0) -> None:
        """Wait until the work after every ack so far is done."""
        if not self.dispatcher.wait_idle(timeout):
            raise AssertionError(f"work still going on after {timeout} s")


@contextmanager
def running_bot(slack: SlackDouble, database_url: str, **overrides) -> Iterator[tuple[RunningBot, SignedSlackClient]]:
    settings = bot_settings(slack, database_url, **overrides)
    db = Database(settings.database_url)
    bot = RunningBot(settings, db)
    bot.start()
    client = SignedSlackClient(bot.url, SIGNING_SECRET, response_url_factory=slack.response_url)
    try:
        yield bot, client
    finally:
        client.close()
        bot.stop()
        db.dispose()


@contextmanager
def socket_mode_bot(settings: Settings, db: Database) -> Iterator[Dispatcher]:
    """What `okrbot serve` runs with SLACK_APP_TOKEN, its worker's threads in this process."""
    dispatcher = Dispatcher.in_process(settings, db)
    dispatcher.start()
    front = SocketModeFront(settings, dispatcher)
    front.connect()
    try:
        yield dispatcher
    finally:
        front.close()
        dispatcher.close(timeout=10)


def get(url: str) -> httpx.Response:
    return httpx.get(url, timeout=10)
