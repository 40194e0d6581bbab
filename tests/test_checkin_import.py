"""`okrbot checkin import FILE.csv`: readings in bulk, all rows or none (issue 14)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import func, select
from typer.testing import CliRunner

from okrbot.cli import app
from okrbot.store.models import CheckIn, KeyResult
from tests.test_shell import okr


@pytest.fixture
def krs(database_url, monkeypatch):
    """T1: KR-1 numeric 0 → 100, KR-2 yes/no, KR-3 by initiatives."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    code, output = okr('objective add "Grow usage"', 'kr add O-1 "Active teams" from 0 to 100', 'kr add O-1 "SOC2 passed" yes/no', 'kr add O-1 "Launch" by initiatives')
    assert code == 0, output


def run_import(tmp_path, text: str) -> tuple[int, str]:
    path = tmp_path / "readings.csv"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(app, ["checkin", "import", str(path), "--team", "T1"])
    return result.exit_code, result.output


def state(db, number: int) -> tuple[float | None, list[tuple[datetime, float, str]]]:
    with db.session_scope() as session:
        kr = session.exec(select(KeyResult).where(KeyResult.number == number)).one()
        rows = session.exec(select(CheckIn.at, CheckIn.value, CheckIn.author).where(CheckIn.kr_id == kr.id).order_by(CheckIn.at)).all()
        return kr.current, [tuple(row) for row in rows]


GOOD = """kr,value,at,source
KR-1,40,2026-11-03T09:00:00Z,dbt
KR-1,55,2026-11-10T09:00:00Z,dbt
KR-1,35,2026-10-27T09:00:00Z,sheet
kr2,yes,2026-11-05T12:00:00+01:00,
"""


def test_rows_become_check_ins_and_the_newest_is_current(krs, db, tmp_path):
    code, output = run_import(tmp_path, GOOD)
    assert code == 0, output
    assert "Imported 4 check-ins (3 became current, 1 older kept in history)" in output
    current, history = state(db, 1)
    assert current == 55
    assert [(value, author) for _, value, author in history] == [(35.0, "sheet"), (40.0, "dbt"), (55.0, "dbt")]
    assert state(db, 2) == (1.0, [(datetime(2026, 11, 5, 11, 0, tzinfo=UTC), 1.0, "import")])


def test_importing_the_same_file_twice_changes_nothing(krs, db, tmp_path):
    run_import(tmp_path, GOOD)
    code, output = run_import(tmp_path, GOOD)
    assert code == 0 and "Imported 0 check-ins" in output and "4 already imported" in output
    assert len(state(db, 1)[1]) == 3


def test_any_bad_row_writes_nothing_and_every_bad_line_is_named(krs, db, tmp_path):
    text = GOOD + "KR-9,1,2026-11-01T00:00:00Z,dbt\nKR-1,lots,2026-11-01T00:00:00Z,dbt\nKR-3,1,2026-11-01T00:00:00Z,dbt\nKR-1,2,,dbt\n"
    code, output = run_import(tmp_path, text)
    assert code == 1 and "nothing was written" in output
    for line, says in ((6, "KR-9"), (7, "number"), (8, "initiatives"), (9, "at is empty")):
        assert any(row.startswith(f"line {line}:") and says in row for row in output.splitlines()), (line, output)
    assert "line 2" not in output
    with db.session_scope() as session:
        assert session.exec(select(func.count()).select_from(CheckIn)).one() == 0


def test_a_file_without_the_columns_says_which_are_missing(krs, tmp_path):
    code, output = run_import(tmp_path, "key result,value\nKR-1,3\n")
    assert code == 1 and "line 1:" in output and "kr, at missing" in output
