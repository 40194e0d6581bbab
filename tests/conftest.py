"""Shared fixtures: a real database per test, SQLite by default or PostgreSQL.

Set OKRBOT_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test to run
the whole suite on PostgreSQL (`.ci/run` does both). Each PostgreSQL run gets
its own schema, migrated once and truncated between tests.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from okrbot.services.context import Actor
from okrbot.store.db import Database
from okrbot.store.migrate import upgrade_to_head
from okrbot.store.models import metadata

TEST_DATABASE_URL = os.environ.get("OKRBOT_TEST_DATABASE_URL", "")
ON_POSTGRES = TEST_DATABASE_URL.startswith("postgresql")


def pytest_report_header(config) -> str:
    return f"okrbot database: {'PostgreSQL ' + make_url(TEST_DATABASE_URL).render_as_string(hide_password=True) if ON_POSTGRES else 'SQLite'}"


def _with_search_path(url: str, schema: str) -> str:
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options={quote(f'-csearch_path={schema}')}"


@pytest.fixture(scope="session")
def _migrated_template(tmp_path_factory) -> Iterator[str]:
    """A database at head, made once per run: a SQLite file to copy, or a PostgreSQL schema."""
    if not ON_POSTGRES:
        path = tmp_path_factory.mktemp("template") / "okrbot.db"
        upgrade_to_head(f"sqlite:///{path}")
        yield str(path)
        return
    schema = f"okrbot_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(make_url(TEST_DATABASE_URL).set(drivername="postgresql+psycopg"))
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = _with_search_path(TEST_DATABASE_URL, schema)
    upgrade_to_head(url)
    try:
        yield url
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def database_url(_migrated_template: str, tmp_path: Path) -> str:
    """A migrated, empty database for this test, reachable by other processes too."""
    if not ON_POSTGRES:
        path = tmp_path / "okrbot.db"
        shutil.copyfile(_migrated_template, path)
        return f"sqlite:///{path}"
    database = Database(_migrated_template)
    tables = ", ".join(f'"{table.name}"' for table in metadata.sorted_tables)
    with database.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    database.dispose()
    return _migrated_template


@pytest.fixture(autouse=True)
def _own_cache_dir(tmp_path: Path, monkeypatch) -> None:
    """Each test's shared indexes (OKRBOT_CACHE_DIR) in its own directory, never the user's ~/.cache."""
    monkeypatch.setenv("OKRBOT_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


NOW = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)  # week 6 of 2026-Q4


@pytest.fixture
def actor() -> Actor:
    return Actor(team_id="T1", user_id="U1", channel_id="C1", now=NOW)
