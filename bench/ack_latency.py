"""Ack latency of `/okr status` over HTTP, beside the same server whose listener only acks.

Slack gives a slash command 3 seconds to be acknowledged. This measures how long
okrbot takes to answer Slack's POST (the ack) while it is also doing the work
after the ack for every other request in flight, and compares it with the same
server shape (bolt + okrbot's Starlette app + uvicorn, same signing, same Slack
double) whose /okr listener does nothing but ack. Not a pass/fail test: it prints
a table and writes bench/results/ack_latency.json.

    python bench/ack_latency.py                       # 1,000 requests, 20 clients, SQLite
    python bench/ack_latency.py --database-url postgresql://postgres@127.0.0.1:5432/bench

Everything runs on 127.0.0.1: okrbot on a free port, the Slack Web API double
(tests/fakes/slack_api.py) for response_url answers, and the clients as threads.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.fakes: the Slack double and request signing

import httpx  # noqa: E402
import uvicorn  # noqa: E402
from slack_bolt import Ack, App  # noqa: E402
from sqlalchemy import func  # noqa: E402
from sqlmodel import select  # noqa: E402

from okrbot.config import Settings  # noqa: E402
from okrbot.sample_org import generate_document  # noqa: E402
from okrbot.server import create_app  # noqa: E402
from okrbot.services.interchange import import_document, parse_document  # noqa: E402
from okrbot.slack.app import build_bot  # noqa: E402
from okrbot.store.db import Database  # noqa: E402
from okrbot.store.migrate import upgrade_to_head  # noqa: E402
from okrbot.store.models import KeyResult, Objective  # noqa: E402
from tests.e2e.harness import count_work  # noqa: E402
from tests.fakes import slack_api  # noqa: E402
from tests.fakes.slack_api import SlackDouble  # noqa: E402
from tests.fakes.slack_client import sign  # noqa: E402


class _RoomyHTTPServer(slack_api.ThreadingHTTPServer):
    # socketserver listens with a backlog of 5; 20 clients' answers at once would be refused
    # by the double, not by anything okrbot does. Real Slack has room.
    request_queue_size = 256


slack_api.ThreadingHTTPServer = _RoomyHTTPServer

SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench"
TEAM = "T1"
WARMUP = 40  # requests before measuring: imports, pools and caches


@dataclass
class Figures:
    server: str
    requests: int
    concurrency: int
    ok: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float
    over_3s: int
    requests_per_second: float
    answers_delivered: int | None = None  # response_url posts that reached the double
    answer_p50_ms: float | None = None  # request sent -> answer at the double
    answer_p99_ms: float | None = None


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    rank = max(1, round(q / 100 * len(ordered) + 0.5))
    return ordered[min(rank, len(ordered)) - 1]


def current_period(now: datetime) -> str:
    return f"{now.year}-Q{(now.month - 1) // 3 + 1}"


def seed_organisation(database_url: str) -> tuple[str, str, dict]:
    """Import an S-size organisation (50 objectives); returns (user, team channel) to ask as."""
    upgrade_to_head(database_url)
    document = generate_document(50, period=current_period(datetime.now(UTC)))
    db = Database(database_url)
    try:
        with db.session_scope() as session:
            import_document(session, TEAM, parse_document(json.dumps(document)))
        with db.session_scope() as session:
            size = {
                "objectives": session.exec(select(func.count()).select_from(Objective)).one(),
                "key_results": session.exec(select(func.count()).select_from(KeyResult)).one(),
            }
    finally:
        db.dispose()
    # Ask in the busiest team channel, as the owner of its first objective: `/okr status`
    # with no target in a team channel shows that team's OKRs (SPEC §3).
    by_channel: dict[str, list[dict]] = {}
    for objective in document["objectives"]:
        if objective.get("team"):
            by_channel.setdefault(objective["team"], []).append(objective)
    channel, objectives = max(by_channel.items(), key=lambda item: len(item[1]))
    size["objectives_in_the_channel"] = len(objectives)
    size["key_results_in_the_channel"] = sum(len(o["key_results"]) for o in objectives)
    return objectives[0]["owner"], channel, size


class Server:
    """okrbot's Starlette app around a given bolt App, on uvicorn, on a free loopback port."""

    def __init__(self, settings: Settings, db: Database, bolt: App, bot) -> None:
        self.bolt = bolt
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        config = uvicorn.Config(create_app(settings, db, bolt, bot), log_level="warning", access_log=False, lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)
        self.busy = count_work(bolt.listener_runner.listener_executor)

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start within 30 s")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.sock.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/slack/events"

    def settle(self, timeout: float = 300.0) -> None:
        """Wait until bolt has finished the work it does after its acks."""
        if not self.busy.wait_idle(timeout):
            raise RuntimeError(f"listeners still busy after {timeout} s")


def load(url: str, *, requests: int, concurrency: int, user: str, channel: str, response_url: Callable[[str], str]) -> tuple[list[float], list[int], float, dict[str, float]]:
    """Fire `requests` signed `/okr status` commands from `concurrency` client threads.

    Returns (ack latencies in s, status codes, wall time in s, {answer name: monotonic send time}).
    """
    counter = iter(range(requests))
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: list[int] = []
    sent_at: dict[str, float] = {}

    def client() -> None:
        with httpx.Client(timeout=30) as http:
            while True:
                with lock:
                    if next(counter, None) is None:
                        return
                name = f"bench-{uuid.uuid4().hex[:12]}"
                body = urlencode(
                    {
                        "token": "legacy",
                        "team_id": TEAM,
                        "team_domain": "bench",
                        "channel_id": channel,
                        "channel_name": "team",
                        "user_id": user,
                        "user_name": "owner",
                        "command": "/okr",
                        "text": "status",
                        "api_app_id": "A1",
                        "is_enterprise_install": "false",
                        "response_url": response_url(name),
                        "trigger_id": f"{uuid.uuid4().int}",
                    }
                ).encode()
                timestamp = int(time.time())
                headers = {
                    "Content-Type": "application/x-www-form-urlencoded",
                    "X-Slack-Request-Timestamp": str(timestamp),
                    "X-Slack-Signature": sign(SECRET, timestamp, body),
                }
                started = time.monotonic()
                try:
                    status = http.post(url, content=body, headers=headers).status_code
                except httpx.HTTPError:
                    status = 0
                elapsed = time.monotonic() - started
                with lock:
                    latencies.append(elapsed)
                    statuses.append(status)
                    sent_at[name] = started

    threads = [threading.Thread(target=client, name=f"client-{i}") for i in range(concurrency)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    return latencies, statuses, time.monotonic() - began, sent_at


def measure(name: str, server: Server, slack: SlackDouble, *, requests: int, concurrency: int, user: str, channel: str, answers: bool) -> Figures:
    load(server.url, requests=WARMUP, concurrency=concurrency, user=user, channel=channel, response_url=slack.response_url)
    server.settle()
    slack.reset()
    latencies, statuses, wall, sent_at = load(
        server.url, requests=requests, concurrency=concurrency, user=user, channel=channel, response_url=slack.response_url
    )
    figures = Figures(
        server=name,
        requests=len(latencies),
        concurrency=concurrency,
        ok=sum(1 for status in statuses if status == 200),
        p50_ms=percentile(latencies, 50) * 1000,
        p90_ms=percentile(latencies, 90) * 1000,
        p99_ms=percentile(latencies, 99) * 1000,
        max_ms=max(latencies) * 1000,
        mean_ms=statistics.fmean(latencies) * 1000,
        over_3s=sum(1 for latency in latencies if latency >= 3.0),
        requests_per_second=len(latencies) / wall,
    )
    if answers:
        server.settle()
        delivered = {call.path.rsplit("/", 1)[-1]: call.at for call in slack.responses()}
        waits = [delivered[key] - sent_at[key] for key in sent_at if key in delivered]
        figures.answers_delivered = len(waits)
        if waits:
            figures.answer_p50_ms = percentile(waits, 50) * 1000
            figures.answer_p99_ms = percentile(waits, 99) * 1000
    return figures


def ack_only_bolt(settings: Settings) -> App:
    """The same bolt App configuration as okrbot's, with one /okr listener that only acks."""
    from slack_sdk import WebClient

    client = WebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url, timeout=10)
    app = App(client=client, signing_secret=settings.slack_signing_secret, process_before_response=False)

    @app.command("/okr")
    def only_ack(ack: Ack) -> None:
        ack()

    return app


def table(okrbot: Figures, baseline: Figures) -> str:
    rows = [
        ("server", "p50 ms", "p99 ms", "max ms", "req/s", ">=3 s", "answers"),
        (okrbot.server, f"{okrbot.p50_ms:.1f}", f"{okrbot.p99_ms:.1f}", f"{okrbot.max_ms:.1f}", f"{okrbot.requests_per_second:.0f}", str(okrbot.over_3s), f"{okrbot.answers_delivered}/{okrbot.requests}"),
        (baseline.server, f"{baseline.p50_ms:.1f}", f"{baseline.p99_ms:.1f}", f"{baseline.max_ms:.1f}", f"{baseline.requests_per_second:.0f}", str(baseline.over_3s), "-"),
        ("ratio okrbot / ack-only", f"{okrbot.p50_ms / baseline.p50_ms:.2f}x", f"{okrbot.p99_ms / baseline.p99_ms:.2f}x", "", "", "", ""),
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) if i == 0 else cell.rjust(width) for i, (cell, width) in enumerate(zip(row, widths))) for row in rows]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--database-url", default="", help="an empty database (default: a new SQLite file)")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "ack_latency.json")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="okrbot-bench-") as tmp:
        database_url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        user, channel, size = seed_organisation(database_url)
        print(f"S-size organisation: {size['objectives']} objectives, {size['key_results']} KRs; "
              f"/okr status in its busiest team channel shows {size['objectives_in_the_channel']} objectives, "
              f"{size['key_results_in_the_channel']} KRs")
        with SlackDouble() as slack:
            settings = Settings(
                _env_file=None,
                SLACK_BOT_TOKEN=TOKEN,
                SLACK_SIGNING_SECRET=SECRET,
                SLACK_API_URL=slack.api_url,
                DATABASE_URL=database_url,
                OKRBOT_SCHEDULER="false",
            )
            db = Database(database_url)
            try:
                bolt, bot = build_bot(settings, db)
                with Server(settings, db, bolt, bot) as server:
                    okrbot = measure("okrbot /okr status", server, slack, requests=args.requests, concurrency=args.concurrency, user=user, channel=channel, answers=True)
                with Server(settings, db, ack_only_bolt(settings), bot) as server:
                    baseline = measure("ack-only listener", server, slack, requests=args.requests, concurrency=args.concurrency, user=user, channel=channel, answers=False)
            finally:
                db.dispose()

    print(f"\nAck latency of /okr status over HTTP: {args.requests} requests from {args.concurrency} concurrent clients\n")
    print(table(okrbot, baseline))
    if okrbot.answer_p50_ms is not None:
        print(f"\nanswers (request sent -> reply at response_url): p50 {okrbot.answer_p50_ms:.0f} ms, p99 {okrbot.answer_p99_ms:.0f} ms")
    result = {
        "benchmark": "ack latency of /okr status over HTTP",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
        "database": Database(database_url).backend if args.database_url else "sqlite",
        "organisation": size,
        "okrbot": asdict(okrbot),
        "ack_only": asdict(baseline),
        "ratio": {"p50": okrbot.p50_ms / baseline.p50_ms, "p99": okrbot.p99_ms / baseline.p99_ms},
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output}")


if __name__ == "__main__":
    main()
