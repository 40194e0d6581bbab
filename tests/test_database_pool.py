"""A pooled PostgreSQL connection the server dropped while it sat idle (a restart, a proxy's
idle timeout) is replaced before a unit of work uses it: nobody sees the dead connection."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from okrbot.store import db as db_module
from okrbot.store.db import Database
from tests.conftest import ON_POSTGRES, TEST_DATABASE_URL


@pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL only: SQLite has no server connection to lose")
def test_a_connection_dropped_while_idle_is_replaced_before_use(database_url, monkeypatch):
    monkeypatch.setattr(db_module, "PING_AFTER_SECONDS", 0.0)  # every reuse counts as idle
    db = Database(database_url)
    try:
        with db.session_scope() as session:
            first = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        admin = create_engine(make_url(TEST_DATABASE_URL).set(drivername="postgresql+psycopg"))
        with admin.begin() as connection:
            assert connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first}).scalar_one()
        admin.dispose()
        with db.session_scope() as session:
            second = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        assert second != first
    finally:
        db.dispose()
