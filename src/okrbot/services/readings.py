"""Readings: a KR's number as measured somewhere else (a metric feed, a CSV import).

One reading is one check-in by its source. Readings may arrive late or out of
order: one older than the KR's newest check-in is kept in the history but does
not become the current value (services/checkins.py).
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from okrbot.domain.commands import Kind
from okrbot.domain.ids import parse_ref
from okrbot.services.checkins import CheckinOutcome, record_checkin
from okrbot.services.context import Actor
from okrbot.services.errors import Invalid, OkrbotError
from okrbot.store.events import claim_event

SOURCE_LIMIT = 32
# Clocks drift; a reading from further ahead than this is a mistake, not news.
FUTURE_SLACK = timedelta(minutes=5)
CSV_COLUMNS = ("kr", "value", "at", "source")


@dataclass(frozen=True)
class Reading:
    kr: int
    value: float | bool
    at: datetime | None  # None: now
    source: str
    team: str | None = None  # for the shared URL, where the body names the workspace


def parse_reading(row: dict, *, now: datetime) -> Reading:
    """A reading from a delivery's JSON or a CSV row (all text there); Invalid says what is wrong."""
    ref = parse_ref(str(row.get("kr") or ""))
    if ref is None or ref.kind is not Kind.KR:
        raise Invalid(f'kr must look like "KR-3", not {str(row.get("kr") or "")[:40]!r}.')
    team = row.get("team")
    return Reading(
        kr=ref.number,
        value=_value(row.get("value")),
        at=_at(row.get("at"), now),
        source=_source(row.get("source")),
        team=team if isinstance(team, str) and team else None,
    )


def record_reading(session: Session, actor: Actor, reading: Reading) -> CheckinOutcome:
    """A check-in by the reading's source, dated when it was measured."""
    actor = replace(actor, user_id=reading.source)
    return record_checkin(session, actor, reading.kr, reading.value, at=reading.at)


@dataclass
class ImportReport:
    recorded: int = 0
    current: int = 0
    repeated: int = 0  # rows imported before

    def summary(self) -> str:
        older = self.recorded - self.current
        return f"Imported {self.recorded} check-ins ({self.current} became current, {older} older kept in history); {self.repeated} already imported."


class ImportRefused(Exception):
    """Line-numbered problems; nothing was written."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def import_readings(session: Session, actor: Actor, text: str) -> ImportReport:
    """Every row of a CSV (kr,value,at,source) as a check-in, or none: on any problem this
    raises ImportRefused naming each bad line, and the caller's unit of work rolls back.
    A row imported before (same KR, value, time and source) is not recorded again."""
    rows = csv.DictReader(io.StringIO(text))
    missing = [name for name in ("kr", "value", "at") if name not in (rows.fieldnames or [])]
    if missing:
        raise ImportRefused([f"line 1: the header needs the columns {', '.join(CSV_COLUMNS)} (source is optional); {', '.join(missing)} missing."])
    report, problems = ImportReport(), []
    for row in rows:
        line = rows.line_num
        try:
            if not (row.get("at") or "").strip():
                raise Invalid("at is empty: give the time each value was measured, like 2026-12-01T10:00:00Z.")
            reading = parse_reading({**row, "source": row.get("source") or "import"}, now=actor.now)
            with session.begin_nested():
                if not claim_event(session, _row_key(actor.team_id, reading), actor.team_id, actor.now):
                    report.repeated += 1
                    continue
                outcome = record_reading(session, actor, reading)
            report.recorded += 1
            report.current += outcome.current
        except OkrbotError as error:
            problems.append(f"line {line}: {error}")
    if problems:
        raise ImportRefused(problems)
    return report


def _row_key(team_id: str, reading: Reading) -> str:
    identity = f"{reading.kr}|{reading.value!r}|{reading.at.isoformat() if reading.at else ''}|{reading.source}"
    return f"import:{team_id}:" + hashlib.sha256(identity.encode()).hexdigest()


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
            raise Invalid(f"value must be a number (or yes/no for a yes/no KR), not {value[:40]!r}.") from None
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        raise Invalid("value must be a number (or yes/no for a yes/no KR).")
    return float(value)


def _at(value: object, now: datetime) -> datetime | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        at = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError:
        raise Invalid(f'at must be an ISO 8601 time such as "2026-12-01T10:00:00Z", not {str(value)[:40]!r}.') from None
    if at.tzinfo is None:
        raise Invalid(f'at needs a time zone, such as "2026-12-01T10:00:00Z" (UTC), not {str(value)[:40]!r}.')
    at = at.astimezone(UTC)
    if at > now + FUTURE_SLACK:
        raise Invalid(f"at ({str(value)[:40]}) is in the future; give the time the value was measured.")
    return at


def _source(value: object) -> str:
    text = str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip() else "feed"
    if not text.isprintable() or len(text) > SOURCE_LIMIT:
        raise Invalid(f'source must be a short name such as "dbt" (at most {SOURCE_LIMIT} characters).')
    return text
