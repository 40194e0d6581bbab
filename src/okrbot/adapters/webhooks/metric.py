"""/webhooks/metric: a KR's number from where it lives (a dbt job, a dashboard, a script):
`{"kr": "KR-3", "value": 42, "at": "2026-12-01T10:00:00Z", "source": "dbt", "delivery": "…"}`,
signed like /webhooks/work."""

from __future__ import annotations

from datetime import UTC, datetime

from okrbot.config import Settings
from okrbot.services.errors import Invalid
from okrbot.services.readings import parse_reading
from okrbot.adapters.webhooks.shape import Event, NumberMoved, Refused, Request, body_digest, json_object
from okrbot.adapters.webhooks.work import verify_okrbot_signature

FIX = 'Send a JSON object such as {"kr": "KR-3", "value": 42, "at": "2026-12-01T10:00:00Z", "source": "dbt", "delivery": "run-81"}.'


def verify(request: Request, secret: str, settings: Settings) -> None:
    verify_okrbot_signature(request, secret, "metric")


def parse(request: Request) -> Event:
    payload = json_object(request.body, FIX)
    try:
        reading = parse_reading(payload, now=datetime.now(UTC))
    except Invalid as error:
        raise Refused(400, f"{error} {FIX}") from None
    # Without a delivery id the same body is the same delivery.
    delivery = payload.get("delivery")
    given = isinstance(delivery, (str, int)) and not isinstance(delivery, bool) and str(delivery)
    return NumberMoved(reading=reading, delivery=str(delivery) if given else body_digest(request.body))
