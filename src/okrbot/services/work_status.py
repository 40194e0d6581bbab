"""Browse from the work: an initiative with every KR and objective it serves."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlmodel import Session, col, select

from okrbot.domain.commands import WorkRef
from okrbot.services.context import Actor
from okrbot.services.okrs import may_see
from okrbot.services.summaries import ObjectiveSummary, summarise
from okrbot.services.work import find_initiative
from okrbot.store.models import Initiative, KeyResult, KrLink, Objective


@dataclass(frozen=True)
class WorkStatus:
    initiative: Initiative
    # The objectives it serves, each with only the KRs the work is linked to.
    objectives: list[ObjectiveSummary]
    hidden: int  # linked KRs of private objectives this person may not see


def work_status(session: Session, actor: Actor, work: WorkRef) -> WorkStatus:
    initiative = find_initiative(session, actor, work)
    linked_ids = set(session.exec(select(KrLink.kr_id).where(KrLink.initiative_id == initiative.id)).all())
    if not linked_ids:
        return WorkStatus(initiative, [], 0)
    objective_ids = set(session.exec(select(KeyResult.objective_id).where(col(KeyResult.id).in_(linked_ids))).all())
    objectives = session.exec(select(Objective).where(col(Objective.id).in_(objective_ids)).order_by(Objective.number)).all()
    seen = [objective for objective in objectives if may_see(session, actor, objective)]
    summaries = summarise(session, seen, actor, include_archived_krs=True)
    served = [replace(summary, krs=tuple(kr for kr in summary.krs if kr.id in linked_ids)) for summary in summaries]
    shown = sum(len(summary.krs) for summary in served)
    return WorkStatus(initiative, served, len(linked_ids) - shown)
