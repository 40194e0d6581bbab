"""Peak memory of `okrbot serve` at M and L: the resident set (VmRSS, sampled every 0.2 s)
and its high-water mark (VmHWM, from /proc/<pid>/status) of the server and its workers while 20
clients send every scenario of bench/scenarios.py in turn (the `/okr serves` index, the
largest thing okrbot keeps, included).

    python -m bench.memory --sizes M,L
"""

from __future__ import annotations

import argparse
import os
import threading
import time

from bench import orgs
from bench.common import RESULTS, AnsweringDouble, okrbot_serve, stamp, table, write_result
from bench.latency import run_cell
from bench.scenarios import NAMES, Picks


def measure(size: str, names: list[str], requests: int, backend: str | None) -> dict:
    org = orgs.load(size, backend)
    picks = Picks.read(org.url, org.period)
    print(org.describe(), flush=True)
    samples: list[tuple[float, int]] = []
    with AnsweringDouble() as slack:
        slack.keep_calls = False
        picks.tell(slack)
        with okrbot_serve(org.url, slack, RESULTS.parent / ".data" / "logs" / f"memory-{size}.log") as server:
            time.sleep(1.0)
            idle = server.memory()
            stop = threading.Event()

            def sample() -> None:
                while not stop.is_set():
                    try:
                        samples.append((time.monotonic(), server.memory().get("VmRSS", 0)))
                    except OSError:
                        return
                    stop.wait(0.2)

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            by_command = {}
            try:
                for name in names:
                    before = max((rss for _, rss in samples), default=0)
                    cell = run_cell(server, slack, picks, name, 20, requests=requests, time_cap=90, answers=True, label="okrbot")
                    by_command[name] = {"requests": cell.requests, "errors": cell.errors, "rss_after_kib": server.memory()["VmRSS"],
                                        "peak_so_far_kib": max([rss for _, rss in samples] + [before])}
                    print(f"  {name:14} n={cell.requests:4}  RSS {server.memory()['VmRSS'] / 1024:7.1f} MiB", flush=True)
            finally:
                stop.set()
                sampler.join(timeout=5)
            final = server.memory()
    picks.restore(org.url)
    return {
        "organisation": {"size": size, "backend": org.backend, **org.counts},
        "processes": final.get("processes"),  # the server, its workers and multiprocessing's resource tracker
        "idle_rss_mib": round(idle["VmRSS"] / 1024, 1),
        "peak_rss_mib": round(final["VmHWM"] / 1024, 1),
        "final_rss_mib": round(final["VmRSS"] / 1024, 1),
        "sampled_peak_rss_mib": round(max(rss for _, rss in samples) / 1024, 1) if samples else None,
        "by_command": by_command,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="M,L")
    parser.add_argument("--backend", default=None, choices=("sqlite", "postgresql"))
    parser.add_argument("--commands", default=",".join(NAMES))
    parser.add_argument("--requests", type=int, default=100, help="per command, from 20 clients")
    args = parser.parse_args()
    names = [n.strip() for n in args.commands.split(",") if n.strip()]
    result = {"benchmark": "peak memory of okrbot serve under load", **stamp(), "sizes": {}}
    for size in [s.strip().upper() for s in args.sizes.split(",") if s.strip()]:
        result["sizes"][size] = measure(size, names, args.requests, args.backend)
    rows = [(size, r["organisation"]["backend"], r["idle_rss_mib"], r["peak_rss_mib"], r["final_rss_mib"]) for size, r in result["sizes"].items()]
    print("\n" + table(rows, ("size", "database", "idle MiB", "peak (VmHWM) MiB", "after MiB")))
    result["load_average_at_end"] = list(os.getloadavg())
    print(f"wrote {write_result('memory', result)}")


if __name__ == "__main__":
    main()
