"""`okrbot backup` while `okrbot serve` writes, then `okrbot restore` (issue 18).

The real console script serves a SQLite database while signed check-ins arrive one after
another; a backup taken meanwhile is one consistent moment: restored onto an empty
database, its export is the source's export at that moment (the first k check-ins in,
the rest not), and a restore onto a database with data is refused.
"""

from __future__ import annotations

import copy
import json
import subprocess
import threading
from pathlib import Path

import pytest

from tests.conftest import ON_POSTGRES
from tests.e2e.test_serve_process import SECRET, TOKEN, base_env, okrbot_command
from tests.fakes.slack_api import SlackDouble
from tests.fakes.slack_client import SignedSlackClient

KRS = 400  # more than serve confirms while a backup runs (about 1 s), so some come after it
CLI_TIMEOUT = 120


def cli(env: dict[str, str], *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*okrbot_command(), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=CLI_TIMEOUT, stdin=subprocess.DEVNULL)


def export(env: dict[str, str], cwd: Path) -> dict:
    result = cli(env, "export", "--team", "T1", cwd=cwd)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def seed_document() -> dict:
    return {
        "version": 1,
        "objectives": [{
            "id": "O-1", "title": "Backed up", "owner": "U1", "team": None, "period": "2026-Q4", "parent": None,
            "private": False, "description": "",
            "key_results": [
                {"id": f"KR-{n}", "title": f"Measure {n}", "owner": "U1", "metric": "numeric", "direction": "increase",
                 "start": 0, "target": 100, "current": 0, "unit": "", "weight": 1, "confidence": None, "checkins": []}
                for n in range(1, KRS + 1)
            ],
        }],
        "initiatives": [],
    }


def key_results(document: dict) -> dict[str, dict]:
    return {kr["id"]: kr for objective in document["objectives"] for kr in objective["key_results"]}


def as_of(initial: dict, final: dict, checked_in: set[str]) -> dict:
    """The initial document with the KRs in `checked_in` as they are in `final`."""
    expected = copy.deepcopy(initial)
    latest = key_results(final)
    for objective in expected["objectives"]:
        objective["key_results"] = [latest[kr["id"]] if kr["id"] in checked_in else kr for kr in objective["key_results"]]
    return expected


@pytest.mark.skipif(ON_POSTGRES, reason="on PostgreSQL okrbot backup prints the pg_dump command (test_postgresql_backup_prints_pg_dump)")
def test_a_backup_taken_while_serve_writes_restores_to_an_identical_export(serve, tmp_path):
    source = tmp_path / "live.db"
    backup_file, restored = tmp_path / "backup.db", tmp_path / "restored.db"
    with SlackDouble() as slack:
        env = base_env(DATABASE_URL=f"sqlite:///{source}", SLACK_API_URL=slack.api_url, SLACK_BOT_TOKEN=TOKEN, SLACK_SIGNING_SECRET=SECRET)
        seed = tmp_path / "seed.json"
        seed.write_text(json.dumps(seed_document()), encoding="utf-8")
        assert cli(env, "import", str(seed), "--team", "T1", cwd=tmp_path).returncode == 0
        initial = export(env, tmp_path)

        served = serve(env)
        served.wait_healthy()
        confirmed = threading.Semaphore(0)
        stop = threading.Event()
        sent: list[int] = []

        def check_in_one_after_another() -> None:
            with SignedSlackClient(served.url, SECRET, response_url_factory=slack.response_url) as client:
                for n in range(1, KRS + 1):
                    if stop.is_set():
                        return
                    assert client.command(f"checkin KR-{n} {n}").status_code == 200
                    slack.wait_for("response_url", count=n, timeout=30)  # applied before the next one goes
                    sent.append(n)
                    confirmed.release()

        writer = threading.Thread(target=check_in_one_after_another, daemon=True)
        writer.start()
        for _ in range(3):
            assert confirmed.acquire(timeout=60), "serve did not confirm check-ins"
        result = cli(env, "backup", str(backup_file), cwd=tmp_path)  # while the check-ins keep coming
        assert result.returncode == 0, result.stderr
        after_backup = len(sent)
        for _ in range(len(sent)):  # drop what was confirmed before the backup ended
            confirmed.acquire(timeout=0)
        while len(sent) < after_backup + 3:
            assert confirmed.acquire(timeout=60), "serve stopped confirming check-ins after the backup"
        stop.set()
        writer.join(timeout=60)
        served.stop()  # a clean exit on SIGTERM is tests/e2e/test_serve_process.py's to show; here it only has to stop
        final = export(env, tmp_path)

        refused = cli(env, "restore", str(backup_file), cwd=tmp_path)
        assert refused.returncode == 1 and "not empty" in refused.stderr and "Traceback" not in refused.stderr

        restored_env = {**env, "DATABASE_URL": f"sqlite:///{restored}"}
        result = cli(restored_env, "restore", str(backup_file), cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        restored_document = export(restored_env, tmp_path)

    checked_in = {kr_id for kr_id, kr in key_results(restored_document).items() if kr["checkins"]}
    k = len(checked_in)
    assert checked_in == {f"KR-{n}" for n in range(1, k + 1)}  # one moment: a prefix of the check-ins, none half-saved
    assert 3 <= k < len(sent)  # taken while serve was writing: some check-ins in, later ones not
    assert restored_document == as_of(initial, final, checked_in)


@pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL only: on SQLite the backup is made by okrbot itself")
def test_postgresql_backup_prints_pg_dump(database_url, tmp_path):
    env = base_env(DATABASE_URL=database_url)
    result = cli(env, "backup", str(tmp_path / "okrbot.dump"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    command = result.stdout.splitlines()[-1].strip()
    assert command.startswith("pg_dump --format=custom") and f"--file={tmp_path / 'okrbot.dump'}" in command
    assert "--schema=okrbot_test_" in command  # only this database's schema, as DATABASE_URL's search_path says
