"""Every benchmark, one after the other, then the results table in docs/performance.md.

    python -m bench.run_all                      # S, M, L (L needs PostgreSQL)
    python -m bench.run_all --sizes S,M          # SQLite only, quicker
    python -m bench.run_all --only queries,fanout

Organisations are loaded once and cached (bench/orgs.py); the first run of L loads
1.2 million rows into PostgreSQL (76 s to 7 minutes here, with the machine's load).
A full run takes 11 to 25 minutes on 2 cores. Each benchmark is a subprocess, so one's memory and threads never
weigh on the next; they write bench/results/*.json, and bench/report.py turns those
into the table between the markers in docs/performance.md.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

from bench.common import ROOT

STEPS = ("orgs", "queries", "latency", "memory", "fanout", "report")


def plan(sizes: list[str]) -> dict[str, list[list[str]]]:
    big = [s for s in sizes if s == "L"]
    small = [s for s in sizes if s in ("S", "M")]
    serve_sizes = [s for s in sizes if s in ("M", "L")] or sizes
    return {
        "orgs": ([["bench.orgs", *small]] if small else []) + ([["bench.orgs", "S", "M", *big, "--backend", "postgresql"]] if big else []) + [["bench.orgs", "F"]],
        "queries": ([["bench.queries", "--sizes", ",".join(sizes), "--backend", "postgresql"]] if big else [])
        + ([["bench.queries", "--sizes", ",".join(small), "--backend", "sqlite"]] if small else []),
        "latency": [["bench.latency", "--sizes", ",".join(serve_sizes)]],
        "memory": [["bench.memory", "--sizes", ",".join(serve_sizes)]],
        "fanout": [["bench.fanout"]],
        "report": [["bench.report"]],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="S,M,L")
    parser.add_argument("--only", default=",".join(STEPS), help=f"some of: {', '.join(STEPS)}")
    args = parser.parse_args()
    sizes = [s.strip().upper() for s in args.sizes.split(",") if s.strip()]
    steps = [s.strip() for s in args.only.split(",") if s.strip()]
    commands = plan(sizes)
    failed = []
    for step in steps:
        for argv in commands[step]:
            started = time.monotonic()
            print(f"\n=== python -m {' '.join(argv)}", flush=True)
            code = subprocess.call([sys.executable, "-m", *argv], cwd=ROOT)
            print(f"=== {argv[0]} finished in {time.monotonic() - started:.0f} s with exit code {code}", flush=True)
            if code != 0:
                failed.append(" ".join(argv))
    if failed:
        print("\nfailed: " + "; ".join(failed))
        sys.exit(1)


if __name__ == "__main__":
    main()
