"""Readiness (`GET /readyz`): may an orchestrator send this replica requests?

Ready when the database answers a fresh connection, its schema is at the newest
migration, a worker is up, and the outbox is moving (no message due for longer than
OKRBOT_OUTBOX_STUCK_SECONDS). `/healthz` only says the process is alive: restarting a
replica does not bring a database back.

Each probe opens its own connection: a pooled one could still read a SQLite file that
was moved away, or hide a PostgreSQL server that stopped answering new connections.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, func, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool
from sqlmodel import Session, col, select

from okrbot.store.db import Database
from okrbot.store.migrate import alembic_config
from okrbot.store.models import OutboundMessage
from okrbot.store.types import utcnow

CONNECT_TIMEOUT_SECONDS = 3
_DUE = ("pending", "sending", "posting")


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def head_revision(database_url: str) -> str | None:
    """The newest migration this okrbot ships."""
    return ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at (None: never migrated). Raises when it can't be reached."""
    with engine.connect() as connection:
        if "alembic_version" not in _table_names(connection):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _table_names(connection) -> set[str]:
    return set(inspect(connection).get_table_names())


def probe_engine(db: Database) -> Engine:
    """An engine that connects anew for every probe (see the module's note)."""
    url = make_url(db.url)
    if url.get_backend_name() == "sqlite":
        if url.database in (None, "", ":memory:"):
            return db.engine  # one shared in-memory connection: nothing else to open
        # mode=rw: a missing file is an error, not a new empty database.
        return create_engine(f"sqlite:///file:{url.database}?mode=rw&uri=true", poolclass=NullPool)
    return create_engine(db.engine.url, poolclass=NullPool, connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS})


class Readiness:
    def __init__(self, db: Database, *, workers: Callable[[], tuple[int, int]], outbox_stuck_seconds: float) -> None:
        self.engine = probe_engine(db)
        self.head = head_revision(db.url)
        self.workers = workers
        self.stuck_after = timedelta(seconds=outbox_stuck_seconds)

    def checks(self) -> list[Check]:
        up, total = self.workers()
        if total == 0:  # OKRBOT_WORKERS=0: this server only acknowledges; `okrbot worker` processes work
            found = [Check("workers", True, "none of its own: okrbot worker processes do the work")]
        else:
            found = [Check("workers", up > 0, f"{up} of {total} up")]
        try:
            revision = current_revision(self.engine)
        except Exception as error:  # noqa: BLE001 - the answer is "not ready", with the reason
            return [Check("database", False, f"unreachable ({error.__class__.__name__})"), *found]
        found.insert(0, Check("database", True, "reachable"))
        if revision != self.head:
            found.append(Check("migrations", False, f"at {revision or 'none'}, this okrbot needs {self.head}: run `okrbot migrate`"))
            return found
        found.append(Check("migrations", True, f"at head {self.head}"))
        found.append(self._outbox())
        return found

    def _outbox(self) -> Check:
        try:
            with Session(self.engine) as session:
                overdue = session.exec(select(func.min(OutboundMessage.next_attempt_at)).where(col(OutboundMessage.status).in_(_DUE))).one()
        except Exception as error:  # noqa: BLE001
            return Check("outbox", False, f"unreadable ({error.__class__.__name__})")
        now = utcnow()
        if overdue is not None and overdue.tzinfo is None:
            overdue = overdue.replace(tzinfo=now.tzinfo)
        if overdue is not None and now - overdue > self.stuck_after:
            late = int((now - overdue).total_seconds())
            return Check("outbox", False, f"a message has been due for {late} s and is not sent (Slack refusing, or no sender running)")
        return Check("outbox", True, "moving")
