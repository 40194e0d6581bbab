"""What every benchmark here shares: the machine it ran on, percentiles, signed
Slack requests, the Slack double with room for many clients, and `okrbot serve`
(or the ack-only server beside it) as a subprocess on a free loopback port.

Nothing here is a test: benchmarks print a table and write bench/results/*.json.
"""

from __future__ import annotations

import json
import os
import platform
import re
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # tests.fakes: the Slack double and request signing

from tests.fakes import slack_api  # noqa: E402
from tests.fakes.slack_api import SlackDouble  # noqa: E402
from tests.fakes.slack_client import sign  # noqa: E402

RESULTS = ROOT / "bench" / "results"
SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench"
TEAM = "T1"


class RoomyHTTPServer(slack_api.ThreadingHTTPServer):
    # socketserver listens with a backlog of 5; 20 clients' answers at once would be refused
    # by the double, not by anything okrbot does. Real Slack has room.
    request_queue_size = 256


slack_api.ThreadingHTTPServer = RoomyHTTPServer


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    rank = max(1, round(q / 100 * len(ordered) + 0.5))
    return ordered[min(rank, len(ordered)) - 1]


def current_period(now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    return f"{now.year}-Q{(now.month - 1) // 3 + 1}"


def load_average() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


def machine() -> dict[str, Any]:
    """What the figures were measured on: a shared 2-core box, so load average goes with them."""
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gib = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return {
        "cpu": cpu,
        "nproc": os.cpu_count(),
        "memory_gib": memory_gib,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": postgres_version(),
    }


def postgres_version() -> str | None:
    try:
        out = subprocess.run(["psql", "--version"], capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    found = re.search(r"\d+(?:\.\d+)+", out)  # "psql (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)"
    return found.group(0) if found else None


def write_result(name: str, result: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")
    return path


def stamp() -> dict[str, Any]:
    return {"when": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine(), "load_average_at_start": load_average()}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def signed_headers(body: bytes, content_type: str) -> dict[str, str]:
    timestamp = int(time.time())
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": str(timestamp),
        "X-Slack-Signature": sign(SECRET, timestamp, body),
    }


def table(rows: list[tuple], header: tuple) -> str:
    """A plain text table, first column left-aligned."""
    cells = [tuple(str(c) for c in header)] + [tuple(str(c) for c in row) for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))) for row in cells]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


# --------------------------------------------------------------------------- Slack double


class AnsweringDouble(SlackDouble):
    """The Slack double, telling waiters when a given answer arrives without scanning every call.

    `expect(key)` before sending a request, then `wait(key)`; keys are the response_url
    name, `publish:<user>` for views.publish and `ephemeral:<user>` for chat.postEphemeral.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._waiting: dict[str, list] = {}
        self._waiting_lock = threading.Lock()
        self.keep_calls = True

    def expect(self, key: str) -> None:
        with self._waiting_lock:
            self._waiting.setdefault(key, []).append([threading.Event(), None])

    def wait(self, key: str, timeout: float) -> float | None:
        """time.monotonic() when the answer arrived, or None if it did not within `timeout`."""
        with self._waiting_lock:
            entries = self._waiting.get(key) or []
            entry = entries[0] if entries else None
        if entry is None or not entry[0].wait(timeout):
            return None
        with self._waiting_lock:
            entries.remove(entry)
        return entry[1]

    def _handle(self, method, args, headers, path):  # type: ignore[override]
        answer = super()._handle(method, args, headers, path)
        key = None
        if method == "response_url":
            key = path.rsplit("/", 1)[-1]
        elif method == "views.publish":
            key = f"publish:{args.get('user_id')}"
        elif method == "chat.postEphemeral":
            key = f"ephemeral:{args.get('user')}"
        if key is not None:
            now = time.monotonic()
            with self._waiting_lock:
                for entry in self._waiting.get(key) or []:
                    if not entry[0].is_set():
                        entry[1] = now
                        entry[0].set()
                        break
        if not self.keep_calls:
            with self._lock:
                # Long runs: keep what rate limits and history need, not every call.
                if len(self._calls) > 2000:
                    del self._calls[:1000]
        return answer


# --------------------------------------------------------------------------- servers as subprocesses


def serve_env(database_url: str, slack: SlackDouble, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "OKRBOT_", "DATABASE_URL"))}
    env.update(
        SLACK_BOT_TOKEN=TOKEN,
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=slack.api_url,
        DATABASE_URL=database_url,
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


class Subprocess:
    """A server process on 127.0.0.1:<port>, stopped with SIGTERM (then SIGKILL) on exit."""

    def __init__(self, argv: list[str], env: dict[str, str], port: int, log: Path, *, ready_timeout: float = 600.0) -> None:
        self.argv, self.env, self.port, self.log_path = argv, env, port, log
        self.ready_timeout = ready_timeout
        self.process: subprocess.Popen | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/slack/events"

    def __enter__(self) -> Subprocess:
        import httpx

        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(self.argv, env=self.env, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + self.ready_timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"{' '.join(self.argv)} exited with {self.process.returncode}; see {self.log_path}")
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                self.__exit__()
                raise RuntimeError(f"server did not answer /healthz within {self.ready_timeout} s; see {self.log_path}")
            time.sleep(0.2)

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()

    def processes(self) -> list[int]:
        """The server and every process under it (okrbot serve's workers)."""
        parents: dict[int, int] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # gone since the listing
            parents[int(stat.parent.name)] = int(fields[1])
        tree = [self.pid]
        for pid in tree:
            tree.extend(child for child, parent in parents.items() if parent == pid)
        return tree

    def memory(self) -> dict[str, int]:
        """VmRSS and VmHWM (peak resident set) in KiB, from /proc/<pid>/status, summed over
        the server's processes (a sum of peaks: at most what they held at once)."""
        found = {"VmRSS": 0, "VmHWM": 0, "processes": 0}
        for pid in self.processes():
            try:
                lines = Path(f"/proc/{pid}/status").read_text().splitlines()
            except OSError:
                continue
            found["processes"] += 1
            for line in lines:
                name, _, value = line.partition(":")
                if name in ("VmRSS", "VmHWM"):
                    found[name] += int(value.split()[0])
        return found

    def cpu_seconds(self) -> float:
        """utime + stime of the server's processes."""
        return sum(self.cpu_by_process().values())

    def cpu_by_process(self) -> dict[int, float]:
        """utime + stime of each of the server's processes (the server first), in seconds."""
        ticks = os.sysconf("SC_CLK_TCK")
        found: dict[int, float] = {}
        for pid in self.processes():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            found[pid] = (int(fields[11]) + int(fields[12])) / ticks
        return found


def okrbot_serve(database_url: str, slack: SlackDouble, log: Path, **extra: str) -> Subprocess:
    """`okrbot serve` exactly as an operator runs it, pointed at the double."""
    port = free_port()
    okrbot = Path(sys.executable).with_name("okrbot")
    # OKRBOT_BENCH_SERVE="python /path/wrapper.py" runs serve through a wrapper (a profiler, an experiment).
    prefix = os.environ.get("OKRBOT_BENCH_SERVE", "").split() or [str(okrbot)]
    argv = [*prefix, "serve", "--host", "127.0.0.1", "--port", str(port)]
    return Subprocess(argv, serve_env(database_url, slack, **extra), port, log)


def ack_only_serve(database_url: str, slack: SlackDouble, log: Path, *, answer: bool = False) -> Subprocess:
    """The same server (uvicorn + okrbot's Starlette app + bolt, same signing) whose listeners
    only ack; with `answer`, slash commands then post a constant reply."""
    port = free_port()
    argv = [sys.executable, "-m", "bench.ack_server", "--port", str(port), *(["--answer"] if answer else [])]
    return Subprocess(argv, serve_env(database_url, slack, OKRBOT_SCHEDULER="false"), port, log)


def wait_until(predicate: Callable[[], bool], timeout: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(step)
    return True
