"""`okrbot serve` as an operator runs it: a real process, a real port, an empty database.

Each test starts the console script as a subprocess on a free loopback port with its
Slack Web API pointed at the Slack double, and always stops it (bounded waits).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from okrbot.store.db import make_engine
from okrbot.store.migrate import alembic_config
from tests.conftest import ON_POSTGRES, TEST_DATABASE_URL
from tests.fakes.slack_api import SlackDouble
from tests.fakes.slack_client import SignedSlackClient
from tests.e2e.oauth import CLIENT_ID, CLIENT_SECRET, install

SECRET = "serve-process-signing-secret"
TOKEN = "xoxb-serve-process"
START_TIMEOUT = 60.0


def okrbot_command() -> list[str]:
    """The installed console script next to this interpreter (the venv's bin/), else the module."""
    script = Path(sys.executable).with_name("okrbot")
    if script.exists():
        return [str(script)]
    found = shutil.which("okrbot")
    return [found] if found else [sys.executable, "-c", "from okrbot.cli import app; app()"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def empty_database_url(tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all: `okrbot serve` must migrate it before serving."""
    if not ON_POSTGRES:
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    schema = f"okrbot_serve_{uuid.uuid4().hex[:8]}"
    admin = create_engine(make_url(TEST_DATABASE_URL).set(drivername="postgresql+psycopg"))
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in TEST_DATABASE_URL else "?"
    try:
        yield f"{TEST_DATABASE_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def base_env(**values: str) -> dict[str, str]:
    """The parent's environment without any Slack or okrbot settings, plus `values`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "OKRBOT_", "DATABASE_URL"))}
    env.update({"OKRBOT_SCHEDULER": "false", "PYTHONUNBUFFERED": "1"})
    env.update(values)
    return env


class Served:
    def __init__(self, process: subprocess.Popen, port: int, log: Path):
        self.process, self.port, self.log = process, port, log

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_healthy(self) -> httpx.Response:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"okrbot serve exited with {self.process.returncode}:\n{self.output()}")
            try:
                response = httpx.get(f"{self.url}/healthz", timeout=2)
                if response.status_code == 200:
                    return response
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"okrbot serve did not answer /healthz within {START_TIMEOUT} s:\n{self.output()}")

    def wait_ready(self) -> httpx.Response:
        """/readyz answers 200: the database, the schema, a worker and the outbox are all fine."""
        self.wait_healthy()  # listening
        deadline = time.monotonic() + START_TIMEOUT
        answer = None
        while time.monotonic() < deadline:
            answer = httpx.get(f"{self.url}/readyz", timeout=10)
            if answer.status_code == 200:
                return answer
            time.sleep(0.1)
        raise AssertionError(f"okrbot serve was not ready within {START_TIMEOUT} s: {answer and answer.text}\n{self.output()}")

    def stop(self) -> int:
        """SIGTERM, as a process manager stops it; kill if it does not go within 15 s."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        return self.process.returncode


@pytest.fixture
def serve(tmp_path: Path) -> Iterator:
    started: list[Served] = []

    def start(env: dict[str, str]) -> Served:
        port = free_port()
        log = tmp_path / f"serve-{port}.log"
        with log.open("wb") as sink:
            process = subprocess.Popen(
                [*okrbot_command(), "serve", "--host", "127.0.0.1", "--port", str(port)],
                env=env,
                cwd=tmp_path,  # no stray .env from the repository
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        served = Served(process, port, log)
        started.append(served)
        return served

    yield start
    for served in started:
        served.stop()


def test_serve_migrates_an_empty_database_and_answers_signed_commands(serve, empty_database_url):
    with SlackDouble() as slack:
        served = serve(
            base_env(
                DATABASE_URL=empty_database_url,
                SLACK_API_URL=slack.api_url,
                SLACK_BOT_TOKEN=TOKEN,
                SLACK_SIGNING_SECRET=SECRET,
            )
        )
        health = served.wait_healthy()
        assert health.json()["ok"] is True

        # The schema is at head: serve ran the migrations on the empty database.
        engine = make_engine(empty_database_url)
        try:
            with engine.connect() as connection:
                revision = MigrationContext.configure(connection).get_current_revision()
            assert "objective" in inspect(engine).get_table_names()
        finally:
            engine.dispose()
        assert revision == ScriptDirectory.from_config(alembic_config(empty_database_url)).get_current_head()

        # Bolt checked the bot token against SLACK_API_URL, not slack.com (once per worker).
        checked = slack.calls("auth.test")
        assert checked and {call.token for call in checked} == {TOKEN}

        with SignedSlackClient(served.url, SECRET, response_url_factory=slack.response_url) as client:
            response = client.command('objective add "Served for real"')
            assert response.status_code == 200
            answer = slack.wait_for("response_url", timeout=15)[-1]
            assert "Served for real" in str(answer.args)
            assert client.command("status all", bad_signature=True).status_code == 401

            # Stopped (SIGTERM, as in a deploy) right after an ack: the work after the ack
            # is finished before the process exits, and the exit is a clean one.
            slack.delay("response_url", 2)
            assert client.command('objective add "Finished on the way out"').status_code == 200
            assert served.stop() == 0, served.output()
        assert any("Finished on the way out" in str(call.args) for call in slack.calls("response_url")), slack.describe()


def test_serve_with_an_app_token_runs_socket_mode(serve, empty_database_url):
    with SlackDouble(socket_mode=True) as slack:
        assert slack.socket_mode is not None
        served = serve(
            base_env(
                DATABASE_URL=empty_database_url,
                SLACK_API_URL=slack.api_url,
                SLACK_BOT_TOKEN=TOKEN,
                SLACK_APP_TOKEN="xapp-1-A1-serve",
            )
        )
        served.wait_healthy()
        slack.socket_mode.wait_connected(1, timeout=START_TIMEOUT)
        payload = {
            "team_id": "T1",
            "channel_id": "C1",
            "user_id": "U1",
            "command": "/okr",
            "text": 'objective add "Over the socket"',
            "api_app_id": "A1",
            "response_url": slack.response_url("socket"),
            "trigger_id": "1.2.3",
        }
        envelope_id = slack.socket_mode.send_envelope("slash_commands", payload, accepts_response_payload=True)
        assert slack.socket_mode.wait_for_ack(envelope_id, timeout=15)["envelope_id"] == envelope_id
        assert "Over the socket" in str(slack.wait_for("response_url", timeout=15)[-1].args)
        # No HTTP door for Slack requests in Socket Mode: signatures are not checked there.
        assert httpx.post(f"{served.url}/slack/events", data={"command": "/okr"}, timeout=5).status_code in (404, 405)
        assert served.stop() == 0, served.output()


PLACEHOLDERS = {
    "no bot token": ({"SLACK_SIGNING_SECRET": SECRET}, "SLACK_BOT_TOKEN"),
    "example bot token": ({"SLACK_BOT_TOKEN": "xoxb-your-token", "SLACK_SIGNING_SECRET": SECRET}, "SLACK_BOT_TOKEN"),
    "empty signing secret": ({"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": ""}, "SLACK_SIGNING_SECRET"),
    "example signing secret": ({"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": "your-signing-secret"}, "SLACK_SIGNING_SECRET"),
    "socket mode without a bot token": ({"SLACK_APP_TOKEN": "xapp-1-A1-x", "SLACK_BOT_TOKEN": "changeme"}, "SLACK_BOT_TOKEN"),
}


@pytest.mark.parametrize(("values", "variable"), PLACEHOLDERS.values(), ids=PLACEHOLDERS.keys())
def test_serve_refuses_missing_or_placeholder_credentials(tmp_path, values, variable):
    env = base_env(DATABASE_URL=f"sqlite:///{tmp_path / 'never.db'}", SLACK_API_URL="http://127.0.0.1:9/api/", **values)
    result = subprocess.run(
        [*okrbot_command(), "serve", "--port", str(free_port())],
        env=env,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    message = result.stdout + result.stderr
    assert result.returncode != 0
    assert variable in message
    assert "manifest.yml" in message
    assert "Traceback" not in message


def workers_of(pid: int) -> list[int]:
    """serve's worker processes: its live children started by multiprocessing's spawn
    (not the resource tracker that multiprocessing also starts)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            command = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z" and b"spawn_main" in command:
            found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_killing_serve_takes_its_workers_with_it(serve, empty_database_url):
    with SlackDouble() as slack:
        served = serve(base_env(DATABASE_URL=empty_database_url, SLACK_API_URL=slack.api_url, SLACK_BOT_TOKEN=TOKEN, SLACK_SIGNING_SECRET=SECRET, OKRBOT_WORKERS="2"))
        served.wait_healthy()
        workers = workers_of(served.process.pid)
        assert len(workers) == 2, served.output()
        # They yield the CPU to the server, so its acks never wait behind their work.
        server_nice = os.getpriority(os.PRIO_PROCESS, served.process.pid)
        assert {os.getpriority(os.PRIO_PROCESS, pid) for pid in workers} == {min(server_nice + 10, 19)}
        served.process.kill()  # SIGKILL: no chance to stop them itself
        served.process.wait(timeout=10)
        deadline = time.monotonic() + 10
        while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(alive(pid) for pid in workers)  # none goes on sending to Slack on its own


def test_a_killed_worker_is_replaced_and_what_was_acknowledged_meanwhile_is_answered(serve, empty_database_url):
    with SlackDouble() as slack:
        served = serve(base_env(DATABASE_URL=empty_database_url, SLACK_API_URL=slack.api_url, SLACK_BOT_TOKEN=TOKEN, SLACK_SIGNING_SECRET=SECRET, OKRBOT_WORKERS="1"))
        served.wait_healthy()
        (worker,) = workers_of(served.process.pid)
        os.kill(worker, signal.SIGKILL)
        # Acknowledged while no worker is up, and kept for the next one; /readyz says so.
        with SignedSlackClient(served.url, SECRET, response_url_factory=slack.response_url) as client:
            assert client.command('objective add "While the worker was down"').status_code == 200  # acked by the server
            answer = slack.wait_for("response_url", timeout=START_TIMEOUT)[-1]
        assert "While the worker was down" in str(answer.args)
        assert "starting it again" in served.output()
        assert served.wait_ready().json()["checks"]["workers"] == "ok: 1 of 1 up"


def test_a_token_slack_refuses_stops_serve_with_one_line(serve, empty_database_url):
    with SlackDouble() as slack:
        slack.set_response("auth.test", {"ok": False, "error": "invalid_auth"})
        served = serve(base_env(DATABASE_URL=empty_database_url, SLACK_API_URL=slack.api_url, SLACK_BOT_TOKEN=TOKEN, SLACK_SIGNING_SECRET=SECRET))
        assert served.process.wait(timeout=START_TIMEOUT) != 0
        output = served.output()
        assert "invalid_auth" in output
        assert "Traceback" not in output, output


def test_a_server_that_only_acknowledges_and_a_separate_worker_answer_together(serve, empty_database_url, tmp_path):
    """OKRBOT_WORKERS=0: the server writes requests to the inbox and acknowledges them;
    `okrbot worker` (another process, as on another machine) does the work."""
    with SlackDouble() as slack:
        env = base_env(DATABASE_URL=empty_database_url, SLACK_API_URL=slack.api_url, SLACK_BOT_TOKEN=TOKEN, SLACK_SIGNING_SECRET=SECRET)
        served = serve({**env, "OKRBOT_WORKERS": "0"})
        served.wait_healthy()
        with SignedSlackClient(served.url, SECRET, response_url_factory=slack.response_url) as client:
            # Acknowledged with no worker anywhere: kept in the inbox until one comes.
            assert client.command('objective add "Kept for the worker"').status_code == 200
            time.sleep(0.5)
            assert not slack.calls("response_url")
            log = tmp_path / "worker.log"
            with log.open("wb") as sink:
                worker = subprocess.Popen([*okrbot_command(), "worker"], env=env, cwd=tmp_path, stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT)
            try:
                answer = slack.wait_for("response_url", timeout=START_TIMEOUT)[-1]
                assert "Kept for the worker" in str(answer.args), log.read_text()
                assert client.command("status all").status_code == 200
                assert len(slack.wait_for("response_url", count=2, timeout=START_TIMEOUT)) == 2
            finally:
                worker.send_signal(signal.SIGTERM)
                assert worker.wait(timeout=30) == 0, log.read_text()


def test_okrbot_serve_authorizes_in_its_worker_processes_with_each_workspaces_token(serve, empty_database_url):
    """The real `okrbot serve`: the server process writes each request to the inbox and a worker
    process runs bolt, whose authorize reads the installation store there too."""
    with SlackDouble() as slack:
        served = serve(base_env(DATABASE_URL=empty_database_url, SLACK_API_URL=slack.api_url, SLACK_SIGNING_SECRET=SECRET,
                                SLACK_CLIENT_ID=CLIENT_ID, SLACK_CLIENT_SECRET=CLIENT_SECRET))
        served.wait_ready()
        assert slack.calls("auth.test") == []  # no token of its own to check at start
        tokens = {team: install(served, slack, team) for team in ("T1", "T2")}
        with SignedSlackClient(served.url, SECRET, response_url_factory=slack.response_url) as client:
            for n, team in enumerate(("T1", "T2"), start=1):
                before = len(slack.calls())
                assert client.command(f'objective add "Served for {team}"', team_id=team).status_code == 200
                answer = slack.wait_for("response_url", count=n, timeout=30)[-1]
                assert f"Served for {team}" in str(answer.args)
                calls = [c for c in slack.calls()[before:] if c.method != "response_url"]
                assert calls and {c.token for c in calls} == {tokens[team]}, [(c.method, c.token) for c in calls]
