"""Request latency through the real HTTP path: `okrbot serve` as a subprocess, signed
requests, the Slack double; beside the same server whose listeners only ack, in the same run.

For every scenario of bench/scenarios.py, at 1 and at 20 concurrent clients, each client
sends a request, reads the HTTP answer (the *ack*), then waits for okrbot's *answer* at
the Slack double (the response_url post, views.publish or the ephemeral confirmation)
before it sends the next: a closed loop, so at most `clients` requests are in flight and
the figures do not depend on how long the run is. The ack-only server is asked the same
requests; it has no answer to wait for. Also reported: the server's CPU time per request
(from /proc), which shared-CPU noise does not inflate.

    python -m bench.latency --sizes M,L
    python -m bench.latency --sizes M --commands status_team --requests 400
    python -m bench.latency --sizes L --workers 2 --output latency_l_2workers

M runs on SQLite (the default backend), L on PostgreSQL (as several replicas would).
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from dataclasses import asdict, dataclass

from bench import orgs
from bench.common import (
    RESULTS,
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
from bench.scenarios import NAMES, Picks, Requests, new_client

ANSWER_TIMEOUT = 60.0
CONCURRENCY = (1, 20)
# Slash commands, which the answering baseline (bench/ack_server.py --answer) answers with a constant reply.
SLASH_COMMANDS = ("status_team", "status_all", "done", "serves")


@dataclass
class Cell:
    server: str
    command: str
    clients: int
    requests: int
    errors: int  # non-200 acks, failed requests, answers that never came
    errors_http: int  # of which: no 200 (e.g. bolt's "didn't call ack()" after 3 s is a 404)
    ack_p50_ms: float
    ack_p99_ms: float
    answer_p50_ms: float | None
    answer_p99_ms: float | None
    answer_max_ms: float | None
    requests_per_second: float
    server_cpu_ms_per_request: float | None
    load_average: list[float]
    seconds: float
    # The CPU split by process: the serving process (acks, the inbox's writes) and the workers.
    serve_cpu_ms_per_request: float | None = None
    worker_cpu_ms_per_request: float | None = None


def run_cell(server: Subprocess, slack: AnsweringDouble, picks: Picks, name: str, clients: int, *, requests: int, time_cap: float, answers: bool, label: str) -> Cell:
    counter = iter(range(requests))
    lock = threading.Lock()
    acks: list[float] = []
    waits: list[float] = []
    errors = http_errors = 0
    deadline = time.monotonic() + time_cap

    def client(i: int) -> None:
        nonlocal errors, http_errors
        http = new_client(server.url, slack.response_url)
        builder = Requests(http, picks, slack.response_url)
        try:
            while time.monotonic() < deadline:
                with lock:
                    seq = next(counter, None)
                if seq is None:
                    return
                key, send = builder.make(name, i, seq)
                if answers and key:
                    slack.expect(key)
                started = time.monotonic()
                try:
                    status = send().status_code
                except Exception:  # noqa: BLE001 - counted, the run goes on
                    status = 0
                acked = time.monotonic()
                answered = slack.wait(key, ANSWER_TIMEOUT) if answers and key and status == 200 else None
                with lock:
                    acks.append(acked - started)
                    if status != 200 or (answers and key and answered is None):
                        errors += 1
                        http_errors += status != 200
                    elif answered is not None:
                        waits.append(answered - started)
        finally:
            http.close()

    cpu_before = server.cpu_by_process()
    threads = [threading.Thread(target=client, args=(i,), name=f"client-{i}") for i in range(clients)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=time_cap + ANSWER_TIMEOUT + 60)
    wall = time.monotonic() - began
    cpu_after = server.cpu_by_process()
    spent = {pid: seconds - cpu_before.get(pid, 0.0) for pid, seconds in cpu_after.items()}
    cpu = sum(spent.values())
    serve_cpu = spent.get(server.pid, 0.0)
    done = len(acks)
    return Cell(
        server=label,
        command=name,
        clients=clients,
        requests=done,
        errors=errors,
        errors_http=http_errors,
        ack_p50_ms=round(percentile(acks, 50) * 1000, 1) if acks else float("nan"),
        ack_p99_ms=round(percentile(acks, 99) * 1000, 1) if acks else float("nan"),
        answer_p50_ms=round(percentile(waits, 50) * 1000, 1) if waits else None,
        answer_p99_ms=round(percentile(waits, 99) * 1000, 1) if waits else None,
        answer_max_ms=round(max(waits) * 1000, 1) if waits else None,
        requests_per_second=round(done / wall, 1) if wall else 0.0,
        server_cpu_ms_per_request=round(cpu / done * 1000, 1) if done else None,
        serve_cpu_ms_per_request=round(serve_cpu / done * 1000, 1) if done else None,
        worker_cpu_ms_per_request=round((cpu - serve_cpu) / done * 1000, 1) if done else None,
        load_average=load_average(),
        seconds=round(wall, 1),
    )


def warm_up(server: Subprocess, slack: AnsweringDouble, picks: Picks, name: str, *, answers: bool, count: int = 5) -> None:
    """Imports, pools, caches (users.info, the serves index) before anything is measured;
    then as many clients at once as the busiest cell, so the threads and database connections
    a server grows to serve them exist before it is measured, as after a running server's
    first busy minute (else the first requests of that cell, waiting for new connections,
    are its p99)."""
    run_cell(server, slack, picks, name, 1, requests=count, time_cap=300, answers=answers, label="warm-up")
    busiest = max(CONCURRENCY)
    run_cell(server, slack, picks, name, busiest, requests=2 * busiest, time_cap=300, answers=answers, label="warm-up")


def requests_for(clients: int, args) -> int:
    return args.requests if clients > 1 else max(20, args.requests // 4)


def measure_size(size: str, names: list[str], args) -> dict:
    org = orgs.load(size, args.backend)
    print(f"\n{org.describe()}", flush=True)
    picks = Picks.read(org.url, org.period)
    print(f"asking in {picks.channel} as {picks.asker}; {len(picks.people)} KR owners; {len(picks.open_work)} open initiatives", flush=True)
    cells: list[Cell] = []
    logs = RESULTS.parent / ".data" / "logs"
    with AnsweringDouble() as slack:
        slack.keep_calls = False
        picks.tell(slack)
        started = time.monotonic()
        workers = {"OKRBOT_WORKERS": str(args.workers)} if args.workers else {}
        with okrbot_serve(org.url, slack, logs / f"latency-{size}-okrbot.log", **workers) as server:
            print(f"okrbot serve ready in {time.monotonic() - started:.1f} s (pid {server.pid})", flush=True)
            idle_memory = server.memory()
            for name in names:
                warm_up(server, slack, picks, name, answers=True)
                for clients in CONCURRENCY:
                    cell = run_cell(server, slack, picks, name, clients, requests=requests_for(clients, args), time_cap=args.time_cap, answers=True, label="okrbot")
                    cells.append(cell)
                    print(f"  okrbot   {name:14} {clients:2} clients: ack p50 {cell.ack_p50_ms} p99 {cell.ack_p99_ms} ms, "
                          f"answer p50 {cell.answer_p50_ms} p99 {cell.answer_p99_ms} ms, cpu {cell.server_cpu_ms_per_request} ms/req "
                          f"(serve {cell.serve_cpu_ms_per_request}, workers {cell.worker_cpu_ms_per_request}), "
                          f"n={cell.requests}, errors {cell.errors}, load {cell.load_average[0]}", flush=True)
            memory = server.memory()
        restored = picks.restore(org.url)
        with ack_only_serve(org.url, slack, logs / f"latency-{size}-ack.log") as bare:
            for name in names:
                warm_up(bare, slack, picks, name, answers=False)
                for clients in CONCURRENCY:
                    cell = run_cell(bare, slack, picks, name, clients, requests=requests_for(clients, args), time_cap=args.time_cap, answers=False, label="ack-only")
                    cells.append(cell)
                    print(f"  ack-only {name:14} {clients:2} clients: ack p50 {cell.ack_p50_ms} p99 {cell.ack_p99_ms} ms, n={cell.requests}", flush=True)
        commands = [name for name in names if name in SLASH_COMMANDS]
        if commands:
            with ack_only_serve(org.url, slack, logs / f"latency-{size}-answer.log", answer=True) as bare:
                for name in commands:
                    warm_up(bare, slack, picks, name, answers=True)
                    for clients in CONCURRENCY:
                        cell = run_cell(bare, slack, picks, name, clients, requests=requests_for(clients, args), time_cap=args.time_cap, answers=True, label="bare-answer")
                        cells.append(cell)
                        print(f"  bare-answer {name:11} {clients:2} clients: answer p50 {cell.answer_p50_ms} p99 {cell.answer_p99_ms} ms, n={cell.requests}", flush=True)
        picks.restore(org.url)
    return {
        "organisation": {"size": size, "backend": org.backend, **org.counts},
        "asked_in": {"channel": picks.channel, "user": picks.asker},
        "okrbot_workers": args.workers or "serve's default",
        "okrbot_memory_kib": {"idle": idle_memory, "after": memory},
        "initiatives_restored": restored,
        "cells": [asdict(cell) for cell in cells],
        "ratios": ratios(cells),
    }


def ratios(cells: list[Cell]) -> dict:
    """okrbot ack p50/p99 over the ack-only server's, per command and concurrency."""
    bare = {(c.command, c.clients): c for c in cells if c.server == "ack-only"}
    answering = {(c.command, c.clients): c for c in cells if c.server == "bare-answer"}
    found = {}
    for cell in cells:
        base = bare.get((cell.command, cell.clients))
        if cell.server == "okrbot" and base is not None and base.ack_p50_ms and base.ack_p99_ms:
            constant = answering.get((cell.command, cell.clients))
            found[f"{cell.command}@{cell.clients}"] = {
                "ack_p50": round(cell.ack_p50_ms / base.ack_p50_ms, 2),
                "ack_p99": round(cell.ack_p99_ms / base.ack_p99_ms, 2),
                "answer_p99_over_bare_ack_p99": round(cell.answer_p99_ms / base.ack_p99_ms, 2) if cell.answer_p99_ms else None,
                "answer_p99_over_bare_answer_p99": round(cell.answer_p99_ms / constant.answer_p99_ms, 2) if cell.answer_p99_ms and constant and constant.answer_p99_ms else None,
            }
    return found


def report(size: str, found: dict) -> str:
    cells = [Cell(**c) for c in found["cells"]]
    bare = {(c.command, c.clients): c for c in cells if c.server == "ack-only"}
    answering = {(c.command, c.clients): c for c in cells if c.server == "bare-answer"}
    rows = []
    for cell in cells:
        if cell.server != "okrbot":
            continue
        base = bare.get((cell.command, cell.clients))
        constant = answering.get((cell.command, cell.clients))
        rows.append((
            cell.command, cell.clients, cell.requests,
            cell.ack_p50_ms, cell.ack_p99_ms,
            base.ack_p50_ms if base else "-", base.ack_p99_ms if base else "-",
            f"{cell.ack_p99_ms / base.ack_p99_ms:.1f}x" if base and base.ack_p99_ms else "-",
            cell.answer_p50_ms, cell.answer_p99_ms,
            constant.answer_p99_ms if constant else "-",
            f"{cell.answer_p99_ms / constant.answer_p99_ms:.1f}x" if constant and constant.answer_p99_ms and cell.answer_p99_ms else "-",
            cell.server_cpu_ms_per_request, cell.errors, cell.load_average[0],
        ))
    header = ("command", "clients", "n", "ack p50", "ack p99", "bare p50", "bare p99", "p99 ratio", "answer p50", "answer p99", "bare answer p99", "answer ratio", "cpu ms/req", "errors", "load")
    return f"\n{size}: milliseconds\n" + table(rows, header)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="M,L")
    parser.add_argument("--backend", default=None, choices=("sqlite", "postgresql"), help="default: SQLite for S and M, PostgreSQL for L")
    parser.add_argument("--commands", default=",".join(NAMES))
    parser.add_argument("--requests", type=int, default=400, help="per command at 20 clients (a quarter of it at 1 client)")
    parser.add_argument("--time-cap", type=float, default=60.0, help="seconds per command and concurrency; fewer requests if reached")
    parser.add_argument("--workers", type=int, default=None, help="OKRBOT_WORKERS for okrbot serve (default: serve's own: 1 on SQLite, a worker per core on PostgreSQL)")
    parser.add_argument("--output", default="latency")
    args = parser.parse_args()
    sizes = [s.strip().upper() for s in args.sizes.split(",") if s.strip()]
    names = [n.strip() for n in args.commands.split(",") if n.strip()]
    result = {"benchmark": "request latency over HTTP, okrbot serve vs ack-only", **stamp(), "answer_timeout_s": ANSWER_TIMEOUT, "sizes": {}}
    for size in sizes:
        result["sizes"][size] = measure_size(size, names, args)
        print(report(size, result["sizes"][size]), flush=True)
    result["load_average_at_end"] = list(os.getloadavg())
    path = write_result(args.output, result)
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
