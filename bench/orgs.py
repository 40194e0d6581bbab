"""Organisations to measure against, loaded once and reused.

    S   50 objectives (250 KRs, 1,000 initiatives, 5,000 check-ins)
    M   1,000 objectives, 5,000 KRs, 20,000 initiatives, 100,000 check-ins
    L   10 x M (10,000 objectives, 50,000 KRs, 200,000 initiatives, 1,000,000 check-ins)
    F   fan-out: 1,000 objectives whose 5,000 KRs each have their own owner (5,000 review DMs)

Made by bench.sample_org.generate_document (deterministic) and imported with
services.interchange.import_document, in the current quarter so `/okr status` shows them.
SQLite organisations are files under bench/.data/ (gitignored); PostgreSQL ones are
schemas `bench_<size>` in the database okrbot_bench (created if missing) at
OKRBOT_BENCH_POSTGRES (default postgresql://postgres@127.0.0.1:5432). A JSON marker
beside each says what was loaded; a marker from another quarter or seed is rebuilt.

    python -m bench.orgs S M                # SQLite
    python -m bench.orgs L --backend postgresql
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import quote

from bench.common import ROOT, TEAM, current_period

from sqlalchemy import create_engine, func, text
from sqlalchemy.engine import make_url
from sqlmodel import select

from bench.sample_org import generate_document
from okrbot.services.interchange import import_document, parse_document
from okrbot.store.db import Database
from okrbot.store.migrate import upgrade_to_head
from okrbot.store.models import CheckIn, Initiative, KeyResult, KrLink, Objective

DATA = ROOT / "bench" / ".data"
POSTGRES = os.environ.get("OKRBOT_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
PG_DATABASE = "okrbot_bench"
SEED = 0
OBJECTIVES = {"S": 50, "M": 1000, "L": 10000, "F": 1000}
DEFAULT_BACKEND = {"S": "sqlite", "M": "sqlite", "L": "postgresql", "F": "sqlite"}
FORMAT = 2  # bump when what is loaded changes


@dataclass
class Org:
    size: str
    backend: str
    url: str
    period: str
    counts: dict[str, int]
    load_seconds: float | None = None

    def describe(self) -> str:
        c = self.counts
        return (f"{self.size} on {self.backend}: {c['objectives']:,} objectives, {c['key_results']:,} KRs, "
                f"{c['initiatives']:,} initiatives, {c['checkins']:,} check-ins")


def pg_url(schema: str | None = None, database: str = PG_DATABASE) -> str:
    url = f"{POSTGRES.rstrip('/')}/{database}"
    return url if schema is None else f"{url}?options={quote(f'-csearch_path={schema}')}"


def _ensure_pg_database() -> None:
    admin = create_engine(make_url(pg_url(database="postgres")).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            if connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": PG_DATABASE}).first() is None:
                connection.execute(text(f'CREATE DATABASE "{PG_DATABASE}"'))
    finally:
        admin.dispose()


def _pg_engine():
    return create_engine(make_url(pg_url()).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")


def location(size: str, backend: str, *, variant: str = "") -> tuple[str, Path]:
    """(database URL, marker path) of a size on a backend."""
    name = f"{size.lower()}{variant}"
    if backend == "sqlite":
        return f"sqlite:///{DATA / f'{name}.db'}", DATA / f"{name}.sqlite.json"
    return pg_url(f"bench_{name}"), DATA / f"{name}.postgresql.json"


def document_for(size: str, period: str) -> dict:
    if size == "F":
        return fanout_document(period)
    return generate_document(OBJECTIVES[size], seed=SEED, period=period)


def fanout_document(period: str, owners: int = 5000) -> dict:
    """Every KR active and owned by someone else: one review DM per KR. Few check-ins and
    initiatives, since only the nudges matter here."""
    document = generate_document(owners // 5, seed=SEED, period=period, checkins_per_kr=2, initiatives_per_kr=1)
    number = 0
    for objective in document["objectives"]:
        objective["status"] = "active"
        for kr in objective["key_results"]:
            kr["status"] = "active"
            number += 1
            kr["owner"] = f"U9{number:08d}"
            for checkin in kr["checkins"]:
                checkin["by"] = kr["owner"]
    return document


def _marker(size: str, period: str) -> dict:
    return {"format": FORMAT, "size": size, "seed": SEED, "period": period, "team": TEAM}


def counts(url: str) -> dict[str, int]:
    db = Database(url)
    try:
        with db.session_scope() as session:
            return {
                name: session.exec(select(func.count()).select_from(model)).one()
                for name, model in (
                    ("objectives", Objective), ("key_results", KeyResult), ("initiatives", Initiative),
                    ("links", KrLink), ("checkins", CheckIn),
                )
            }
    finally:
        db.dispose()


def load(size: str, backend: str | None = None, *, rebuild: bool = False, quiet: bool = False) -> Org:
    """The organisation of `size`, loading it first if it is not there yet (or is stale)."""
    size = size.upper()
    backend = backend or DEFAULT_BACKEND[size]
    period = current_period()
    url, marker_path = location(size, backend)
    wanted = _marker(size, period)
    if not rebuild and marker_path.exists():
        marker = json.loads(marker_path.read_text())
        if {k: marker.get(k) for k in wanted} == wanted and _exists(url, backend):
            upgrade_to_head(url)  # a newer migration (e.g. an index) applies to the cached data too
            return Org(size, backend, url, period, marker["counts"], marker.get("load_seconds"))
    say = (lambda *a: None) if quiet else (lambda *a: print(*a, file=sys.stderr, flush=True))
    say(f"loading {size} into {backend} (once; cached in {marker_path.relative_to(ROOT)})…")
    started = time.monotonic()
    _reset(url, backend)
    upgrade_to_head(url)
    document = document_for(size, period)
    say(f"  generated in {time.monotonic() - started:.1f} s")
    parsed = parse_document(json.dumps(document))
    del document
    db = Database(url)
    try:
        with db.session_scope() as session:
            import_document(session, TEAM, parsed)
    finally:
        db.dispose()
    del parsed
    if backend == "postgresql":
        with _pg_engine().connect() as connection:
            connection.execute(text(f'ANALYZE'))  # fresh statistics, as autovacuum would give a live database
    elapsed = time.monotonic() - started
    found = counts(url)
    say(f"  loaded in {elapsed:.1f} s: {found}")
    marker_path.parent.mkdir(parents=True, exist_ok=True)
    marker_path.write_text(json.dumps({**wanted, "counts": found, "load_seconds": round(elapsed, 1)}, indent=2) + "\n")
    return Org(size, backend, url, period, found, round(elapsed, 1))


def _exists(url: str, backend: str) -> bool:
    if backend == "sqlite":
        return Path(make_url(url).database).exists()
    _ensure_pg_database()
    schema = _schema(url)
    with _pg_engine().connect() as connection:
        return connection.execute(text("SELECT 1 FROM information_schema.schemata WHERE schema_name = :s"), {"s": schema}).first() is not None


def _schema(url: str) -> str:
    options = make_url(url).query.get("options", "")
    return options.split("search_path=", 1)[1]


def _reset(url: str, backend: str) -> None:
    if backend == "sqlite":
        path = Path(make_url(url).database)
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    _ensure_pg_database()
    schema = _schema(url)
    with _pg_engine().connect() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))


def scratch_copy(org: Org, name: str) -> str:
    """A throwaway copy of an organisation to change freely (SQLite: a file copy)."""
    if org.backend != "sqlite":
        raise ValueError("scratch copies are SQLite files; load a PostgreSQL organisation into its own schema instead")
    source = Path(make_url(org.url).database)
    target = DATA / f"{name}.db"
    for suffix in ("-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(source, target)
    return f"sqlite:///{target}"


def fresh_schema(size: str, name: str) -> str:
    """An empty PostgreSQL schema `bench_<name>` (for organisations a benchmark changes)."""
    url = pg_url(f"bench_{name}")
    _reset(url, "postgresql")
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sizes", nargs="+", choices=sorted(OBJECTIVES))
    parser.add_argument("--backend", choices=("sqlite", "postgresql"))
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    for size in args.sizes:
        org = load(size, args.backend, rebuild=args.rebuild)
        print(json.dumps(asdict(org)))


if __name__ == "__main__":
    main()
