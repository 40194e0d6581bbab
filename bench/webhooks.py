"""Webhook delivery throughput through `okrbot serve`, at an organisation size (default M).

A scratch copy of the organisation gets its workspace's webhook URLs and secrets
(as `/okr webhooks` makes them); then `okrbot serve` runs as a subprocess against the
Slack double and is sent, over HTTP, signed as each tool signs:

- github: `issues` closed (tests/fixtures/github_issues_closed.json, `html_url` set to
  one of the organisation's linked GitHub issues, each a different one: every delivery
  marks work done, moves its milestone KRs and posts an announcement), 1 in 10 a
  redelivery of an earlier one (same X-GitHub-Delivery: applied once);
- metric: readings on the organisation's numeric KRs (a check-in each, announced), 1 in
  10 a redelivery, 1 in 5 older than the KR's newest check-in (history only).

Closed loop: `clients` senders each wait for the answer before sending the next (a
webhook's answer comes once it is applied and committed). Reported per tool and client
count: deliveries per second, p50/p99 of the answer, errors, and the server's CPU time per
delivery (from /proc).

    python -m bench.webhooks                    # M on SQLite, 1 and 8 clients, 400 deliveries each
    python -m bench.webhooks --sizes S --deliveries 100

Writes bench/results/webhooks.json. A measurement, not a test.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import random
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

import httpx

from bench import orgs
from bench.common import RESULTS, TEAM, AnsweringDouble, load_average, okrbot_serve, percentile, stamp, table, write_result

from sqlmodel import select

from okrbot.domain.commands import Metric
from okrbot.store.db import Database
from okrbot.store.models import Initiative, KeyResult
from okrbot.store.types import utcnow
from okrbot.store.webhook_secrets import secrets_of
from tests.e2e.test_tracker_webhooks import fixture

CLIENTS = (1, 8)
REPLAY_SHARE = 0.1
LATE_SHARE = 0.2


@dataclass
class Cell:
    tool: str
    clients: int
    deliveries: int
    errors: int
    applied: int  # answered 200 (the rest: 202, nothing to move, or 200 as a redelivery)
    replays: int
    answer_p50_ms: float
    answer_p99_ms: float
    deliveries_per_second: float
    server_cpu_ms_per_delivery: float


@dataclass(frozen=True)
class Delivery:
    body: bytes
    headers: dict[str, str]


def github_deliveries(urls: list[str], secret: str, count: int, rng: random.Random) -> list[Delivery]:
    made: list[Delivery] = []
    fresh = iter(urls)
    for _ in range(count):
        if made and rng.random() < REPLAY_SHARE:
            made.append(rng.choice(made))
            continue
        payload = fixture("github_issues_closed.json")
        payload["issue"]["html_url"] = next(fresh)
        body = json.dumps(payload, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            "X-GitHub-Event": "issues",
            "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-Hub-Signature-256": "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
        }
        made.append(Delivery(body, headers))
    return made


def metric_deliveries(krs: list[int], secret: str, count: int, rng: random.Random) -> list[Delivery]:
    made: list[Delivery] = []
    now = datetime.now(UTC)
    for n in range(count):
        if made and rng.random() < REPLAY_SHARE:
            made.append(rng.choice(made))
            continue
        # Newer than anything the organisation holds, except the late ones (older than all).
        at = now - timedelta(days=200) if rng.random() < LATE_SHARE else now - timedelta(seconds=count - n)
        payload = {"kr": f"KR-{rng.choice(krs)}", "value": round(rng.uniform(0, 100), 1), "at": at.isoformat(), "source": "bench", "delivery": str(uuid.uuid4())}
        body = json.dumps(payload).encode()
        signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        made.append(Delivery(body, {"Content-Type": "application/json", "X-Okrbot-Signature": signature}))
    return made


def send_all(base: str, path: str, deliveries: list[Delivery], clients: int) -> tuple[list[float], dict[int, int], float]:
    """(answer times in s, answers by HTTP status (0: no answer), wall seconds) for
    `clients` senders in a closed loop."""
    queue = list(enumerate(deliveries))
    lock = threading.Lock()
    times: list[float] = []
    statuses: dict[int, int] = {}

    def sender() -> None:
        with httpx.Client(timeout=60) as client:
            while True:
                with lock:
                    if not queue:
                        return
                    _, delivery = queue.pop(0)
                started = time.monotonic()
                try:
                    status = client.post(f"{base}{path}", content=delivery.body, headers=delivery.headers).status_code
                except httpx.HTTPError:
                    status = 0
                elapsed = time.monotonic() - started
                with lock:
                    times.append(elapsed)
                    statuses[status] = statuses.get(status, 0) + 1

    started = time.monotonic()
    threads = [threading.Thread(target=sender) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return times, statuses, time.monotonic() - started


def run(size: str, count: int, clients_list: tuple[int, ...]) -> dict:
    org = orgs.load(size)
    url = orgs.scratch_copy(org, f"webhooks_{size.lower()}")
    db = Database(url)
    with db.session_scope() as session:
        hooks = {row.vendor: row for row in secrets_of(session, TEAM, utcnow())}
        paths = {tool: (f"/webhooks/{tool}/{row.token}", row.secret) for tool, row in hooks.items()}
        issues = session.exec(select(Initiative.url).where(Initiative.team_id == TEAM, Initiative.status != "done", Initiative.url.like("https://github.com/%/issues/%"))).all()
        numeric = session.exec(select(KeyResult.number).where(KeyResult.team_id == TEAM, KeyResult.metric == Metric.NUMERIC.value, KeyResult.status == "active")).all()
    db.dispose()
    rng = random.Random(14)
    rng.shuffle(issues)
    cells: list[Cell] = []
    slack = AnsweringDouble()
    with slack, okrbot_serve(url, slack, RESULTS.parent / ".data" / "logs" / f"webhooks-{size}-okrbot.log", OKRBOT_SCHEDULER="false") as server:
        base = f"http://127.0.0.1:{server.port}"
        used = 0
        for clients in clients_list:
            for tool in ("github", "metric"):
                path, secret = paths[tool]
                if tool == "github":
                    deliveries = github_deliveries(issues[used:], secret, count, rng)
                    used += count
                else:
                    deliveries = metric_deliveries(list(numeric), secret, count, rng)
                replays = count - len({d.headers.get("X-GitHub-Delivery") or d.body for d in deliveries})
                cpu_before = server.cpu_seconds()
                times, statuses, wall = send_all(base, path, deliveries, clients)
                cpu = server.cpu_seconds() - cpu_before
                cells.append(
                    Cell(
                        tool=tool,
                        clients=clients,
                        deliveries=count,
                        errors=count - statuses.get(200, 0) - statuses.get(202, 0),
                        applied=statuses.get(200, 0),
                        replays=replays,
                        answer_p50_ms=round(percentile(times, 50) * 1000, 1),
                        answer_p99_ms=round(percentile(times, 99) * 1000, 1),
                        deliveries_per_second=round(count / wall, 1),
                        server_cpu_ms_per_delivery=round(cpu / count * 1000, 1),
                    )
                )
                print(f"  {size} {tool} x{clients}: {cells[-1].deliveries_per_second}/s", flush=True)
    return {"size": size, "backend": org.backend, "counts": org.counts, "cells": [asdict(cell) for cell in cells], "load_average_at_end": load_average()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="M")
    parser.add_argument("--deliveries", type=int, default=400)
    parser.add_argument("--clients", default=",".join(str(c) for c in CLIENTS))
    args = parser.parse_args()
    clients = tuple(int(c) for c in args.clients.split(","))
    result = {**stamp(), "deliveries": args.deliveries, "sizes": [run(size, args.deliveries, clients) for size in args.sizes.split(",")]}
    path = write_result("webhooks", result)
    for sized in result["sizes"]:
        rows = [(f"{c['tool']} x{c['clients']}", c["deliveries"], c["replays"], c["applied"], c["errors"], c["deliveries_per_second"], c["answer_p50_ms"], c["answer_p99_ms"], c["server_cpu_ms_per_delivery"]) for c in sized["cells"]]
        print(f"\n{sized['size']} ({sized['backend']})")
        print(table(rows, ("tool x clients", "deliveries", "replays", "200s", "errors", "per s", "p50 ms", "p99 ms", "CPU ms/delivery")))
    print(f"\nwrote {path.relative_to(RESULTS.parent.parent)}")


if __name__ == "__main__":
    main()
