"""Issue 17's fault table: is anything acknowledged lost, or applied twice, when processes
are SIGKILLed at random moments or Slack answers slower than the bot waits?

    python -m bench.faults                          # SQLite
    python -m bench.faults --backend postgresql     # PostgreSQL (adds the replicas row)
    python -m bench.faults --quick                  # fewer requests, one kill each
    python -m bench.faults --seed 7 --rows serve-burst,worker-burst

Each row runs real `okrbot serve` processes (bench/common.py) on a fresh database
(a SQLite file, or a PostgreSQL schema in okrbot_bench), against the Slack double, and
sends Slack-signed requests of every kind, each with an effect of its own so it can be
counted: `/okr checkin KR-1 <n>`, check-in modal submits, DMs and @mentions
`checkin KR-1 <n>` (a distinct n each), Mark done clicks, ✅ reactions on initiative
cards, /webhooks/work and /webhooks/github deliveries (a distinct initiative each).
Meanwhile a seeded schedule SIGKILLs the serving process (then starts it again on
the same port) or one of its worker processes, each at the first moment after its
scheduled time when there is something to lose: the inbox holds requests not done yet,
or the workers hold claimed ones (waiting 10 s and 5 s at most).

Then, once a running serve has drained the inbox and the outbox has sent everything,
the database and the double's recorded calls say, per request:

- acknowledged: HTTP 2xx. Events and GitHub deliveries that got none are sent once
  more with the same event_id / X-GitHub-Delivery, as Slack and GitHub do.
- lost after ack: acknowledged, and its check-in (by value) or its done (a `change`
  row with action done on its initiative) is not there.
- applied twice: two check-ins with its value, or two done changes on its initiative.
- posts twice: a chat.postMessage or chat.postEphemeral delivered more often than the
  outbox holds it (same channel, thread, text, blocks and metadata), or an answer given
  twice on one response_url.

Prints the table and writes bench/results/faults_<backend>.json.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import quote

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.common import RESULTS, ROOT, SECRET, Subprocess, free_port, load_average, okrbot_serve, serve_env, stamp, table, write_result
from bench.orgs import _ensure_pg_database as ensure_pg_database
from bench.orgs import pg_url
from tests.fakes.slack_api import SlackDouble
from tests.fakes.slack_client import SignedSlackClient, sign

TEAM_CHANNEL = "CTEAM"
OWNER = "U1"
WEBHOOK_SECRET = "bench-webhook-secret"
BENCH_DATABASE = pg_url()  # okrbot_bench at OKRBOT_BENCH_POSTGRES
CHECKIN_KINDS = ("command", "modal", "dm", "mention")
WORK_KINDS = ("button", "reaction", "work_hook", "github")
KINDS = CHECKIN_KINDS + WORK_KINDS
SETTLE_TIMEOUT = 300.0  # seconds for the inbox and the outbox to drain after the run
QUIET_SECONDS = 3.0  # no new Slack call for this long: settled
SEND_THREADS = 128  # requests in flight at once: a loaded serve may take seconds per ack
LOGS = ROOT / "bench" / ".data" / "faults-logs"  # gitignored


@dataclass(frozen=True)
class Row:
    name: str
    title: str
    requests: int
    rate: float  # requests per second
    serve_kills: int = 0
    worker_kills: int = 0
    workers: int = 2
    slow_slack: bool = False
    replicas: bool = False  # two serves (one with a worker, one acknowledging only) + `okrbot worker`
    postgres_only: bool = False


def rows(quick: bool) -> list[Row]:
    scale = 0.25 if quick else 1.0

    def n(count: int) -> int:
        return max(40, int(count * scale))

    return [
        Row("control", "no fault (the counting's control), 20/s", n(160), 20),
        Row("serve-steady", "server killed, steady 20/s", n(600), 20, serve_kills=1 if quick else 3),
        Row("serve-burst", "server killed during a burst at 100/s", n(200), 100, serve_kills=1),
        Row("worker-burst", "a worker killed during a burst at 100/s", n(200), 100, worker_kills=1 if quick else 2),
        Row("slow-slack", "Slack answers after the client's timeout (1 s; Slack 2.5 s)", n(80), 20, slow_slack=True),
        Row(
            "replicas",
            "2 serve replicas + okrbot worker, a replica killed mid-burst at 100/s",
            n(200),
            100,
            serve_kills=1,
            replicas=True,
            postgres_only=True,
        ),
    ]


# --------------------------------------------------------------------------- databases


class Store:
    """A fresh database for one row, and the questions asked of it at the end."""

    def __init__(self, backend: str, name: str, workdir: Path, *, postgres_url: str = BENCH_DATABASE) -> None:
        """`postgres_url`: the PostgreSQL database the row's schema is made in."""
        self.backend = backend
        self.postgres_url = postgres_url
        if backend == "sqlite":
            self.path = workdir / f"{name}.db"
            self.url = f"sqlite:///{self.path}"
            self.schema = None
        else:
            self.schema = f"faults_{name.replace('-', '_')}_{uuid.uuid4().hex[:6]}"
            self._admin("CREATE SCHEMA " + self.schema)
            separator = "&" if "?" in postgres_url else "?"
            self.url = f"{postgres_url}{separator}options={quote(f'-csearch_path={self.schema}')}"
        self._engine = None

    def _admin(self, statement: str) -> None:
        engine = create_engine(make_url(self.postgres_url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.execute(text(statement))
        finally:
            engine.dispose()

    @property
    def engine(self):
        if self._engine is None:
            url = make_url(self.url)
            if self.backend == "postgresql":
                url = url.set(drivername="postgresql+psycopg")
            self._engine = create_engine(url)
        return self._engine

    def all(self, sql: str, **params) -> list[tuple]:
        with self.engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql), params).all()]

    def inbox_waiting(self) -> int:
        sql = "SELECT count(*) FROM inbound_request WHERE status <> 'done'"
        if self.backend == "sqlite":
            inbox = Path(f"{self.path}-inbox")
            if not inbox.exists():
                return 0
            with sqlite3.connect(inbox, timeout=30) as connection:
                try:
                    return connection.execute(sql).fetchone()[0]
                except sqlite3.OperationalError:
                    return 0  # not made yet
        return self.all(sql)[0][0]

    def holders(self) -> Counter:
        """pid in each claiming worker's name → how many requests it has claimed and not
        finished (names are host:pid:label:random, store/inbox.py; a serve's workers carry its pid)."""
        sql = "SELECT worker FROM inbound_request WHERE status = 'working'"
        if self.backend == "sqlite":
            try:
                with sqlite3.connect(f"{self.path}-inbox", timeout=30) as connection:
                    names = [name for (name,) in connection.execute(sql).fetchall()]
            except sqlite3.OperationalError:
                return Counter()
        else:
            names = [name for (name,) in self.all(sql)]
        return Counter(int(name.split(":")[1]) for name in names if name and name.count(":") >= 2 and name.split(":")[1].isdigit())

    def outbox_waiting(self) -> int:
        return self.all("SELECT count(*) FROM outbound_message WHERE status IN ('pending', 'sending', 'posting')")[0][0]

    def checkins(self) -> Counter:
        """value → how many check-ins of KR-1 have it."""
        found = self.all("SELECT c.value FROM checkin c JOIN key_result k ON k.id = c.kr_id WHERE k.number = 1")
        return Counter(int(value) for (value,) in found if value is not None)

    def dones(self) -> Counter:
        """initiative number → how many `done` changes it had."""
        found = self.all("SELECT i.number FROM change c JOIN initiative i ON i.id = c.initiative_id WHERE c.action = 'done'")
        return Counter(number for (number,) in found)

    def cards(self) -> dict[int, tuple[str, str]]:
        """initiative number → (channel, ts) of its card."""
        found = self.all(
            "SELECT i.number, m.channel, m.sent_ts FROM outbound_message m JOIN initiative i ON i.id = m.initiative_id "
            "WHERE m.kind = 'initiative' AND m.sent_ts IS NOT NULL"
        )
        return {number: (channel, ts) for number, channel, ts in found}

    def outbox(self) -> list[tuple[str, dict]]:
        """(method, payload) of every message okrbot meant to send."""
        found = self.all("SELECT method, payload FROM outbound_message")
        return [(method, payload if isinstance(payload, dict) else json.loads(payload)) for method, payload in found]

    def urls(self) -> dict[int, str]:
        """initiative number → its link (made concurrently, so numbers and issues differ)."""
        return dict(self.all("SELECT number, url FROM initiative"))

    def drop(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
        if self.schema:
            self._admin(f"DROP SCHEMA {self.schema} CASCADE")


# --------------------------------------------------------------------------- processes


class Serve:
    """One `okrbot serve` on a fixed port, which can be SIGKILLed and started again there."""

    def __init__(self, label: str, database_url: str, slack: SlackDouble, env: dict[str, str], logs: Path) -> None:
        self.label, self.database_url, self.slack, self.env, self.logs = label, database_url, slack, env, logs
        self.port = free_port()
        self.starts = 0
        self.current: Subprocess | None = None
        self.up = threading.Event()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.starts += 1
        made = okrbot_serve(self.database_url, self.slack, self.logs / f"{self.label}-{self.starts}.log", **self.env)
        server = Subprocess(made.argv[:-1] + [str(self.port)], made.env, self.port, made.log_path, ready_timeout=180)
        server.__enter__()
        self.current = server
        self.up.set()

    def kill(self) -> None:
        """SIGKILL: no clean-up at all (its workers die with it)."""
        assert self.current is not None and self.current.process is not None
        self.up.clear()
        self.current.process.send_signal(signal.SIGKILL)
        self.current.process.wait(timeout=30)

    def workers(self) -> list[int]:
        """Its worker processes (multiprocessing's spawned children, not the resource tracker)."""
        if self.current is None or self.current.process is None or self.current.process.poll() is not None:
            return []
        found = []
        for pid in self.current.processes()[1:]:
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes()
                state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if b"spawn_main" in command and state != "Z":
                found.append(pid)
        return found

    def handed_back(self) -> int:
        """Requests its killed workers had claimed and its supervisor handed back (its logs)."""
        total = 0
        for start in range(1, self.starts + 1):
            log = self.logs / f"{self.label}-{start}.log"
            if log.exists():
                total += sum(int(found) for found in re.findall(r"left (\d+) requests unfinished", log.read_text(errors="replace")))
        return total

    def running(self) -> bool:
        return self.current is not None and self.current.process is not None and self.current.process.poll() is None

    def stop(self) -> None:
        if self.current is not None:
            self.current.__exit__()


class StandaloneWorker(Subprocess):
    """`okrbot worker`, on its own (it shares the database with the serves; no HTTP port)."""

    def __init__(self, database_url: str, slack: SlackDouble, env: dict[str, str], logs: Path) -> None:
        okrbot = Path(sys.executable).with_name("okrbot")
        super().__init__([str(okrbot), "worker"], serve_env(database_url, slack, **env), 0, logs / "worker.log")

    def __enter__(self) -> StandaloneWorker:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(self.argv, env=self.env, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT)
        return self

    def stop(self) -> None:
        self.__exit__()


# --------------------------------------------------------------------------- requests


@dataclass
class Sent:
    index: int
    kind: str
    target: int  # the check-in's value, or the initiative's number
    to: str  # which serve it went to
    statuses: list = field(default_factory=list)  # HTTP status or the error's name, per try
    payload: dict = field(default_factory=dict)  # what a retry sends again
    answers: list = field(default_factory=list)  # a webhook's response bodies
    at: float = 0.0  # time.monotonic() when it was first sent

    @property
    def acknowledged(self) -> bool:
        return any(isinstance(s, int) and 200 <= s < 300 for s in self.statuses)


@dataclass(frozen=True)
class Prepared:
    path: str
    body: bytes
    headers: dict


class _Preparing(SignedSlackClient):
    """SignedSlackClient's payloads and signatures, kept to be sent later instead of sent now."""

    def _post(self, body: bytes, headers: dict[str, str], **sign_opts) -> Prepared:  # type: ignore[override]
        timestamp = int(time.time())
        sent = {"User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)", "X-Slack-Request-Timestamp": str(timestamp)}
        sent["X-Slack-Signature"] = sign(SECRET, timestamp, body)
        sent.update(headers)
        return Prepared("/slack/events", body, sent)


class Sender:
    """Builds and signs every request before the run (so the burst is only HTTP), then
    sends them from a pool of threads, each with its own HTTP connections."""

    def __init__(self, slack: SlackDouble, checkin_view: dict, cards: dict[int, tuple[str, str]], issue_url) -> None:
        self.checkin_view, self.cards, self.issue_url = checkin_view, cards, issue_url
        self._build = _Preparing("http://127.0.0.1:9", SECRET, response_url_factory=slack.response_url)
        self._local = threading.local()

    def send(self, sent: Sent, prepared: Prepared, base_url: str) -> None:
        http = getattr(self._local, "http", None)
        if http is None:
            http = self._local.http = httpx.Client(timeout=15)
        sent.at = sent.at or time.monotonic()
        try:
            response = http.post(base_url + prepared.path, content=prepared.body, headers=prepared.headers)
            sent.statuses.append(response.status_code)
            if sent.kind in ("work_hook", "github"):
                sent.answers.append(response.text[:200])
        except httpx.HTTPError as error:
            sent.statuses.append(type(error).__name__)

    def prepare(self, sent: Sent, *, retry: bool = False) -> Prepared:
        """The request; `retry` makes it Slack's or GitHub's redelivery of the same one."""
        client = self._build
        value = number = sent.target
        if sent.kind == "command":
            return client.command(f"checkin KR-1 {value}", user_id=OWNER, channel_id=TEAM_CHANNEL)
        if sent.kind == "modal":
            return client.view_submission(self.checkin_view, user_id=OWNER, state_values={"value": {"value": str(value)}})
        if sent.kind == "button":
            return client.block_action("initiative_mark_done", f"I-{number}", user_id=OWNER, channel_id=TEAM_CHANNEL)
        if sent.kind in ("dm", "mention", "reaction"):
            if not sent.payload:
                if sent.kind == "dm":
                    event = client.dm_message(f"checkin KR-1 {value}", user=OWNER)
                elif sent.kind == "mention":
                    event = client.app_mention(f"checkin KR-1 {value}", user=OWNER, channel=TEAM_CHANNEL)
                else:
                    channel, ts = self.cards[number]
                    event = client.reaction_added("white_check_mark", user=OWNER, channel=channel, ts=ts)
                sent.payload = {"event": event, "event_id": f"Ev{uuid.uuid4().hex[:12].upper()}"}
            return client.event(sent.payload["event"], event_id=sent.payload["event_id"], retry_num=1 if retry else None)
        if sent.kind == "work_hook":
            body = json.dumps({"initiative": f"I-{number}", "status": "done", "delivery": f"fault-{uuid.uuid4().hex}"}).encode()
            return Prepared("/webhooks/work", body, {"Content-Type": "application/json", "X-Okrbot-Signature": _hub_signature(body)})
        if not sent.payload:
            issue = {"html_url": self.issue_url(number), "number": number, "state": "closed", "state_reason": "completed"}
            sent.payload = {"body": {"action": "closed", "issue": issue, "sender": {"login": "alice"}}, "delivery": str(uuid.uuid4())}
        body = json.dumps(sent.payload["body"]).encode()
        headers = {
            "Content-Type": "application/json",
            "X-GitHub-Event": "issues",
            "X-GitHub-Delivery": sent.payload["delivery"],
            "X-Hub-Signature-256": _hub_signature(body),
        }
        return Prepared("/webhooks/github", body, headers)


def _hub_signature(body: bytes) -> str:
    return "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()


def plan(row: Row, rng: random.Random) -> list[Sent]:
    """The requests, kinds in turn (shuffled), values and initiatives each used once."""
    kinds = [KINDS[i % len(KINDS)] for i in range(row.requests)]
    rng.shuffle(kinds)
    planned, next_initiative = [], 1
    for index, kind in enumerate(kinds):
        if kind in WORK_KINDS:
            target, next_initiative = next_initiative, next_initiative + 1
        else:
            target = 100_000 + index
        planned.append(Sent(index, kind, target, ""))
    return planned


def initiatives_needed(row: Row) -> int:
    return sum(1 for i in range(row.requests) if KINDS[i % len(KINDS)] in WORK_KINDS)


# --------------------------------------------------------------------------- a row


def issue_url(number: int) -> str:
    return f"https://github.com/acme/app/issues/{number}"


def set_up(serve: Serve, store: Store, slack: SlackDouble, initiatives: int) -> tuple[dict, dict]:
    """An objective with a team channel, KR-1 (numeric), KR-2 (by initiatives) and its work,
    each initiative's card posted in the team channel. Returns (check-in modal, cards)."""
    with SignedSlackClient(serve.base_url, SECRET, response_url_factory=slack.response_url, timeout=60) as client:
        for command in (
            f'objective add "Nothing acknowledged is lost" team <#{TEAM_CHANNEL}|platform>',
            'kr add O-1 "Requests counted" from 0 to 1000000',
            'kr add O-1 "Work shipped" by initiatives',
        ):
            _setup_command(client, slack, command)
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda n: client.command(f'initiative add KR-2 "Work {n}" url {issue_url(n)}', user_id=OWNER, channel_id=TEAM_CHANNEL), range(1, initiatives + 1)))
        if not _until(lambda: len(store.cards()) >= initiatives, 300):
            raise RuntimeError(f"set-up: {len(store.cards())} of {initiatives} initiative cards posted")
        opened = len(slack.calls("views.open"))
        client.block_action("kr_checkin_open", "KR-1", user_id=OWNER, channel_id=TEAM_CHANNEL)
        view = slack.wait_for("views.open", opened + 1, timeout=60)[-1].args["view"]
    return view, store.cards()


def _setup_command(client: SignedSlackClient, slack: SlackDouble, command: str) -> None:
    before = len(slack.calls("response_url"))
    response = client.command(command, user_id=OWNER, channel_id=TEAM_CHANNEL)
    if response.status_code != 200:
        raise RuntimeError(f"set-up: /okr {command} answered {response.status_code}")
    slack.wait_for("response_url", before + 1, timeout=60)


def _until(predicate, timeout: float, step: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return True
        except Exception:  # noqa: BLE001 - a database being restarted or locked: look again
            pass
        time.sleep(step)
    return False


def run_row(row: Row, backend: str, seed: int, workdir: Path, *, postgres_url: str = BENCH_DATABASE, logs: Path = LOGS) -> dict:
    rng = random.Random(f"{seed}:{row.name}")
    store = Store(backend, row.name, workdir, postgres_url=postgres_url)
    env = {
        "OKRBOT_ADMINS": OWNER,
        "OKRBOT_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "OKRBOT_WORKERS": str(row.workers),
        "OKRBOT_OUTBOX_SWEEP_SECONDS": "2",
        "OKRBOT_OUTBOX_LEASE_SECONDS": "10" if row.slow_slack else "30",
    }
    if row.slow_slack:
        env["OKRBOT_SLACK_TIMEOUT_SECONDS"] = "1"
    started: list = []
    events: list[str] = []
    try:
        with SlackDouble() as slack:
            fronts = [Serve(f"{backend}-{row.name}-a", store.url, slack, env, logs)]
            if row.replicas:
                fronts[0].env = {**env, "OKRBOT_WORKERS": "1"}
                fronts.append(Serve(f"{backend}-{row.name}-b", store.url, slack, {**env, "OKRBOT_WORKERS": "0", "OKRBOT_SCHEDULER": "false"}, logs))
            fronts[0].start()
            started.extend(fronts[:1])
            view, cards = set_up(fronts[0], store, slack, initiatives_needed(row))
            for front in fronts[1:]:
                front.start()
                started.append(front)
            if row.replicas:
                started.append(StandaloneWorker(store.url, slack, {k: v for k, v in env.items() if k != "OKRBOT_WORKERS"}, logs).__enter__())
            if row.slow_slack:
                for method in ("chat.postMessage", "chat.postEphemeral", "chat.update"):
                    slack.delay(method, 2.5)
            planned = plan(row, rng)
            sender = Sender(slack, view, cards, store.urls().__getitem__)
            requests = [(sent, sender.prepare(sent)) for sent in planned]
            duration = row.requests / row.rate
            kills = _kill_schedule(row, rng, duration)
            events.append(f"kills at {', '.join(f'{at:.1f}s {what}' for at, what in kills) or 'none'}")
            killer = threading.Thread(target=_killer, args=(kills, fronts, store, rng, events), daemon=True)
            load_before = load_average()
            with ThreadPoolExecutor(SEND_THREADS) as pool:
                _start_threads(pool, SEND_THREADS)
                t0 = time.monotonic()
                killer.start()
                for sent, prepared in requests:
                    due = t0 + sent.index / row.rate
                    pause = due - time.monotonic()
                    if pause > 0:
                        time.sleep(pause)
                    front = fronts[sent.index % len(fronts)]
                    sent.to = front.label
                    pool.submit(sender.send, sent, prepared, front.base_url)
            sent_seconds = time.monotonic() - t0
            killer.join(timeout=600)
            if row.slow_slack:
                for method in ("chat.postMessage", "chat.postEphemeral", "chat.update"):
                    slack.delay(method, 0)
            for front in fronts:  # whatever was killed last is running again
                if not front.running():
                    front.start()
            # Slack resends an event that got no 2xx, GitHub a delivery (same ids).
            retried = [s for s in planned if not s.acknowledged and s.kind in ("dm", "mention", "reaction", "github")]
            with ThreadPoolExecutor(8) as pool:
                for sent in retried:
                    pool.submit(sender.send, sent, sender.prepare(sent, retry=True), fronts[0].base_url)
            settled = _settle(store, slack)
            result = count(row, planned, store, slack)
            result.update(
                backend=backend,
                seed=seed,
                sent_seconds=round(sent_seconds, 1),
                achieved_rate=_rate([sent.at for sent in planned]),
                retried=len(retried),
                settled=settled,
                events=events,
                load_average=load_before,
                when=datetime.now(UTC).isoformat(timespec="seconds"),
                restarts=sum(f.starts - 1 for f in fronts),
                handed_back=sum(front.handed_back() for front in fronts),
            )
            return result
    finally:
        for process in reversed(started):
            process.stop()
        if not os.environ.get("OKRBOT_FAULTS_KEEP"):
            store.drop()


def _rate(times: list[float]) -> float:
    """Requests per second, as they went out (a loaded machine may not keep up with the plan)."""
    span = max(times) - min(times)
    return round((len(times) - 1) / span, 1) if span > 0 else float(len(times))


def _start_threads(pool: ThreadPoolExecutor, count: int) -> None:
    """Start the pool's threads before the burst: starting one is slow on a loaded machine."""
    ready = threading.Barrier(count + 1)
    for _ in range(count):
        pool.submit(ready.wait, 60)
    ready.wait(60)


def _kill_schedule(row: Row, rng: random.Random, duration: float) -> list[tuple[float, str]]:
    # With both, workers first: a serve killed first would be restarting (not serving) for a while.
    serve_from = 0.55 if row.worker_kills else 0.1
    kills = [(rng.uniform(serve_from, 0.9) * duration, "serve") for _ in range(row.serve_kills)]
    kills += [(rng.uniform(0.1, 0.5) * duration, "worker") for _ in range(row.worker_kills)]
    return sorted(kills)


def _killer(kills: list[tuple[float, str]], fronts: list[Serve], store: Store, rng: random.Random, events: list[str]) -> None:
    t0 = time.monotonic()
    for at, what in kills:
        pause = t0 + at - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        front = fronts[0]  # a replica row kills the replica that has a worker
        if what == "serve":
            waiting = _acknowledged_not_done(store)
            front.kill()
            events.append(f"{time.monotonic() - t0:.1f}s: SIGKILL {front.label} (serve) with {waiting} acknowledged requests not done")
            front.start()  # the same command, the same port
            events.append(f"{time.monotonic() - t0:.1f}s: {front.label} serving again")
        else:
            victim, held = _busy_worker(front, store, rng)
            if victim is None:
                events.append(f"{time.monotonic() - t0:.1f}s: no worker up to kill")
                continue
            os.kill(victim, signal.SIGKILL)
            events.append(f"{time.monotonic() - t0:.1f}s: SIGKILL worker {victim} of {front.label} while its workers held {held} claimed requests")


def _acknowledged_not_done(store: Store, wait: float = 10.0) -> int:
    """Waits (at most `wait` s) for a moment when the inbox holds acknowledged requests not
    yet done: a kill then can lose them. How many it holds."""
    deadline = time.monotonic() + wait
    waiting = 0
    while time.monotonic() < deadline:
        try:
            waiting = store.inbox_waiting()
        except Exception:  # noqa: BLE001 - locked for a moment
            waiting = 0
        if waiting:
            break
        time.sleep(0.05)
    return waiting


def _busy_worker(front: Serve, store: Store, rng: random.Random, wait: float = 5.0) -> tuple[int | None, int]:
    """One of `front`'s workers, at a moment when its workers hold claimed requests if that
    comes within `wait` seconds (a kill then can lose or repeat something). A serve's
    workers are named after the serve's pid, so which of them holds what is read afterwards
    from the serve's log ("left N requests unfinished")."""
    deadline = time.monotonic() + wait
    held = 0
    while time.monotonic() < deadline:
        try:
            held = store.holders().get(front.current.pid, 0) if front.current else 0
        except Exception:  # noqa: BLE001 - locked for a moment
            held = 0
        if held:
            break
        time.sleep(0.05)
    workers = front.workers()
    return (rng.choice(sorted(workers)), held) if workers else (None, 0)


def _settle(store: Store, slack: SlackDouble) -> bool:
    """The inbox drained, the outbox sent, and Slack hearing nothing new for a while."""
    deadline = time.monotonic() + SETTLE_TIMEOUT
    calls, quiet_since = -1, time.monotonic()
    while time.monotonic() < deadline:
        try:
            busy = store.inbox_waiting() + store.outbox_waiting()
        except Exception:  # noqa: BLE001 - locked for a moment
            busy = 1
        now_calls = len(slack.calls())
        if now_calls != calls or busy:
            calls, quiet_since = now_calls, time.monotonic()
        elif time.monotonic() - quiet_since >= QUIET_SECONDS:
            return True
        time.sleep(0.5)
    return False


# --------------------------------------------------------------------------- counting


def count(row: Row, planned: list[Sent], store: Store, slack: SlackDouble) -> dict:
    checkins, dones = store.checkins(), store.dones()
    by_kind: dict[str, Counter] = {kind: Counter() for kind in KINDS}
    lost, twice = [], []
    for sent in planned:
        applied = (checkins if sent.kind in CHECKIN_KINDS else dones).get(sent.target, 0)
        tally = by_kind[sent.kind]
        tally["sent"] += 1
        tally["acknowledged"] += sent.acknowledged
        tally["applied"] += applied > 0
        if sent.acknowledged and applied == 0:
            tally["lost_after_ack"] += 1
            lost.append(asdict(sent) | {"payload": None})
        if applied > 1:
            tally["applied_twice"] += 1
            twice.append(asdict(sent) | {"payload": None, "applied": applied})
        if not sent.acknowledged and applied:
            tally["applied_without_ack"] += 1
    posted_twice = duplicated_posts(slack.calls(), store.outbox())
    total = Counter()
    for tally in by_kind.values():
        total.update(tally)
    return {
        "row": row.name,
        "fault": row.title,
        "sent": total["sent"],
        "acknowledged": total["acknowledged"],
        "lost_after_ack": total["lost_after_ack"],
        "applied_twice": total["applied_twice"],
        "applied_without_ack": total["applied_without_ack"],
        "posts_twice": sum(post["extra"] for post in posted_twice),
        "by_kind": {kind: dict(tally) for kind, tally in by_kind.items()},
        "lost": lost[:20],
        "twice": twice[:20],
        "posted_twice": posted_twice[:20],
        "config": asdict(row),
    }


POSTS = ("chat.postMessage", "chat.postEphemeral")


def post_key(method: str, args: dict, path: str = "") -> str:
    """What a person sees of a post: where, in which thread, the text, blocks and metadata."""
    if method == "response_url":
        return json.dumps([method, path, args], sort_keys=True, default=str)
    shown = [method, args.get("channel"), args.get("user"), args.get("thread_ts"), args.get("text"), args.get("blocks"), args.get("metadata")]
    return json.dumps(shown, sort_keys=True, default=str)


def duplicated_posts(calls, outbox: list[tuple[str, dict]]) -> list[dict]:
    """Posts Slack showed more often than okrbot meant to: more deliveries of the same post
    than outbox rows holding it (two check-ins may well announce the same "10% → 10%"),
    and any answer on one response_url given twice."""
    meant = Counter(post_key(method, payload) for method, payload in outbox if method in POSTS)
    shown: Counter = Counter()
    for call in calls:
        if call.method == "response_url" and 200 <= call.status < 300:
            shown[post_key(call.method, call.args, call.path)] += 1
        elif call.method in POSTS and call.delivered:
            shown[post_key(call.method, call.args)] += 1
    doubled = []
    for key, times in shown.items():
        extra = times - max(1, meant.get(key, 0))
        if extra > 0:
            post = json.loads(key)
            doubled.append({"extra": extra, "times": times, "meant": meant.get(key, 0), "post": [str(part)[:160] for part in post[:5]]})
    return doubled


# --------------------------------------------------------------------------- main


HEADER = ("fault", "sent", "acknowledged", "lost after ack", "applied twice", "posts twice", "applied without ack")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--quick", action="store_true", help="a quarter of the requests, one kill per row")
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--rows", default="", help="comma-separated row names (default: all for the backend)")
    args = parser.parse_args(argv)
    chosen = [r for r in rows(args.quick) if not r.postgres_only or args.backend == "postgresql"]
    if args.rows:
        wanted = set(args.rows.split(","))
        chosen = [r for r in chosen if r.name in wanted]
    print(f"seed {args.seed}; backend {args.backend}; load average {load_average()}", flush=True)
    if args.backend == "postgresql":
        ensure_pg_database()
    results = []
    workdir = Path(tempfile.mkdtemp(prefix="okrbot-faults-"))
    try:
        for row in chosen:
            print(f"- {row.name}: {row.requests} requests at {row.rate:g}/s …", flush=True)
            result = run_row(row, args.backend, args.seed, workdir)
            results.append(result)
            print(f"  {_line(result)}  ({'; '.join(result['events'][1:]) or 'no kills'})", flush=True)
    finally:
        if os.environ.get("OKRBOT_FAULTS_KEEP"):  # look at the databases afterwards
            print(f"databases kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    if args.rows:  # a re-run of some rows replaces those rows of the last full run
        results = _merged(RESULTS / f"faults_{args.backend}.json", results)
    print()
    print(table([_cells(r) for r in results], HEADER))
    command = "python -m bench.faults" + (" --backend postgresql" if args.backend == "postgresql" else "") + (" --quick" if args.quick else "") + (
        f" --seed {args.seed}" if args.seed != 17 else ""
    ) + (f" --rows {args.rows}" if args.rows else "")
    path = write_result(f"faults_{args.backend}" + ("_quick" if args.quick else ""), {**stamp(), "command": command, "load_average_at_end": load_average(), "rows": results})
    print(f"\nwritten to {path.relative_to(ROOT)}")
    return 1 if any(r["lost_after_ack"] or r["applied_twice"] or r["posts_twice"] for r in results) else 0


def _merged(path: Path, fresh: list[dict]) -> list[dict]:
    if not path.exists():
        return fresh
    by_name = {row["row"]: row for row in fresh}
    earlier = json.loads(path.read_text(encoding="utf-8"))["rows"]
    merged = [by_name.pop(row["row"], row) for row in earlier]
    return merged + list(by_name.values())


def _cells(result: dict) -> tuple:
    return (
        result["fault"],
        result["sent"],
        result["acknowledged"],
        result["lost_after_ack"],
        result["applied_twice"],
        result["posts_twice"],
        result["applied_without_ack"],
    )


def _line(result: dict) -> str:
    return (
        f"sent {result['sent']} at {result['achieved_rate']}/s, acknowledged {result['acknowledged']}, lost after ack {result['lost_after_ack']}, "
        f"applied twice {result['applied_twice']}, posts twice {result['posts_twice']}, handed back {result['handed_back']}, settled {result['settled']}"
    )


if __name__ == "__main__":
    raise SystemExit(main())
