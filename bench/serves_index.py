""""Does this serve a KR?" at the L organisation: what the index of one workspace-period
costs to build and to hold, a question's latency, and the first answer after a change. Times are CPU time of this process (SQLite runs in it; on
PostgreSQL the database's own time is left out), with the wall-clock beside them.

    python -m bench.serves_index                          # L on SQLite (bench/orgs.py)
    python -m bench.serves_index --backend postgresql     # L on PostgreSQL
    python -m bench.serves_index --org M

Everything goes through `services.serves` in this one process, as in a worker:

- cold: a member's first question (reads the period's evidence, builds the matcher;
  before branch `index`, one without the private KRs), then an owner of a private
  objective's first (the matcher over all KRs; before, a second matcher);
- memory: the same two first questions again on an emptied cache under tracemalloc:
  what the cache then holds (evidence, both scopes, after a collection) and the peak;
- warm: each eval/serves request asked once by the member and once by the owner;
- after a change: a request linked to a KR (the answer's Link button), then "Not this
  one" on another, a new KR, a KR's title edited, an objective made private; the next
  question after each reads the OKR revision's journal (`serves_change`), re-reads only
  the KRs it names and rebuilds the matcher from the one before. Reading the whole
  period's evidence is timed apart (`read_evidence_s`), and so is reading the journal
  and the changed KRs (`read_changed_ms`, after the answer: the pages are warm).

- shared through a snapshot (`shared`, OKRBOT_CACHE_DIR; services/serves.py): this process
  builds from nothing and writes the snapshot (its write timed apart, its size on disk),
  then other processes (`--child`, started one after the other and kept alive together)
  answer their first question from it: CPU and wall-clock, matchers built, and the memory
  of two of them holding the same snapshot (RSS and PSS from /proc: PSS counts a shared page
  once between the processes sharing it), beside a process that built its own; then, after
  a Link made here, a new process's first answer (the snapshot plus the journal).

- the matcher alone, on the same evidence: its build, the memory it holds (one scope,
  then both), a question at limit 3 and at an owner's retry past the hidden KRs (limit 3 +
  the private KRs), and a question at 5,000 synthetic KRs. `--matcher-only` runs just this;
  with PYTHONPATH at an older checkout's src it measures that version (no `without`: the
  second scope is a second matcher; no `previous=` either: built from scratch).

Runs on a scratch copy (SQLite) so the organisation is left as it was. Writes
bench/results/serves_index_<org>_<backend>.json. A measurement, not a test.
"""

from __future__ import annotations

import argparse
import gc
import inspect
import json
import os
import shutil
import subprocess
import sys
import time
import tracemalloc
from dataclasses import replace
from pathlib import Path

from bench import orgs
from bench.common import ROOT, TEAM, current_period, load_average, percentile, stamp, table, write_result
from bench.serves_latency import EVAL, MEMBER, describe

from eval.serves_eval import load, synthetic_krs
from okrbot.domain.matching import Matcher
from okrbot.domain.commands import Direction, Metric
from okrbot.services import okrs, serves
from okrbot.services.context import Actor
from okrbot.store.db import Database
from okrbot.store.models import KeyResult, Objective
from okrbot.store.snapshots import Snapshots
from okrbot.store.types import utcnow

QUESTION = "speed up the slow API endpoints"


def seconds(call) -> float:
    """CPU seconds of this process: steadier than wall-clock on the shared, loaded machine,
    and (SQLite runs in-process) all of the work. Wall-clock is in `walls`."""
    started, wall = time.process_time(), time.perf_counter()
    call()
    walls.append(time.perf_counter() - wall)
    return time.process_time() - started


walls: list[float] = []


def cpu_ms(matcher, questions: list[str], limit: int) -> dict[str, float]:
    samples = [seconds(lambda q=q: matcher.match(q, limit=limit)) * 1000 for q in questions]
    return {"n": len(samples), "p50_ms": round(percentile(samples, 50), 2), "p95_ms": round(percentile(samples, 95), 2)}


def matcher_alone(evidence, private: set[str]) -> dict:
    """The matcher without the service: build, held memory, question CPU."""
    real, requests = load(EVAL)
    questions = [r.text for r in requests]
    figures = {"at_5000_krs": cpu_ms(Matcher(synthetic_krs(real, 5000)), questions, 3)}
    gc.collect()
    figures["build_cpu_s"] = round(seconds(lambda: Matcher(evidence)), 2)
    gc.collect()
    tracemalloc.start()
    matcher = Matcher(evidence)
    gc.collect()
    held, peak = tracemalloc.get_traced_memory()
    public = tuple(kr for kr in evidence if kr.kr_id not in private)
    reuses = "previous" in inspect.signature(Matcher).parameters
    started = time.process_time()
    if hasattr(Matcher, "without"):  # one index, the private KRs masked out of it
        other = matcher.without([p for p, kr in enumerate(evidence) if kr.kr_id in private])
    else:
        other = Matcher(public, previous=matcher) if reuses else Matcher(public)
    other_s = time.process_time() - started
    gc.collect()
    both = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del other
    figures.update({
        "held_mib": round(held / 2**20, 1), "peak_mib": round(peak / 2**20, 1), "both_scopes_held_mib": round(both / 2**20, 1),
        "other_scope_cpu_s": round(other_s, 2), "at_limit_3": cpu_ms(matcher, questions, 3),
        f"at_limit_{3 + len(private)}": cpu_ms(matcher, questions[:60], 3 + len(private)),
    })
    print(f"matcher alone: built in {figures['build_cpu_s']} s CPU, holds {figures['held_mib']} MiB "
          f"(peak {figures['peak_mib']}), both scopes {figures['both_scopes_held_mib']} MiB, the other scope "
          f"built in {figures['other_scope_cpu_s']} s; a question (CPU ms) {figures['at_limit_3']}, "
          f"past {len(private)} hidden KRs {figures[f'at_limit_{3 + len(private)}']}, at 5,000 KRs {figures['at_5000_krs']}",
          flush=True)
    return figures


def memory_now() -> dict[str, float]:
    """This process's resident memory and its proportional share (MiB), from /proc (Linux)."""
    figures = {}
    for line in Path("/proc/self/smaps_rollup").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("Rss", "Pss", "Shared_Clean", "Private_Clean", "Private_Dirty"):
            figures[name.lower() + "_mib"] = round(int(value.split()[0]) / 1024, 1)
    return figures


def child(url: str, cache: str) -> None:
    """A second process: its first question (with the snapshots in `cache`, or none when ""),
    then, when told on stdin, its memory while the others are still alive."""
    db = Database(url)
    snapshots = Snapshots(Path(cache), "serves") if cache else None
    member = Actor(team_id=TEAM, user_id=MEMBER, channel_id="DMEMBER")

    def ask() -> None:
        with db.session_scope() as session:
            serves.serves(session, member, QUESTION, snapshots=snapshots)

    cpu = seconds(ask)
    next_ms = seconds(ask) * 1000
    with db.session_scope() as session:
        built, restored = serves.matcher_builds(session), serves.snapshots_restored(session)
    print(json.dumps({"first_answer_s": round(cpu, 3), "first_answer_wall_s": round(walls[0], 3),
                      "next_answer_ms": round(next_ms, 2), "matchers_built": built, "restored": restored}), flush=True)
    sys.stdin.readline()
    gc.collect()
    print(json.dumps(memory_now()), flush=True)


def start_child(url: str, cache: Path | None) -> tuple[subprocess.Popen, dict]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    process = subprocess.Popen([sys.executable, "-m", "bench.serves_index", "--child", url, str(cache or "")],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    assert process.stdout is not None
    return process, json.loads(process.stdout.readline())


def memory_of(processes: list[subprocess.Popen]) -> list[dict]:
    """Each (still alive) process's memory, read while all of them are alive, then they end."""
    for process in processes:
        assert process.stdin is not None
        process.stdin.write("\n")
        process.stdin.flush()
    found = []
    for process in processes:
        assert process.stdout is not None
        found.append(json.loads(process.stdout.readline()))
        process.wait(timeout=60)
    return found


def shared_index(db: Database, url: str, period: str, ask_with, change) -> dict:
    """The index shared through a snapshot: written by this process, read by the next ones."""
    cache = orgs.DATA / f"serves_index_cache_{db.backend}"
    shutil.rmtree(cache, ignore_errors=True)  # a snapshot of an earlier run is not measured
    snapshots = Snapshots(cache, "serves")
    serves._caches.clear()
    gc.collect()
    built_s = seconds(lambda: ask_with(snapshots))
    built_wall = walls[-1]
    with db.session_scope() as session:
        index = serves._cache_for(session).indexes[(TEAM, period)]
        folder = snapshots.folder(session.get_bind().url, serves._code_key(), (TEAM, period))
        write_s = seconds(lambda: serves._write_snapshot(session, snapshots, folder, TEAM, index))
    write_wall = walls[-1]
    (path,) = folder.glob("*.snap")
    size_mib = round(path.stat().st_size / 2**20, 1)
    print(f"shared: built and wrote in {built_s:.2f} s CPU ({built_wall:.2f} s wall); the write alone "
          f"{write_s:.2f} s CPU ({write_wall:.2f} s wall), {size_mib} MiB on disk", flush=True)
    serves._caches.clear()

    first, first_says = start_child(url, cache)
    second, second_says = start_child(url, cache)
    alone, alone_says = start_child(url, None)  # builds its own, as every process did before
    memory = memory_of([first, second, alone])
    print(f"shared: a second process's first answer {first_says['first_answer_s']:.2f} s CPU "
          f"({first_says['first_answer_wall_s']:.2f} s wall), a third's {second_says['first_answer_s']:.2f} s "
          f"({second_says['first_answer_wall_s']:.2f} s), one without the snapshot {alone_says['first_answer_s']:.2f} s "
          f"({alone_says['first_answer_wall_s']:.2f} s); memory {memory}", flush=True)

    with db.session_scope() as session:
        change(session)
    after, after_says = start_child(url, cache)
    memory_of([after])
    print(f"shared: after a Link, a new process's first answer {after_says['first_answer_s']:.2f} s CPU "
          f"({after_says['first_answer_wall_s']:.2f} s wall), {after_says['matchers_built']} matcher rebuilt "
          f"from the snapshot's", flush=True)
    return {
        "build_and_write_s": round(built_s, 2), "build_and_write_wall_s": round(built_wall, 2),
        "write_s": round(write_s, 3), "write_wall_s": round(write_wall, 3), "snapshot_mib": size_mib,
        "second_process": first_says, "third_process": second_says, "process_without_snapshot": alone_says,
        "memory_while_all_three_alive": {"second": memory[0], "third": memory[1], "without_snapshot": memory[2]},
        "after_a_link_new_process": after_says, "load_average": load_average(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--org", choices=sorted(orgs.OBJECTIVES), default="L")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--matcher-only", action="store_true", help="only the matcher on the period's evidence")
    parser.add_argument("--shared-only", action="store_true", help="only the index shared through a snapshot")
    parser.add_argument("--child", nargs=2, metavar=("URL", "CACHE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    result = stamp()
    period = current_period()
    org = orgs.load(args.org, args.backend)
    # The matcher alone only reads; the service run changes the database, so on a copy.
    copy = org.backend == "sqlite" and not args.matcher_only
    url = orgs.scratch_copy(org, f"serves_index_{args.org.lower()}") if copy else org.url
    db = Database(url)
    counts, owner_id = describe(db, period)
    print(f"{args.backend}, {args.org}: {counts}", flush=True)
    member = Actor(team_id=TEAM, user_id=MEMBER, channel_id="DMEMBER")
    owner = replace(member, user_id=owner_id, channel_id="DOWNER")
    admin = replace(member, user_id=owner_id, is_admin=True)

    def ask(actor: Actor, question: str = QUESTION) -> None:
        with db.session_scope() as session:
            serves.serves(session, actor, question)

    def read_evidence() -> None:
        with db.session_scope() as session:
            serves._load_evidence(session, TEAM, period)

    if args.matcher_only:
        with db.session_scope() as session:
            evidence, krs = serves._load_evidence(session, TEAM, period)
        alone = matcher_alone(evidence, {ident for ident, info in krs.items() if info.private})
        result.update({"backend": args.backend, "organisation": args.org, "counts": counts, "matcher": alone,
                       "load_average_at_end": load_average()})
        name = f"serves_index_matcher_{args.org.lower()}_{args.backend}"
        print(f"wrote {write_result(name, result).relative_to(ROOT)}")
        return

    def ask_with(snapshots: Snapshots) -> None:
        with db.session_scope() as session:
            serves.serves(session, member, QUESTION, snapshots=snapshots)

    def link(session) -> None:
        serves.link_request(session, replace(admin, now=utcnow()), numbers[31], "Cache the report API responses")

    with db.session_scope() as session:
        numbers = [info.number for info in serves._load_evidence(session, TEAM, period)[1].values()]
    if args.shared_only:
        result.update({"backend": args.backend, "organisation": args.org, "period": period, "counts": counts,
                       "shared": shared_index(db, url, period, ask_with, link), "load_average_at_end": load_average()})
        db.dispose()
        name = f"serves_index_shared_{args.org.lower()}_{args.backend}"
        print(f"wrote {write_result(name, result).relative_to(ROOT)}")
        return

    evidence_s = seconds(read_evidence)
    gc.collect()
    cold_member_s = seconds(lambda: ask(member))
    cold_owner_s = seconds(lambda: ask(owner))
    cold_walls = [round(w, 2) for w in walls[-3:]]
    print(f"cold, CPU: reading the evidence {evidence_s:.2f} s; a member's first question {cold_member_s:.2f} s; "
          f"an owner's first {cold_owner_s:.2f} s (wall-clock {cold_walls} s)", flush=True)

    _, requests = load(EVAL)
    warm = {}
    for name, actor in (("member", member), ("owner of a private objective", owner)):
        samples = [seconds(lambda q=r.text: ask(actor, q)) * 1000 for r in requests]
        warm[name] = {"n": len(samples), "p50_ms": round(percentile(samples, 50), 2),
                      "p95_ms": round(percentile(samples, 95), 2), "max_ms": round(max(samples), 2)}
    print(table([(n, f["n"], f["p50_ms"], f["p95_ms"], f["max_ms"]) for n, f in warm.items()],
                ("warm, one question", "n", "p50 ms", "p95 ms", "max ms")), flush=True)

    with db.session_scope() as session:
        infos = list(serves._load_evidence(session, TEAM, period)[1].values())
    objective = next(info.objective_number for info in infos if not info.private)
    other_objective = next(info.objective_pk for info in reversed(infos) if not info.private)
    edited_kr = infos[23].pk

    def edit_kr(session) -> None:
        session.get(KeyResult, edited_kr).title = "Serve the slow API endpoints from a read cache"

    def make_private(session) -> None:
        session.get(Objective, other_objective).private = True

    def read_changed(since: int) -> None:
        with db.session_scope() as session:
            changed = serves._changed_krs(session, TEAM, since, serves._revision(session, TEAM))
            assert changed is not None, "the journal could not say: a full read"
            serves._load_evidence(session, TEAM, period, only=changed)

    changes = {}
    for name, change in (
        ("after a Link", lambda s: serves.link_request(s, replace(admin, now=utcnow()), numbers[7], "Cut the API p95 with a read cache")),
        ('after "Not this one"', lambda s: serves.reject(s, replace(admin, now=utcnow()), numbers[11], QUESTION)),
        ("after a new KR", lambda s: okrs.create_kr(s, replace(admin, now=utcnow()), okrs.NewKr(
            objective, "Serve the API from a read cache", Metric.MILESTONE, Direction.INCREASE, owner_id))),
        ("after a KR edit", edit_kr),
        ("after an objective made private", make_private),
    ):
        with db.session_scope() as session:
            since = serves._revision(session, TEAM)
            change(session)
        first = seconds(lambda: ask(member))
        second = seconds(lambda: ask(member))
        first_wall = walls[-2]
        read = seconds(lambda: read_changed(since))
        changes[name] = {"first_answer_s": round(first, 3), "first_answer_wall_s": round(first_wall, 3),
                         "next_answer_ms": round(second * 1000, 2), "read_changed_ms": round(read * 1000, 1)}
        print(f"{name}: first answer {first:.2f} s CPU, {first_wall:.2f} s wall (reads the journal and the changed KRs "
              f"({read * 1000:.0f} ms), rebuilds the matcher); the next {second * 1000:.1f} ms", flush=True)

    serves._caches.clear()
    gc.collect()
    tracemalloc.start()
    ask(member)
    ask(owner)
    gc.collect()
    held, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    with db.session_scope() as session:
        builds = serves.matcher_builds(session)
    memory = {"held_mib": round(held / 2**20, 1), "peak_mib": round(peak / 2**20, 1)}
    print(f"memory: the cache holds {memory['held_mib']} MiB for this workspace-period (evidence and both "
          f"scopes), peak {memory['peak_mib']} MiB while building", flush=True)
    shared = shared_index(db, url, period, ask_with, link)
    db.dispose()
    result.update({
        "backend": args.backend, "organisation": args.org, "period": period, "counts": counts,
        "read_evidence_s": round(evidence_s, 2), "cold_member_first_question_s": round(cold_member_s, 2),
        "cold_owner_first_question_s": round(cold_owner_s, 2), "cold_wall_s": cold_walls, "warm": warm, "after_change": changes,
        "memory": memory, "matchers_built_in_memory_pass": builds, "shared": shared,
        "load_average_at_end": load_average(),
    })
    name = f"serves_index_{args.org.lower()}_{args.backend}"
    print(f"wrote {write_result(name, result).relative_to(ROOT)}")


if __name__ == "__main__":
    main()
