"""Migrations: empty databases upgrade to head, and the models match the migrations."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
import pytest
from sqlalchemy import inspect, text
from typer.testing import CliRunner

from okrbot.cli import app
from okrbot.store.db import make_engine
from okrbot.store.migrate import alembic_config
from okrbot.store.models import metadata


def _head(database_url: str) -> str:
    return ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()


def test_models_match_the_migrations(database_url):
    """The fixture database was built by `alembic upgrade head` (SQLite or PostgreSQL)."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert context.get_current_revision() == _head(database_url)
            differences = compare_metadata(context, metadata)
    finally:
        engine.dispose()
    assert differences == [], f"models and migrations differ; generate a migration: {differences}"


def test_okrbot_migrate_upgrades_an_empty_sqlite_database(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'new.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    runner = CliRunner()
    first = runner.invoke(app, ["migrate"])
    second = runner.invoke(app, ["migrate"])  # running again at every start must be harmless
    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    engine = make_engine(url)
    try:
        tables = set(inspect(engine).get_table_names())
        with engine.connect() as connection:
            revision = MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
    assert {table.name for table in metadata.sorted_tables} <= tables
    assert revision == _head(url)


def test_sqlite_runs_with_wal_and_foreign_keys(db):
    if db.backend != "sqlite":
        return
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_a_database_with_data_upgrades_to_head(tmp_path):
    """Upgrades run on databases people already use: SQLite refuses to drop a table other
    rows point at, so a migration that copies and drops one fails only once there is data."""
    from alembic import command
    from sqlalchemy import text

    url = f"sqlite:///{tmp_path / 'used.db'}"
    config = alembic_config(url)
    command.upgrade(config, "0003")
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO workspace (team_id, name, next_objective, next_kr, next_initiative, review_enabled, created_at) "
                                    "VALUES ('T1', 'Acme', 1, 0, 0, 1, '2026-11-01 09:00:00')"))
            connection.execute(text("INSERT INTO objective (id, team_id, number, title, owner, period, description, private, status, created_at, updated_at) "
                                    "VALUES (1, 'T1', 1, 'Grow activation', 'U1', '2026-Q4', '', 0, 'active', '2026-11-01 09:00:00', '2026-11-01 09:00:00')"))
        command.upgrade(config, "head")
        with engine.connect() as connection:
            assert MigrationContext.configure(connection).get_current_revision() == _head(url)
            assert connection.execute(text("SELECT title FROM objective")).scalars().all() == ["Grow activation"]
            assert connection.execute(text("SELECT okr_revision FROM workspace")).scalars().all() == [0]
            assert connection.execute(text("SELECT count(*) FROM serves_feedback")).scalar() == 0
        command.downgrade(config, "0004")  # "Not this one" can be taken out again
        assert not inspect(engine).has_table("serves_feedback")
    finally:
        engine.dispose()


def test_0006_keeps_work_linked_before_matching_its_trackers_links(tmp_path):
    """Work linked before 0006 stored keys that kept GitLab paths' case, Jira queries and
    Linear title slugs; after the upgrade they meet the links the webhooks send."""
    from alembic import command
    from sqlalchemy import text

    from okrbot.domain.urls import url_key

    url = f"sqlite:///{tmp_path / 'linked.db'}"
    config = alembic_config(url)
    command.upgrade(config, "0004")
    links = [
        "https://gitlab.lrz.de/HephaestusTest/demo-repository/-/issues/5",
        "https://acme.atlassian.net/browse/PAY-12?atlOrigin=abc",
        "https://linear.app/acme/issue/KOR-11/webhook-test",
        "https://github.com/acme/app/issues/12",
    ]
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO workspace (team_id, name, next_objective, next_kr, next_initiative, review_enabled, created_at, okr_revision) "
                                    "VALUES ('T1', 'Acme', 0, 0, 4, 1, '2026-11-01 09:00:00', 0)"))
            for number, link in enumerate(links, start=1):
                old_key = link.rstrip("/")  # what 0001..0004's url_key kept of these links
                connection.execute(text("INSERT INTO initiative (team_id, number, title, status, url, url_key, created_at, updated_at) "
                                        "VALUES ('T1', :n, 'Work', 'todo', :url, :key, '2026-11-01 09:00:00', '2026-11-01 09:00:00')"),
                                   {"n": number, "url": link, "key": old_key})
        command.upgrade(config, "0006")
        with engine.connect() as connection:
            keys = connection.execute(text("SELECT url_key FROM initiative ORDER BY number")).scalars().all()
            assert connection.execute(text("SELECT count(*) FROM webhook_secret")).scalar() == 0
    finally:
        engine.dispose()
    sent_by_webhooks = [
        "https://gitlab.lrz.de/hephaestustest/demo-repository/-/issues/5",
        "https://acme.atlassian.net/browse/PAY-12",
        "https://linear.app/acme/issue/KOR-11/another-title",
        "https://github.com/acme/app/issues/12",
    ]
    assert keys == [url_key(sent) for sent in sent_by_webhooks]


def test_postgresql_compresses_outbox_payloads_with_lz4(database_url):
    """A status answer's payload is tens of kilobytes: pglz cost the server about a
    millisecond of CPU per answer (migration 0019)."""
    engine = make_engine(database_url)
    try:
        if engine.dialect.name != "postgresql":
            pytest.skip("PostgreSQL only: SQLite does not compress column values")
        with engine.connect() as connection:
            offered = connection.execute(text("SELECT enumvals FROM pg_settings WHERE name = 'default_toast_compression'")).scalar()
            if "lz4" not in offered:
                pytest.skip("this PostgreSQL server was built without lz4")
            method = connection.execute(
                text("SELECT attcompression FROM pg_attribute WHERE attrelid = 'outbound_message'::regclass AND attname = 'payload'")
            ).scalar()
    finally:
        engine.dispose()
    assert method == "l"
