""""Does this serve a KR?" through the service, against 5,000 KRs: index build time and
the latency of one question with a warm cache.

    python -m bench.serves_latency                            # SQLite, 5,000 KRs
    python -m bench.serves_latency --backend postgresql       # the same on PostgreSQL
    python -m bench.serves_latency --org M                    # the shared M organisation instead
    python -m bench.serves_latency --embedding-model DIR      # with OKRBOT_EMBEDDING_MODEL=DIR

By default the database holds exactly `--krs` active KRs in the current quarter: the 37
of eval/serves, then synthetic ones (`eval.serves_eval.synthetic_krs`) with their linked
work, under their objectives, one objective in ten private. With `--org` it is one of
bench/orgs.py's organisations (M: 5,000 KRs, 20,000 initiatives; a few archived). Each
question is one unit of work around `services.serves.serves()`: the OKR revision read,
the private-objective query, the match, the answer. The 289 requests of eval/serves are
each asked `--rounds` times. Reported, wall-clock and CPU:

- cold: the first question (reads the evidence, builds the matcher), for a member and
  then for an owner of a private objective (who gets the matcher over all KRs);
- warm, per question: a member (sees no private objective), that owner (hidden KRs
  filtered out), and the member through the whole `/okr serves` command (parse, service,
  Block Kit);
- index: the memory one matcher over the period's evidence holds (tracemalloc, after
  a collection) and its build time, measured apart from the questions;
- after done work: the OKR revision does not move (done work changes no word the
  matcher reads), so the evidence is not read again and nothing is rebuilt.

With --embedding-model the service is asked with that sentence-embedding model (the
option OKRBOT_EMBEDDING_MODEL; domain/semantic_matching.py): the index then also holds a
vector per KR and per linked work title, and each question embeds the request. The model's
weights are memory-mapped (shared between processes through the page cache), so tracemalloc
does not count them: the process's resident memory is reported beside it.

Writes bench/results/serves_latency_<backend>[_embedding].json. A measurement, not a test.
"""

from __future__ import annotations

import argparse
import gc
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from bench import orgs
from bench.common import ROOT, TEAM, current_period, load_average, percentile, stamp, table, write_result

from sqlalchemy import func
from sqlmodel import col, select

from okrbot.config import Settings
from okrbot.domain.commands import Kind, WorkRef
from eval.serves_eval import load, synthetic_krs
from okrbot.domain.matching import Matcher
from okrbot.domain.semantic_matching import SemanticMatcher
from okrbot.services import serves, work
from okrbot.services.embedding_model import encoder_for
from okrbot.services.context import Actor
from okrbot.adapters.slack.commands.runner import CommandRunner
from okrbot.store.db import Database
from okrbot.store.migrate import upgrade_to_head
from okrbot.store.models import Initiative, KeyResult, KrLink, Objective
from okrbot.store.types import utcnow
from okrbot.store.workspaces import ensure_workspace, reserve_numbers

EVAL = ROOT / "eval" / "serves"
MEMBER = "UMEMBER"  # owns nothing: sees no private objective
OWNER = "UOWNER"  # owns the private objectives of the synthetic organisation


def synthetic_database(backend: str, size: int, period: str) -> str:
    """A fresh database with `size` active KRs of `period` and their linked work."""
    if backend == "postgresql":
        url = orgs.fresh_schema("", "serves")
    else:
        path = orgs.DATA / "serves.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    upgrade_to_head(url)
    real, _ = load(EVAL)
    evidence = synthetic_krs(real, size)
    now = utcnow()
    db = Database(url)
    with db.session_scope() as session:
        ensure_workspace(session, TEAM)
        objectives: dict[str, Objective] = {}
        for kr in evidence:
            if kr.objective not in objectives:
                number = len(objectives) + 1
                private = number % 10 == 0
                objectives[kr.objective] = Objective(
                    team_id=TEAM, number=number, title=kr.objective, owner=OWNER if private else f"U{number}",
                    period=period, private=private, created_at=now, updated_at=now,
                )
        session.add_all(objectives.values())
        session.flush()
        rows = []
        for number, kr in enumerate(evidence, start=1):
            objective = objectives[kr.objective]
            rows.append(KeyResult(team_id=TEAM, number=number, objective_id=objective.id, title=kr.title,
                                  owner=objective.owner, metric="milestone", direction="increase",
                                  created_at=now, updated_at=now))
        session.add_all(rows)
        linked = [(row, title) for row, kr in zip(rows, evidence) for title in kr.initiatives]
        initiatives = [
            Initiative(team_id=TEAM, number=number, title=title, owner=row.owner, created_at=now, updated_at=now)
            for number, (row, title) in enumerate(linked, start=1)
        ]
        session.add_all(initiatives)
        session.flush()
        session.add_all(
            KrLink(team_id=TEAM, initiative_id=initiative.id, kr_id=row.id, created_at=now)
            for (row, _), initiative in zip(linked, initiatives)
        )
        for kind, used in ((Kind.OBJECTIVE, len(objectives)), (Kind.KR, len(rows)), (Kind.INITIATIVE, len(initiatives))):
            reserve_numbers(session, TEAM, kind, used)
    db.dispose()
    return url


def describe(db: Database, period: str) -> tuple[dict[str, int], str]:
    """What the period holds, and the owner of its first private objective."""
    with db.session_scope() as session:
        in_period = (Objective.team_id == TEAM, Objective.period == period, Objective.status == "active")
        krs = session.exec(select(func.count(KeyResult.id)).join(Objective, Objective.id == KeyResult.objective_id)
                           .where(*in_period, KeyResult.status == "active")).one()
        private = session.exec(select(Objective.owner).where(*in_period, col(Objective.private).is_(True))
                               .order_by(Objective.number)).all()
        objectives = session.exec(select(func.count(Objective.id)).where(*in_period)).one()
        initiatives = session.exec(select(func.count(Initiative.id)).where(Initiative.team_id == TEAM)).one()
    counts = {"active_krs": krs, "objectives": objectives, "private_objectives": len(private), "initiatives": initiatives}
    return counts, private[0]


def timed(call: Callable[[], object]) -> tuple[float, float]:
    """Wall-clock and CPU milliseconds (CPU is steadier on a busy machine; SQLite runs in-process)."""
    wall, cpu = time.perf_counter(), time.process_time()
    call()
    return (time.perf_counter() - wall) * 1000.0, (time.process_time() - cpu) * 1000.0


def figures(samples: list[tuple[float, float]]) -> dict[str, float]:
    walls, cpus = [w for w, _ in samples], [c for _, c in samples]
    return {
        "n": len(samples),
        "p50_ms": round(percentile(walls, 50), 2),
        "p95_ms": round(percentile(walls, 95), 2),
        "max_ms": round(max(walls), 2),
        "cpu_p50_ms": round(percentile(cpus, 50), 2),
        "cpu_p95_ms": round(percentile(cpus, 95), 2),
    }


def resident_mib() -> float:
    """This process's resident memory (Linux), memory-mapped model weights included."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def index_size(db: Database, period: str, encoder=None) -> dict[str, float]:
    """Build time and held memory of one matcher over the period's evidence (all KRs); with a
    model, the semantic matcher (every KR and linked work title embedded from scratch)."""
    with db.session_scope() as session:
        evidence, _ = serves._load_evidence(session, TEAM, period)

    model = getattr(encoder, "model", encoder)  # the model itself, not the vector cache in front of it

    def build(using=model):
        lexical = Matcher(evidence)
        return lexical if using is None else SemanticMatcher(lexical, using)

    gc.collect()
    started, cpu = time.perf_counter(), time.process_time()
    first = build()
    build_s, build_cpu_s = time.perf_counter() - started, time.process_time() - cpu
    figures = {"krs": len(evidence), "build_s": round(build_s, 3), "build_cpu_s": round(build_cpu_s, 3)}
    if encoder is not None:
        texts = first.vectors.texts
        figures |= {"texts_embedded": texts.embedded, "vectors_mib": round(texts.matrix.nbytes / 2**20, 1),
                    "embedded_per_s": round(texts.embedded / build_s, 1)}
        if encoder is not model:  # every text is on disk by now: what a restarted process pays
            started, cpu = time.perf_counter(), time.process_time()
            build(encoder)
            figures |= {"build_from_vector_cache_s": round(time.perf_counter() - started, 3),
                        "build_from_vector_cache_cpu_s": round(time.process_time() - cpu, 3)}
    # After one new link: the matcher rebuilt from this one (what services/serves.py does).
    changed = list(evidence)
    kr = changed[len(changed) // 2]
    changed[len(changed) // 2] = replace(kr, initiatives=(*kr.initiatives, "Make the onboarding emails friendlier"))
    rebuilds = []
    for _ in range(5):
        cpu = time.process_time()
        lexical = Matcher(changed, previous=first if encoder is None else first.lexical)
        if encoder is not None:
            SemanticMatcher(lexical, encoder, previous=first)
        rebuilds.append(time.process_time() - cpu)
    figures["rebuild_after_a_link_cpu_s"] = round(percentile(rebuilds, 50), 3)
    del first
    gc.collect()
    tracemalloc.start()
    matcher = build()
    gc.collect()
    held, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del matcher
    return figures | {"held_mib": round(held / 2**20, 1), "peak_mib": round(peak / 2**20, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--krs", type=int, default=5000, help="active KRs in the synthetic organisation (default 5000)")
    parser.add_argument("--org", choices=sorted(orgs.OBJECTIVES), help="use a bench/orgs.py organisation instead")
    parser.add_argument("--rounds", type=int, default=3, help="times each eval/serves request is asked (default 3)")
    parser.add_argument("--embedding-model", default="", help="a sentence-transformers model folder (OKRBOT_EMBEDDING_MODEL)")
    parser.add_argument("--cache-dir", default="", help="OKRBOT_CACHE_DIR (default: a new empty one, so the model reads "
                        "every text; give the same one twice to measure a restart with the vectors on disk)")
    args = parser.parse_args()
    cache_dir = args.cache_dir or tempfile.mkdtemp(prefix="okrbot-bench-cache-")
    settings = Settings(_env_file=None, OKRBOT_EMBEDDING_MODEL=args.embedding_model, OKRBOT_CACHE_DIR=cache_dir)
    resident_before_model = resident_mib()
    encoder = encoder_for(settings)
    resident_with_model = resident_mib()

    result = stamp()
    period = current_period()
    if args.org:
        url = orgs.load(args.org, args.backend).url
    else:
        url = synthetic_database(args.backend, args.krs, period)
    db = Database(url)
    counts, owner_id = describe(db, period)
    _, requests = load(EVAL)
    questions = [request.text for request in requests] * args.rounds
    member = Actor(team_id=TEAM, user_id=MEMBER, channel_id="DMEMBER")
    owner = replace(member, user_id=owner_id, channel_id="DOWNER")
    print(f"{args.backend}, {args.org or 'synthetic'} organisation, period {period}: {counts}")

    def ask(actor: Actor, question: str) -> None:
        with db.session_scope() as session:
            serves.serves(session, actor, question, encoder=encoder)

    gc.collect()
    started = time.perf_counter()
    cold_member = timed(lambda: ask(member, "speed up the slow API endpoints"))
    cold_owner = timed(lambda: ask(owner, "speed up the slow API endpoints"))
    # With a model that has not read this workspace, those were answered by words while a
    # background thread embeds it: wait for it, so the questions below are the model's.
    embedded_after_s, in_background = None, False
    if encoder is not None:
        for cache in list(serves._caches.values()):
            if cache.embedding is not None:
                in_background = True
                cache.embedding.join()
        embedded_after_s = round(time.perf_counter() - started, 2)
    resident_after_build = resident_mib()
    runner = CommandRunner(db, settings, offline=True)
    warm = {
        "member, service": figures([timed(lambda q=q: ask(member, q)) for q in questions]),
        "owner of a private objective, service": figures([timed(lambda q=q: ask(owner, q)) for q in questions]),
        "member, /okr serves command": figures([timed(lambda q=q: runner.run(f"serves {q}", member)) for q in questions]),
    }

    with db.session_scope() as session:
        numbers = session.exec(select(Initiative.number).where(Initiative.team_id == TEAM)
                               .order_by(Initiative.number).limit(5)).all()
    after_done = []
    for number in numbers:
        actor = replace(member, now=utcnow(), is_admin=True)
        with db.session_scope() as session:
            initiative = work.find_initiative(session, actor, WorkRef(initiative=number))
            work.set_status(session, actor, initiative, work.NOT_STARTED if initiative.status == work.DONE else work.DONE)
        after_done.append(timed(lambda: ask(member, "speed up the slow API endpoints")))
    with db.session_scope() as session:
        builds = serves.matcher_builds(session)
    index = index_size(db, period, encoder)
    db.dispose()

    print(f"cold: first question {cold_member[0] / 1000:.2f} s (reads the evidence, builds the matcher); "
          f"an owner's first {cold_owner[0] / 1000:.2f} s (the matcher over all KRs)")
    print(table(
        [(name, f["n"], f["p50_ms"], f["p95_ms"], f["max_ms"], f["cpu_p50_ms"], f["cpu_p95_ms"]) for name, f in warm.items()],
        ("warm cache, one question", "n", "p50 ms", "p95 ms", "max ms", "cpu p50", "cpu p95"),
    ))
    print(f"index: {index['krs']} KRs, built in {index['build_s']} s (CPU {index['build_cpu_s']} s), holds {index['held_mib']} MiB "
          f"(peak {index['peak_mib']} MiB while building); rebuilt from it after one new link in "
          f"{index['rebuild_after_a_link_cpu_s']} s CPU")
    if encoder is not None:
        how = "in the background, answered meanwhile by words" if in_background else "while asked: the vectors were on disk"
        print(f"the model had read the workspace {embedded_after_s} s after the first question ({how}); "
              f"vector cache {cache_dir}; a matcher built with every vector on disk: "
              f"{index.get('build_from_vector_cache_s')} s (CPU {index.get('build_from_vector_cache_cpu_s')} s)")
        print(f"embedding model {args.embedding_model}: {index['texts_embedded']} texts embedded ({index['embedded_per_s']}/s), "
              f"vectors {index['vectors_mib']} MiB; resident memory {resident_before_model} MiB before the model, "
              f"{resident_with_model} MiB with it loaded, {resident_after_build} MiB after both scopes' first questions")
    done = figures(after_done)
    print(f"after done work (the OKR revision stays, nothing is re-read): p50 {done['p50_ms']} ms; "
          f"matchers built in all: {builds}")
    result.update({
        "backend": args.backend,
        "organisation": args.org or f"synthetic, {args.krs} KRs",
        "period": period,
        "counts": counts,
        "rounds": args.rounds,
        "cold_first_question_s": round(cold_member[0] / 1000, 2),
        "cold_first_question_cpu_s": round(cold_member[1] / 1000, 2),
        "cold_owner_first_question_s": round(cold_owner[0] / 1000, 2),
        "warm": warm,
        "after_done_work": done,
        "matchers_built": builds,
        "index": index,
        "embedding_model": args.embedding_model or None,
        "embedded_after_s": embedded_after_s,
        "embedded_in_background": in_background,
        "cache_dir_given": bool(args.cache_dir),
        "resident_mib": {"before_model": resident_before_model, "with_model": resident_with_model,
                         "after_first_questions": resident_after_build},
        "load_average_at_end": load_average(),
    })
    suffix = (f"_{args.org.lower()}" if args.org else "") + ("_embedding" if encoder is not None else "")
    print(f"wrote {write_result(f'serves_latency_{args.backend}{suffix}', result).relative_to(ROOT)}")


if __name__ == "__main__":
    main()
