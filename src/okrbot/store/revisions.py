"""A workspace's OKR revision: a number that moves whenever something the "serves"
matcher reads changes (a title, a URL, a link, a KR archived or moved, an objective
made private or moved to another period), in the same transaction as the change.

Readers compare one integer instead of scanning the workspace to notice a change
(services/serves.py: that scan was the slowest statement at L, docs/performance.md).
Every ORM flush is watched, so no service has to remember; writes that bypass the ORM
(the bulk import) call `bump` themselves. Progress, check-ins and done work do not
move it: the matcher reads words, not numbers.

A second number, the status revision, moves with every change at all to the rows a
status reply shows (objectives, KRs, check-ins, work, links, periods), so a rendered
`/okr status` can be reused until it moves (services/status_cache.py).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import event, inspect, update
from sqlalchemy.orm import Session as OrmSession

from okrbot.store.models import CheckIn, Initiative, KeyResult, KrLink, Objective, OkrPeriod, ServesFeedback, Workspace

# Per table, the columns whose change moves the revision.
WATCHED: dict[type, tuple[str, ...]] = {
    Objective: ("title", "period", "status", "private", "team_id"),
    KeyResult: ("title", "status", "objective_id", "team_id"),
    Initiative: ("title", "url", "team_id"),
    KrLink: ("kr_id", "initiative_id", "team_id"),
    ServesFeedback: ("kr_id", "request", "team_id"),  # "Not this one" is evidence too
}
# Tables any change of which (any column) moves the status revision.
SHOWN: tuple[type, ...] = (Objective, KeyResult, Initiative, KrLink, CheckIn, OkrPeriod)


def bump(session: OrmSession, team_ids: Iterable[str], *, serves: bool = True) -> None:
    """Move the status revision of these workspaces, and (`serves`) the OKR revision too."""
    teams = sorted(set(team_ids))
    if teams:
        table = Workspace.__table__
        values = {"status_revision": table.c.status_revision + 1}
        if serves:
            values["okr_revision"] = table.c.okr_revision + 1
        # On the flush's connection: a Session.execute here would flush again.
        session.connection().execute(update(table).where(table.c.team_id.in_(teams)).values(values))


def _changed(instance: object) -> bool:
    state = inspect(instance)
    return any(state.attrs[name].history.has_changes() for name in WATCHED[type(instance)])


@event.listens_for(OrmSession, "before_flush")
def _bump_on_change(session: OrmSession, _context, _instances) -> None:
    teams = {obj.team_id for obj in (*session.new, *session.deleted) if type(obj) in WATCHED}
    teams |= {obj.team_id for obj in session.dirty if type(obj) in WATCHED and _changed(obj)}
    shown = {obj.team_id for obj in (*session.new, *session.deleted) if isinstance(obj, SHOWN)}
    shown |= {obj.team_id for obj in session.dirty if isinstance(obj, SHOWN) and session.is_modified(obj)}
    bump(session, teams)
    bump(session, shown - teams, serves=False)
