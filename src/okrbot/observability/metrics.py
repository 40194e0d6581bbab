"""Prometheus metrics (`GET /metrics`, OKRBOT_METRICS=on).

Counts are kept where they happen: the server counts the requests it acknowledges and
how long their answers took; the worker processes count their Slack API calls and the
messages they send. Under `okrbot serve` every process writes its counts to files in
one directory (prometheus_client's multiprocess mode, PROMETHEUS_MULTIPROC_DIR), which
the server reads at scrape time. Levels that live in the database (the outbox backlog)
are read from it at scrape time, so every replica reports the same truth and nothing
has to be kept in step. Add one with `DATABASE_GAUGES.append(DatabaseGauge(...))`, or, for a level
kept elsewhere (the inbox), pass `levels=[Level(...)]` to ScrapeTimeCollector in runtime/server.py.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import func
from sqlmodel import Session, col, select

from okrbot.observability.multiprocess import MULTIPROCESS_DIR
from okrbot.store.db import Database
from okrbot.store.models import OutboundMessage
from okrbot.store.types import utcnow

log = logging.getLogger("okrbot.metrics")

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# Ack: Slack's limit is 3 s, a healthy ack takes milliseconds. Answer: up to the server's 30 s wait.
ACK_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 3.0, 5.0)
ANSWER_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

# Counters live in this registry (one process) or in the multiprocess files (serve).
COUNTS = CollectorRegistry(auto_describe=True)

requests_total = Counter(
    "okrbot_requests", "Requests received, by kind (command, block_actions, event:app_mention, webhook:github…) and outcome.",
    ["kind", "outcome"], registry=COUNTS,
)
ack_seconds = Histogram(
    "okrbot_ack_seconds", "From receiving a request to acknowledging it (the HTTP response or the Socket Mode ack).",
    ["route"], buckets=ACK_BUCKETS, registry=COUNTS,
)
answer_seconds = Histogram(
    "okrbot_answer_seconds", "From receiving a request to its work being done (or its answer being ready, for modals).",
    ["route"], buckets=ANSWER_BUCKETS, registry=COUNTS,
)
webhook_deliveries_total = Counter(
    "okrbot_webhook_deliveries", "Webhook deliveries, by source (github, work) and outcome.",
    ["source", "outcome"], registry=COUNTS,
)
slack_api_calls_total = Counter(
    "okrbot_slack_api_calls", "Slack Web API calls, by method and HTTP status (429: rate limited; no_answer: no response).",
    ["method", "status"], registry=COUNTS,
)
messages_sent_total = Counter(
    "okrbot_messages_sent", "Outbox messages Slack accepted, by kind (nudge, nudge_reminder, review_digest, reply…).",
    ["kind"], registry=COUNTS,
)


def outcome_of(status: int | None) -> str:
    """A request's outcome from the HTTP status it was (or would have been) answered with."""
    if status is None:
        return "timeout"
    if status < 400:
        return "ok"
    if status in (401, 403):
        return "refused"
    if status < 500:
        return "invalid"
    return "failed"


# ---------------------------------------------------------------- scrape-time levels


@dataclass(frozen=True)
class DatabaseGauge:
    """A gauge read from the database at scrape time: `read(session, now)` gives its value."""

    name: str
    documentation: str
    read: Callable[[Session, datetime], float]


def outbox_backlog(session: Session, now: datetime) -> float:
    return session.exec(select(func.count()).select_from(OutboundMessage).where(col(OutboundMessage.status).in_(_UNSENT))).one()


def outbox_oldest_age(session: Session, now: datetime) -> float:
    oldest = session.exec(select(func.min(OutboundMessage.created_at)).where(col(OutboundMessage.status).in_(_UNSENT))).one()
    if oldest is None:
        return 0.0
    if oldest.tzinfo is None:  # SQLite hands back naive UTC
        oldest = oldest.replace(tzinfo=now.tzinfo)
    return max(0.0, (now - oldest).total_seconds())


_UNSENT = ("pending", "sending", "posting")

DATABASE_GAUGES: list[DatabaseGauge] = [
    DatabaseGauge("okrbot_outbox_backlog", "Outbox messages not sent yet (waiting, being sent, or retrying).", outbox_backlog),
    DatabaseGauge("okrbot_outbox_oldest_age_seconds", "Age of the oldest outbox message not sent yet (0 when none).", outbox_oldest_age),
]


@dataclass(frozen=True)
class Level:
    """A gauge read at scrape time from anything but the main database (e.g. the inbox:
    `Level("okrbot_inbox_backlog", "…", lambda: dispatcher.inbox.backlog().waiting)`)."""

    name: str
    documentation: str
    read: Callable[[], float]


class ScrapeTimeCollector:
    """Levels read when Prometheus scrapes: the database gauges, the worker count, `levels`."""

    def __init__(self, db: Database, workers: Callable[[], tuple[int, int]], levels: Sequence[Level] = ()) -> None:
        self.db, self.workers, self.levels = db, workers, list(levels)

    def collect(self) -> Iterator[Metric]:
        up, total = self.workers()
        workers = GaugeMetricFamily("okrbot_workers", "Worker processes, by state (up: taking requests; configured).", labels=["state"])
        workers.add_metric(["up"], up)
        workers.add_metric(["configured"], total)
        yield workers
        try:
            with self.db.session_scope(read_only=True) as session:
                now = utcnow()
                values = [(gauge, float(gauge.read(session, now))) for gauge in DATABASE_GAUGES]
        except Exception as error:  # noqa: BLE001 - a scrape shows the database is down; it does not fail
            log.warning("metrics: the database could not be read (%s)", error.__class__.__name__)
            values = []
        up_metric = GaugeMetricFamily("okrbot_database_up", "1 when the database answered this scrape.")
        up_metric.add_metric([], 1.0 if values or not DATABASE_GAUGES else 0.0)
        yield up_metric
        for gauge, value in values:
            yield GaugeMetricFamily(gauge.name, gauge.documentation, value=value)
        for level in self.levels:
            try:
                value = float(level.read())
            except Exception as error:  # noqa: BLE001 - left out of this scrape, which still answers
                log.warning("metrics: %s could not be read (%s)", level.name, error.__class__.__name__)
                continue
            yield GaugeMetricFamily(level.name, level.documentation, value=value)


class _Registered:
    def __init__(self, collect: Callable[[], Iterable[Metric]]) -> None:
        self.collect = collect


def scrape(collector: ScrapeTimeCollector) -> bytes:
    """The text exposition of every metric, as `GET /metrics` returns it."""
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get(MULTIPROCESS_DIR):
        MultiProcessCollector(registry)  # every process's counts, the dead ones' included
    else:
        registry.register(_Registered(COUNTS.collect))
    registry.register(collector)
    return generate_latest(registry)
