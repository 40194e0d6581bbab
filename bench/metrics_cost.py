"""What metrics cost the ack: `okrbot serve` with OKRBOT_METRICS off and on.

The ack_latency load (bench/ack_latency.py: signed `/okr status` from concurrent clients
that do not wait for the answers, the S organisation) against `okrbot serve` twice per
round, metrics off then on, for a few rounds (the machine is shared: alternating keeps
drift out of the comparison). With metrics on, a scraper reads GET /metrics every second
all through the run (Prometheus scrapes every 15 s or so: this is the harder case).
The per-request log line is written in both (it is not optional).

    python -m bench.metrics_cost --requests 400 --rounds 3
    python -m bench.metrics_cost --backend postgresql

Prints a table and writes bench/results/metrics_cost_<backend>.json. Not a pass/fail test.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
from dataclasses import asdict
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import orgs  # noqa: E402
from bench.ack_latency import WARMUP, Figures, run  # noqa: E402
from bench.common import AnsweringDouble, okrbot_serve, stamp, table, write_result  # noqa: E402
from bench.scenarios import Picks  # noqa: E402

LOGS = ROOT / "bench" / ".data" / "logs"
SCRAPE_EVERY = 1.0


class Scraper:
    """GET /metrics every second while the load runs; counts the scrapes that worked."""

    def __init__(self, url: str) -> None:
        self.url, self.ok, self.failed = url, 0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._scrape, daemon=True)

    def __enter__(self) -> Scraper:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _scrape(self) -> None:
        while not self._stop.wait(SCRAPE_EVERY):
            try:
                response = httpx.get(f"{self.url}/metrics", timeout=5)
                self.ok += response.status_code == 200 and b"okrbot_requests_total" in response.content
            except httpx.HTTPError:
                self.failed += 1


def per_request_cpu_us(metrics_on: bool, requests: int = 20000) -> tuple[float, float]:
    """CPU µs per request (server, worker) of what metrics and the log line add, in this
    process, without the load: steadier than a p99 on a shared machine. The server times
    the ack (a histogram, when metrics are on); the worker, when the work is done, reads the
    request's kind and workspace, counts it, observes its latency and writes the log line
    (the line is written with metrics off too; its handler is disabled here in both)."""
    import logging
    import time

    from okrbot.runtime.jobs.job import Job, Route
    from okrbot.observability.requests import AckTimer, RequestLedger
    from okrbot.store.types import utcnow

    logging.getLogger("okrbot.requests").disabled = True
    # A slash command's form body, as Slack sends it.
    body = b"token=x&team_id=T1&channel_id=C1&user_id=U1&command=%2Fokr&text=status&trigger_id=1.2.3&response_url=http%3A%2F%2F127.0.0.1%2Fr"
    headers = {"content-type": "application/x-www-form-urlencoded"}
    timer = AckTimer(metrics_on=metrics_on)
    began = time.process_time()
    for n in range(requests):
        timer.acked(Route.SLACK, time.perf_counter(), n)
    server = (time.process_time() - began) / requests * 1e6
    ledger, received = RequestLedger(), utcnow()
    began = time.process_time()
    for n in range(requests if metrics_on else 0):
        ledger.claimed(Job(n, Route.SLACK, body, headers, key=f"command:{n}"), received)
        ledger.finished(n, 200)
    worker = (time.process_time() - began) / requests * 1e6
    return round(server, 1), round(worker, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--micro", action="store_true", help="only the in-process CPU cost per request, off and on")
    args = parser.parse_args()
    if args.micro:
        (server_off, _), (server_on, worker) = per_request_cpu_us(False), per_request_cpu_us(True)
        print(table([("server: the ack", server_off, server_on), ("worker: count, latency, log line", "-", worker)], ("per request", "off µs", "on µs")))
        return

    org = orgs.load("S", args.backend)
    picks = Picks.read(org.url, org.period)
    print(f"{org.describe()}; /okr status by {picks.asker} in {picks.channel}", flush=True)
    started = stamp()
    runs: dict[str, list[Figures]] = {"metrics off": [], "metrics on": []}
    scrapes = 0
    with AnsweringDouble() as slack:
        for round_number in range(1, args.rounds + 1):
            for label, metrics in (("metrics off", "off"), ("metrics on", "on")):
                log = LOGS / f"metrics_cost-{metrics}.log"
                with okrbot_serve(org.url, slack, log, OKRBOT_SCHEDULER="false", OKRBOT_METRICS=metrics) as server:
                    run(server, slack, picks, label="warm-up", requests=WARMUP, clients=args.clients, answers=False)
                    slack.reset()
                    if metrics == "on":
                        with Scraper(f"http://127.0.0.1:{server.port}") as scraper:
                            figures = run(server, slack, picks, label=label, requests=args.requests, clients=args.clients, answers=False)
                        scrapes += scraper.ok
                    else:
                        figures = run(server, slack, picks, label=label, requests=args.requests, clients=args.clients, answers=False)
                runs[label].append(figures)
                print(f"  round {round_number} {label}: ack p99 {figures.ack_p99_ms} ms", flush=True)

    def median(label: str, field: str) -> float:
        return round(statistics.median(getattr(f, field) for f in runs[label]), 1)

    fields = ("ack_p50_ms", "ack_p99_ms", "server_cpu_ms_per_request", "not_ok")
    rows = [(label, *(median(label, field) for field in fields)) for label in runs]
    print(f"\nMedian of {args.rounds} rounds, {args.requests} requests each, {args.clients} clients ({args.backend}); {scrapes} scrapes during the 'on' runs\n")
    print(table(rows, ("okrbot serve", "ack p50 ms", "ack p99 ms", "cpu ms/req", "not ok")))
    path = write_result(
        f"metrics_cost_{args.backend}",
        {
            "benchmark": "ack latency of /okr status with OKRBOT_METRICS off and on",
            **started,
            "organisation": asdict(org),
            "rounds": {label: [asdict(f) for f in figures] for label, figures in runs.items()},
            "median": {label: {field: median(label, field) for field in fields} for label in runs},
            "scrapes": scrapes,
        },
    )
    print(f"\nwrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
