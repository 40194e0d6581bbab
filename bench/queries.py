"""Database work per request: statements per command at S, M and L, and the slowest plan at L.

Each scenario (bench/scenarios.py) is sent over HTTP to an in-process okrbot (the e2e
harness: uvicorn, bolt, the Slack double), warmed up twice, then sent once more while
SQLAlchemy's before/after_cursor_execute count and time every statement the request
causes, up to its answer and the last thing its listener does (delivering the outbox
included). The count must not grow with the organisation. On PostgreSQL the slowest
statement at the largest size is run again under EXPLAIN (ANALYZE, BUFFERS), in a
transaction that is rolled back.

    python -m bench.queries --sizes S,M,L --backend postgresql
"""

from __future__ import annotations

import argparse
import threading
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import event

from bench import orgs
from bench.common import AnsweringDouble, stamp, table, write_result
from bench.scenarios import NAMES, Picks, Requests
from tests.e2e.harness import SIGNING_SECRET, running_bot
from tests.fakes.slack_client import SignedSlackClient

WARMUP = 2


@dataclass
class Statement:
    sql: str
    parameters: object
    seconds: float


@dataclass
class Recorder:
    statements: list[Statement] = field(default_factory=list)
    on: bool = False
    _local: threading.local = field(default_factory=threading.local)

    def before(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self._local.started = time.perf_counter()

    def after(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if self.on:
            self.statements.append(Statement(statement, parameters, time.perf_counter() - self._local.started))


@contextmanager
def recording(engine):
    recorder = Recorder()
    event.listen(engine, "before_cursor_execute", recorder.before)
    event.listen(engine, "after_cursor_execute", recorder.after)
    try:
        yield recorder
    finally:
        event.remove(engine, "before_cursor_execute", recorder.before)
        event.remove(engine, "after_cursor_execute", recorder.after)


def shape(sql: str) -> str:
    words = sql.split()
    head = " ".join(words[:2])
    for keyword in ("FROM", "INTO", "UPDATE"):
        if keyword in words:
            index = words.index(keyword)
            if index + 1 < len(words):
                return f"{head} … {keyword} {words[index + 1]}" if keyword != "UPDATE" else f"UPDATE {words[index + 1]}"
    return head


def measure(org: orgs.Org, names: list[str]) -> dict:
    picks = Picks.read(org.url, org.period)
    found: dict[str, dict] = {}
    slowest: Statement | None = None
    with AnsweringDouble() as slack, running_bot(slack, org.url) as (bot, _client):
        picks.tell(slack)
        client = SignedSlackClient(bot.url, SIGNING_SECRET, response_url_factory=slack.response_url, timeout=120)
        requests = Requests(client, picks, slack.response_url)
        with recording(bot.db.engine) as recorder:
            for name in names:
                for seq in range(WARMUP + 1):
                    measured = seq == WARMUP
                    key, send = requests.make(name, 0, seq)
                    if key:
                        slack.expect(key)
                    recorder.statements.clear()
                    recorder.on = measured
                    started = time.monotonic()
                    response = send()
                    answered = slack.wait(key, timeout=300) if key else None
                    bot.settle(timeout=300)
                    recorder.on = False
                    if response.status_code != 200 or answered is None:
                        raise RuntimeError(f"{name} at {org.size}: HTTP {response.status_code}, answer {'missing' if answered is None else 'ok'}")
                statements = list(recorder.statements)
                top = max(statements, key=lambda s: s.seconds) if statements else None
                if top is not None and (slowest is None or top.seconds > slowest.seconds):
                    slowest = top
                found[name] = {
                    "statements": len(statements),
                    "db_ms": round(sum(s.seconds for s in statements) * 1000, 1),
                    "answer_ms": round((answered - started) * 1000, 1),
                    "slowest_ms": round(top.seconds * 1000, 2) if top else 0,
                    "slowest": shape(top.sql) if top else "",
                    "shapes": dict(Counter(shape(s.sql) for s in statements)),
                }
        client.close()
    picks.restore(org.url)
    plan = explain(org.url, slowest) if org.backend == "postgresql" and slowest is not None else None
    return {"commands": found, "slowest_statement": slowest.sql if slowest else None, "slowest_ms": round(slowest.seconds * 1000, 2) if slowest else None, "plan": plan}


def explain(url: str, statement: Statement) -> list[str]:
    from okrbot.store.db import Database

    db = Database(url)
    try:
        with db.engine.connect() as connection:
            transaction = connection.begin()
            try:
                rows = connection.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement.sql, statement.parameters).all()
            finally:
                transaction.rollback()
        return [row[0] for row in rows]
    finally:
        db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="S,M,L")
    parser.add_argument("--backend", default="postgresql", choices=("sqlite", "postgresql"))
    parser.add_argument("--commands", default=",".join(NAMES))
    args = parser.parse_args()
    sizes = [s.strip().upper() for s in args.sizes.split(",") if s.strip()]
    names = [n.strip() for n in args.commands.split(",") if n.strip()]

    result = {"benchmark": "statements per request", **stamp(), "backend": args.backend, "sizes": {}}
    for size in sizes:
        org = orgs.load(size, args.backend)
        print(f"{org.describe()}", flush=True)
        result["sizes"][size] = {"organisation": org.counts, **measure(org, names)}

    rows = []
    for name in names:
        counts = [result["sizes"][size]["commands"][name]["statements"] for size in sizes]
        db_ms = [result["sizes"][size]["commands"][name]["db_ms"] for size in sizes]
        # Grows: more at the largest size than at any smaller one, or more at every step. A query
        # that runs only when there is something to look up (parents, aligned children) may come
        # and go between organisations: the differing shapes are printed below the table.
        grows = len(counts) > 1 and (counts[-1] > max(counts[:-1]) or all(b > a for a, b in zip(counts, counts[1:])))
        rows.append((name, *counts, "YES" if grows else "no", *[f"{ms:.1f}" for ms in db_ms]))
    header = ("command", *[f"stmts {s}" for s in sizes], "grows", *[f"db ms {s}" for s in sizes])
    print(f"\nStatements per request on {args.backend}\n")
    print(table(rows, header))
    for size in sizes:
        for name in names:
            shapes = result["sizes"][size]["commands"][name]["shapes"]
            if len({result["sizes"][s]["commands"][name]["statements"] for s in sizes}) > 1:
                print(f"  {name} at {size}: {shapes}")
    last = result["sizes"][sizes[-1]]
    if last.get("plan"):
        print(f"\nSlowest statement at {sizes[-1]} ({last['slowest_ms']} ms):\n{last['slowest_statement']}\n")
        print("\n".join(last["plan"]))
    result["load_average_at_end"] = __import__("os").getloadavg()
    path = write_result(f"queries_{args.backend}", result)
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
