"""The searchable KR and objective menus (block_suggestion) at L size: 10,000 objectives, 50,000 KRs.

    python -m bench.pickers                        # SQLite, a temporary file
    python -m bench.pickers --backend postgresql   # a schema of its own in OKRBOT_BENCH_POSTGRES
    python -m bench.pickers --objectives 1000      # M size

Slack waits 3 seconds for the options. Each search goes through the service the listener
calls (`services/pickers.py`), as a person who is no admin (so the private-objective filter
runs), for what people type: nothing (the newest), an id, one word, two words, and words
that match nothing (which reads the most rows).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid

from sqlalchemy import insert, text

from okrbot.services import pickers
from okrbot.services.context import Actor
from okrbot.store.db import Database
from okrbot.store.migrate import upgrade_to_head
from okrbot.store.models import KeyResult, Objective, Workspace
from okrbot.store.types import utcnow

from bench.common import current_period, load_average, percentile, stamp, table, write_result

WORDS = "activation signup onboarding latency churn revenue pipeline hiring retention pricing uptime support docs mobile search billing".split()
TYPED = {"nothing": "", "an id": "KR-31337", "one word": "latency", "two words": "churn pricing", "no match": "zebra quartz"}


def seed(db: Database, objectives: int, krs_each: int) -> None:
    now, period = utcnow(), current_period()
    with db.session_scope() as session:
        session.add(Workspace(team_id="T1", next_objective=objectives, next_kr=objectives * krs_each))
        session.flush()
        rows = [
            {"team_id": "T1", "number": n, "title": f"{WORDS[n % 16].title()} and {WORDS[(n * 7) % 16]} for team {n}", "owner": f"U{n % 300}",
             "period": period, "private": n % 10 == 0, "team_channel": f"C{n % 50}", "status": "active", "description": "", "created_at": now, "updated_at": now}
            for n in range(1, objectives + 1)
        ]
        session.execute(insert(Objective), rows)
        ids = dict(session.execute(text("SELECT number, id FROM objective")).all())
        krs = [
            {"team_id": "T1", "number": (o - 1) * krs_each + k, "objective_id": ids[o], "title": f"Raise {WORDS[(o + k) % 16]} {WORDS[(o * k) % 16]} from 10 to 20",
             "owner": f"U{(o + k) % 300}", "metric": "numeric", "direction": "increase", "start": 10.0, "target": 20.0, "current": 12.0,
             "weight": 1.0, "status": "active", "created_at": now, "updated_at": now}
            for o in range(1, objectives + 1)
            for k in range(1, krs_each + 1)
        ]
        for start in range(0, len(krs), 5000):
            session.execute(insert(KeyResult), krs[start : start + 5000])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--objectives", type=int, default=10000)
    parser.add_argument("--krs-each", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()

    folder = tempfile.TemporaryDirectory()
    if args.backend == "sqlite":
        url = f"sqlite:///{folder.name}/pickers.db"
    else:
        base = os.environ.get("OKRBOT_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
        schema = f"bench_pickers_{uuid.uuid4().hex[:8]}"
        admin = Database(f"{base}/postgres")
        with admin.engine.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = f"{base}/postgres?options=-csearch_path%3D{schema}"
    upgrade_to_head(url)
    db = Database(url)
    started = time.monotonic()
    seed(db, args.objectives, args.krs_each)
    if args.backend == "postgresql":
        with db.engine.begin() as connection:
            connection.execute(text("ANALYZE"))  # fresh statistics, as autovacuum would give a live database
    seeded = time.monotonic() - started
    actor = Actor(team_id="T1", user_id="U7", now=utcnow())

    rows, result = [], {**stamp(), "backend": args.backend, "objectives": args.objectives, "krs": args.objectives * args.krs_each, "searches": {}}
    for label, typed in TYPED.items():
        for kind, search in (("KR", pickers.search_krs), ("objective", pickers.search_objectives)):
            timings, found = [], []
            for _ in range(args.rounds):
                begin = time.perf_counter()
                with db.session_scope(read_only=True) as session:
                    found = search(session, actor, typed)
                timings.append((time.perf_counter() - begin) * 1000)
            figures = {"p50_ms": round(statistics.median(timings), 1), "p95_ms": round(percentile(timings, 95), 1), "options": len(found)}
            result["searches"][f"{kind}: {label}"] = figures
            rows.append((f"{kind}: {label} ({typed!r})", figures["p50_ms"], figures["p95_ms"], figures["options"]))
    result["load_average_at_end"] = load_average()
    db.dispose()
    if args.backend == "postgresql":
        with admin.engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    folder.cleanup()
    print(f"{args.backend}: {args.objectives:,} objectives, {args.objectives * args.krs_each:,} KRs (seeded in {seeded:.1f} s), {args.rounds} rounds")
    print(table(rows, ("search", "p50 ms", "p95 ms", "options")))
    print(f"results: {write_result(f'pickers_{args.backend}', result)}")


if __name__ == "__main__":
    main()
