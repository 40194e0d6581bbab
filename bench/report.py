"""Render bench/results/*.json as the tables between the markers in docs/performance.md.

    python -m bench.report            # rewrites only the generated part of the document
"""

from __future__ import annotations

import json
from pathlib import Path

from bench.common import RESULTS, ROOT

DOC = ROOT / "docs" / "performance.md"
BEGIN, END = "<!-- results:begin (bench/report.py) -->", "<!-- results:end -->"
LATENCY_TARGET_MS = 300
STATUS_RATIO_TARGET = 2.0
FANOUT_TARGET = 1.2


def _load(name: str) -> dict | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _md(rows: list[tuple], header: tuple) -> str:
    def cell(value) -> str:
        if value is None:
            return "–"
        if isinstance(value, float):
            return f"{value:,.1f}"
        if isinstance(value, int):
            return f"{value:,}"
        return str(value)

    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _met(ok: bool | None) -> str:
    return "–" if ok is None else ("**met**" if ok else "**not met**")


def machine_section(results: dict[str, dict]) -> str:
    any_result = next((r for r in results.values() if r), None)
    if any_result is None:
        return "No results yet: run `python -m bench.run_all`."
    m = any_result["machine"]
    lines = [
        f"- CPU: {m['cpu']} — {m['nproc']} cores (`nproc`), {m['memory_gib']} GiB memory; shared with other work, so every figure carries the 1-minute load average it was measured under",
        f"- Python {m['python']}, SQLite {m['sqlite']}, PostgreSQL {m['postgresql']} (default settings: shared_buffers 128 MB), {m['platform']}",
        "- Runs: " + "; ".join(f"`{name}` {r['when']} (load {r['load_average_at_start'][0]})" for name, r in results.items() if r),
    ]
    return "\n".join(lines)


def targets_section(latency: dict | None, queries: dict | None, fanout: dict | None) -> str:
    rows = []
    if latency and "M" in latency["sizes"]:
        ratios = latency["sizes"]["M"]["ratios"]
        for name in ("status_team", "status_all"):
            r = ratios.get(f"{name}@20")
            if r:
                rows.append((f"`/okr status` ({name.removeprefix('status_')}) ack p99 at M, 20 clients, vs bare-ack server", f"≤ {STATUS_RATIO_TARGET:.0f}×", f"{r['ack_p99']:.2f}×", _met(r["ack_p99"] <= STATUS_RATIO_TARGET)))
    if latency and "L" in latency["sizes"]:
        cells = [c for c in latency["sizes"]["L"]["cells"] if c["server"] == "okrbot"]
        for clients in (1, 20):
            here = [c for c in cells if c["clients"] == clients]
            if here:
                worst_ack = max(here, key=lambda c: c["ack_p99_ms"])
                worst = max(here, key=lambda c: c["answer_p99_ms"] or 0)
                rows.append((f"every command's p99 at L, {clients} client{'s' if clients > 1 else ''}: ack (HTTP answer)", f"≤ {LATENCY_TARGET_MS} ms", f"{worst_ack['ack_p99_ms']:.0f} ms ({worst_ack['command']})", _met(worst_ack["ack_p99_ms"] <= LATENCY_TARGET_MS)))
                if clients == 1:
                    rows.append(("every command's p99 at L, 1 client: answer in Slack", f"≤ {LATENCY_TARGET_MS} ms", f"{worst['answer_p99_ms']:.0f} ms ({worst['command']})", _met((worst["answer_p99_ms"] or 0) <= LATENCY_TARGET_MS)))
                else:
                    # 20 requests always in flight: an answer waits for the ones ahead of it, so
                    # this measures answers per second on this machine (see "Capacity" above).
                    slowest = min(here, key=lambda c: c["requests_per_second"])
                    rows.append(("answers at L with 20 requests always in flight (capacity)", "reported", f"p99 up to {worst['answer_p99_ms']:.0f} ms ({worst['command']}); {slowest['requests_per_second']:.0f} answers/s at the slowest ({slowest['command']})", "see Capacity"))
    if queries:
        sizes = list(queries["sizes"])
        growing = []
        for name in next(iter(queries["sizes"].values()))["commands"]:
            counts = [queries["sizes"][s]["commands"][name]["statements"] for s in sizes]
            # Grows: more at the largest size than at any smaller one, or more at every step.
            # (A query that runs only when there is something to look up, such as parent
            # objectives, may come and go between organisations; it is listed below the table.)
            if len(counts) > 1 and (counts[-1] > max(counts[:-1]) or all(b > a for a, b in zip(counts, counts[1:]))):
                growing.append(f"{name} {counts}")
        rows.append((f"statements per command constant from {sizes[0]} to {sizes[-1]}", "no growth", "none grows" if not growing else "; ".join(growing), _met(not growing)))
    if fanout:
        ok = fanout["ratio_to_floor"] is not None and fanout["ratio_to_floor"] <= FANOUT_TARGET and fanout["duplicates"] == 0 and fanout["misses"] == 0
        rows.append((f"fan-out of {fanout['owners']:,} nudges vs rate-limit floor ({fanout['floor_s']:.0f} s)", f"≤ {FANOUT_TARGET}×, 0 duplicates, 0 misses",
                     f"{fanout['ratio_to_floor']}× ({fanout['total_s']} s), {fanout['duplicates']} duplicates, {fanout['misses']} misses", _met(ok)))
    return _md(rows, ("target", "wanted", "measured", "")) if rows else "No results yet."


def latency_section(latency: dict | None) -> str:
    if not latency:
        return "No latency results yet: `python -m bench.latency`."
    parts = []
    for size, found in latency["sizes"].items():
        org = found["organisation"]
        cells = found["cells"]
        bare = {(c["command"], c["clients"]): c for c in cells if c["server"] == "ack-only"}
        rows = []
        for c in cells:
            if c["server"] != "okrbot":
                continue
            b = bare.get((c["command"], c["clients"]))
            ratio = f"{c['ack_p99_ms'] / b['ack_p99_ms']:.1f}×" if b and b["ack_p99_ms"] else None
            rows.append((c["command"], c["clients"], c["requests"], c["ack_p50_ms"], c["ack_p99_ms"], b["ack_p50_ms"] if b else None, b["ack_p99_ms"] if b else None, ratio,
                         c["answer_p50_ms"], c["answer_p99_ms"], c["server_cpu_ms_per_request"], c["errors"], c["load_average"][0]))
        parts.append(f"**{size}** ({org['backend']}: {org['objectives']:,} objectives, {org['key_results']:,} KRs, {org['initiatives']:,} initiatives, {org['checkins']:,} check-ins; "
                     f"asked in {found['asked_in']['channel']})\n\n"
                     + _md(rows, ("command", "clients", "n", "ack p50", "ack p99", "bare p50", "bare p99", "ack p99 ratio", "answer p50", "answer p99", "server CPU ms/req", "errors", "load")))
    return "\n\n".join(parts)


def queries_section(queries: dict | None, label: str) -> str:
    if not queries:
        return f"No {label} results yet."
    sizes = list(queries["sizes"])
    names = list(next(iter(queries["sizes"].values()))["commands"])
    rows = []
    for name in names:
        found = [queries["sizes"][s]["commands"][name] for s in sizes]
        rows.append((name, *[f["statements"] for f in found], *[f["db_ms"] for f in found], found[-1]["slowest"]))
    header = ("command", *[f"statements {s}" for s in sizes], *[f"DB ms {s}" for s in sizes], f"slowest statement at {sizes[-1]}")
    notes = []
    for name in names:
        shapes = [queries["sizes"][s]["commands"][name]["shapes"] for s in sizes]
        keys = sorted(set().union(*shapes))
        differ = [f"`{k}` " + "/".join(str(sh.get(k, 0)) for sh in shapes) for k in keys if len({sh.get(k, 0) for sh in shapes}) > 1]
        if differ:
            notes.append(f"- {name}: " + ", ".join(differ) + f" ({'/'.join(sizes)})")
    return _md(rows, header) + ("\n\nWhere the counts differ:\n\n" + "\n".join(notes) if notes else "")


def plan_section(queries: dict | None) -> str:
    if not queries:
        return ""
    last = list(queries["sizes"])[-1]
    found = queries["sizes"][last]
    if not found.get("plan"):
        return ""
    lines = found["plan"]
    plan = "\n".join(lines) if len(lines) <= 60 else "\n".join(lines[:50] + ["…"] + [line for line in lines if line.startswith(("Planning Time", "Execution Time"))])
    sql = " ".join(found["slowest_statement"].split())
    return (f"Slowest statement at {last} ({found['slowest_ms']} ms when measured):\n\n```sql\n{sql[:1500]}{'…' if len(sql) > 1500 else ''}\n```\n\n"
            f"`EXPLAIN (ANALYZE, BUFFERS)`:\n\n```\n{plan}\n```")


def memory_section(memory: dict | None) -> str:
    if not memory:
        return "No memory results yet: `python -m bench.memory`."
    rows = [(size, r["organisation"]["backend"], r.get("processes") or 1, r["idle_rss_mib"], r["peak_rss_mib"], r["final_rss_mib"]) for size, r in memory["sizes"].items()]
    note = "Summed over `okrbot serve`'s processes (the server, its workers, multiprocessing's resource tracker); a sum of peaks is at most what they held at once.\n\n"
    return note + _md(rows, ("size", "database", "processes", "idle RSS MiB", "peak RSS (VmHWM) MiB", "RSS after the load MiB"))


def fanout_section(fanout: dict | None) -> str:
    if not fanout:
        return "No fan-out results yet: `python -m bench.fanout`."
    f = fanout
    rows = [(f["owners"], f"{f['limits']['per_channel_per_second']}/s per channel, {f['limits']['workspace_per_minute']:,}/min per workspace", f["floor_s"], f["total_s"],
             f"{f['ratio_to_floor']}×", f["cycle_start_to_first_dm_s"], f["delivered"], f["duplicates"], f["misses"], f["refused_429"], f["server_peak_rss_mib"])]
    return _md(rows, ("owners", "limits", "floor s", "total s", "ratio", "cycle start → first DM s", "delivered", "duplicates", "misses", "429s", "server peak RSS MiB"))


def render() -> str:
    latency, memory, fanout = _load("latency"), _load("memory"), _load("fanout")
    queries_pg, queries_sqlite = _load("queries_postgresql"), _load("queries_sqlite")
    results = {"queries (PostgreSQL)": queries_pg, "queries (SQLite)": queries_sqlite, "latency": latency, "memory": memory, "fanout": fanout}
    return "\n\n".join([
        BEGIN,
        "### Machine and runs\n\n" + machine_section(results),
        "### Targets\n\n" + targets_section(latency, queries_pg, fanout),
        "### Request latency (ms)\n\n" + latency_section(latency),
        "### Statements per request, PostgreSQL\n\n" + queries_section(queries_pg, "PostgreSQL"),
        "### Statements per request, SQLite\n\n" + queries_section(queries_sqlite, "SQLite"),
        plan_section(queries_pg),
        "### Peak memory of `okrbot serve`\n\n" + memory_section(memory),
        "### Review nudge fan-out\n\n" + fanout_section(fanout),
        END,
    ])


def main() -> None:
    text = DOC.read_text() if DOC.exists() else f"# Performance\n\n{BEGIN}\n{END}\n"
    if BEGIN not in text or END not in text:
        text += f"\n{BEGIN}\n{END}\n"
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(head + render() + tail)
    print(f"wrote {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
