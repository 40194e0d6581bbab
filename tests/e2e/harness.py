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
from okrbot.server import create_app
from okrbot.slack.app import build_bot
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
        self.bolt, self.bot = build_bot(settings, db)
        self.app = create_app(settings, db, self.bolt, self.bot)
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

    def settle(self, timeout: float = 5.0) -> None:
        """Wait until bolt's listener threads have finished the work after their acks."""
        executor = self.bolt.listener_runner.listener_executor
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if getattr(executor, "_work_queue").empty() and _idle(executor):
                return
            time.sleep(0.02)
        raise AssertionError(f"listeners still busy after {timeout} s")


def _idle(executor) -> bool:
    # ThreadPoolExecutor keeps an idle semaphore: its value equals idle threads.
    return executor._idle_semaphore._value >= len(executor._threads)


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


def get(url: str) -> httpx.Response:
    return httpx.get(url, timeout=10)
