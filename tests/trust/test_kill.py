"""Issue 17, pass/fail: `okrbot serve` and one of its workers SIGKILLed while signed
requests of every kind arrive (slash commands, modal submits, DMs, mentions, Mark done
clicks, ✅ reactions, work and GitHub webhooks). Once a restarted serve has drained the
inbox, everything that was acknowledged is in the database, and nothing is there twice.

A short run of bench/faults.py (which measures the full table); real processes, the Slack
double, loopback only, bounded waits. The seed is fixed, so the kills fall at the same
points of the plan on every run (where they land in the work still depends on timing).
"""

from __future__ import annotations

from pathlib import Path

from bench.faults import Row, run_row
from tests.conftest import ON_POSTGRES, TEST_DATABASE_URL

SEED = 17


def test_sigkill_of_serve_and_of_a_worker_loses_nothing_acknowledged_and_applies_nothing_twice(tmp_path: Path):
    row = Row("kill-test", "serve and a worker SIGKILLed", requests=60, rate=20, serve_kills=1, worker_kills=1, workers=2)
    print(f"seed {SEED}")
    result = run_row(
        row,
        "postgresql" if ON_POSTGRES else "sqlite",
        SEED,
        tmp_path,
        postgres_url=TEST_DATABASE_URL,
        logs=tmp_path / "logs",
    )
    print(result["events"])
    kills = " ".join(result["events"])
    assert "(serve)" in kills and "SIGKILL worker" in kills, result["events"]  # both faults happened
    assert result["settled"], "the inbox or the outbox did not drain"
    assert result["sent"] == 60 and result["acknowledged"] > 0
    assert result["lost_after_ack"] == 0, result["lost"]
    assert result["applied_twice"] == 0, result["twice"]
