"""Who may change what, in one place; a refusal names who can.

- an objective (edit, archive, add a KR): its owner, or an okrbot admin;
- a KR (edit, check in): its owner, its objective's owner, members of the
  objective's team channel, or an admin;
- work (done, reopen, edit): its owner, the owners of the KRs it is linked to and
  of their objectives, members of those objectives' team channels, or an admin;
- work that feeds no KR yet: its owner, whoever created it, or an admin;
- linking existing work to a KR or unlinking it (and undoing that): the right to
  change the work (above) AND the right to change that KR's links: whoever may
  change the KR, or the work's owner (so anyone may link their own work, e.g. from a
  "does this serve a KR?" answer, to a KR they can see);
- new work on a KR: the KR's side only (the actor creates the work).
Seeing work comes first (services/work.py visible_work): work that feeds only private
KRs is as private as they are, and someone who may not see it is told it does not exist.
Admins are OKRBOT_ADMINS and Slack workspace admins and owners. A signed webhook
(Actor.system) is trusted like an admin.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlmodel import Session, select

from okrbot.domain.ids import initiative_id, kr_id, objective_id
from okrbot.services.context import Actor
from okrbot.services.errors import NotAllowed
from okrbot.store.models import Change, Initiative, KeyResult, KrLink, Objective

_SLACK_ID = re.compile(r"^[A-Z0-9]+$")
MOST_NAMED = 4  # people named in a refusal; more would drown the message


def trusted(actor: Actor) -> bool:
    return actor.is_admin or actor.system


def may_edit_objective(actor: Actor, objective: Objective) -> bool:
    return trusted(actor) or actor.user_id == objective.owner


def require_objective(actor: Actor, objective: Objective, doing: str | None = None) -> None:
    if not may_edit_objective(actor, objective):
        doing = doing or f"change {objective_id(objective.number)}"
        raise NotAllowed(f"Only {_who([(objective.owner, 'owner')], [])} can {doing}.")


def may_change_kr(actor: Actor, objective: Objective, kr: KeyResult) -> bool:
    return (
        trusted(actor)
        or actor.user_id in (kr.owner, objective.owner)
        or actor.in_team(objective.team_channel)
    )


def require_kr(actor: Actor, objective: Objective, kr: KeyResult, doing: str | None = None) -> None:
    if not may_change_kr(actor, objective, kr):
        doing = doing or f"change {kr_id(kr.number)}"
        people = [(kr.owner, f"owner of {kr_id(kr.number)}"), (objective.owner, f"owner of {objective_id(objective.number)}")]
        raise NotAllowed(f"Only {_who(people, [objective.team_channel])} can {doing}.")


def require_work(session: Session, actor: Actor, initiative: Initiative, doing: str | None = None) -> None:
    """Done, reopen, edit, and the work's side of a link: its owner, whoever answers for a
    KR it feeds, or (while it feeds none) whoever created it."""
    if trusted(actor) or actor.user_id == initiative.owner:
        return
    rows = session.exec(
        select(KeyResult.number, KeyResult.owner, Objective.number, Objective.owner, Objective.team_channel, Objective.private)
        .join(KrLink, KrLink.kr_id == KeyResult.id)
        .join(Objective, Objective.id == KeyResult.objective_id)
        .where(KrLink.initiative_id == initiative.id)
        .order_by(KeyResult.number)
    ).all()
    if any(actor.user_id in (kr_owner, objective_owner) for _, kr_owner, _, objective_owner, _, _ in rows):
        return
    channels = list(dict.fromkeys(channel for *_, channel, _ in rows if channel))
    if any(actor.in_team(channel) for channel in channels):
        return
    creator = None if rows else _creator(session, initiative)
    if creator is not None and actor.user_id == creator:
        return
    # Who to name: never the people or channels of a private objective (the actor can't see it).
    public = [row for row in rows if not row[5]]
    people = [(initiative.owner, "owner")] if initiative.owner else []
    if creator is not None:
        people.append((creator, "who created it"))
    for number, kr_owner, _, _, _, _ in public:
        people.append((kr_owner, f"owner of {kr_id(number)}"))
    doing = doing or f"change {initiative_id(initiative.number)}"
    raise NotAllowed(f"Only {_who(people, [row[4] for row in public])} can {doing}.")


def _creator(session: Session, initiative: Initiative) -> str | None:
    """Who created the work: the actor of its first recorded change (its first link)."""
    return session.exec(
        select(Change.actor).where(Change.initiative_id == initiative.id).order_by(Change.id).limit(1)
    ).first()


def require_link(session: Session, actor: Actor, initiative: Initiative, objective: Objective, kr: KeyResult, doing: str) -> None:
    """Link or unlink existing work and a KR: the right to change the work (require_work)
    and the right to change that KR's links (may_change_kr, or bringing one's own work)."""
    require_work(session, actor, initiative, doing)
    _require_kr_links(actor, initiative.owner, objective, kr, doing)


def require_new_work(actor: Actor, work_owner: str, objective: Objective, kr: KeyResult, doing: str) -> None:
    """New work on a KR: the actor creates it, so only the KR's side is asked."""
    _require_kr_links(actor, work_owner, objective, kr, doing)


def _require_kr_links(actor: Actor, work_owner: str | None, objective: Objective, kr: KeyResult, doing: str) -> None:
    if (work_owner and actor.user_id == work_owner) or may_change_kr(actor, objective, kr):
        return
    people = [(work_owner, "owner of the work")] if work_owner else []
    people += [(kr.owner, f"owner of {kr_id(kr.number)}"), (objective.owner, f"owner of {objective_id(objective.number)}")]
    raise NotAllowed(f"Only {_who(people, [objective.team_channel])} can {doing}.")


def _who(people: Iterable[tuple[str | None, str]], channels: Iterable[str | None]) -> str:
    """`<@U1> (owner), <@U2> (owner of KR-3), members of <#C1> or an okrbot admin`."""
    named: dict[str, str] = {}
    for person, role in people:
        if person and person not in named:
            named[person] = role
    parts = [f"{_mention('@', person)} ({role})" for person, role in list(named.items())[:MOST_NAMED]]
    parts += [f"members of {_mention('#', channel)}" for channel in dict.fromkeys(c for c in channels if c)]
    parts.append("an okrbot admin")
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " or " + parts[-1]


def _mention(kind: str, ident: str) -> str:
    """A Slack mention for Slack ids; anything else (a name typed offline) as plain text."""
    if _SLACK_ID.match(ident):
        return f"<{kind}{ident}>"
    return kind + ident.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
