"""The inbox: every request is written here before its sender gets a 2xx.

Slack does not resend a slash command, a button or a modal that got its 200, so what
was acknowledged must already be on disk. The server (`accept`) writes the request
with its idempotency key; a worker in any process, on any machine sharing the
database, claims it (`claim`, with a lease), runs it and marks it done (`finish`).
The change a request makes records the same key in its own transaction
(services/idempotency.py), so a request claimed again after a crash changes nothing.

States: pending → working (claimed by one worker until `lease_until`) → done. A
worker that dies leaves its rows `working`; its supervisor hands them back at once
(`release`), and anyone takes them when the lease runs out.

On SQLite the inbox is a file of its own beside the database: its writers (the
server acknowledging, workers claiming) never wait for a long unit of work holding
the main file's write lock. On PostgreSQL it is a table of the main database and a
NOTIFY wakes the workers.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Integer, bindparam, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, make_url

from okrbot.store.db import Database
from okrbot.store.models import InboundRequest, metadata
from okrbot.store.types import utcnow

PENDING, WORKING, DONE = "pending", "working", "done"
NOTIFY_CHANNEL = "okrbot_inbox"
LEASE = timedelta(seconds=30)  # workers extend it while they work (a heartbeat)
KEEP_DONE = timedelta(days=1)  # long enough for Slack's and the webhooks' retries to find their key
REPLACED_INDEXES = ("ix_inbound_request_due",)  # dropped from an inbox file made by an older okrbot


@dataclass(frozen=True)
class Accepted:
    id: int
    new: bool  # False: the same key was accepted before (a retry or a redelivery)


@dataclass(frozen=True)
class Claimed:
    id: int
    key: str
    route: str
    body: bytes
    headers: dict
    query: str
    answer_wanted: bool
    attempts: int
    received_at: datetime | None = None  # when the server wrote it (a request's latency counts from here)


@dataclass(frozen=True)
class StoredAnswer:
    status: int
    body: bytes
    headers: dict


@dataclass(frozen=True)
class Finished:
    id: int
    answer: StoredAnswer | None


@dataclass(frozen=True)
class Backlog:
    waiting: int  # pending or being worked on
    oldest_seconds: float | None


# Built once: a claim is the busiest statement a worker sends (one per request or more),
# and building it anew each time was a third of a worker's CPU under load.
_table = InboundRequest.__table__
_CLAIM = (
    update(_table)
    .where(
        _table.c.id.in_(
            select(_table.c.id)
            .where(
                _table.c.status != DONE,  # the partial index ix_inbound_request_open (store/models.py)
                or_(_table.c.status == PENDING, _table.c.lease_until < bindparam("claim_now", type_=_table.c.lease_until.type)),
            )
            .order_by(_table.c.answer_wanted.desc(), _table.c.id)
            .limit(bindparam("claim_limit", type_=Integer))
            .with_for_update(skip_locked=True)  # PostgreSQL: workers never wait for each other; SQLite: one writer anyway
            .scalar_subquery()
        )
    )
    .values(
        status=WORKING,
        worker=bindparam("claimer", type_=_table.c.worker.type),
        lease_until=bindparam("claimed_until", type_=_table.c.lease_until.type),
        attempts=_table.c.attempts + 1,
    )
    .returning(
        _table.c.id, _table.c.key, _table.c.route, _table.c.body, _table.c.headers, _table.c.query,
        _table.c.answer_wanted, _table.c.attempts, _table.c.received_at,
    )
)
_ACCEPT = {
    name: insert(_table)
    .values(
        key=bindparam("in_key", type_=_table.c.key.type),
        route=bindparam("in_route", type_=_table.c.route.type),
        team_id=bindparam("in_team", type_=_table.c.team_id.type),
        body=bindparam("in_body", type_=_table.c.body.type),
        headers=bindparam("in_headers", type_=_table.c.headers.type),
        query=bindparam("in_query", type_=_table.c.query.type),
        answer_wanted=bindparam("in_answer_wanted", type_=_table.c.answer_wanted.type),
        status=PENDING,
        attempts=0,
        received_at=bindparam("in_now", type_=_table.c.received_at.type),
    )
    .on_conflict_do_nothing(index_elements=["key"])
    .returning(_table.c.id)
    for name, insert in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}
# PostgreSQL: the new request's id, written and the workers told in one statement,
# committed as it returns: one round trip before the ack instead of four (BEGIN, the
# insert, the NOTIFY, COMMIT). No row when the key was there already.
_written = _ACCEPT["postgresql"].cte("written")
_ACCEPT_AND_NOTIFY = select(_written.c.id, func.pg_notify(NOTIFY_CHANNEL, ""))
_FINISH = (
    update(_table)
    .where(_table.c.id == bindparam("finished_id", type_=Integer))
    .values(status=DONE, done_at=bindparam("finished_at", type_=_table.c.done_at.type), lease_until=None)
)
_FINISH_ANSWERED = _FINISH.values(
    answer_status=bindparam("status_given", type_=_table.c.answer_status.type),
    answer_body=bindparam("body_given", type_=_table.c.answer_body.type),
    answer_headers=bindparam("headers_given", type_=_table.c.answer_headers.type),
)


def open_inbox(database_url: str) -> Inbox:
    """The inbox for this database: a sibling file on SQLite, the same database otherwise."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return Inbox(Database(database_url))
    sibling = url.set(database=f"{url.database}-inbox").render_as_string(hide_password=False)
    return Inbox(Database(sibling), own_file=True)


class Inbox:
    def __init__(self, db: Database, *, own_file: bool = False) -> None:
        self.db = db
        self.notifies = db.backend == "postgresql"
        self._table_made = not own_file  # the main database's table comes with its migrations

    def _session(self, *, read_only: bool = False):
        self._make_table()
        return self.db.session_scope(read_only=read_only)

    def _each_statement_commits(self):
        self._make_table()
        return self.db.each_statement_commits()

    def _make_table(self) -> None:
        """SQLite's inbox file has no migrations: its table and indexes are made here, on
        first use (so a server can start while its disk is away), and a file made by an
        older okrbot gets the indexes it lacks."""
        if self._table_made:
            return
        metadata.create_all(self.db.engine, tables=[_table])
        with self.db.engine.begin() as connection:
            for index in _table.indexes:
                index.create(connection, checkfirst=True)
            for name in REPLACED_INDEXES:
                connection.execute(text(f"DROP INDEX IF EXISTS {name}"))
        self._table_made = True

    # ------------------------------------------------------------------ the server's side

    def accept(
        self,
        *,
        key: str,
        route: str,
        body: bytes,
        headers: dict[str, str],
        query: str = "",
        answer_wanted: bool = False,
        team_id: str | None = None,
    ) -> Accepted:
        """Write the request (committed when this returns), or find the one with its key.

        A redelivery of a request that was refused or failed (answered 4xx or 5xx: nothing
        was applied, e.g. a webhook whose secret was wrong until the operator fixed it, or a
        database that was away) is worked again; any other repeat is the same request and is not."""
        values = {
            "in_key": key,
            "in_route": route,
            "in_team": team_id,
            "in_body": body,
            "in_headers": headers,
            "in_query": query[:2000],
            "in_answer_wanted": answer_wanted,
            "in_now": utcnow(),
        }
        if self.notifies:
            with self.db.autocommit() as connection:
                new_id = connection.execute(_ACCEPT_AND_NOTIFY, values).scalar()
        else:
            with self._each_statement_commits() as connection:
                new_id = connection.execute(_ACCEPT["sqlite"], values).scalar()
        if new_id is not None:
            return Accepted(new_id, new=True)
        with self._session() as session:
            found_id = session.execute(select(InboundRequest.id).where(InboundRequest.key == key)).scalar_one()
            retried = session.execute(
                update(InboundRequest)
                .where(InboundRequest.id == found_id, InboundRequest.status == DONE, InboundRequest.answer_status >= 400)
                .values(status=PENDING, worker=None, lease_until=None, done_at=None, answer_status=None, answer_body=None, answer_headers=None)
            ).rowcount
            if retried:
                self._notify(session)
            return Accepted(found_id, new=False)

    def answer_of(self, request_id: int) -> StoredAnswer | None:
        """The answer a worker gave (at the listener's ack for a modal), once there is one."""
        with self._session(read_only=True) as session:
            row = session.execute(
                select(InboundRequest.answer_status, InboundRequest.answer_body, InboundRequest.answer_headers).where(InboundRequest.id == request_id)
            ).first()
        if row is None or row.answer_status is None:
            return None
        return StoredAnswer(row.answer_status, row.answer_body or b"", dict(row.answer_headers or {}))

    # ------------------------------------------------------------------ the workers' side

    def claim(self, worker: str, *, limit: int, lease: timedelta = LEASE, finished: Sequence[Finished] = ()) -> list[Claimed]:
        """Take up to `limit` requests nobody is working on: answers someone waits for first.

        `finished`: requests this worker has done, recorded as done first (one transaction
        per request fewer on a busy worker). Each statement stands alone: a finish is true
        whether or not the claim after it happens, and a claim is one atomic UPDATE."""
        now = utcnow()
        with self._each_statement_commits() as connection:
            self._finish(connection, finished, now)
            if limit <= 0:
                return []
            rows = connection.execute(_CLAIM, {"claim_now": now, "claim_limit": limit, "claimer": worker, "claimed_until": now + lease}).all()
        claimed = [Claimed(r.id, r.key, r.route, r.body, dict(r.headers or {}), r.query, r.answer_wanted, r.attempts, _aware(r.received_at, now)) for r in rows]
        return sorted(claimed, key=lambda c: (not c.answer_wanted, c.id))

    def extend(self, worker: str, ids: list[int], *, lease: timedelta = LEASE) -> None:
        """The heartbeat: these requests are still being worked on."""
        if not ids:
            return
        with self._session() as session:
            session.execute(
                update(InboundRequest)
                .where(InboundRequest.id.in_(ids), InboundRequest.worker == worker, InboundRequest.status == WORKING)
                .values(lease_until=utcnow() + lease)
            )

    def answer(self, request_id: int, answer: StoredAnswer) -> None:
        """Give the waiting sender its answer now; the work may go on."""
        with self._session() as session:
            session.execute(
                update(InboundRequest)
                .where(InboundRequest.id == request_id)
                .values(answer_status=answer.status, answer_body=answer.body, answer_headers=answer.headers)
            )

    def finish(self, request_id: int, answer: StoredAnswer | None) -> None:
        with self._each_statement_commits() as connection:
            self._finish(connection, [Finished(request_id, answer)], utcnow())

    def _finish(self, connection: Connection, finished: Sequence[Finished], now: datetime) -> None:
        """One UPDATE by primary key for the requests with an answer, one for those without
        (their answer columns are left as they are)."""
        answered = [
            {"finished_id": r.id, "finished_at": now, "status_given": r.answer.status, "body_given": r.answer.body, "headers_given": r.answer.headers}
            for r in finished
            if r.answer is not None
        ]
        unanswered = [{"finished_id": r.id, "finished_at": now} for r in finished if r.answer is None]
        for statement, rows in ((_FINISH_ANSWERED, answered), (_FINISH, unanswered)):
            if rows:
                connection.execute(statement, rows)

    def release(self, worker: str) -> int:
        """A worker died: what it held is anyone's again, now rather than when the lease ends."""
        with self._session() as session:
            released = session.execute(
                update(InboundRequest)
                .where(InboundRequest.worker == worker, InboundRequest.status == WORKING)
                .values(status=PENDING, worker=None, lease_until=None)
            ).rowcount
            if released:
                self._notify(session)
            return released

    def prune(self, *, keep: timedelta = KEEP_DONE) -> int:
        with self._session() as session:
            return session.execute(
                InboundRequest.__table__.delete().where(InboundRequest.status == DONE, InboundRequest.done_at < utcnow() - keep)
            ).rowcount

    # ------------------------------------------------------------------ looking on

    def backlog(self, now: datetime | None = None) -> Backlog:
        now = now or utcnow()
        with self._session(read_only=True) as session:
            waiting, oldest = session.execute(
                select(func.count(), func.min(InboundRequest.received_at)).where(InboundRequest.status != DONE)
            ).one()
        if oldest is not None and oldest.tzinfo is None:  # an aggregate skips the column's type on SQLite
            oldest = datetime.fromisoformat(str(oldest)).replace(tzinfo=now.tzinfo)
        return Backlog(waiting, None if oldest is None else max(0.0, (now - oldest).total_seconds()))

    def _notify(self, session) -> None:
        if self.notifies:  # delivered when the transaction commits
            session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": NOTIFY_CHANNEL})

    def dispose(self) -> None:
        self.db.dispose()


def encode_body(body: bytes | dict) -> bytes:
    """Socket Mode payloads arrive parsed; the inbox keeps bytes."""
    return body if isinstance(body, bytes) else json.dumps(body).encode()


def _aware(moment: datetime | None, now: datetime) -> datetime | None:
    """SQLite hands a RETURNING timestamp back without its zone: it is UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=now.tzinfo)
    return moment
