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
        self._busy = count_work(self.bolt.listener_runner.listener_executor)

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
        if not self._busy.wait_idle(timeout):
            raise AssertionError(f"listeners still busy after {timeout} s")


class WorkCount:
    """Work submitted to an executor and not finished yet. (ThreadPoolExecutor's own idle
    semaphore can't tell: it grows with every finished job, so it soon reads "idle" while
    listeners are still running.)"""

    def __init__(self) -> None:
        self._pending = 0
        self._changed = threading.Condition()

    def started(self) -> None:
        with self._changed:
            self._pending += 1

    def finished(self, _future=None) -> None:
        with self._changed:
            self._pending -= 1
            self._changed.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: self._pending == 0, timeout)


def count_work(executor) -> WorkCount:
    count = WorkCount()
    submit = executor.submit

    def counted_submit(fn, /, *args, **kwargs):
        count.started()
        try:
            future = submit(fn, *args, **kwargs)
        except BaseException:
            count.finished()
            raise
        future.add_done_callback(count.finished)
        return future

    executor.submit = counted_submit  # bolt's listener and lazy runners share this executor
    return count


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
