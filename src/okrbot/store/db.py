"""Engine and unit of work. Services `flush()`; `session_scope()` commits once."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, create_engine

from okrbot.store import revisions  # noqa: F401 - registers the flush hook that moves OKR revisions

READ_ONLY = "okrbot_read_only"  # execution option of the engine a read-only unit of work uses
SQLITE_BUSY_SECONDS = 30  # PRAGMA busy_timeout below, and how long a writer queues in-process
# A pooled PostgreSQL connection idle this long is pinged before use. A busy pool reuses its
# connections within milliseconds, so it is not pinged; one that dies in less than this is
# noticed by its first statement, which invalidates the pool (SQLAlchemy's disconnect handling).
PING_AFTER_SECONDS = 1.0
WAL_SWITCH_TRIES = 50  # 0.1 s apart


def make_engine(database_url: str) -> Engine:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(database_url, in_memory=url.database in (None, "", ":memory:"))
    if url.drivername == "postgresql":
        # psycopg 3 is the driver we ship; plain postgresql:// would ask for psycopg2.
        url = url.set(drivername="postgresql+psycopg")
    engine = create_engine(url, pool_size=10, max_overflow=10)
    _ping_when_idle(engine, PING_AFTER_SECONDS)
    return engine


def _ping_when_idle(engine: Engine, after: float) -> None:
    """Check a pooled connection is still alive before using it, if it sat idle `after`
    seconds or more (SQLAlchemy's pool_pre_ping checks every time: a round trip per
    transaction, three or four per request). A dead one (the server restarted, a proxy
    dropped it) is replaced by a new connection, and the request never sees it."""

    @event.listens_for(engine, "checkin")
    def _idle_from_now(_dbapi_connection, record) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _alive(dbapi_connection, record, _proxy) -> None:
        idle_since = record.info.pop("idle_since", None)
        if idle_since is None or time.monotonic() - idle_since < after:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:  # noqa: BLE001 - any failure: the pool takes a new connection
            raise DisconnectionError("a pooled connection was dead") from error


def _sqlite_engine(database_url: str, *, in_memory: bool) -> Engine:
    kwargs: dict = {"connect_args": {"check_same_thread": False, "timeout": SQLITE_BUSY_SECONDS}}
    if in_memory:
        kwargs["poolclass"] = StaticPool  # one shared connection, or each would see its own empty database
    engine = create_engine(database_url, **kwargs)

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record) -> None:
        # Let SQLAlchemy, not pysqlite, decide when transactions begin (needed for BEGIN IMMEDIATE).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if not in_memory:
            _use_wal(cursor)
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_SECONDS * 1000}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin_immediate(connection) -> None:
        # Take the write lock up front: two writers that both read then write
        # would otherwise deadlock on upgrade and one would fail with "locked".
        # A unit of work that only reads does not: in WAL mode readers never wait
        # for each other or for the writer (SQLite's busy wait is unfair, so 20
        # concurrent `/okr status` queued on the write lock starve for seconds).
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


def _use_wal(cursor) -> None:
    """WAL mode is kept in the file, so only a file's first connection switches it. Switching
    needs the file to itself for a moment, and SQLite answers "locked" at once, without its
    busy wait, when another process opens the file just then (a server and its worker, both
    starting): look again for a few seconds."""
    for attempt in range(WAL_SWITCH_TRIES):
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or attempt == WAL_SWITCH_TRIES - 1:
                raise
            time.sleep(0.1)


class Database:
    """One engine per process, with the unit of work that services run in."""

    def __init__(self, database_url: str):
        self.url = database_url
        self.engine = make_engine(database_url)
        self._reader = self.engine.execution_options(**{READ_ONLY: True})  # same pool
        self._autocommitting = self.engine.execution_options(isolation_level="AUTOCOMMIT")  # same pool
        # SQLite has one writer at a time, and a writer that finds the lock taken sleeps and
        # retries (up to 100 ms a nap), so under concurrent check-ins some waited seconds
        # while the lock sat free. This process's writers queue here instead and are woken
        # the moment the one before them commits; other processes still meet the busy wait.
        self._writers = threading.RLock() if self.backend == "sqlite" else None

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session_scope(self, *, read_only: bool = False) -> Iterator[Session]:
        """Commit when the block ends, roll back if it raises: all or nothing.

        `read_only`: the block only reads (on SQLite it then takes no write lock)."""
        queued = self._writers is not None and not read_only
        # Past the busy timeout, go on anyway and let SQLite report "locked" as it would.
        holding = queued and self._writers.acquire(timeout=SQLITE_BUSY_SECONDS)
        session = Session(self._reader if read_only else self.engine, expire_on_commit=False)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
            if holding:
                self._writers.release()

    @contextmanager
    def autocommit(self) -> Iterator[Connection]:
        """A connection whose every statement commits as it runs: no BEGIN and COMMIT round
        trips, for a single statement that must be durable when it returns."""
        with self._autocommitting.connect() as connection:
            yield connection

    @contextmanager
    def each_statement_commits(self) -> Iterator[Connection]:
        """A connection whose every statement commits as it runs, for statements that need no
        transaction around them: on PostgreSQL no BEGIN and COMMIT round trips, and no ORM
        session (a third of the CPU of a worker's claim). On SQLite, one transaction (BEGIN
        and COMMIT cost no round trip there), queued with the writers."""
        if self.backend == "postgresql":
            with self.autocommit() as connection:
                yield connection
            return
        holding = self._writers.acquire(timeout=SQLITE_BUSY_SECONDS)
        try:
            with self.engine.begin() as connection:
                yield connection
        finally:
            if holding:
                self._writers.release()

    def dispose(self) -> None:
        self.engine.dispose()
