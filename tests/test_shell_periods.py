"""`okrbot shell`: the period commands of issue 13 work offline as in Slack."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from typer.testing import CliRunner

from okrbot.cli import app
from okrbot.domain.periods import current_period
from okrbot.store.types import utcnow


def okr(*commands: str, user: str = "U1", admin: bool = False) -> tuple[int, str]:
    args = ["shell", "--user", user, "--team", "T1", "--channel", "C1"]
    if admin:
        args.append("--admin")
    for command in commands:
        args += ["-c", command]
    result = CliRunner().invoke(app, args)
    return result.exit_code, result.output


def last_quarter() -> str:
    now = current_period(utcnow(), ZoneInfo("UTC"))
    return f"{now.year - 1}-Q4" if now.quarter == 1 else f"{now.year}-Q{now.quarter - 1}"


def test_fiscal_year_grade_close_and_reopen_offline(database_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("OKRBOT_TIMEZONE", "UTC")
    quarter = last_quarter()  # its grading window is open today (it ended before today)
    code, out = okr(
        f'/okr objective add "Grow activation" period {quarter}',
        '/okr kr add O-1 "Signups" from 0 to 100 committed',
        "/okr checkin KR-1 60",
        '/okr grade KR-1 0.6 "legal was slow"',
        f"/okr status {quarter}",
    )
    assert code == 0, out
    assert "Grade 0.6" in out and "committed: 1.0 expected" in out
    code, out = okr("/okr settings fiscal-year starts february")
    assert "Only an okrbot admin" in out
    code, out = okr("/okr settings fiscal-year starts february", f"/okr close {quarter}", "/okr settings", admin=True)
    assert code == 0, out
    assert "The fiscal year starts in February" in out and f"{quarter} is closed" in out.replace("*", "")
    code, out = okr("/okr checkin KR-1 70")
    assert f"/okr reopen-period {quarter}" in out
    code, out = okr(f"/okr reopen-period {quarter}", "/okr checkin KR-1 70", admin=True)
    assert code == 0, out
    assert "open again" in out and "Recorded" in out
    code, out = okr(f"/okr report {quarter}", "/okr carry O-1", "/okr carry O-1", admin=True)
    assert code == 0, out
    assert f"SCORECARD · {quarter}" in out and "Grow activation — Grade 0.6" in out.replace("*", "")
    assert "New objective O-2 Grow activation" in out.replace("*", "") and "Nothing new" in out


def test_drafting_and_a_closed_period_s_work_offline(database_url, monkeypatch):
    """Drafting opens 14 days before a period (a year ahead with OKRBOT_PLANNING_LEAD_DAYS=366);
    work feeding only a closed period's KR is refused, saying who can reopen it."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("OKRBOT_TIMEZONE", "UTC")
    now = current_period(utcnow(), ZoneInfo("UTC"))
    far = now.next().next()  # always more than 14 days away
    code, out = okr(f'/okr objective add "Far ahead" period {far}')
    assert code != 0 and f"Drafting for {far.labelled()} opens on" in out and f"period {now}" in out
    monkeypatch.setenv("OKRBOT_PLANNING_LEAD_DAYS", "366")
    code, out = okr(f'/okr objective add "Next up" period {now.next()}', "/okr status all next", "/okr gaps next")
    assert code == 0, out
    assert "Created" in out and f"{now.next().labelled()} · next quarter, drafts".upper() in out and "Next up" in out  # headers in capitals
    assert "Objectives with no KRs" in out

    quarter = last_quarter()
    code, out = okr(
        f'/okr objective add "Ship the platform" period {quarter}',
        '/okr kr add O-2 "Adopted by every squad" by initiatives',
        '/okr initiative add KR-1 "Write the docs"',
    )
    assert code == 0, out
    okr(f"/okr close {quarter}", admin=True)
    code, out = okr("/okr done I-1")
    assert f"{quarter} is closed" in out and "it would move KR-1" in out and f"/okr reopen-period {quarter}" in out
    code, out = okr(f"/okr reopen-period {quarter}", "/okr done I-1", admin=True)
    assert "0% → 100%" in out.replace("*", ""), out
