"""Carrying an objective into another period (`/okr carry O-n [KR-a …] [to <period>]`).

The new objective keeps the owner, team, alignment, privacy and description; each
chosen KR starts where it ended (same owner, target, weight, commitment), open
initiatives are linked to it again, done ones are not, and no check-in is copied.
Both sides keep the lineage (`carried_from_id`, unique), so carrying twice creates
nothing new: KRs not carried yet are added to the objective carried before.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from okrbot.domain.commands import Kind, Metric
from okrbot.domain.ids import kr_id, objective_id
from okrbot.domain.progress import clamp, kr_progress
from okrbot.services import okrs, periods, permissions
from okrbot.services.context import Actor
from okrbot.services.errors import Invalid
from okrbot.services.summaries import kr_state, linked_work
from okrbot.store.models import Initiative, KeyResult, KrLink, Objective
from okrbot.store.workspaces import allocate_number

DONE = "done"


@dataclass
class CarryOutcome:
    source: Objective
    target: Objective
    created_objective: bool
    carried: list[tuple[int, int]] = field(default_factory=list)  # (old KR number, new KR number)
    already: list[int] = field(default_factory=list)  # KR numbers carried before
    relinked: int = 0  # open initiatives linked again


def carry(session: Session, actor: Actor, number: int, kr_numbers: tuple[int, ...] = (), period_text: str | None = None) -> CarryOutcome:
    source = okrs.get_objective(session, actor, number)
    permissions.require_objective(actor, source, f"carry {objective_id(number)} over")
    source_period = periods.resolve(source.period, actor)
    target_period = str(periods.resolve(period_text, actor)) if period_text else str(source_period.next())
    if target_period == source.period:
        raise Invalid(f"{objective_id(number)} is already in {target_period}.", hint=f"Carry it into another period: `/okr carry {objective_id(number)} to {source_period.next()}`.")
    periods.require_open(session, actor.team_id, target_period, "carry objectives into it")
    periods.require_drafting_open(
        actor, target_period, f"carry {objective_id(number)} into it", instead=f"Type `/okr carry {objective_id(number)}` again then; nothing was carried."
    )
    krs = _chosen_krs(session, source, kr_numbers)

    target = session.exec(select(Objective).where(Objective.carried_from_id == source.id)).first()
    outcome = CarryOutcome(source=source, target=target or source, created_objective=target is None)
    if target is None:
        target = _copy_objective(session, actor, source, target_period)
        outcome.target = target
    carried_before = set(session.exec(select(KeyResult.carried_from_id).where(col(KeyResult.carried_from_id).in_([kr.id for kr in krs]))).all())
    for kr in krs:
        if kr.id in carried_before:
            outcome.already.append(kr.number)
            continue
        new = _copy_kr(session, actor, kr, target)
        outcome.carried.append((kr.number, new.number))
        outcome.relinked += _relink_open_work(session, actor, kr, new)
    session.flush()
    return outcome


def _chosen_krs(session: Session, source: Objective, numbers: tuple[int, ...]) -> list[KeyResult]:
    """The KRs named (they must be the objective's), or its active KRs that are not done."""
    active = session.exec(select(KeyResult).where(KeyResult.objective_id == source.id, KeyResult.status == "active").order_by(KeyResult.number)).all()
    if numbers:
        by_number = {kr.number: kr for kr in active}
        missing = [n for n in numbers if n not in by_number]
        if missing:
            shown = ", ".join(kr_id(n) for n in missing)
            raise Invalid(f"{shown} {'is' if len(missing) == 1 else 'are'} not an active KR of {objective_id(source.number)}.", hint=f"See its KRs with `/okr status {objective_id(source.number)}`.")
        return [by_number[n] for n in numbers]
    work = linked_work(session, [kr.id for kr in active])
    unfinished = [kr for kr in active if clamp(kr_progress(kr_state(kr, work.get(kr.id, [])))) < 1.0]
    if not unfinished:
        raise Invalid(
            f"Every KR of {objective_id(source.number)} is done, so there is nothing to carry over.",
            hint=f"To carry some anyway, name them: `/okr carry {objective_id(source.number)} KR-n`.",
        )
    return unfinished


def _copy_objective(session: Session, actor: Actor, source: Objective, period: str) -> Objective:
    target = Objective(
        team_id=actor.team_id,
        number=allocate_number(session, actor.team_id, Kind.OBJECTIVE),
        title=source.title,
        owner=source.owner,
        team_channel=source.team_channel,
        period=period,
        parent_id=source.parent_id,
        description=source.description,
        private=source.private,
        created_by=actor.user_id,
        created_at=actor.now,
        updated_at=actor.now,
        carried_from_id=source.id,
    )
    session.add(target)
    session.flush()
    return target


def _copy_kr(session: Session, actor: Actor, kr: KeyResult, target: Objective) -> KeyResult:
    measured = kr.metric in (Metric.NUMERIC, Metric.PERCENTAGE) and kr.direction != "maintain"
    start = kr.current if measured and kr.current is not None else kr.start
    new = KeyResult(
        team_id=actor.team_id,
        number=allocate_number(session, actor.team_id, Kind.KR),
        objective_id=target.id,
        title=kr.title,
        owner=kr.owner,
        metric=kr.metric,
        direction=kr.direction,
        keep=kr.keep,
        start=start,
        target=kr.target,
        # Where it ended is where it starts; maintain and yes/no KRs wait for their first check-in.
        current=start if measured else None,
        unit=kr.unit,
        weight=kr.weight,
        commitment=kr.commitment,
        created_at=actor.now,
        updated_at=actor.now,
        carried_from_id=kr.id,
    )
    if measured and start == kr.target:
        raise Invalid(f"{kr_id(kr.number)} already reached its target, so it has nothing left to move.", hint="Leave it out of the carry.")
    session.add(new)
    session.flush()
    return new


def _relink_open_work(session: Session, actor: Actor, old: KeyResult, new: KeyResult) -> int:
    links = session.exec(
        select(KrLink.initiative_id, KrLink.weight).join(Initiative, Initiative.id == KrLink.initiative_id).where(KrLink.kr_id == old.id, Initiative.status != DONE)
    ).all()
    session.add_all(KrLink(team_id=actor.team_id, initiative_id=initiative_id, kr_id=new.id, weight=weight, created_at=actor.now) for initiative_id, weight in links)
    return len(links)
