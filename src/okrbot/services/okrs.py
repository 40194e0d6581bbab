"""Use cases for objectives and key results: create, find, list, edit, archive."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import exists, func, or_, true
from sqlmodel import Session, col, select

from okrbot.domain.commands import Commitment, Direction, Keep, Kind, Metric
from okrbot.domain.ids import kr_id, objective_id
from okrbot.domain.text import clean_text
from okrbot.services import periods, permissions
from okrbot.services.context import Actor
from okrbot.services.errors import Invalid, NotFound, quoted
from okrbot.services.team_channels import member_channels
from okrbot.store.models import KeyResult, Objective
from okrbot.store.workspaces import allocate_number, ensure_workspace

TITLE_LIMIT = 500
UNIT_LIMIT = 32
DESCRIPTION_LIMIT = 3000
ID_LIMIT = 32  # Slack user and channel ids are about 11 characters; the columns hold 32
PRIVATE_HERE_HINT = "Ask me in a DM, or type `/okr` here: only you see its answers."


@dataclass(frozen=True)
class NewObjective:
    title: str
    owner: str
    team_channel: str | None = None
    period: str | None = None
    parent: int | None = None
    private: bool = False
    description: str = ""


@dataclass(frozen=True)
class NewKr:
    objective: int
    title: str
    metric: Metric
    direction: Direction
    owner: str
    start: float | None = None
    target: float | None = None
    unit: str | None = None
    keep: Keep | None = None
    weight: float = 1.0
    confidence: int | None = None
    commitment: Commitment | None = None


def period_or_current(text: str | None, actor: Actor) -> str:
    """A period's canonical name, read with the workspace's fiscal year; the current quarter for None."""
    if text is None:
        return str(periods.current(actor))
    if text == periods.NEXT:
        return str(periods.current(actor).next())
    return str(periods.resolve(text, actor))


def clean_title(title: str, *, field: str = "title") -> str:
    title = " ".join(clean_text(title).split())
    if not title:
        raise Invalid("The title is empty.", hint="Give it a title in quotes, e.g. \"Grow activation\".", field=field)
    if len(title) > TITLE_LIMIT:
        raise Invalid(f"The title is {len(title)} characters long; keep it under {TITLE_LIMIT}.", field=field)
    return title


def clean_id(value: str | None, *, field: str) -> str | None:
    """A user or channel id as stored (offline, a typed name): one word that fits its column."""
    if value is not None and (not value or len(value) > ID_LIMIT or any(c.isspace() for c in value)):
        what = "user" if field == "owner" else "channel"
        raise Invalid(f"{quoted(value, 40)} is not a Slack {what}.", hint=f"Pick the {what} from Slack's autocomplete.", field=field)
    return value


def clean_unit(unit: str | None) -> str | None:
    """A short unit on one line (`days`, `%`, `k€`); it is shown next to every value."""
    if unit is None:
        return None
    unit = " ".join(clean_text(unit).split())
    if len(unit) > UNIT_LIMIT:
        raise Invalid(f"The unit is {len(unit)} characters long; keep it under {UNIT_LIMIT}.", hint="Units are short: days, %, ms, €.", field="unit")
    return unit or None


def clean_description(text: str) -> str:
    text = clean_text(text, lines=True).strip()
    if len(text) > DESCRIPTION_LIMIT:
        raise Invalid(f"The description is {len(text)} characters long; keep it under {DESCRIPTION_LIMIT}.", field="description")
    return text


def create_objective(session: Session, actor: Actor, new: NewObjective) -> Objective:
    ensure_workspace(session, actor.team_id)
    period = period_or_current(new.period, actor)
    periods.require_drafting_open(actor, period)
    parent_id = _parent_id(session, actor, new.parent)
    objective = Objective(
        team_id=actor.team_id,
        number=allocate_number(session, actor.team_id, Kind.OBJECTIVE),
        title=clean_title(new.title),
        owner=clean_id(new.owner, field="owner"),
        team_channel=clean_id(new.team_channel, field="team"),
        period=period,
        parent_id=parent_id,
        private=new.private,
        description=clean_description(new.description),
        created_by=actor.user_id,
        created_at=actor.now,
        updated_at=actor.now,
    )
    session.add(objective)
    session.flush()
    return objective


def validate_kr_numbers(metric: Metric, direction: Direction, start: float | None, target: float | None) -> None:
    if metric in (Metric.NUMERIC, Metric.PERCENTAGE):
        if target is None:
            raise Invalid("A numeric KR needs a target.", hint='Type `from 45 to 25` or `keep above 99.9`.', field="target")
        if direction is not Direction.MAINTAIN and start is None:
            raise Invalid("A numeric KR needs a starting value.", hint="Type `from 45 to 25`.", field="start")


def create_kr(session: Session, actor: Actor, new: NewKr) -> KeyResult:
    objective = get_objective(session, actor, new.objective)
    require_active(objective)
    periods.require_open(session, actor.team_id, objective.period, f"add a KR to {objective_id(objective.number)}")
    validate_kr_numbers(new.metric, new.direction, new.start, new.target)
    if new.weight <= 0:
        raise Invalid("A KR's weight must be above 0.", hint="Type `weight 2`, or leave it out for 1.", field="weight")
    start, target = new.start, new.target
    if new.metric is Metric.BOOLEAN:
        start, target = 0.0, 1.0
    kr = KeyResult(
        team_id=actor.team_id,
        number=allocate_number(session, actor.team_id, Kind.KR),
        objective_id=objective.id,
        title=clean_title(new.title),
        owner=clean_id(new.owner, field="owner"),
        metric=new.metric.value,
        direction=new.direction.value,
        keep=new.keep.value if new.keep else None,
        start=start,
        target=target,
        # Numeric KRs start where they start; maintain and boolean KRs have no value until a check-in.
        current=start if new.metric in (Metric.NUMERIC, Metric.PERCENTAGE) else None,
        unit=clean_unit(new.unit),
        weight=new.weight,
        confidence=new.confidence,
        commitment=new.commitment.value if new.commitment else None,
        created_at=actor.now,
        updated_at=actor.now,
    )
    session.add(kr)
    session.flush()
    return kr


def require_active(objective: Objective) -> None:
    if objective.status != "active":
        raise Invalid(
            f"{objective_id(objective.number)} is archived.",
            hint="Create a new objective with `/okr objective add \"Title\"`.",
        )


def can_see(actor: Actor, objective: Objective, kr_owners: set[str] | frozenset[str] = frozenset()) -> bool:
    """Private objectives show only to their owner, their KRs' owners, the members of
    their team channel and admins; an answer read in a channel only to that channel's team."""
    if not objective.private:
        return True
    if actor.audience is not None:
        return objective.team_channel == actor.audience
    return (
        permissions.trusted(actor)
        or actor.user_id == objective.owner
        or actor.user_id in kr_owners
        or actor.in_team(objective.team_channel)
    )


def get_objective(session: Session, actor: Actor, number: int) -> Objective:
    objective = session.exec(
        select(Objective).where(Objective.team_id == actor.team_id, Objective.number == number)
    ).first()
    if objective is None or not may_see(session, actor, objective):
        raise _not_found(session, actor, objective, objective_id(number), "See your objectives with `/okr status`.")
    return objective


def _not_found(session: Session, actor: Actor, objective: Objective | None, ident: str, hint: str) -> NotFound:
    """There is none, or the actor may not see it here. Someone who could see it elsewhere
    (asking in a channel) is told where; nobody else learns that it exists."""
    if objective is not None and actor.audience is not None:
        alone = replace(actor, audience=None)
        if may_see(session, alone, objective):
            return NotFound(f"{ident} is private, so I won't show it in this channel.", hint=PRIVATE_HERE_HINT)
    return NotFound(f"There is no {ident}.", hint=hint)


def may_see(session: Session, actor: Actor, objective: Objective) -> bool:
    """can_see with the objective's KR owners looked up (only a private one needs them)."""
    return can_see(actor, objective, _kr_owners(session, objective))


def _kr_owners(session: Session, objective: Objective) -> set[str]:
    if not objective.private:
        return set()
    return set(session.exec(select(KeyResult.owner).where(KeyResult.objective_id == objective.id)).all())


def get_kr(session: Session, actor: Actor, number: int) -> KeyResult:
    kr = session.exec(select(KeyResult).where(KeyResult.team_id == actor.team_id, KeyResult.number == number)).first()
    if kr is None:
        raise NotFound(f"There is no {kr_id(number)}.", hint="See the KRs with `/okr status all`.")
    objective = session.get(Objective, kr.objective_id)
    if not may_see(session, actor, objective):
        raise _not_found(session, actor, objective, kr_id(number), "See the KRs with `/okr status all`.")
    return kr


def visible(actor: Actor, session: Session | None = None):
    """A filter for objectives the actor may see (with `session`, also the private ones of
    the team channels the actor is a member of)."""
    if actor.audience is not None:
        return or_(Objective.private.is_(False), Objective.team_channel == actor.audience)
    if permissions.trusted(actor):
        return true()
    clauses = [
        Objective.private.is_(False),
        Objective.owner == actor.user_id,
        exists().where(KeyResult.objective_id == Objective.id, KeyResult.owner == actor.user_id),
    ]
    channels = member_channels(session, actor) if session is not None else []
    if channels:
        clauses.append(col(Objective.team_channel).in_(channels))
    return or_(*clauses)


def objectives_in_period(session: Session, actor: Actor, period: str, *condition) -> list[Objective]:
    return list(session.exec(_in_period(session, select(Objective), actor, period, condition).order_by(Objective.number)).all())


def first_objectives_in_period(session: Session, actor: Actor, period: str, *condition, limit: int) -> tuple[list[Objective], int]:
    """The first `limit` of those objectives and how many there are in all, in one query
    (a list longer than a message can show is not loaded, whatever the workspace's size)."""
    total = func.count().over().label("total")
    rows = session.exec(_in_period(session, select(Objective, total), actor, period, condition).order_by(Objective.number).limit(limit)).all()
    return [row[0] for row in rows], (rows[0][1] if rows else 0)


def in_period(session: Session, query, actor: Actor, period: str, *condition):
    """`query` narrowed to the period's active objectives the actor may see (and `condition`)."""
    return _in_period(session, query, actor, period, condition)


def _in_period(session: Session, query, actor: Actor, period: str, condition):
    query = query.where(Objective.team_id == actor.team_id, Objective.period == period, Objective.status == "active")
    query = query.where(visible(actor, session))
    for clause in condition:
        query = query.where(clause)
    return query


def owned_by(user_id: str):
    """Objectives the user owns or owns a KR of."""
    return or_(
        Objective.owner == user_id,
        exists().where(KeyResult.objective_id == Objective.id, KeyResult.owner == user_id),
    )


def in_channel(channel_id: str):
    return Objective.team_channel == channel_id


def archive_objective(session: Session, actor: Actor, number: int) -> Objective:
    objective = get_objective(session, actor, number)
    permissions.require_objective(actor, objective, f"archive {objective_id(number)}")
    periods.require_open(session, actor.team_id, objective.period, f"archive {objective_id(number)}")
    if objective.status == "archived":
        raise Invalid(f"{objective_id(number)} is already archived.")
    objective.status = "archived"
    objective.updated_at = actor.now
    for kr in session.exec(select(KeyResult).where(KeyResult.objective_id == objective.id)).all():
        kr.status = "archived"
        kr.updated_at = actor.now
    session.flush()
    return objective


def require_can_edit(actor: Actor, objective: Objective, kr: KeyResult | None = None) -> None:
    """The objective itself: its owner and admins. One of its KRs: also the KR's owner and
    the members of the objective's team channel (services/permissions.py)."""
    if kr is None:
        permissions.require_objective(actor, objective)
    else:
        permissions.require_kr(actor, objective, kr)


def _parent_id(session: Session, actor: Actor, number: int | None) -> int | None:
    """The parent objective's key; a missing one is a problem with the parent field."""
    if number is None:
        return None
    try:
        return get_objective(session, actor, number).id
    except NotFound as error:
        error.field = "parent"
        raise


# Edit forms (adapters/slack/listeners/views.py) save through these two.
def update_objective(session: Session, actor: Actor, number: int, new: NewObjective) -> Objective:
    objective = get_objective(session, actor, number)
    require_can_edit(actor, objective)
    require_active(objective)
    periods.require_open(session, actor.team_id, objective.period, f"change {objective_id(objective.number)}")
    parent_id = _parent_id(session, actor, new.parent)
    if parent_id == objective.id:
        raise Invalid("An objective can't align to itself.", hint="Pick another parent objective, or leave it empty.", field="parent")
    objective.title = clean_title(new.title)
    objective.owner = clean_id(new.owner, field="owner")
    objective.team_channel = clean_id(new.team_channel, field="team")
    period = period_or_current(new.period, actor)
    if period != objective.period:
        periods.require_drafting_open(actor, period, f"move {objective_id(objective.number)} into it")
    objective.period = period
    periods.require_open(session, actor.team_id, objective.period, f"move {objective_id(objective.number)} into it")
    objective.parent_id = parent_id
    objective.private = new.private
    objective.description = clean_description(new.description)
    objective.updated_at = actor.now
    session.flush()
    return objective


def update_kr(session: Session, actor: Actor, number: int, new: NewKr) -> KeyResult:
    """Change a KR's definition; its check-ins and current value are kept."""
    kr = get_kr(session, actor, number)
    objective = session.get(Objective, kr.objective_id)
    require_can_edit(actor, objective, kr)
    require_active(objective)
    periods.require_open(session, actor.team_id, objective.period, f"change {kr_id(kr.number)}")
    validate_kr_numbers(new.metric, new.direction, new.start, new.target)
    if new.weight <= 0:
        raise Invalid("A KR's weight must be above 0.", field="weight")
    kr.title = clean_title(new.title)
    kr.owner = clean_id(new.owner, field="owner")
    kr.metric = new.metric.value
    kr.direction = new.direction.value
    kr.keep = new.keep.value if new.keep else None
    kr.start, kr.target = (0.0, 1.0) if new.metric is Metric.BOOLEAN else (new.start, new.target)
    kr.unit = clean_unit(new.unit)
    kr.weight = new.weight
    kr.commitment = new.commitment.value if new.commitment else None
    kr.updated_at = actor.now
    session.flush()
    return kr
