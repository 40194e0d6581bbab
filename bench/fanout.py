"""Nudge fan-out: one review cycle for 5,000 KR owners, sent by `okrbot serve` itself, against
the Slack double enforcing Slack's rate limits; total time against the floor they allow.

The organisation F (bench/orgs.py: 1,000 objectives, 5,000 KRs, each KR its own owner) is
copied to a scratch database whose review schedule is due a minute ago. `okrbot serve` is
started as an operator runs it (scheduler on, default tick and outbox sweep): its first
review tick starts the cycle, claims a nudge per owner and queues the DMs; delivery and
the outbox sweeper send them. The double refuses chat.postMessage beyond

    1 message per second per channel (Slack's documented chat.postMessage limit), and
    a workspace budget of --budget messages per sliding minute (default 1,200; Slack does
    not publish one, so we state ours).

Every DM goes to its own channel (the owner's DM), so only the workspace budget binds:
the earliest the n-th message can be delivered is 60 s x floor((n - 1) / budget) after
the first, the *floor*. Reported: time from the cycle's start to the last DM, its ratio
to the floor, how many 429s were answered, duplicates (an owner sent more than one
nudge) and misses (an owner sent none), checked both at the double and in the database.

    python -m bench.fanout                      # 5,000 owners, 1,200 messages a minute
    python -m bench.fanout --budget 600
"""

from __future__ import annotations

import argparse
import os
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import func, select

from bench import orgs
from bench.common import RESULTS, TEAM, AnsweringDouble, okrbot_serve, stamp, write_result
from okrbot.domain.schedule import WEEKDAY_NAMES
from okrbot.store.db import Database
from okrbot.store.models import Nudge, OutboundMessage, ReviewCycle, Workspace


def floor_seconds(messages: int, budget_per_minute: int) -> float:
    return 60.0 * ((messages - 1) // budget_per_minute) if messages > 0 else 0.0


def make_review_due(url: str, now: datetime) -> str:
    """A weekly schedule whose latest run was two minutes ago (so the first tick starts it)."""
    run = (now - timedelta(minutes=2)).replace(second=0, microsecond=0)
    schedule = f"weekly {WEEKDAY_NAMES[run.weekday()]} {run:%H:%M}"
    db = Database(url)
    try:
        with db.session_scope() as session:
            workspace = session.get(Workspace, TEAM)
            workspace.review_schedule = schedule
            workspace.timezone = "UTC"
            workspace.review_enabled = True
            workspace.review_since = now - timedelta(days=1)
    finally:
        db.dispose()
    return schedule


def database_state(url: str) -> dict:
    db = Database(url)
    try:
        with db.session_scope() as session:
            cycle = session.exec(select(ReviewCycle).where(ReviewCycle.team_id == TEAM)).first()
            nudges = dict(session.exec(select(Nudge.status, func.count()).group_by(Nudge.status)).all())
            outbox = dict(session.exec(select(OutboundMessage.status, func.count()).where(OutboundMessage.kind == "nudge").group_by(OutboundMessage.status)).all())
            per_owner = session.exec(select(Nudge.owner, func.count()).group_by(Nudge.owner).having(func.count() > 1)).all()
            return {
                "cycle_started_at": cycle.started_at if cycle else None,
                "nudges_by_status": nudges,
                "nudge_dms_by_status": outbox,
                "owners_with_two_nudge_rows": len(per_owner),
                "nudged_owners": session.exec(select(func.count(func.distinct(Nudge.owner)))).one(),
            }
    finally:
        db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", type=int, default=1200, help="workspace chat.postMessage budget per minute")
    parser.add_argument("--per-channel", type=float, default=1.0, help="messages per second per channel")
    parser.add_argument("--timeout", type=float, default=0, help="give up after this many seconds (default: 3 x floor + 180)")
    parser.add_argument("--output", default="fanout")
    args = parser.parse_args()

    org = orgs.load("F", "sqlite")
    owners = org.counts["key_results"]
    url = orgs.scratch_copy(org, f"fanout-run-{os.getpid()}")
    schedule = make_review_due(url, datetime.now(UTC))
    floor = floor_seconds(owners, args.budget)
    timeout = args.timeout or 3 * floor + 180
    print(f"{org.describe()}\n{owners:,} owners, review schedule {schedule!r}; limits {args.per_channel}/s per channel, "
          f"{args.budget:,}/min per workspace: floor {floor:.0f} s", flush=True)

    with AnsweringDouble() as slack:
        slack.enforce_channel_rate(per_second=args.per_channel, workspace_per_minute=args.budget)
        wall_offset = time.time() - time.monotonic()
        started = time.monotonic()
        peak_kib = 0
        with okrbot_serve(url, slack, RESULTS.parent / ".data" / "logs" / "fanout-okrbot.log") as server:
            deadline = started + timeout
            last_report = 0.0
            while time.monotonic() < deadline:
                delivered = {c.args.get("channel") for c in slack.delivered("chat.postMessage")}
                peak_kib = max(peak_kib, server.memory().get("VmHWM", 0))
                if len(delivered) >= owners:
                    break
                if time.monotonic() - last_report > 15:
                    last_report = time.monotonic()
                    print(f"  {time.monotonic() - started:6.0f} s: {len(delivered):,} owners reached, "
                          f"{len(slack.refused('chat.postMessage')):,} refused (429)", flush=True)
                time.sleep(1.0)
            time.sleep(2)  # anything still in flight lands (and would show as a duplicate)
            cpu = server.cpu_seconds()
        calls = slack.calls("chat.postMessage")
    delivered_calls = [c for c in calls if c.delivered]
    sent_to = Counter(c.args.get("channel") for c in delivered_calls)
    nudge_keys = Counter((c.args.get("metadata") or {}).get("event_payload", {}).get("key") for c in delivered_calls)
    state = database_state(url)
    cycle_start = state["cycle_started_at"]
    first = min(c.at for c in delivered_calls) if delivered_calls else None
    last = max(c.at for c in delivered_calls) if delivered_calls else None
    start_mono = cycle_start.timestamp() - wall_offset if cycle_start else started
    total = (last - start_mono) if last else None
    expected = {f"U9{n:08d}" for n in range(1, owners + 1)}
    result = {
        "benchmark": "review nudge fan-out through okrbot serve",
        **stamp(),
        "owners": owners,
        "limits": {"per_channel_per_second": args.per_channel, "workspace_per_minute": args.budget},
        "floor_s": floor,
        "total_s": round(total, 1) if total is not None else None,
        "ratio_to_floor": round(total / floor, 3) if total and floor else None,
        "cycle_start_to_first_dm_s": round(first - start_mono, 1) if first else None,
        "first_to_last_dm_s": round(last - first, 1) if first else None,
        "delivered": len(delivered_calls),
        "owners_reached": len(set(sent_to) & expected),
        "duplicates": sum(n - 1 for n in sent_to.values() if n > 1) + sum(n - 1 for k, n in nudge_keys.items() if k and n > 1),
        "misses": len(expected - set(sent_to)),
        "refused_429": sum(1 for c in calls if c.status == 429),
        "server_cpu_s": round(cpu, 1),
        "server_peak_rss_mib": round(peak_kib / 1024, 1),
        "database": {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in state.items()},
        "load_average_at_end": list(os.getloadavg()),
    }
    print(f"\n{owners:,} nudges: last DM {result['total_s']} s after the cycle started (first DM after "
          f"{result['cycle_start_to_first_dm_s']} s); floor {floor:.0f} s; ratio {result['ratio_to_floor']}")
    print(f"delivered {result['delivered']:,}, owners reached {result['owners_reached']:,}, duplicates {result['duplicates']}, "
          f"misses {result['misses']}, 429s {result['refused_429']:,}; database: {state['nudges_by_status']} / DMs {state['nudge_dms_by_status']}")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{url.removeprefix('sqlite:///')}{suffix}").unlink(missing_ok=True)
    path = write_result(args.output, result)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
