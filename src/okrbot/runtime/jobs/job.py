"""A request as a worker runs it (read from the inbox), and the answer it gives."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class Route(str, Enum):
    SLACK = "slack"  # an HTTP request to /slack/events, signature already checked
    SOCKET = "socket"  # a Socket Mode envelope's payload
    GITHUB = "github"  # POST /webhooks/github (the worker checks its signature)
    WORK = "work"  # POST /webhooks/work (likewise)
    GITLAB = "gitlab"  # POST /webhooks/gitlab
    JIRA = "jira"  # POST /webhooks/jira
    LINEAR = "linear"  # POST /webhooks/linear
    METRIC = "metric"  # POST /webhooks/metric


# The header a webhook's path token is stored under in the inbox (the server sets it, over any sent).
TOKEN_HEADER = "x-okrbot-webhook-token"

# Each tool's deliveries: /webhooks/<tool> (the shared URL) and /webhooks/<tool>/<token> (a workspace's).
WEBHOOK_ROUTES: dict[str, Route] = {route.value: route for route in (Route.GITHUB, Route.GITLAB, Route.JIRA, Route.LINEAR, Route.WORK, Route.METRIC)}


@dataclass(frozen=True)
class Job:
    id: int
    route: Route
    body: Any  # bytes as received; a dict for Socket Mode payloads
    headers: dict[str, str] = field(default_factory=dict)
    query: str = ""
    answer_wanted: bool = False  # the sender waits for the Answer (it goes first in the queue)
    key: str = ""  # the idempotency key (store/inbox.py): units of work claim keys made from it
    token: str = ""  # a webhook URL's workspace token (/webhooks/<tool>/<token>)


@dataclass(frozen=True)
class Answer:
    job_id: int
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    # False for the answer sent the moment a listener acks (a modal closes while its
    # confirmation is still being posted); the job is finished when done is True.
    done: bool = True
