"""What the durable inbox costs a request: statements and milliseconds.

Three steps are added to every request: the server writes it (`accept`, before the
acknowledgement), a worker claims it and marks it done (`claim`, `finish`; a busy worker
records what it finished with its next claim, one transaction for both), and its unit
of work records the request's key (`claim_event`, in the transaction it already had).
Each is run `--count` times on a fresh database; SQLAlchemy's cursor events count the
statements, and the wall time of each call is recorded (median and p99).

    python -m bench.inbox_cost                          # SQLite (the inbox is a file of its own)
    python -m bench.inbox_cost --backend postgresql     # PostgreSQL at OKRBOT_BENCH_POSTGRES

Writes bench/results/inbox_cost_<backend>.json. Not a pass/fail test.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

from bench.common import percentile, stamp, table, write_result
from okrbot.store.db import Database
from okrbot.store.events import claim_event
from okrbot.store.inbox import Finished, StoredAnswer, open_inbox
from okrbot.store.migrate import upgrade_to_head
from okrbot.store.types import utcnow

POSTGRES = os.environ.get("OKRBOT_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
BODY = b"token=x&team_id=T1&user_id=U1&command=%2Fokr&text=status&response_url=http%3A%2F%2F127.0.0.1%2Fr&trigger_id=1.2.3" * 3


class Counting:
    def __init__(self, engine) -> None:
        self.statements = 0
        event.listen(engine, "after_cursor_execute", self._count)

    def _count(self, *_args) -> None:
        self.statements += 1


def measure(name: str, counter: Counting, count: int, step: Callable[[int], object]) -> tuple:
    before = counter.statements
    times = []
    for n in range(count):
        started = time.perf_counter()
        step(n)
        times.append((time.perf_counter() - started) * 1000)
    return (name, round((counter.statements - before) / count, 2), round(percentile(times, 50), 3), round(percentile(times, 99), 3))


def database_url(backend: str, folder: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{folder / 'okrbot.db'}"
    schema = f"okrbot_inbox_bench_{os.getpid()}"
    admin = create_engine(make_url(POSTGRES).set(drivername="postgresql+psycopg"))
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    return f"{POSTGRES}{'&' if '?' in POSTGRES else '?'}options=-csearch_path%3D{schema}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--count", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = database_url(args.backend, Path(folder))
        upgrade_to_head(url)
        inbox = open_inbox(url)
        db = Database(url)
        inbox_counter, db_counter = Counting(inbox.db.engine), Counting(db.engine)
        accepted: list[int] = []
        rows = [
            measure("accept (server, before the 200)", inbox_counter, args.count, lambda n: accepted.append(inbox.accept(key=f"command:{n}", route="slack", body=BODY, headers={"content-type": "application/x-www-form-urlencoded"}).id)),
            measure("claim (worker, one at a time)", inbox_counter, args.count, lambda n: inbox.claim("bench", limit=1)),
            measure("finish (worker)", inbox_counter, args.count, lambda n: inbox.finish(accepted[n], StoredAnswer(200, b"", {}))),
        ]
        for n in range(args.count):
            inbox.accept(key=f"busy:{n}", route="slack", body=BODY, headers={"content-type": "application/x-www-form-urlencoded"})
        working: list[int] = []

        def claim_and_finish(_n: int) -> None:
            # A busy worker: the request it just finished is recorded done with its next claim.
            finished = [Finished(working.pop(), StoredAnswer(200, b"", {}))] if working else []
            working.extend(claimed.id for claimed in inbox.claim("bench", limit=1, finished=finished))

        rows.append(measure("claim + the last one's finish (busy worker)", inbox_counter, args.count, claim_and_finish))

        def key_in_unit(n: int) -> None:
            with db.session_scope() as session:
                claim_event(session, f"command:{n}/1", "T1", utcnow())

        rows.append(measure("request key in the unit of work", db_counter, args.count, key_in_unit))
        inbox.dispose()
        db.dispose()
    header = ("step", "statements", "p50 ms", "p99 ms")
    print(table(rows, header))
    path = write_result(f"inbox_cost_{args.backend}", {**stamp(), "backend": args.backend, "count": args.count, "rows": [dict(zip(header, row)) for row in rows]})
    print(f"written to {path}")


if __name__ == "__main__":
    main()
