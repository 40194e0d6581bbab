"""Latency of "does this serve a KR?" through the service, with 5,000 KRs in the database.

    python bench/serves_latency.py                       # SQLite file in a temporary directory
    python bench/serves_latency.py --krs 5000 --database-url postgresql://postgres@127.0.0.1:5432/test

Fills a fresh database with one period of KRs (the 37 of eval/serves, then
synthetic ones from okrbot.serves_eval, each with its linked work; every tenth
objective private), then times, per question, one unit of work around
`services.serves.serves()`: the fingerprint query, the private-objective query,
the match and the answer. Each of the 289 requests of eval/serves is asked
`--rounds` times. Reported:

- cold: the first question (reads the evidence, builds the matcher);
- warm p50 / p95 / max for a member (sees no private objective: the matcher
  without private KRs) and for a private objective's owner (the matcher over all
  KRs, hidden ones filtered out); and the same question through the whole
  `/okr serves` command (parse, service, Block Kit);
- after done work: the fingerprint moves, the evidence is read again and found
  unchanged, so no rebuild.

Not a pass/fail test: the figures depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import select

from okrbot.config import Settings
from okrbot.domain.commands import Kind, WorkRef
from okrbot.domain.periods import current_period
from okrbot.serves_eval import load, synthetic_krs
from okrbot.services import serves, work
from okrbot.services.context import Actor
from okrbot.slack.commands.runner import CommandRunner
from okrbot.store.db import Database
from okrbot.store.migrate import upgrade_to_head
from okrbot.store.models import Initiative, KeyResult, KrLink, Objective
from okrbot.store.types import utcnow
from okrbot.store.workspaces import ensure_workspace, reserve_numbers

DATA_DIR = Path(__file__).resolve().parents[1] / "eval" / "serves"
TEAM = "T1"
MEMBER, OWNER = "U1", "U2"  # U2 owns the private objectives


@contextmanager
def fresh_database(url: str | None) -> Iterator[str]:
    """A migrated, empty database: a temporary SQLite file, or a new PostgreSQL schema."""
    if not url or not url.startswith("postgresql"):
        with tempfile.TemporaryDirectory() as directory:
            path = f"sqlite:///{directory}/bench.db"
            upgrade_to_head(path)
            yield path
        return
    schema = f"okrbot_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(make_url(url).set(drivername="postgresql+psycopg"))
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    scoped = f"{url}{'&' if '?' in url else '?'}options={quote(f'-csearch_path={schema}')}"
    try:
        upgrade_to_head(scoped)
        yield scoped
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def fill(db: Database, size: int, period: str) -> tuple[int, int, int]:
    """`size` KRs of `period` grouped under their objectives, with their linked work, in bulk."""
    real, _ = load(DATA_DIR)
    evidence = synthetic_krs(real, size)
    now = utcnow()
    with db.session_scope() as session:
        ensure_workspace(session, TEAM)
        objectives: dict[str, Objective] = {}
        for kr in evidence:
            if kr.objective not in objectives:
                number = len(objectives) + 1
                objectives[kr.objective] = Objective(
                    team_id=TEAM, number=number, title=kr.objective, owner=OWNER if number % 10 == 0 else MEMBER,
                    period=period, private=number % 10 == 0, created_at=now, updated_at=now,
                )
        session.add_all(objectives.values())
        session.flush()
        krs = [
            KeyResult(team_id=TEAM, number=n, objective_id=objectives[kr.objective].id, title=kr.title,
                      owner=objectives[kr.objective].owner,
                      metric="milestone", direction="increase", created_at=now, updated_at=now)
            for n, kr in enumerate(evidence, start=1)
        ]
        session.add_all(krs)
        initiatives = [
            (row, Initiative(team_id=TEAM, number=0, title=title, owner=MEMBER, created_at=now, updated_at=now))
            for row, kr in zip(krs, evidence)
            for title in kr.initiatives
        ]
        for number, (_, initiative) in enumerate(initiatives, start=1):
            initiative.number = number
        session.add_all(initiative for _, initiative in initiatives)
        session.flush()
        session.add_all(KrLink(team_id=TEAM, initiative_id=i.id, kr_id=row.id, created_at=now) for row, i in initiatives)
        for kind, used in ((Kind.OBJECTIVE, len(objectives)), (Kind.KR, len(krs)), (Kind.INITIATIVE, len(initiatives))):
            reserve_numbers(session, TEAM, kind, used)
    return len(objectives), len(krs), len(initiatives)


def timed(call: Callable[[], object]) -> float:
    return timed_both(call)[0]


def timed_both(call: Callable[[], object]) -> tuple[float, float]:
    """Wall-clock and CPU ms; CPU time is steadier when the machine is busy (SQLite runs in-process)."""
    wall, cpu = time.perf_counter(), time.process_time()
    call()
    return (time.perf_counter() - wall) * 1000.0, (time.process_time() - cpu) * 1000.0


def percentile(values: list[float], percent: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(percent / 100 * (len(ordered) - 1)))]


def summary(samples: list[tuple[float, float]]) -> str:
    walls, cpus = [w for w, _ in samples], [c for _, c in samples]
    return (
        f"p50 {percentile(walls, 50):6.2f} ms   p95 {percentile(walls, 95):6.2f} ms   max {max(walls):6.2f} ms   "
        f"(cpu p50 {percentile(cpus, 50):5.2f}, p95 {percentile(cpus, 95):5.2f})   n={len(samples)}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--krs", type=int, default=5000, help="KRs in the period (default 5000)")
    parser.add_argument("--rounds", type=int, default=3, help="times each eval request is asked (default 3)")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"),
                        help="postgresql://… to run on PostgreSQL (a temporary schema); default SQLite")
    args = parser.parse_args(argv)

    _, requests = load(DATA_DIR)
    questions = [request.text for request in requests] * args.rounds
    member = Actor(team_id=TEAM, user_id=MEMBER, channel_id="C1")
    period = str(current_period(member.now, member.tz))

    with fresh_database(args.database_url) as url:
        db = Database(url)
        objectives, krs, initiatives = fill(db, args.krs, period)
        print(f"{db.backend}: {krs} KRs in {objectives} objectives ({objectives // 10} private), "
              f"{initiatives} linked initiatives; period {period}; {os.cpu_count()} CPUs; Python {sys.version.split()[0]}")

        def ask(actor: Actor, question: str) -> serves.ServesAnswer:
            with db.session_scope() as session:
                return serves.serves(session, actor, question)

        gc.collect()
        cold = timed(lambda: ask(member, "speed up the slow API endpoints"))
        owner = replace(member, user_id=OWNER)
        cold_owner = timed(lambda: ask(owner, "speed up the slow API endpoints"))
        print(f"cold: first question {cold / 1000:.2f} s (reads the evidence, builds the matcher); "
              f"first from an owner of private objectives {cold_owner / 1000:.2f} s (builds the matcher over all KRs)")
        print(f"warm: each of the {len(requests)} eval/serves requests asked {args.rounds}x, one unit of work each")

        runner = CommandRunner(db, Settings(_env_file=None), offline=True)
        rows = [
            ("member, service", [timed_both(lambda q=q: ask(member, q)) for q in questions]),
            ("owner, service", [timed_both(lambda q=q: ask(owner, q)) for q in questions]),
            ("member, /okr serves", [timed_both(lambda q=q: runner.run(f"serves {q}", member)) for q in questions]),
        ]
        for name, values in rows:
            print(f"warm  {name:<20} {summary(values)}")

        after_done = []
        with db.session_scope() as session:
            numbers = session.exec(select(Initiative.number).order_by(Initiative.number).limit(5)).all()
        for number in numbers:
            with db.session_scope() as session:
                initiative = work.find_initiative(session, member, WorkRef(initiative=number))
                work.set_status(session, member, initiative, work.DONE)
            after_done.append(timed(lambda: ask(member, "speed up the slow API endpoints")))
        with db.session_scope() as session:
            builds = serves.matcher_builds(session)
        print(f"after done work (evidence re-read, unchanged): mean {statistics.mean(after_done):.1f} ms; "
              f"matchers built in all: {builds}")
        db.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
