"""Chart rendering time: a KR with 200 check-ins, and an objective with 6 such KRs.

    python -m bench.charts                       # 200 check-ins, 30 rounds
    python -m bench.charts --checkins 1000 --rounds 10
    python -m bench.charts --write-docs          # also refresh docs/charts/*.png

Each round reads the chart's data from the database (SQLite, a temporary file, through the
same service the command uses) and draws the PNG, as `/okr chart` does before uploading.
The first round is reported on its own: it includes importing matplotlib (once per process).
"""

from __future__ import annotations

import argparse
import math
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from okrbot import charts
from okrbot.domain.commands import Direction, Metric
from okrbot.domain.periods import current_period as period_now
from okrbot.services import charts as chart_data
from okrbot.services import okrs
from okrbot.services.context import Actor
from okrbot.store.db import Database
from okrbot.store.migrate import upgrade_to_head
from okrbot.store.models import CheckIn
from okrbot.store.types import utcnow

from bench.common import load_average, percentile, stamp, table, write_result

DOCS = Path(__file__).resolve().parents[1] / "docs" / "charts"
KR_TITLES = ["Cut time to value for new signups", "Weekly active teams", "Activation rate", "Support tickets per 100 teams", "NPS of new teams", "Onboarding emails opened"]


def seed(db: Database, actor: Actor, checkins: int) -> tuple[int, int]:
    """An objective of the current period with six numeric KRs, each with `checkins` values
    spread over the period so far. Returns (objective number, first KR number)."""
    period = period_now(actor.now, actor.tz)
    begin = period.start_at(actor.tz)
    span = actor.now - begin
    with db.session_scope() as session:
        objective = okrs.create_objective(session, actor, okrs.NewObjective(title="Grow activation in Europe", owner=actor.user_id, period=str(period)))
        first = None
        for index, title in enumerate(KR_TITLES):
            start, target = (45.0, 25.0) if index % 2 == 0 else (20.0, 60.0)
            new = okrs.NewKr(objective=objective.number, title=title, metric=Metric.NUMERIC, direction=Direction.DECREASE if start > target else Direction.INCREASE, owner=actor.user_id, start=start, target=target, unit="days" if index == 0 else None)
            kr = okrs.create_kr(session, actor, new)
            kr.created_at = begin
            first = first or kr.number
            pace = 0.6 + 0.15 * index
            elapsed = span / (period.end_at(actor.tz) - begin)
            for step in range(checkins):
                share = (step + 1) / checkins
                value = start + (target - start) * share * elapsed * pace * (1 + 0.08 * math.sin(step / 9))
                at = begin + span * share
                session.add(CheckIn(team_id=actor.team_id, kr_id=kr.id, at=at, value=round(value, 1), author=actor.user_id, source="import"))
            kr.current, kr.last_progress_at = round(value, 1), at
        return objective.number, first


def measure(db: Database, actor: Actor, draw, rounds: int) -> tuple[float, list[float], list[float], object]:
    """(first round's wall ms, later rounds' wall ms, later rounds' CPU ms, the chart). CPU time
    is this process's: on a shared machine it is the figure that load does not inflate."""
    wall, cpu, chart = [], [], None
    for _ in range(rounds + 1):
        started, started_cpu = time.perf_counter(), time.process_time()
        with db.session_scope(read_only=True) as session:
            chart = draw(session)
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    return wall[0], wall[1:], cpu[1:], chart


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkins", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--write-docs", action="store_true", help="write docs/charts/kr-trend.png and objective-krs.png")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/charts.db"
        upgrade_to_head(url)
        db = Database(url)
        actor = Actor(team_id="T1", user_id="U1", now=utcnow() - timedelta(minutes=1))
        objective_number, kr_number = seed(db, actor, args.checkins)

        def kr_png(session):
            kr = okrs.get_kr(session, actor, kr_number)
            return charts.kr_chart(chart_data.kr_trend(session, actor, kr))

        def objective_png(session):
            objective = okrs.get_objective(session, actor, objective_number)
            return charts.objective_chart(chart_data.objective_trends(session, actor, objective))

        rows, result = [], {**stamp(), "checkins_per_kr": args.checkins, "rounds": args.rounds, "charts": {}}
        for name, draw in (("KR trend", kr_png), ("objective, 6 KRs", objective_png)):
            first, timings, cpu, chart = measure(db, actor, draw, args.rounds)
            figures = {
                "first_ms": round(first, 1),
                "p50_ms": round(statistics.median(timings), 1),
                "p95_ms": round(percentile(timings, 95), 1),
                "max_ms": round(max(timings), 1),
                "cpu_p50_ms": round(statistics.median(cpu), 1),
                "png_bytes": len(chart.png),
            }
            result["charts"][name] = figures
            rows.append((name, figures["first_ms"], figures["p50_ms"], figures["p95_ms"], figures["max_ms"], figures["cpu_p50_ms"], f"{len(chart.png) // 1024} KiB"))
            if args.write_docs:
                DOCS.mkdir(parents=True, exist_ok=True)
                target = DOCS / ("kr-trend.png" if name == "KR trend" else "objective-krs.png")
                target.write_bytes(chart.png)
                print(f"wrote {target}")
        db.dispose()

    print(f"{args.checkins} check-ins per KR, {args.rounds} rounds after the first (ms, data read + PNG drawn)")
    result["load_average_at_end"] = load_average()
    print(table(rows, ("chart", "first", "p50", "p95", "max", "CPU p50", "PNG")))
    print(f"results: {write_result('charts', result)}")


if __name__ == "__main__":
    main()
