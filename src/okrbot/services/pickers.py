"""Searchable menus in forms: the KRs and objectives a person may see, by id or by words.

Answers Slack's block_suggestion within its 3 seconds at any workspace size: one indexed
query per search, at most Slack's 100 options.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, or_, select

from okrbot.domain.commands import Kind
from okrbot.domain.ids import parse_ref
from okrbot.services.context import Actor
from okrbot.services.okrs import visible
from okrbot.store.models import KeyResult, Objective

MOST_OPTIONS = 100  # Slack shows at most 100 options
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class Choice:
    ref: str  # KR-3 or O-2: the option's value, what a submitted form reads
    label: str  # what the person sees in the menu


def search_krs(session: Session, actor: Actor, typed: str, *, limit: int = MOST_OPTIONS) -> list[Choice]:
    """Active KRs of active objectives the actor may see: an id (KR-3, kr3, 3) or words of
    the KR's or its objective's title; nothing typed: the newest first."""
    query = (
        select(KeyResult.number, KeyResult.title, Objective.number)
        .join(Objective, Objective.id == KeyResult.objective_id)
        .where(KeyResult.team_id == actor.team_id, KeyResult.status == "active", Objective.status == "active")
        # visible() correlates on Objective: kept in a subquery of its own, apart from KeyResult
        .where(col(KeyResult.objective_id).in_(select(Objective.id).where(Objective.team_id == actor.team_id, visible(actor, session))))
    )
    number = _typed_number(typed, Kind.KR)
    if number is not None:
        query = query.where(KeyResult.number == number)
    else:
        for word in _words(typed):
            query = query.where(or_(_contains(KeyResult.title, word), _contains(Objective.title, word)))
    rows = session.exec(query.order_by(col(KeyResult.number).desc()).limit(limit)).all()
    return [Choice(f"KR-{kr}", f"KR-{kr} {title} (O-{objective})") for kr, title, objective in rows]


def search_objectives(session: Session, actor: Actor, typed: str, *, limit: int = MOST_OPTIONS) -> list[Choice]:
    """Active objectives the actor may see, by id (O-2, o2, 2) or words of the title."""
    query = select(Objective.number, Objective.title, Objective.period).where(
        Objective.team_id == actor.team_id, Objective.status == "active", visible(actor, session)
    )
    number = _typed_number(typed, Kind.OBJECTIVE)
    if number is not None:
        query = query.where(Objective.number == number)
    else:
        for word in _words(typed):
            query = query.where(_contains(Objective.title, word))
    rows = session.exec(query.order_by(col(Objective.number).desc()).limit(limit)).all()
    return [Choice(f"O-{number}", f"O-{number} {title} ({period})") for number, title, period in rows]


def _typed_number(typed: str, kind: Kind) -> int | None:
    """KR-3, kr3 or a bare 3 (for objectives O-3, o3, 3): the id asked for."""
    ref = parse_ref(typed.strip())
    if ref is not None:
        return ref.number if ref.kind is kind else -1  # another kind's id matches nothing
    return int(typed.strip()) if typed.strip().isdigit() else None


def _words(typed: str) -> list[str]:
    return [word.lower() for word in _WORD.findall(typed)][:8]


def _contains(column, word: str):
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.lower(column).like(f"%{escaped}%", escape="\\")
