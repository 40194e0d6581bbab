"""What every tool's delivery becomes — work moved, a number moved, or nothing to do —
and the checks they share (HMAC, JSON bodies, refusals that name the fix)."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass

from okrbot.services.readings import Reading


@dataclass(frozen=True)
class Request:
    body: bytes
    headers: dict[str, str]  # names in lower case, as the server hands them on

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")


@dataclass(frozen=True)
class WorkMoved:
    """A tracker says this work is done, or not done any more."""

    status: str  # services.work.DONE or NOT_STARTED
    actor: str  # shown in the announcement, e.g. "github:alice"
    delivery: str | None  # the tool's delivery id (the same on a redelivery); None: no dedupe
    url: str | None = None
    initiative: int | None = None  # I-n, from /webhooks/work
    team: str | None = None  # /webhooks/work's "team" on the shared URL


@dataclass(frozen=True)
class NumberMoved:
    """A feed says a KR's number is now this (as of when it was measured)."""

    reading: Reading
    delivery: str


@dataclass(frozen=True)
class Ignored:
    reason: str


Event = WorkMoved | NumberMoved | Ignored


class Refused(Exception):
    """A delivery okrbot will not apply: the status to answer and a message naming the fix."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def hmac_hex(secret: str, body: bytes, digest: str = "sha256") -> str:
    return hmac.new(secret.encode(), body, getattr(hashlib, digest)).hexdigest()


def same(expected: str, given: str) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), given.strip().encode())


def body_digest(body: bytes) -> str:
    """A delivery id for tools that send none: the same body is the same delivery."""
    return hashlib.sha256(body).hexdigest()


def bad_signature(where: str) -> Refused:
    return Refused(401, f"Bad or missing signature. Set the webhook's secret to the one `/okr webhooks` shows for {where} (or OKRBOT_WEBHOOK_SECRET on the shared URL).")


def json_object(body: bytes, fix: str) -> dict:
    """The body as a JSON object, or a 400 that says what to change at the sender."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise Refused(400, f"The body is not JSON. {fix}") from None
    if not isinstance(payload, dict):
        raise Refused(400, f"The body is JSON but not an object. {fix}")
    return payload


def object_at(payload: dict, *path: str) -> dict:
    """payload[path[0]][path[1]]…, or {} where the body has another shape."""
    value: object = payload
    for name in path:
        value = value.get(name) if isinstance(value, dict) else None
    return value if isinstance(value, dict) else {}


def text_at(payload: dict, *path: str) -> str:
    *parents, name = path
    value = object_at(payload, *parents).get(name) if parents else payload.get(name)
    return value if isinstance(value, str) else ""


def actor(tool: str, name: str) -> str:
    """`github:alice`, cut to the 32 characters a change's actor holds."""
    return f"{tool}:{name}"[:32] if name else tool
