"""Progress bars on long commands (issue 18): drawn on a terminal (a pseudo-terminal
here), never in a pipe, where the output stays exactly what it was."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import time
from pathlib import Path

import pytest

from tests.e2e.test_serve_process import SECRET, TOKEN, base_env, okrbot_command
from tests.fakes.slack_api import SlackDouble
from tests.observability.test_backup import seed_document

BAR = "━"  # rich's bar glyph
RUN_TIMEOUT = 120.0


def on_terminal(args: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str]:
    """Run with standard output and error on a pseudo-terminal; everything it drew, and its exit code."""
    leader, follower = pty.openpty()
    process = subprocess.Popen([*okrbot_command(), *args], env={**env, "TERM": "xterm-256color", "COLUMNS": "100"},
                               cwd=cwd, stdin=subprocess.DEVNULL, stdout=follower, stderr=follower)
    os.close(follower)
    chunks, deadline = [], time.monotonic() + RUN_TIMEOUT
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.5)
        if not ready:
            if process.poll() is not None:
                break
            continue
        try:
            data = os.read(leader, 65536)
        except OSError:  # EIO: the command exited and closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    return process.wait(timeout=30), b"".join(chunks).decode("utf-8", errors="replace")


def in_a_pipe(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*okrbot_command(), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=RUN_TIMEOUT, stdin=subprocess.DEVNULL)


@pytest.fixture
def seeded(tmp_path):
    """A fresh SQLite database with the seed imported, for each run (the bars are the same
    on PostgreSQL), and the Slack double."""
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps(seed_document()), encoding="utf-8")
    with SlackDouble() as slack:

        def database(name: str, *, imported: bool = True) -> dict[str, str]:
            env = base_env(DATABASE_URL=f"sqlite:///{tmp_path / name}", SLACK_API_URL=slack.api_url, SLACK_BOT_TOKEN=TOKEN, SLACK_SIGNING_SECRET=SECRET)
            if imported:
                assert in_a_pipe(["import", str(seed), "--team", "T1"], env, tmp_path).returncode == 0
            return env

        yield database, seed


def commands(seed: Path, tmp_path: Path) -> dict[str, list[str]]:
    eval_dir = Path(__file__).resolve().parents[2] / "eval" / "serves"
    return {
        "Importing seed.json": ["import", str(seed), "--team", "T1"],
        "Exporting": ["export", "--team", "T1", "-o", str(tmp_path / "out.json")],
        "Sending review DMs": ["review", "run", "--team", "T1"],
        "Evaluating": ["eval", "serves", str(eval_dir)],
    }


@pytest.mark.parametrize("title", ["Importing seed.json", "Exporting", "Sending review DMs", "Evaluating"])
def test_long_commands_draw_a_progress_bar_on_a_terminal_and_nothing_in_a_pipe(seeded, tmp_path, title):
    database, seed = seeded
    args = commands(seed, tmp_path)[title]
    imported = not title.startswith("Importing")

    # The evaluation is a development tool that runs from a checkout (it reads eval/).
    cwd = Path(__file__).resolve().parents[2] if title == "Evaluating" else tmp_path
    code, drawn = on_terminal(args, database("terminal.db", imported=imported), cwd)
    assert code == 0, drawn
    assert title in drawn and BAR in drawn, drawn

    piped = in_a_pipe(args, database("pipe.db", imported=imported), cwd)
    assert piped.returncode == 0, piped.stderr
    assert BAR not in piped.stdout + piped.stderr and title not in piped.stdout + piped.stderr
