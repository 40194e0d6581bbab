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

Each move of the OKR revision is journalled, in the same flush, in `serves_change`:
the KRs whose evidence it may have changed (a KR itself, the KRs of an objective or of
linked work that changed, the KR a link or a "Not this one" points at), so a cached
index re-reads those KRs only. Every revision gets at least one row (`kr_id` None: no
KR's evidence changed), so a reader can tell a pruned journal from a quiet one; `bump`
without `krs` (the bulk import) writes "any KR may have changed" (`every_kr`). Every
PRUNE_EVERY revisions a workspace's rows older than KEEP_REVISIONS revisions go: a
cache further behind than that reads the whole period again.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping

from sqlalchemy import delete, event, insert, inspect, select, update
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm.util import identity_key

from okrbot.store.workspaces import STATUS_MOVED
from okrbot.store.models import (
    CheckIn,
    Initiative,
    KeyResult,
    KrLink,
    Objective,
    OkrPeriod,
    ServesChange,
    ServesFeedback,
    Workspace,
)

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


KEEP_REVISIONS = 1000  # journal rows kept per workspace, in revisions
PRUNE_EVERY = 100  # revisions between two prunings of a workspace's journal

_PENDING = "okr_revision_journal"  # session.info: what the flush moved, journalled once it has ids


def bump(session: OrmSession, team_ids: Iterable[str], *, serves: bool = True) -> None:
    """Move the status revision of these workspaces, and (`serves`) the OKR revision too,
    journalling that any KR's evidence may have changed."""
    moved = _move(session, team_ids, serves=serves)
    if moved:
        journal(session, moved, None)


def _move(session: OrmSession, team_ids: Iterable[str], *, serves: bool) -> dict[str, int]:
    """Move the revisions; the new OKR revision of each workspace (none unless `serves`)."""
    teams = sorted(set(team_ids))
    if not teams:
        return {}
    table = Workspace.__table__
    values = {"status_revision": table.c.status_revision + 1}
    if serves:
        values["okr_revision"] = table.c.okr_revision + 1
    # On the flush's connection: a Session.execute here would flush again.
    statement = update(table).where(table.c.team_id.in_(teams)).values(values)
    _expire_held(session, teams, values)
    if not serves:
        session.connection().execute(statement)
        return {}
    return dict(session.connection().execute(statement.returning(table.c.team_id, table.c.okr_revision)).all())


def _expire_held(session: OrmSession, teams: list[str], columns: Mapping[str, object]) -> None:
    """A workspace row this session holds no longer shows the moved revisions: it reads
    them again when next asked (services/status_cache.py keys answers by them)."""
    session.info.setdefault(STATUS_MOVED, set()).update(teams)
    for team_id in teams:
        held = session.identity_map.get(identity_key(Workspace, team_id))
        if held is not None:
            session.expire(held, list(columns))


def journal(session: OrmSession, revisions: Mapping[str, int], krs: Mapping[str, Collection[int]] | None) -> None:
    """Record, per workspace, the KRs (primary keys) its new revision may have changed;
    `krs` None: any of them."""
    rows = []
    for team_id, revision in revisions.items():
        changed = None if krs is None else sorted(krs.get(team_id, ()))
        if not changed:
            rows.append({"team_id": team_id, "revision": revision, "kr_id": None, "every_kr": krs is None})
        else:
            rows.extend({"team_id": team_id, "revision": revision, "kr_id": kr, "every_kr": False} for kr in changed)
    table = ServesChange.__table__
    connection = session.connection()
    connection.execute(insert(table), rows)
    for team_id, revision in revisions.items():
        if revision % PRUNE_EVERY == 0:
            connection.execute(
                delete(table).where(table.c.team_id == team_id, table.c.revision <= revision - KEEP_REVISIONS)
            )


def _changed(instance: object) -> bool:
    state = inspect(instance)
    return any(state.attrs[name].history.has_changes() for name in WATCHED[type(instance)])


def _values(instance: object, name: str) -> list:
    """An attribute's value now and before this flush changed it."""
    now = getattr(instance, name)  # loads it when expired, so its history is known
    return [value for value in (now, *inspect(instance).attrs[name].history.deleted) if value is not None]


def _kr_ids(session: OrmSession, changed: list[object]) -> tuple[dict[str, set[int]], list[object]]:
    """Per workspace, the KRs whose evidence these changed rows may have moved, and the new
    rows whose KR is known only once flushed (a new KR's own id)."""
    found: dict[str, set[int]] = {}
    later: list[object] = []
    objectives: dict[int, str] = {}
    initiatives: dict[int, str] = {}
    for obj in changed:
        team = found.setdefault(obj.team_id, set())
        if isinstance(obj, KeyResult):
            if obj.id is None:
                later.append(obj)
            else:
                team.add(obj.id)
        elif isinstance(obj, (KrLink, ServesFeedback)):
            ids = _values(obj, "kr_id")
            team.update(ids)
            if obj.kr_id is None:
                later.append(obj)
        elif isinstance(obj, Objective) and obj.id is not None:
            objectives[obj.id] = obj.team_id
        elif isinstance(obj, Initiative) and obj.id is not None:
            initiatives[obj.id] = obj.team_id
    connection = session.connection()
    for column, parent, owners in (
        (KeyResult.__table__.c.id, KeyResult.__table__.c.objective_id, objectives),
        (KrLink.__table__.c.kr_id, KrLink.__table__.c.initiative_id, initiatives),
    ):
        if owners:
            for kr, owner in connection.execute(select(column, parent).where(parent.in_(sorted(owners)))):
                found[owners[owner]].add(kr)
    return found, later


@event.listens_for(OrmSession, "before_flush")
def _bump_on_change(session: OrmSession, _context, _instances) -> None:
    session.info.pop(_PENDING, None)
    changed = [obj for obj in (*session.new, *session.deleted) if type(obj) in WATCHED]
    changed += [obj for obj in session.dirty if type(obj) in WATCHED and _changed(obj)]
    teams = {obj.team_id for obj in changed}
    shown = {obj.team_id for obj in (*session.new, *session.deleted) if isinstance(obj, SHOWN)}
    shown |= {obj.team_id for obj in session.dirty if isinstance(obj, SHOWN) and session.is_modified(obj)}
    if teams:
        # Read the KRs before the flush deletes rows that lead to them (an objective, linked work).
        krs, later = _kr_ids(session, changed)
        session.info[_PENDING] = (_move(session, teams, serves=True), krs, later)
    _move(session, shown - teams, serves=False)


@event.listens_for(OrmSession, "after_flush")
def _journal_on_change(session: OrmSession, _context) -> None:
    pending = session.info.pop(_PENDING, None)
    if pending is None:
        return
    revisions, krs, later = pending
    for obj in later:  # flushed: their ids are known now
        kr = obj.id if isinstance(obj, KeyResult) else obj.kr_id
        if kr is not None:
            krs.setdefault(obj.team_id, set()).add(kr)
    journal(session, revisions, krs)
