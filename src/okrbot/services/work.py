"""Initiatives and the work that moves KRs: create, link, unlink, done, reopen, undo.

Every change runs inside the caller's unit of work and is recorded as a
`Change` with a snapshot of the exact previous state, so Undo can restore it
and `/okr history` can show it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy.orm import aliased
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from okrbot.domain.commands import Kind, Metric, WorkRef
from okrbot.domain.ids import initiative_id, kr_id
from okrbot.domain.progress import kr_progress
from okrbot.domain.text import clean_text
from okrbot.domain.urls import is_url, jira_browse_url, title_from_url, url_key
from okrbot.services import okrs, periods, permissions
from okrbot.services.context import Actor
from okrbot.services.errors import Invalid, NotFound, quoted, shown
from okrbot.services.okrs import PRIVATE_HERE_HINT, TITLE_LIMIT, clean_id, clean_title, get_kr, may_see, require_active
from okrbot.services.summaries import kr_state, linked_work
from okrbot.store.models import Change, ChangeKr, Initiative, KeyResult, KrLink, Objective
from okrbot.store.workspaces import allocate_number

DONE, NOT_STARTED, IN_PROGRESS = "done", "todo", "in_progress"
MAX_WEIGHT = 1000.0


@dataclass(frozen=True)
class KrMove:
    """A KR whose progress changed: from `before` to `after` (ratios)."""

    kr_id: int
    number: int
    title: str
    objective_id: int
    before: float
    after: float
    private: bool = False  # shown without its title: its objective is private to someone else




@dataclass
class WorkOutcome:
    initiative: Initiative
    changed: bool
    change: Change | None = None
    moves: list[KrMove] = field(default_factory=list)
    created: bool = False
    kr: KeyResult | None = None  # the KR a link/unlink/add was about
    # Closed periods whose milestone KRs this work also feeds: they kept what they had at the close.
    kept_in: list[str] = field(default_factory=list)


URL_LIMIT = 2000  # Initiative.url


def clean_url(url: str | None) -> str | None:
    if url is None:
        return None
    if len(url) > URL_LIMIT:
        raise Invalid(f"The link is {len(url)} characters long; keep it under {URL_LIMIT}.", field="url")
    if clean_text(url) != url or any(ch.isspace() for ch in url):
        raise Invalid("A link can't hold spaces, control or invisible characters.", hint="Paste the link as it is in the browser.", field="url")
    return url


def validate_weight(weight: float | None) -> float:
    if weight is None:
        return 1.0
    if not 0 < weight <= MAX_WEIGHT:
        raise Invalid(f"A weight must be above 0 and at most {MAX_WEIGHT:g}.", hint="Type e.g. `weight 2`.", field="weight")
    return float(weight)


def with_tracker_link(work: WorkRef, jira_site: str) -> WorkRef:
    """A Jira key (PAY-12) as the browse link on the configured site, the form webhooks match."""
    if work.issue_key is None:
        return work
    if not jira_site:
        raise Invalid(
            f"{work.issue_key} looks like a Jira key, and no Jira site is set.",
            hint="Paste the issue's link (https://…/browse/" + work.issue_key + "), or ask the operator to set OKRBOT_JIRA_SITE.",
        )
    return WorkRef(url=jira_browse_url(jira_site, work.issue_key))


def find_initiative(session: Session, actor: Actor, work: WorkRef) -> Initiative:
    """The work by number or URL; work the actor may not see is not there for them."""
    initiative = _lookup(session, actor, work)
    if initiative is None:
        if actor.audience is not None and _lookup(session, replace(actor, audience=None), work) is not None:
            # Asked in a channel by someone who may see it: told where to ask, like objectives.
            what = initiative_id(work.initiative) if work.initiative is not None else "That work"
            raise NotFound(f"{what} is private, so I won't show it in this channel.", hint=PRIVATE_HERE_HINT)
        raise _no_initiative(work)
    return initiative


def _no_initiative(work: WorkRef) -> NotFound:
    what = initiative_id(work.initiative) if work.initiative is not None else shown(work.url or "", 200)
    return NotFound(
        f"There is no initiative {what}.",
        hint="Link it first with `/okr link https://… KR-n` or `/okr initiative add KR-n \"Title\"`.",
    )


def require_seen(session: Session, actor: Actor, initiative: Initiative) -> Initiative:
    """Work reached by a message or a change (a ✅, Undo): refused as if it did not exist
    when the actor may not see it, the same answer as for a number nobody used."""
    if initiative.id not in visible_work(session, actor, [initiative]):
        raise _no_initiative(WorkRef(initiative=initiative.number))
    return initiative


def _lookup(session: Session, actor: Actor, work: WorkRef) -> Initiative | None:
    query = select(Initiative).where(Initiative.team_id == actor.team_id)
    if work.initiative is not None:
        query = query.where(Initiative.number == work.initiative)
    else:
        query = query.where(Initiative.url_key == url_key(work.url or "")).order_by(Initiative.number)
    candidates = list(session.exec(query).all())
    seen = visible_work(session, actor, candidates)
    return next((initiative for initiative in candidates if initiative.id in seen), None)


def visible_work(session: Session, actor: Actor, initiatives: Sequence[Initiative]) -> set[int]:
    """The ids of the work the actor may see, in one query.

    Work that feeds no KR, or any KR of a public objective, is public. Work that feeds
    only private objectives' KRs is as private as they are: it shows to whoever may see
    one of those objectives (okrs.visible: owners, KR owners, team members, admins) and
    to its own owner, except in an answer read in a channel (Actor.audience).
    """
    ids = {initiative.id for initiative in initiatives}
    if actor.audience is None and (permissions.trusted(actor) or all(i.owner == actor.user_id for i in initiatives)):
        return ids
    linked = aliased(KeyResult)  # okrs.visible looks at KeyResult in a subquery of its own
    rows = session.exec(
        select(KrLink.initiative_id, Objective.private, Objective.team_channel, okrs.visible(actor))
        .join(linked, linked.id == KrLink.kr_id)
        .join(Objective, Objective.id == linked.objective_id)
        .where(col(KrLink.initiative_id).in_(ids))
    ).all()
    hidden = {pk for pk, *_ in rows}  # linked work starts hidden; one public or visible KR shows it
    for pk, private, team_channel, may_see_it in rows:
        # The team channel's members too (okrs.visible asks Slack only when given a session).
        if not private or may_see_it or (actor.audience is None and actor.in_team(team_channel)):
            hidden.discard(pk)
    if actor.audience is None:
        hidden -= {initiative.id for initiative in initiatives if initiative.owner == actor.user_id}
    return ids - hidden


def is_public(session: Session, initiative: Initiative) -> bool:
    """Anyone may see it: it feeds no KR, or a KR of a public objective (cards go to channels)."""
    privacy = session.exec(
        select(Objective.private)
        .join(KeyResult, KeyResult.objective_id == Objective.id)
        .join(KrLink, KrLink.kr_id == KeyResult.id)
        .where(KrLink.initiative_id == initiative.id)
    ).all()
    return not privacy or not all(privacy)


def create_initiative(
    session: Session,
    actor: Actor,
    *,
    kr_number: int,
    title: str,
    owner: str | None,
    url: str | None = None,
    weight: float | None = None,
) -> WorkOutcome:
    kr = get_kr(session, actor, kr_number)
    _require_kr_active(session, kr)
    doing = f"add work owned by someone else to {kr_id(kr.number)}"
    permissions.require_new_work(actor, owner or actor.user_id, objective_of(session, kr), kr, doing)
    if url is not None and not is_url(url):
        raise Invalid(f"{quoted(url)} is not a link.", hint="Links start with https://", field="url")
    initiative = _new_initiative(session, actor, title=title, owner=owner, url=url)
    outcome = _link(session, actor, initiative, kr, validate_weight(weight), action="link")
    outcome.created = True
    return outcome


def _new_initiative(session: Session, actor: Actor, *, title: str, owner: str | None, url: str | None) -> Initiative:
    initiative = Initiative(
        team_id=actor.team_id,
        number=allocate_number(session, actor.team_id, Kind.INITIATIVE),
        title=clean_title(title),
        owner=clean_id(owner, field="owner"),
        url=clean_url(url),
        url_key=url_key(url) if url else None,
        created_at=actor.now,
        updated_at=actor.now,
    )
    session.add(initiative)
    session.flush()
    return initiative


def update_initiative(
    session: Session, actor: Actor, number: int, *, title: str, owner: str | None, url: str | None, status: str
) -> WorkOutcome:
    """Edit an initiative; a change of status moves its KRs like done/reopen do."""
    initiative = find_initiative(session, actor, WorkRef(initiative=number))
    permissions.require_work(session, actor, initiative)
    if url is not None and not is_url(url):
        raise Invalid(f"{quoted(url)} is not a link.", hint="Links start with https://", field="url")
    if status not in (NOT_STARTED, IN_PROGRESS, DONE):
        raise Invalid(f"{quoted(status)} is not a status.", hint="Pick to do, in progress or done.", field="status")
    initiative.title = clean_title(title)
    initiative.owner = clean_id(owner, field="owner")
    initiative.url = clean_url(url)
    initiative.url_key = url_key(url) if url else None
    initiative.updated_at = actor.now
    if (status == DONE) != (initiative.status == DONE):
        return set_status(session, actor, initiative, status, checked=True)
    initiative.status = status
    session.flush()
    return WorkOutcome(initiative=initiative, changed=False)


def link(session: Session, actor: Actor, work: WorkRef, kr_number: int, weight: float | None = None) -> WorkOutcome:
    """Link an initiative to a KR; a URL seen for the first time becomes a new initiative."""
    kr = get_kr(session, actor, kr_number)
    _require_kr_active(session, kr)
    weight = validate_weight(weight)
    # Work the actor may not see is not there for them: a number is "not found", and a
    # URL becomes their own new work, so neither tells them it exists.
    initiative = _lookup(session, actor, work)
    created = False
    if initiative is None:
        if work.url is None:
            raise _no_initiative(work)
        initiative = _new_initiative(session, actor, title=title_from_url(work.url)[:TITLE_LIMIT], owner=actor.user_id, url=work.url)
        created = True
    existing = _link_row(session, initiative.id, kr.id)
    if existing is not None and existing.weight == weight:
        return WorkOutcome(initiative=initiative, changed=False, kr=kr)  # nothing to allow
    if not created:
        doing = f"link {initiative_id(initiative.number)} to {kr_id(kr.number)}"
        permissions.require_link(session, actor, initiative, objective_of(session, kr), kr, doing)
    if existing is not None:
        return _reweight(session, actor, initiative, kr, existing, weight)
    outcome = _link(session, actor, initiative, kr, weight, action="link")
    outcome.created = created
    return outcome


def _link_row(session: Session, initiative_pk: int, kr_pk: int) -> KrLink | None:
    return session.exec(select(KrLink).where(KrLink.initiative_id == initiative_pk, KrLink.kr_id == kr_pk)).first()


def _link(session: Session, actor: Actor, initiative: Initiative, kr: KeyResult, weight: float, *, action: str) -> WorkOutcome:
    before = progress_map(session, [kr])
    session.add(KrLink(team_id=actor.team_id, initiative_id=initiative.id, kr_id=kr.id, weight=weight, created_at=actor.now))
    session.flush()
    summary = f"{initiative_id(initiative.number)} linked to {kr_id(kr.number)}" + (f" (weight {weight:g})" if weight != 1 else "")
    change, moves = record_change(session, actor, action, initiative, [kr], before, summary, snapshot={"link": {"kr": kr.id}})
    return WorkOutcome(initiative=initiative, changed=True, change=change, moves=moves, kr=kr)


def _reweight(session: Session, actor: Actor, initiative: Initiative, kr: KeyResult, row: KrLink, weight: float) -> WorkOutcome:
    before = progress_map(session, [kr])
    old = row.weight
    row.weight = weight
    session.flush()
    summary = f"{initiative_id(initiative.number)} now weighs {weight:g} on {kr_id(kr.number)} (was {old:g})"
    change, moves = record_change(session, actor, "link", initiative, [kr], before, summary, snapshot={"weight": {"kr": kr.id, "was": old}})
    return WorkOutcome(initiative=initiative, changed=True, change=change, moves=moves, kr=kr)


def unlink(session: Session, actor: Actor, work: WorkRef, kr_number: int) -> WorkOutcome:
    kr = get_kr(session, actor, kr_number)
    initiative = find_initiative(session, actor, work)
    row = _link_row(session, initiative.id, kr.id)
    if row is None:
        raise Invalid(
            f"{initiative_id(initiative.number)} is not linked to {kr_id(kr.number)}.",
            hint=f"See what is linked with `/okr status {kr_id(kr.number)}`.",
        )
    doing = f"unlink {initiative_id(initiative.number)} from {kr_id(kr.number)}"
    permissions.require_link(session, actor, initiative, objective_of(session, kr), kr, doing)
    periods.require_open(session, kr.team_id, objective_of(session, kr).period, doing)  # its progress would move
    before = progress_map(session, [kr])
    weight = row.weight
    session.delete(row)
    session.flush()
    summary = f"{initiative_id(initiative.number)} unlinked from {kr_id(kr.number)}"
    change, moves = record_change(
        session, actor, "unlink", initiative, [kr], before, summary, snapshot={"unlink": {"kr": kr.id, "weight": weight}}
    )
    return WorkOutcome(initiative=initiative, changed=True, change=change, moves=moves, kr=kr)


def mark_done(session: Session, actor: Actor, work: WorkRef) -> WorkOutcome:
    return set_status(session, actor, find_initiative(session, actor, work), DONE)


def reopen(session: Session, actor: Actor, work: WorkRef) -> WorkOutcome:
    return set_status(session, actor, find_initiative(session, actor, work), NOT_STARTED)


def set_status(session: Session, actor: Actor, initiative: Initiative, status: str, *, checked: bool = False) -> WorkOutcome:
    """Move an initiative to done or back; its milestone KRs move with it, all in one transaction.

    Marking done what is already done changes nothing, so a command, a ✅ and a
    webhook for the same work move its KRs once, even when they arrive together.
    `checked`: the caller already made sure the actor may change this work.
    """
    if not checked:
        ident = initiative_id(initiative.number)
        permissions.require_work(session, actor, initiative, f"mark {ident} done" if status == DONE else f"reopen {ident}")
    if (_locked_status(session, initiative) == DONE) == (status == DONE):
        return WorkOutcome(initiative=initiative, changed=False)
    krs = linked_krs(session, initiative.id)
    doing = f"mark {initiative_id(initiative.number)} done" if status == DONE else f"reopen {initiative_id(initiative.number)}"
    frozen = _require_an_open_kr(session, initiative, krs, doing)
    before = progress_map(session, krs)
    snapshot = {
        "initiative": {"status": initiative.status},
        "krs": {str(kr.id): {"last_progress_at": _iso(kr.last_progress_at)} for kr in krs},
    }
    initiative.status = status
    initiative.updated_at = actor.now
    for kr in krs:
        if kr.metric == Metric.MILESTONE and kr.id not in frozen:
            kr.last_progress_at = actor.now  # done work is data: the KR is no longer "no data"
            kr.updated_at = actor.now
    session.flush()
    action = "done" if status == DONE else "reopen"
    verb = "done" if status == DONE else "reopened"
    summary = f"{initiative_id(initiative.number)} “{initiative.title}” {verb}"
    change, moves = record_change(session, actor, action, initiative, krs, before, summary, snapshot=snapshot)
    milestones = {kr.id for kr in krs if kr.metric == Metric.MILESTONE}
    kept_in = sorted({period for kr_pk, period in frozen.items() if kr_pk in milestones})
    return WorkOutcome(initiative=initiative, changed=True, change=change, moves=moves, kept_in=kept_in)


def _require_an_open_kr(session: Session, initiative: Initiative, krs: list[KeyResult], doing: str) -> dict[int, str]:
    """The KRs of closed periods among `krs` (id → period): they keep what they had at the close.

    Work that moves only KRs of closed periods is refused, saying who can reopen the
    period; work that also feeds an open period's KR (carried over) changes, and only
    the open KRs move.
    """
    if not krs:
        return {}
    period_of = dict(session.exec(select(KeyResult.id, Objective.period).join(Objective, Objective.id == KeyResult.objective_id).where(col(KeyResult.id).in_([kr.id for kr in krs]))).all())
    closed = periods.closed_names(session, initiative.team_id) & set(period_of.values())
    frozen = {kr.id: period_of[kr.id] for kr in krs if period_of[kr.id] in closed}
    moved_if_open = [kr for kr in krs if kr.id in frozen and kr.metric == Metric.MILESTONE]
    if moved_if_open and len(frozen) == len(krs):
        names = ", ".join(kr_id(kr.number) for kr in moved_if_open)
        periods.require_open(session, initiative.team_id, period_of[moved_if_open[0].id], f"{doing}: it would move {names}")
    return frozen


def _locked_status(session: Session, initiative: Initiative) -> str:
    """The initiative's committed status, read under a row lock held to the end of the unit of work.

    Two changes to the same work at the same moment (a ✅ and a webhook) then
    run one after the other, and the second sees what the first did. On
    PostgreSQL this is SELECT … FOR UPDATE; SQLite's BEGIN IMMEDIATE already
    lets one writer in at a time.
    """
    status = session.exec(select(Initiative.status).where(Initiative.id == initiative.id).with_for_update()).one()
    set_committed_value(initiative, "status", status)
    return status


def moves_seen_by(session: Session, actor: Actor, moves: list[KrMove]) -> list[KrMove]:
    """The moves as `actor` may see them: a KR of a private objective they may not see
    shows how far it moved, not what it is."""
    if not moves:
        return moves
    objectives = session.exec(select(Objective).where(col(Objective.id).in_({move.objective_id for move in moves}))).all()
    hidden = {objective.id for objective in objectives if not may_see(session, actor, objective)}
    return [replace(move, title="", private=True) if move.objective_id in hidden else move for move in moves]


def linked_kr_titles(session: Session, initiative_pk: int) -> list[tuple[int, str | None]]:
    """(number, title) of the KRs the work serves; no title for a private objective's KR."""
    rows = session.exec(
        select(KeyResult.number, KeyResult.title, Objective.private)
        .join(KrLink, KrLink.kr_id == KeyResult.id)
        .join(Objective, Objective.id == KeyResult.objective_id)
        .where(KrLink.initiative_id == initiative_pk)
        .order_by(KeyResult.number)
    ).all()
    return [(number, None if private else title) for number, title, private in rows]


def linked_krs(session: Session, initiative_pk: int) -> list[KeyResult]:
    return list(
        session.exec(
            select(KeyResult)
            .join(KrLink, KrLink.kr_id == KeyResult.id)
            .where(KrLink.initiative_id == initiative_pk)
            .order_by(KeyResult.number)
        ).all()
    )


def progress_map(session: Session, krs: list[KeyResult]) -> dict[int, float]:
    milestone_ids = [kr.id for kr in krs if kr.metric == Metric.MILESTONE]
    linked = linked_work(session, milestone_ids)
    return {kr.id: kr_progress(kr_state(kr, linked.get(kr.id, ()))) for kr in krs}


def record_change(
    session: Session,
    actor: Actor,
    action: str,
    initiative: Initiative | None,
    krs: list[KeyResult],
    before: dict[int, float],
    summary: str,
    *,
    snapshot: dict,
    reverts: Change | None = None,
) -> tuple[Change, list[KrMove]]:
    after = progress_map(session, krs)
    change = Change(
        team_id=actor.team_id,
        at=actor.now,
        actor=actor.user_id,
        action=action,
        source=actor.source,
        initiative_id=initiative.id if initiative else None,
        summary=summary,
        snapshot=snapshot,
        reverts_id=reverts.id if reverts else None,
    )
    session.add(change)
    session.flush()
    moves = []
    for kr in krs:
        session.add(ChangeKr(change_id=change.id, kr_id=kr.id, before=before[kr.id], after=after[kr.id]))
        if before[kr.id] != after[kr.id]:
            moves.append(KrMove(kr.id, kr.number, kr.title, kr.objective_id, before[kr.id], after[kr.id]))
    session.flush()
    return change, moves


def undo_status(session: Session, actor: Actor, change: Change) -> tuple[Change, list[KrMove]]:
    initiative = session.get(Initiative, change.initiative_id)
    if initiative is None or not visible_work(session, actor, [initiative]):
        raise change_gone()
    permissions.require_work(session, actor, initiative, f"undo this change to {initiative_id(initiative.number)}")
    changed_to = DONE if change.action == "done" else NOT_STARTED
    if (_locked_status(session, initiative) == DONE) != (changed_to == DONE):
        raise Invalid(
            f"{initiative_id(initiative.number)} changed again since; nothing was undone.",
            hint=f"Use `/okr {'reopen' if initiative.status == DONE else 'done'} {initiative_id(initiative.number)}`.",
        )
    krs = linked_krs(session, initiative.id)
    frozen = _require_an_open_kr(session, initiative, krs, f"undo this change to {initiative_id(initiative.number)}")
    before = progress_map(session, krs)
    previous = change.snapshot.get("krs", {})
    snapshot = {
        "initiative": {"status": initiative.status},
        "krs": {str(kr.id): {"last_progress_at": _iso(kr.last_progress_at)} for kr in krs},
    }
    initiative.status = change.snapshot["initiative"]["status"]
    initiative.updated_at = actor.now
    for kr in krs:
        if str(kr.id) in previous and kr.id not in frozen:
            kr.last_progress_at = _parse_iso(previous[str(kr.id)]["last_progress_at"])
    change.undone_at = actor.now
    session.flush()
    summary = f"Undid: {change.summary}"
    return record_change(session, actor, "undo", initiative, krs, before, summary, snapshot=snapshot, reverts=change)


def undo_link(session: Session, actor: Actor, change: Change) -> tuple[Change, list[KrMove]]:
    """Put a link back as it was: drop a new link, restore a weight, or re-create a removed link."""
    initiative = session.get(Initiative, change.initiative_id) if change.initiative_id else None
    previous = change.snapshot
    kr = session.get(KeyResult, (previous.get("link") or previous.get("weight") or previous.get("unlink") or {}).get("kr"))
    if initiative is None or kr is None or not visible_work(session, actor, [initiative]) or not may_see(session, actor, objective_of(session, kr)):
        raise change_gone()
    permissions.require_link(session, actor, initiative, objective_of(session, kr), kr, f"undo this change to {kr_id(kr.number)}")
    row = _link_row(session, initiative.id, kr.id)
    if (row is None) != ("unlink" in previous):
        raise Invalid(
            f"The link of {initiative_id(initiative.number)} to {kr_id(kr.number)} changed again since; nothing was undone.",
            hint=f"Use `/okr link` or `/okr unlink`; see `/okr history {kr_id(kr.number)}`.",
        )
    before = progress_map(session, [kr])
    if "link" in previous:
        snapshot = {"unlink": {"kr": kr.id, "weight": row.weight}}
        session.delete(row)
    elif "weight" in previous:
        snapshot = {"weight": {"kr": kr.id, "was": row.weight}}
        row.weight = previous["weight"]["was"]
    else:
        snapshot = {"link": {"kr": kr.id}}
        weight = previous["unlink"]["weight"]
        session.add(KrLink(team_id=actor.team_id, initiative_id=initiative.id, kr_id=kr.id, weight=weight, created_at=actor.now))
    change.undone_at = actor.now
    session.flush()
    return record_change(session, actor, "undo", initiative, [kr], before, f"Undid: {change.summary}", snapshot=snapshot, reverts=change)


def change_gone() -> NotFound:
    """Undo of a change that is gone, or whose work or KR the actor may not see: one answer."""
    return NotFound("That change no longer exists.", hint="See what happened with `/okr history KR-n`.")


def objective_of(session: Session, kr: KeyResult) -> Objective:
    return session.get(Objective, kr.objective_id)


def _require_kr_active(session: Session, kr: KeyResult) -> None:
    if kr.status != "active":
        raise Invalid(f"{kr_id(kr.number)} is archived.", hint="Link work to an active KR; see `/okr status`.")
    objective = objective_of(session, kr)
    require_active(objective)
    periods.require_open(session, kr.team_id, objective.period, f"link work to {kr_id(kr.number)}")


def initiatives_of_krs(session: Session, kr_ids: list[int]) -> dict[int, list[tuple[Initiative, float]]]:
    """Linked initiatives (with link weights) per KR, in one query."""
    found: dict[int, list[tuple[Initiative, float]]] = {}
    if not kr_ids:
        return found
    rows = session.exec(
        select(KrLink.kr_id, KrLink.weight, Initiative)
        .join(Initiative, Initiative.id == KrLink.initiative_id)
        .where(col(KrLink.kr_id).in_(kr_ids))
        .order_by(Initiative.number)
    ).all()
    for kr_pk, weight, initiative in rows:
        found.setdefault(kr_pk, []).append((initiative, weight))
    return found


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _parse_iso(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
