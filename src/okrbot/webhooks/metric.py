"""/webhooks/metric: a KR's number from where it lives (a dbt job, a dashboard, a script):
`{"kr": "KR-3", "value": 42, "at": "2026-12-01T10:00:00Z", "source": "dbt", "delivery": "…"}`,
signed like /webhooks/work."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from okrbot.config import Settings
from okrbot.domain.commands import Kind
from okrbot.domain.ids import parse_ref
from okrbot.webhooks.shape import Event, NumberMoved, Refused, Request, body_digest, json_object
from okrbot.webhooks.work import verify_okrbot_signature

FIX = 'Send a JSON object such as {"kr": "KR-3", "value": 42, "at": "2026-12-01T10:00:00Z", "source": "dbt", "delivery": "run-81"}.'
SOURCE_LIMIT = 32
# Clocks drift; a reading from further ahead than this is a mistake, not news.
FUTURE_SLACK = timedelta(minutes=5)


def verify(request: Request, secret: str, settings: Settings) -> None:
    verify_okrbot_signature(request, secret, "metric")


def parse(request: Request) -> Event:
    payload = json_object(request.body, FIX)
    return reading(payload, now=datetime.now(UTC), delivery=_delivery(payload) or body_digest(request.body))


def reading(row: dict, *, now: datetime, delivery: str) -> NumberMoved:
    """A metric reading from a delivery's JSON or an import's CSV row (values as text there)."""
    ref = parse_ref(str(row.get("kr") or ""))
    if ref is None or ref.kind is not Kind.KR:
        raise Refused(400, f'kr must look like "KR-3". {FIX}')
    return NumberMoved(
        kr=ref.number,
        value=_value(row.get("value")),
        at=_at(row.get("at"), now),
        source=_source(row.get("source")),
        delivery=delivery,
        team=row.get("team") if isinstance(row.get("team"), str) and row.get("team") else None,
    )


def _value(value: object) -> float | bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("yes", "true", "no", "false"):
            return text in ("yes", "true")
        try:
            value = float(text.replace(",", ""))
        except ValueError:
            raise Refused(400, f"value must be a number (or yes/no for a yes/no KR), not {value!r}.") from None
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        raise Refused(400, "value must be a number (or yes/no for a yes/no KR).")
    return float(value)


def _at(value: object, now: datetime) -> datetime | None:
    if value in (None, ""):
        return None  # now
    try:
        at = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError:
        raise Refused(400, f'at must be an ISO 8601 time such as "2026-12-01T10:00:00Z", not {value!r}.') from None
    if at.tzinfo is None:
        raise Refused(400, f'at needs a time zone, such as "2026-12-01T10:00:00Z" (UTC), not {value!r}.')
    at = at.astimezone(UTC)
    if at > now + FUTURE_SLACK:
        raise Refused(400, f"at ({value}) is in the future; send the time the value was measured.")
    return at


def _source(value: object) -> str:
    text = str(value).strip() if isinstance(value, (str, int)) and str(value).strip() else "feed"
    if not text.isprintable() or len(text) > SOURCE_LIMIT:
        raise Refused(400, f"source must be a short name such as \"dbt\" (at most {SOURCE_LIMIT} characters).")
    return text


def _delivery(payload: dict) -> str | None:
    delivery = payload.get("delivery")
    return str(delivery) if isinstance(delivery, (str, int)) and not isinstance(delivery, bool) and str(delivery) else None
