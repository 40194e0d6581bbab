"""`okrbot backup FILE` and `okrbot restore FILE`.

SQLite: the online backup API copies the database page by page inside one read
transaction, so the copy is one consistent moment even while `okrbot serve` writes
(WAL: the writers are not held up). PostgreSQL: pg_dump does the same better than we
could; we print its exact command. A restore goes onto an empty database only, so it
can never mix two histories or overwrite one.
"""

from __future__ import annotations

import os
import shlex
import sqlite3
from pathlib import Path
from urllib.parse import parse_qs

from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.engine import URL, make_url

from okrbot.store.migrate import upgrade_to_head

# Left out when deciding whether a database is empty: Alembic's bookkeeping only.
BOOKKEEPING_TABLES = {"alembic_version"}


class BackupError(Exception):
    """What went wrong and what to do instead; shown as is."""


def is_sqlite(database_url: str) -> bool:
    return make_url(database_url).get_backend_name() == "sqlite"


def backup(database_url: str, target: Path) -> str:
    """Write a backup of the database to `target` (SQLite), or say how (PostgreSQL)."""
    if not is_sqlite(database_url):
        return f"PostgreSQL is backed up with pg_dump, consistent while okrbot serves. Run:\n  {pg_dump_command(database_url, target)}"
    source = _sqlite_file(database_url)
    if target.exists():
        raise BackupError(f"{target} exists already; give a new file name (a backup never overwrites one).")
    partial = target.with_name(target.name + ".partial")
    try:
        _copy(_open(source, mode="ro"), sqlite3.connect(partial))
        os.replace(partial, target)  # a half-written backup never carries the real name
    finally:
        partial.unlink(missing_ok=True)
    return f"Backed up {source} to {target} ({target.stat().st_size:,} bytes)."


def restore(database_url: str, source: Path) -> str:
    """Restore a backup onto the empty database at `database_url`, then migrate it to head."""
    if not source.is_file():
        raise BackupError(f"{source} is not a file; give the file `okrbot backup` wrote.")
    engine = create_engine(_plain_driver(database_url))
    try:
        _refuse_unless_empty(engine, database_url)
    finally:
        engine.dispose()
    if not is_sqlite(database_url):
        return (
            "The PostgreSQL database is empty. Restore the pg_dump file with:\n"
            f"  {pg_restore_command(database_url, source)}\nthen run `okrbot migrate`."
        )
    backup_file = _open(source, mode="ro")
    try:
        tables = {row[0] for row in backup_file.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as error:
        backup_file.close()
        raise BackupError(f"{source} is not a SQLite database ({error}); give the file `okrbot backup` wrote.") from error
    if "alembic_version" not in tables:
        backup_file.close()
        raise BackupError(f"{source} is not an okrbot backup (it has no alembic_version table).")
    target = _sqlite_file(database_url)
    _copy(backup_file, sqlite3.connect(target))
    upgrade_to_head(database_url)  # a backup from an older okrbot comes up to this one's schema
    return f"Restored {source} into {target}."


def pg_dump_command(database_url: str, target: Path) -> str:
    url = make_url(database_url)
    words = ["pg_dump", "--format=custom", "--no-owner", f"--file={target}"]
    words += [f"--schema={schema}" for schema in _search_path(url)]
    return _with_password_note(url, words + [_libpq_url(url)])


def pg_restore_command(database_url: str, source: Path) -> str:
    url = make_url(database_url)
    words = ["pg_restore", "--no-owner", "--clean", "--if-exists", f"--dbname={_libpq_url(url)}", str(source)]
    return _with_password_note(url, words)


# ------------------------------------------------------------------ helpers


def _copy(source: sqlite3.Connection, target: sqlite3.Connection) -> None:
    """One step (pages=-1): one read transaction, so the copy is one moment of the source."""
    try:
        source.backup(target, pages=-1)
        problem = target.execute("PRAGMA integrity_check").fetchone()[0]
        if problem != "ok":
            raise BackupError(f"the copy failed SQLite's integrity check: {problem}")
    finally:
        target.close()
        source.close()


def _open(path: Path, *, mode: str) -> sqlite3.Connection:
    if not path.is_file():
        raise BackupError(f"there is no SQLite database at {path}; check DATABASE_URL.")
    return sqlite3.connect(f"file:{path}?mode={mode}", uri=True)


def _sqlite_file(database_url: str) -> Path:
    name = make_url(database_url).database
    if name in (None, "", ":memory:"):
        raise BackupError("an in-memory database has nothing to back up or restore; set DATABASE_URL to a file.")
    return Path(name)


def _refuse_unless_empty(engine: Engine, database_url: str) -> None:
    if is_sqlite(database_url) and not _sqlite_file(database_url).exists():
        return  # a file not made yet is as empty as it gets
    with engine.connect() as connection:
        for table in sorted(set(inspect(connection).get_table_names()) - BOOKKEEPING_TABLES):
            if connection.execute(text(f'SELECT 1 FROM "{table}" LIMIT 1')).first() is not None:
                raise BackupError(
                    f"the database at DATABASE_URL is not empty (table {table} has rows). Restore onto a new, empty "
                    "database and point DATABASE_URL at it; a restore never overwrites data."
                )


def _plain_driver(database_url: str) -> str | URL:
    url = make_url(database_url)
    return url.set(drivername="postgresql+psycopg") if url.drivername == "postgresql" else url


def _search_path(url: URL) -> list[str]:
    options = url.query.get("options", "")
    options = options if isinstance(options, str) else " ".join(options)
    for option in options.split():
        if option.startswith("-csearch_path="):
            return [schema for schema in option.split("=", 1)[1].split(",") if schema]
    return []


def _libpq_url(url: URL) -> str:
    """What pg_dump reads: postgresql://user@host:port/db, no driver, no password."""
    query = {key: value for key, value in parse_qs(url.render_as_string(hide_password=False).partition("?")[2]).items() if key != "options"}
    plain = URL.create("postgresql", username=url.username, host=url.host, port=url.port, database=url.database)
    rendered = plain.render_as_string(hide_password=True)
    extra = "&".join(f"{key}={values[0]}" for key, values in query.items())
    return f"{rendered}?{extra}" if extra else rendered


def _with_password_note(url: URL, words: list[str]) -> str:
    command = shlex.join(words)
    # The password stays out of the printed command (terminals and shell history keep it).
    return f"PGPASSWORD=<the password in DATABASE_URL> {command}" if url.password else command
