"""GET /readyz (issue 18): 503 while the database is gone, 200 when it is back; also
503 for a schema behind this okrbot and for an outbox that stopped moving."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from okrbot.store.models import OutboundMessage
from okrbot.store.types import utcnow
from okrbot.store.workspaces import ensure_workspace
from tests.conftest import ON_POSTGRES
from tests.e2e.harness import running_bot
from tests.observability.tcp_proxy import TcpProxy


def ready(url: str) -> httpx.Response:
    return httpx.get(f"{url}/readyz", timeout=15)


def test_readyz_turns_503_when_the_database_goes_away_and_200_when_it_returns(slack, database_url):
    if ON_POSTGRES:
        target = make_url(database_url)
        proxy = TcpProxy(target.host or "127.0.0.1", target.port or 5432).start()
        url = target.set(port=proxy.port, host="127.0.0.1").render_as_string(hide_password=False)
        go_away, come_back = proxy.cut, proxy.start
    else:
        path = Path(make_url(database_url).database)
        url, moved = database_url, path.with_name("moved-away.db")
        go_away, come_back = (lambda: os.rename(path, moved)), (lambda: os.rename(moved, path))
    try:
        with running_bot(slack, url) as (bot, _client):
            answer = ready(bot.url)
            assert answer.status_code == 200, answer.text
            assert answer.json()["ready"] is True

            go_away()
            answer = ready(bot.url)
            assert answer.status_code == 503
            assert answer.json()["checks"]["database"].startswith("failing: unreachable")
            assert httpx.get(f"{bot.url}/healthz", timeout=10).status_code == 200  # still alive

            come_back()
            answer = ready(bot.url)
            assert answer.status_code == 200, answer.text
    finally:
        if ON_POSTGRES:
            proxy.cut()


def test_readyz_is_503_for_a_schema_behind_this_okrbot(bot, db):
    with db.session_scope() as session:
        head = session.execute(text("SELECT version_num FROM alembic_version")).scalar()
        session.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    try:
        answer = ready(bot.url)
        assert answer.status_code == 503
        assert "okrbot migrate" in answer.json()["checks"]["migrations"]
    finally:
        with db.session_scope() as session:
            session.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": head})
    assert ready(bot.url).status_code == 200


@pytest.mark.parametrize(("due_minutes_ago", "status"), [(30, 503), (1, 200)])
def test_readyz_is_503_when_the_outbox_stopped_moving(bot, db, due_minutes_ago, status):
    now = utcnow()
    with db.session_scope() as session:
        ensure_workspace(session, "T1")
        session.add(OutboundMessage(team_id="T1", kind="reply", channel="C1", payload={"text": "stuck"},
                                    next_attempt_at=now - timedelta(minutes=due_minutes_ago), created_at=now - timedelta(hours=1)))
    answer = ready(bot.url)
    assert answer.status_code == status, answer.text
    assert answer.json()["checks"]["outbox"].startswith("failing" if status == 503 else "ok")
