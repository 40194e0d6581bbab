"""Linear: an issue whose state type is `completed` is done (`canceled` is not), a
project completed is done; moved back to another state, they are reopened.

Signed with `Linear-Signature` (hex HMAC-SHA256 of the raw body); the body's
`webhookTimestamp` (ms) must be within a minute of now, so a captured delivery
cannot be replayed later.
"""

from __future__ import annotations

import time

from okrbot.config import Settings
from okrbot.domain.urls import is_url
from okrbot.services.work import DONE, NOT_STARTED
from okrbot.adapters.webhooks.shape import Event, Ignored, Refused, Request, WorkMoved, actor, bad_signature, body_digest, hmac_hex, json_object, object_at, same, text_at

FIX = "Linear sends JSON; check that this URL is the webhook's URL in Linear (Settings → API → Webhooks)."
TIMESTAMP_WINDOW_MS = 60_000
# Fields whose presence in `updatedFrom` means the state changed.
_STATE_FIELDS = {"Issue": ("stateId",), "Project": ("state", "statusId", "status", "completedAt", "canceledAt")}


def verify(request: Request, secret: str, settings: Settings) -> None:
    if not same(hmac_hex(secret, request.body), request.header("linear-signature")):
        raise bad_signature("linear (the webhook's signing secret in Linear)")
    stamp = json_object(request.body, FIX).get("webhookTimestamp")
    if not isinstance(stamp, int) or isinstance(stamp, bool) or abs(time.time() * 1000 - stamp) > TIMESTAMP_WINDOW_MS:
        raise Refused(401, "webhookTimestamp is missing or more than a minute from now: a replayed or delayed delivery is refused. Check this server's clock.")


def parse(request: Request) -> Event:
    payload = json_object(request.body, FIX)
    kind = payload.get("type")
    if kind not in _STATE_FIELDS or payload.get("action") not in ("create", "update"):
        return Ignored("event does not move work")
    changed = object_at(payload, "updatedFrom")
    if payload.get("action") == "update" and not any(field in changed for field in _STATE_FIELDS[kind]):
        return Ignored("the state did not change")
    state = _state_type(kind, object_at(payload, "data"))
    if state == "canceled":
        return Ignored("canceled is not done")
    url = payload.get("url") or object_at(payload, "data").get("url")
    if not state or not isinstance(url, str) or not is_url(url):
        return Ignored("the event names no state or link")
    return WorkMoved(
        status=DONE if state == "completed" else NOT_STARTED,
        actor=actor("linear", text_at(payload, "actor", "name")),
        delivery=request.header("linear-delivery") or body_digest(request.body),
        url=url,
    )


def _state_type(kind: str, data: dict) -> str:
    if kind == "Issue":
        return text_at(data, "state", "type")
    # Projects: today's `status` object, or the older plain `state` text.
    return text_at(data, "status", "type") or text_at(data, "state")
