"""Alignment roll-up: a parent objective's card lists the objectives aligned to it with
their progress. One the viewer may not see shows as "a private objective": its
progress counts, its title is not shown."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace

from sqlmodel import Session, col, select

from okrbot.services import okrs
from okrbot.services.context import Actor
from okrbot.services.summaries import AlignedChild, ObjectiveSummary, summarise
from okrbot.store.models import Objective


def with_children(session: Session, actor: Actor, parents: Sequence[ObjectiveSummary]) -> list[ObjectiveSummary]:
    """The summaries with their aligned (active) children, in at most five more queries."""
    if not parents:
        return list(parents)
    rows = session.exec(
        select(Objective, okrs.visible(actor, session))
        .where(
            Objective.team_id == actor.team_id,
            col(Objective.parent_id).in_([parent.id for parent in parents]),
            Objective.status == "active",
        )
        .order_by(Objective.number)
    ).all()
    if not rows:
        return list(parents)
    seen = {objective.id: bool(may_see) for objective, may_see in rows}
    by_parent: dict[int, list[AlignedChild]] = defaultdict(list)
    parent_of = {objective.id: objective.parent_id for objective, _ in rows}
    for child in summarise(session, [objective for objective, _ in rows], actor):
        shown = seen[child.id]
        by_parent[parent_of[child.id]].append(
            AlignedChild(
                number=child.number if shown else None,
                title=child.title if shown else None,
                progress=child.progress,
                health=child.health,
            )
        )
    return [replace(parent, children=tuple(by_parent.get(parent.id, ()))) for parent in parents]
