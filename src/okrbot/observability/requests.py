"""Each request's kind, workspace and idempotency key, for the metrics and the one log
line per request.

The server times the acknowledgement (one histogram observation, no parsing); the worker
that did the work counts the request and writes its log line when the work is done, with
the time since the server received it (a request is in the inbox between the two).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar
from urllib.parse import parse_qs

from okrbot.runtime.jobs.job import Job, Route
from okrbot.observability import metrics
from okrbot.store.types import utcnow

log = logging.getLogger("okrbot.requests")



class _Response(Protocol):
    status_code: int


R = TypeVar("R", bound=_Response)
T = TypeVar("T")

_LABEL = re.compile(r"[^a-z0-9_:.]")


@dataclass(frozen=True)
class RequestInfo:
    kind: str  # command, block_actions, view_submission, event:app_mention, webhook:github…
    team: str  # the Slack workspace, "" when the request names none
    key: str  # what the body names: event_id, trigger_id, X-GitHub-Delivery, or a hash of it


def describe(route: Route, body: object, headers: dict[str, str]) -> RequestInfo:
    if route in (Route.GITHUB, Route.WORK):
        raw = body if isinstance(body, bytes) else b""
        key = headers.get("x-github-delivery") or _body_key(raw)
        return RequestInfo(f"webhook:{route.value}", "", key)
    document = body if isinstance(body, dict) else _slack_document(body, headers.get("content-type", ""))
    return _from_slack(document)


def _slack_document(body: object, content_type: str) -> dict:
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else str(body)
        if "application/json" in content_type:
            document = json.loads(text)
            return document if isinstance(document, dict) else {}
        form = {name: values[0] for name, values in parse_qs(text, keep_blank_values=True).items()}
        if "payload" in form:
            payload = json.loads(form["payload"])
            return payload if isinstance(payload, dict) else {}
        return form
    except (ValueError, UnicodeDecodeError):
        return {}


def _from_slack(document: dict) -> RequestInfo:
    """The same fields whether the request came over HTTP or Socket Mode."""
    team = document.get("team_id") or document.get("team")
    if isinstance(team, dict):
        team = team.get("id")
    if "command" in document:
        kind = "command"
    elif document.get("type") == "event_callback":
        event = document.get("event")
        kind = f"event:{event.get('type') if isinstance(event, dict) else ''}"
    else:
        kind = str(document.get("type") or "other")
    key = document.get("event_id") or document.get("trigger_id") or ""
    return RequestInfo(_label(kind), str(team or ""), str(key))


def _label(value: str) -> str:
    # Slack signed the request, but a label is a time series: keep it short and plain.
    return _LABEL.sub("_", value.lower())[:48] or "other"


def _body_key(raw: bytes) -> str:
    return "sha256:" + hashlib.sha256(raw).hexdigest()[:16]


class AckTimer:
    """The server's side: how long each acknowledgement took, and the requests refused
    before they reached the inbox (their content is not trusted, so it is not read)."""

    def __init__(self, *, metrics_on: bool) -> None:
        self.metrics_on = metrics_on

    def acked(self, route: Route, received: float, response: T) -> T:
        """Call with the response that acknowledges a request (`received`: time.perf_counter()
        at arrival), as it is returned or sent."""
        if self.metrics_on:
            metrics.ack_seconds.labels(route.value).observe(time.perf_counter() - received)
        return response

    def refused(self, route: Route, received: float, response: R) -> R:
        outcome = metrics.outcome_of(response.status_code)
        if self.metrics_on:
            metrics.requests_total.labels(f"refused:{route.value}", outcome).inc()
        log.info("request kind=refused:%s outcome=%s status=%d", route.value, outcome, response.status_code)
        return self.acked(route, received, response)


class RequestLedger:
    """The worker's side: each request it claimed, until its work is done; then one count,
    one answer-latency observation (from when the server received it) and one log line."""

    def __init__(self) -> None:
        self._open: dict[int, tuple[Job, datetime]] = {}
        self._lock = threading.Lock()

    def claimed(self, job: Job, received_at: datetime) -> None:
        with self._lock:
            self._open[job.id] = (job, received_at)

    def finished(self, job_id: int, status: int | None) -> None:
        with self._lock:
            opened = self._open.pop(job_id, None)
        if opened is None:
            return
        job, received_at = opened
        elapsed = max(0.0, (utcnow() - received_at).total_seconds())
        info = describe(job.route, job.body, job.headers)
        outcome = metrics.outcome_of(status)
        metrics.requests_total.labels(info.kind, outcome).inc()
        metrics.answer_seconds.labels(job.route.value).observe(elapsed)
        if job.route in (Route.GITHUB, Route.WORK):
            metrics.webhook_deliveries_total.labels(job.route.value, outcome).inc()
        log.info(
            "request key=%s kind=%s team=%s outcome=%s status=%s duration_ms=%.1f",
            job.key or "-", info.kind, info.team or "-", outcome, status if status is not None else "-", elapsed * 1000,
            extra={"request": {"key": job.key, "kind": info.kind, "team": info.team, "outcome": outcome, "status": status, "duration_ms": round(elapsed * 1000, 1)}},
        )
