"""The inbox: what was acknowledged is kept, claimed by one worker at a time, taken back
from a worker that died, and a request run again changes nothing and answers nothing twice."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from sqlalchemy import update
from sqlmodel import select

from okrbot.runtime.jobs import Route
from okrbot.runtime.jobs.dispatcher import Dispatcher
from okrbot.adapters.slack.routing import inspect_request
from okrbot.store.events import claim_event, forget_old_keys
from okrbot.store.inbox import DONE, PENDING, Finished, StoredAnswer, open_inbox
from okrbot.store.models import CheckIn, InboundRequest, Objective
from okrbot.store.types import utcnow
from tests.e2e.harness import bot_settings
from tests.fakes.slack_api import SlackDouble


@pytest.fixture
def inbox(database_url):
    box = open_inbox(database_url)
    yield box
    box.dispose()


def accept(inbox, key: str, **kwargs):
    return inbox.accept(key=key, route="slack", body=b"{}", headers={}, **kwargs)


def test_a_retry_with_the_same_key_is_the_same_request(inbox):
    first = accept(inbox, "event:Ev1")
    again = accept(inbox, "event:Ev1")
    assert first.new and not again.new and again.id == first.id
    assert inbox.backlog().waiting == 1


def test_one_worker_claims_each_request_and_modal_answers_go_first(inbox):
    plain = accept(inbox, "command:1")
    waited = accept(inbox, "view_submission:V1:h", answer_wanted=True)
    first = inbox.claim("w1", limit=1)
    assert [c.id for c in first] == [waited.id]
    assert [c.id for c in inbox.claim("w2", limit=5)] == [plain.id]
    assert inbox.claim("w3", limit=5) == []


def test_a_busy_worker_records_what_it_finished_with_its_next_claim(inbox):
    first, second = accept(inbox, "command:a"), accept(inbox, "command:b")
    (working,) = inbox.claim("w1", limit=1)
    (following,) = inbox.claim("w1", limit=1, finished=[Finished(working.id, StoredAnswer(200, b"", {}))])
    assert (working.id, following.id) == (first.id, second.id)
    assert inbox.claim("w1", limit=0, finished=[Finished(following.id, None)]) == []
    assert inbox.backlog().waiting == 0
    assert [c.id for c in inbox.claim("w2", limit=5, lease=timedelta(seconds=-1))] == []  # done is never claimed again


def test_a_dead_workers_requests_are_taken_back_and_an_expired_lease_is_anyones(inbox):
    request = accept(inbox, "command:2")
    assert inbox.claim("dead", limit=1)
    assert inbox.release("dead") == 1
    (again,) = inbox.claim("alive", limit=1, lease=timedelta(seconds=-1))  # a lease already over
    assert again.id == request.id and again.attempts == 2
    (third,) = inbox.claim("other", limit=1)
    assert third.id == request.id and third.attempts == 3


def test_done_is_done_but_a_redelivery_after_a_refusal_or_5xx_is_worked_again(inbox):
    ok = accept(inbox, "github:d-1")
    failed = accept(inbox, "github:d-2")
    refused = accept(inbox, "github:d-3")
    inbox.claim("w", limit=3)
    inbox.finish(ok.id, StoredAnswer(200, b"{}", {}))
    inbox.finish(failed.id, StoredAnswer(503, b"{}", {}))
    inbox.finish(refused.id, StoredAnswer(401, b"{}", {}))  # a wrong secret, fixed before the redelivery
    assert not any(accept(inbox, key).new for key in ("github:d-1", "github:d-2", "github:d-3"))
    with inbox.db.session_scope(read_only=True) as session:
        statuses = dict(session.exec(select(InboundRequest.key, InboundRequest.status)).all())
    assert statuses == {"github:d-1": DONE, "github:d-2": PENDING, "github:d-3": PENDING}
    assert inbox.answer_of(ok.id).status == 200 and inbox.answer_of(failed.id) is None


def test_done_requests_and_old_keys_are_pruned_and_nothing_else(inbox, db):
    old, recent = accept(inbox, "command:old"), accept(inbox, "command:recent")
    accept(inbox, "command:waiting")  # still to do: never pruned
    inbox.claim("w", limit=3)
    for request in (old, recent):
        inbox.finish(request.id, None)
    with inbox.db.session_scope() as session:
        session.execute(update(InboundRequest).where(InboundRequest.id == old.id).values(done_at=utcnow() - timedelta(days=2)))
    assert inbox.prune() == 1
    with inbox.db.session_scope(read_only=True) as session:
        assert sorted(session.exec(select(InboundRequest.key)).all()) == ["command:recent", "command:waiting"]
    with db.session_scope() as session:
        assert claim_event(session, "command:old/1", "T1", utcnow() - timedelta(days=8))
        assert claim_event(session, "command:recent/1", "T1", utcnow())
    with db.session_scope() as session:
        assert forget_old_keys(session, utcnow()) == 1
    with db.session_scope() as session:  # the recent key still stops a second run; the old one is gone
        assert not claim_event(session, "command:recent/1", "T1", utcnow())
        assert claim_event(session, "command:old/1", "T1", utcnow())


def command(text: str, slack: SlackDouble, name: str) -> bytes:
    return urlencode({
        "team_id": "T1", "channel_id": "C1", "user_id": "U1", "command": "/okr", "text": text,
        "api_app_id": "A1", "response_url": slack.response_url(name), "trigger_id": f"1.2.{name}",
    }).encode()


def test_a_request_run_again_after_a_crash_changes_nothing_and_answers_once(database_url, db):
    """The worker saved the change and queued the answer, then died before marking the
    request done: the next worker runs it again."""
    with SlackDouble() as slack:
        settings = bot_settings(slack, database_url)
        dispatcher = Dispatcher.in_process(settings, db)
        dispatcher.start()
        try:
            bodies = [command('objective add "Once"', slack, "first"), command('kr add O-1 "Signups" from 0 to 10', slack, "kr"), command("checkin KR-1 4", slack, "checkin")]
            bodies.append(command("checkin KR-1 lots", slack, "typo"))  # a problem is answered once too
            accepted = []
            for body in bodies:  # one after the other, as a person types them
                accepted.append(dispatcher.submit(Route.SLACK, body, key=inspect_request(body, "application/x-www-form-urlencoded").key))
                assert dispatcher.wait_idle(30)
            answers_before = len(slack.calls("response_url"))
            with dispatcher.inbox.db.session_scope() as session:  # as if each worker had died before `finish`
                session.execute(update(InboundRequest).where(InboundRequest.id.in_([a.id for a in accepted])).values(status=PENDING, worker=None))
            dispatcher.lanes[0].wake()
            assert dispatcher.wait_idle(30)
        finally:
            dispatcher.close(timeout=30)
    with db.session_scope(read_only=True) as session:
        assert session.exec(select(Objective.title)).all() == ["Once"]
        assert [c.value for c in session.exec(select(CheckIn)).all()] == [4]
    assert answers_before == 4 and len(slack.calls("response_url")) == 4


def test_an_inbox_file_from_an_older_okrbot_gets_the_claim_index(tmp_path):
    """SQLite's inbox file has no migrations: without the index a claim read every request
    ever kept (a day's worth) while the serving process waited to acknowledge."""
    url = f"sqlite:///{tmp_path / 'okrbot.db'}"
    with sqlite3.connect(tmp_path / "okrbot.db-inbox") as older:  # as okrbot made it before 0018
        older.execute("CREATE TABLE inbound_request (id INTEGER PRIMARY KEY, key VARCHAR(200) NOT NULL UNIQUE, route VARCHAR(16) NOT NULL,"
                      " team_id VARCHAR(32), body BLOB NOT NULL, headers JSON NOT NULL, query VARCHAR(2000) NOT NULL, answer_wanted BOOLEAN NOT NULL,"
                      " status VARCHAR(16) NOT NULL, worker VARCHAR(100), attempts INTEGER NOT NULL, received_at DATETIME NOT NULL,"
                      " lease_until DATETIME, done_at DATETIME, answer_status INTEGER, answer_body BLOB, answer_headers JSON)")
        older.execute("CREATE INDEX ix_inbound_request_due ON inbound_request (status, lease_until)")
    box = open_inbox(url)
    try:
        accept(box, "event:Ev1")
        assert [c.key for c in box.claim("w1", limit=1)] == ["event:Ev1"]
    finally:
        box.dispose()
    with sqlite3.connect(tmp_path / "okrbot.db-inbox") as reopened:
        indexes = {name for (name,) in reopened.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'ix_%'")}
        plan = " ".join(str(row) for row in reopened.execute(
            "EXPLAIN QUERY PLAN SELECT id FROM inbound_request WHERE status != 'done' AND (status = 'pending' OR lease_until < 0)"
            " ORDER BY answer_wanted DESC, id LIMIT 4"))
    assert indexes == {"ix_inbound_request_open"}
    assert "ix_inbound_request_open" in plan and "TEMP B-TREE" not in plan  # read in order: no scan and sort
