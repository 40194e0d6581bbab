"""/webhooks/work: `{"initiative": "I-3" | "url": "…", "status": "done"}` from any script,
signed `X-Okrbot-Signature: sha256=<hex HMAC of the body>`."""

from __future__ import annotations

from okrbot.config import Settings
from okrbot.domain.commands import Kind
from okrbot.domain.ids import parse_ref
from okrbot.services.work import DONE, NOT_STARTED
from okrbot.adapters.webhooks.shape import Event, Refused, Request, WorkMoved, bad_signature, hmac_hex, json_object, same

FIX = 'Send a JSON object such as {"initiative": "I-3", "status": "done"}.'
_STATUSES = {"done": DONE, "todo": NOT_STARTED, "reopened": NOT_STARTED, "open": NOT_STARTED}


def verify(request: Request, secret: str, settings: Settings) -> None:
    verify_okrbot_signature(request, secret, "work")


def verify_okrbot_signature(request: Request, secret: str, where: str) -> None:
    if not same("sha256=" + hmac_hex(secret, request.body), request.header("x-okrbot-signature")):
        raise bad_signature(where)


def parse(request: Request) -> Event:
    payload = json_object(request.body, FIX)
    status = _STATUSES.get(str(payload.get("status", "done")))
    if status is None:
        raise Refused(400, 'status must be "done" or "todo".')
    number = None
    if payload.get("initiative") is not None:
        ref = parse_ref(str(payload["initiative"]))
        if ref is None or ref.kind is not Kind.INITIATIVE:
            raise Refused(400, 'initiative must look like "I-3".')
        number = ref.number
    elif not isinstance(payload.get("url"), str):
        raise Refused(400, 'Send {"initiative": "I-3"} or {"url": "https://…"} with "status".')
    # Only an explicit delivery id makes a body a one-off: the same {"status": "done"}
    # must still work after a reopen. Without one, done-when-done is a no-op anyway.
    delivery = payload.get("delivery") or payload.get("id")
    return WorkMoved(
        status=status,
        actor="webhook",
        delivery=str(delivery) if isinstance(delivery, (str, int)) and str(delivery) else None,
        url=payload.get("url") if number is None else None,
        initiative=number,
        team=payload.get("team") if isinstance(payload.get("team"), str) else None,
    )
