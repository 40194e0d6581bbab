"""Ack latency of `/okr status` over HTTP, beside the same server whose listener only acks.

Slack gives a slash command 3 seconds to be acknowledged. `okrbot serve` (a subprocess,
the S organisation: 50 objectives, 250 KRs) gets 1,000 signed `/okr status` requests from
20 concurrent clients. Each client sends its next command as soon as the previous one is
acknowledged, without waiting for the answer, so okrbot is still doing the work after
earlier acks while it acks new ones: the hard case for the ack. The same requests then go
to bench/ack_server.py: the same uvicorn, Starlette app, bolt App and signing checks,
whose listeners only ack. The ratio is what okrbot's own work costs the ack.
(bench/latency.py measures the other shape: each client waits for the answer first.)

    python -m bench.ack_latency                          # SQLite (the default backend)
    python -m bench.ack_latency --backend postgresql     # PostgreSQL at OKRBOT_BENCH_POSTGRES

Prints a table and writes bench/results/ack_latency_<backend>.json. Not a pass/fail test.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # also runnable as `python bench/ack_latency.py`

from bench import orgs  # noqa: E402
from bench.common import (  # noqa: E402
    AnsweringDouble,
    Subprocess,
    ack_only_serve,
    load_average,
    okrbot_serve,
    percentile,
    stamp,
    table,
    write_result,
)
from bench.scenarios import Picks, Requests, new_client  # noqa: E402

SCENARIO = "status_team"  # `/okr status` in a team channel: that team's OKRs (SPEC §3)
WARMUP = 40  # requests before measuring: imports, pools, the users.info cache
ANSWER_TIMEOUT = 120.0
LOGS = ROOT / "bench" / ".data" / "logs"


@dataclass
class Figures:
    server: str
    requests: int
    clients: int
    not_ok: int  # acks other than HTTP 200, and failed requests
    ack_p50_ms: float
    ack_p90_ms: float
    ack_p99_ms: float
    ack_max_ms: float
    acks_over_3s: int
    acks_per_second: float
    server_cpu_ms_per_request: float  # from /proc: the work after the acks included
    answers: int | None = None  # replies that reached the response_url
    answer_p50_ms: float | None = None  # request sent -> reply at the response_url
    answer_p99_ms: float | None = None
    load_average: list[float] | None = None


def run(server: Subprocess, slack: AnsweringDouble, picks: Picks, *, label: str, requests: int, clients: int, answers: bool) -> Figures:
    counter = iter(range(requests))
    lock = threading.Lock()
    sent: list[tuple[str | None, float, float, int]] = []  # (answer key, sent at, ack latency, status)

    def client(i: int) -> None:
        http = new_client(server.url, slack.response_url)
        builder = Requests(http, picks, slack.response_url)
        try:
            while True:
                with lock:
                    seq = next(counter, None)
                if seq is None:
                    return
                key, send = builder.make(SCENARIO, i, seq)
                if answers:
                    slack.expect(key)
                started = time.monotonic()
                try:
                    status = send().status_code
                except Exception:  # noqa: BLE001 - counted; the run goes on
                    status = 0
                with lock:
                    sent.append((key, started, time.monotonic() - started, status))
        finally:
            http.close()

    cpu_before = server.cpu_seconds()
    threads = [threading.Thread(target=client, args=(i,), name=f"client-{i}") for i in range(clients)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=900)
    wall = time.monotonic() - began
    waits: list[float] = []
    if answers:
        for key, started, _latency, status in sent:
            arrived = slack.wait(key, ANSWER_TIMEOUT) if status == 200 else None
            if arrived is not None:
                waits.append(arrived - started)
    cpu = server.cpu_seconds() - cpu_before
    acks = [latency for _key, _started, latency, _status in sent]
    return Figures(
        server=label,
        requests=len(sent),
        clients=clients,
        not_ok=sum(1 for *_rest, status in sent if status != 200),
        ack_p50_ms=round(percentile(acks, 50) * 1000, 1),
        ack_p90_ms=round(percentile(acks, 90) * 1000, 1),
        ack_p99_ms=round(percentile(acks, 99) * 1000, 1),
        ack_max_ms=round(max(acks) * 1000, 1),
        acks_over_3s=sum(1 for latency in acks if latency >= 3.0),
        acks_per_second=round(len(acks) / wall, 1),
        server_cpu_ms_per_request=round(cpu / len(acks) * 1000, 1),
        answers=len(waits) if answers else None,
        answer_p50_ms=round(percentile(waits, 50) * 1000, 1) if waits else None,
        answer_p99_ms=round(percentile(waits, 99) * 1000, 1) if waits else None,
        load_average=load_average(),
    )


def report(okrbot: Figures, baseline: Figures) -> str:
    rows = [
        (f.server, f.ack_p50_ms, f.ack_p99_ms, f.ack_max_ms, f.acks_over_3s, f.acks_per_second, f.server_cpu_ms_per_request,
         f"{f.answers}/{f.requests}" if f.answers is not None else "-")
        for f in (okrbot, baseline)
    ]
    rows.append(("ratio okrbot / ack-only", f"{okrbot.ack_p50_ms / baseline.ack_p50_ms:.2f}x", f"{okrbot.ack_p99_ms / baseline.ack_p99_ms:.2f}x", "", "", "", "", ""))
    return table(rows, ("server", "ack p50 ms", "ack p99 ms", "max ms", ">=3 s", "acks/s", "cpu ms/req", "answers"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()

    org = orgs.load("S", args.backend)
    picks = Picks.read(org.url, org.period)
    print(f"{org.describe()}; /okr status by {picks.asker} in {picks.channel}, that team's OKRs", flush=True)
    started = stamp()
    figures: dict[str, Figures] = {}
    with AnsweringDouble() as slack:
        servers = (
            ("okrbot /okr status", lambda: okrbot_serve(org.url, slack, LOGS / "ack_latency-okrbot.log", OKRBOT_SCHEDULER="false"), True),
            ("ack-only listener", lambda: ack_only_serve(org.url, slack, LOGS / "ack_latency-ack-only.log"), False),
        )
        for label, start, answers in servers:
            with start() as server:
                run(server, slack, picks, label="warm-up", requests=WARMUP, clients=args.clients, answers=answers)
                slack.reset()
                figures[label] = run(server, slack, picks, label=label, requests=args.requests, clients=args.clients, answers=answers)
                print(f"  {label}: done", flush=True)
    okrbot, baseline = figures.values()

    print(f"\nAck latency of /okr status over HTTP ({args.backend}): {args.requests} requests, {args.clients} concurrent clients\n")
    print(report(okrbot, baseline))
    if okrbot.answer_p50_ms is not None:
        print(f"\nokrbot's answers (request sent -> reply at the response_url): p50 {okrbot.answer_p50_ms:.0f} ms, p99 {okrbot.answer_p99_ms:.0f} ms")
    path = write_result(
        f"ack_latency_{args.backend}",
        {
            "benchmark": "ack latency of /okr status over HTTP, beside an ack-only listener",
            **started,
            "organisation": {**asdict(org), "asker": picks.asker, "channel": picks.channel},
            "okrbot": asdict(okrbot),
            "ack_only": asdict(baseline),
            "ratio": {"p50": round(okrbot.ack_p50_ms / baseline.ack_p50_ms, 2), "p99": round(okrbot.ack_p99_ms / baseline.ack_p99_ms, 2)},
        },
    )
    print(f"\nwrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
