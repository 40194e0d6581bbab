"""Faults (issue 8): Slack answering 500, 429 or not at all; the database refusing
connections or locked. A change that was made is never lost (the outbox sends what
Slack refused, later); one that was not made is said to be "not saved", and Slack
always gets an HTTP 200, never an error page.

(The process killed mid-write is tests/services/test_work.py::
test_a_process_killed_mid_way_leaves_every_kr_as_it_was and ::
test_a_failure_half_way_through_five_objectives_leaves_nothing_half_updated;
killed mid-delivery, tests/e2e/test_review_replicas.py.)
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import replace
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import event, text, update
from sqlalchemy.engine import make_url
from sqlmodel import select

from okrbot.config import Settings
from okrbot.services.context import Actor
from okrbot.adapters.slack.commands.runner import CommandRunner
from okrbot.adapters.slack.ids import Action
from okrbot.adapters.slack.views.modals import objective_modal
from okrbot.store.db import Database
from okrbot.store.models import Change, Initiative, OutboundMessage
from okrbot.store.types import utcnow
from tests.conftest import NOW, ON_POSTGRES
from tests.e2e.conftest import block_text, told
from tests.e2e.harness import running_bot
from tests.e2e.test_modals import fill
from tests.e2e.test_webhooks import work_hook
from tests.fakes.slack_api import SlackDouble
from tests.fakes.slack_client import dm_message, reaction_added

TEAM = "CTEAM"
NOT_SAVED = "Not saved: the database is not answering. Try again in a minute."


@pytest.fixture
def work(okr, slack) -> None:
    """KR-1 (milestone, team channel CTEAM) fed by I-1 and I-2; U1 owns everything."""
    okr.ok(f'objective add "Ship the platform" team <#{TEAM}|platform>')
    okr.ok('kr add O-1 "Platform adopted" by initiatives')
    okr.ok('initiative add KR-1 "Build the pipeline"')
    okr.ok('initiative add KR-1 "Write the docs"')


def announcements(slack: SlackDouble) -> list:
    return [c for c in slack.delivered("chat.postMessage") if str(c.args.get("text", "")).startswith("Progress moved")]


def status_of(bot, number: int) -> str:
    with bot.db.session_scope() as session:
        return session.exec(select(Initiative.status).where(Initiative.number == number)).one()


def waiting(bot) -> list[tuple[str, str]]:
    with bot.db.session_scope() as session:
        return [(m.kind, m.status) for m in session.exec(select(OutboundMessage).where(OutboundMessage.status != "sent")).all()]


def time_passes(bot) -> None:
    """The outbox's backoff and Retry-After are over (instead of waiting them out)."""
    with bot.db.session_scope() as session:
        session.execute(update(OutboundMessage).where(OutboundMessage.status != "sent").values(next_attempt_at=utcnow() - timedelta(seconds=1)))


# --------------------------------------------------------------------------- Slack failing


@pytest.mark.usefixtures("work")
@pytest.mark.parametrize("status", [500, 503, 429], ids=["500", "503", "429"])
def test_slack_refusing_a_post_loses_nothing_the_outbox_sends_it_later(bot, slack, okr, status):
    # `done` makes one post (the announcement) and one card update: both refused.
    slack.fail("chat.postMessage", status=status, retry_after=1)
    slack.fail("chat.update", status=status, retry_after=1)

    answer = okr.ok("done I-1")

    assert "0% → *50%*" in answer.text  # the person is told it is done: it is
    assert status_of(bot, 1) == "done"
    assert announcements(slack) == [] and {kind for kind, _ in waiting(bot)} >= {"progress", "card_update"}
    # Slack is back; the sweeper's next pass sends what was refused, once.
    time_passes(bot)
    assert bot.bot.deliverer.deliver() >= 2
    (announced,) = announcements(slack)
    assert "0% → *50%*" in block_text(announced.args["blocks"]) and announced.args["channel"] == TEAM
    assert waiting(bot) == []


@pytest.mark.usefixtures("work")
def test_slack_not_answering_in_time_loses_nothing(bot, slack, okr):
    bot.bot.client.timeout = 1  # seconds; Slack's answer takes 3
    slack.delay("chat.postMessage", 3)
    slack.delay("chat.update", 3)

    answer = okr.ok("done I-1")

    assert "0% → *50%*" in answer.text and status_of(bot, 1) == "done"
    assert ("progress", "posting") in waiting(bot)  # unsure whether Slack has it: checked or resent, never dropped
    # Slack finishes the slow post; the deliverer waits a few client timeouts for this before
    # it looks, a wait that time_passes skips.
    slack.wait_for("chat.postMessage", predicate=lambda c: str(c.args.get("text", "")).startswith("Progress moved"), timeout=10)
    slack.delay("chat.postMessage", 0)
    slack.delay("chat.update", 0)
    time_passes(bot)
    bot.bot.deliverer.deliver()
    assert waiting(bot) == []
    # The post whose answer was lost is looked up in the channel, not resent: exactly once
    # (every kind of post: tests/e2e/test_no_double_posts.py).
    assert len(announcements(slack)) == 1


def test_slack_failing_to_show_the_app_home_changes_nothing_and_answers_200(bot, client, slack, okr):
    okr.ok('objective add "Home goal"')
    for status in (500, 429):
        slack.fail("views.publish", status=status)
        assert client.event(client.app_home_opened("U1")).status_code == 200
        bot.settle()
    assert slack.delivered("views.publish") == []
    assert client.event(client.app_home_opened("U1")).status_code == 200  # Slack is back
    bot.settle()
    assert "Home goal" in block_text(slack.delivered("views.publish")[-1].args["view"]["blocks"])


@pytest.mark.usefixtures("work")
def test_a_button_on_the_app_home_saves_even_when_the_home_cannot_be_redrawn(bot, client, slack, okr):
    slack.fail("views.publish", status=500, times=3)
    response = client.block_action(Action.MARK_DONE.value, "I-1", view={"type": "home", "blocks": []})
    assert response.status_code == 200
    bot.settle()
    assert status_of(bot, 1) == "done"
    assert "was marked done" in told(slack.calls(), "U1")


@pytest.mark.usefixtures("work")
@pytest.mark.parametrize("where", ["500", "refused"])
def test_a_response_url_that_fails_loses_neither_the_change_nor_the_answer(bot, client, slack, where):
    if where == "500":
        slack.fail("response_url", status=500)
        url = slack.response_url("broken")
    else:
        url = "http://127.0.0.1:9/nobody-listens"  # the discard port: connection refused
    assert client.command("done I-1", response_url=url).status_code == 200
    bot.settle()
    assert status_of(bot, 1) == "done"
    assert "0% → *50%*" in told(slack.calls(), "U1")  # said privately instead (chat.postEphemeral)
    (instead,) = slack.calls("chat.postEphemeral")
    assert instead.args.get("blocks"), "the answer goes with its blocks, not as bare text"
    assert len(announcements(slack)) == 1


# --------------------------------------------------------------------------- the database refusing


def unreachable_database(database_url: str, tmp_path) -> str:
    """The configured backend, where nothing answers: a closed port, or a file in no directory."""
    if ON_POSTGRES:
        return make_url(database_url).set(port=1, password="not-a-real-password").render_as_string(hide_password=False)
    return f"sqlite:///{tmp_path}/no/such/dir/okrbot.db"


def test_with_the_database_down_nothing_is_acknowledged_as_kept_and_people_are_told(slack, database_url, tmp_path):
    with running_bot(slack, unreachable_database(database_url, tmp_path)) as (bot, client):
        # A command is answered 200 (no error banner) and the person is told on its response_url.
        commands = ('objective add "Lost?"', "done I-1", "checkin KR-1 4", "status all")
        for n, command in enumerate(commands):
            assert client.command(command, response_url=slack.response_url(f"down-{n}")).status_code == 200
        slack.wait_for("response_url", count=len(commands), timeout=10)
        for n, command in enumerate(commands):
            (told,) = slack.responses(f"down-{n}")
            assert NOT_SAVED in told.args["text"] and told.args["response_type"] == "ephemeral", command

        # Events are not acknowledged when they cannot be kept: Slack sends them again later.
        mention = client.app_mention('objective add "Lost?"', channel="C1")
        for sent in (
            client.event(mention),
            client.event(dm_message("done I-1", user="U1")),
            client.event(dm_message("42", user="U1", thread_ts="1.000001")),  # a reply to a review nudge
            client.event(reaction_added("white_check_mark", channel=TEAM, ts="1.000002")),
            client.event(client.app_home_opened("U1")),
        ):
            assert sent.status_code == 503
        # A click is answered 200, and the person is told privately where they clicked.
        told_before = len(slack.calls("response_url"))
        for sent in (client.block_action(Action.MARK_DONE.value, "I-1"), client.block_action(Action.NO_CHANGE.value, "1")):
            assert sent.status_code == 200
        told_now = slack.wait_for("response_url", count=told_before + 2, timeout=10)
        assert all(NOT_SAVED in call.args.get("text", "") and call.args.get("response_type") == "ephemeral" for call in told_now[told_before:])
        assert not [c for c in slack.calls() if c.method.startswith("chat.")], "nothing was posted as if it had been saved"

        view = objective_modal(owner="U1", period="2026-Q4", channel="C1").to_dict()
        submitted = client.view_submission(view, state_values=fill(view, title="Lost?"))
        assert submitted.status_code == 200
        assert submitted.json()["response_action"] == "errors" and NOT_SAVED in str(submitted.json()["errors"])

        hook = work_hook(bot, {"initiative": "I-1", "status": "done"})
        assert hook.status_code == 503 and "Not saved" in hook.json()["error"]
        assert httpx.get(f"{bot.url}/healthz", timeout=10).status_code == 200  # alive: restarting it would not help
        ready = httpx.get(f"{bot.url}/readyz", timeout=10)
        assert ready.status_code == 503 and ready.json()["checks"]["database"].startswith("failing: unreachable")


# --------------------------------------------------------------------------- the database locked


def impatient(database_url: str) -> Database:
    """A Database that waits 0.3 s, not 30, for a lock held by someone else."""
    db = Database(database_url)

    @event.listens_for(db.engine, "connect")
    def short_waits(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        if ON_POSTGRES:
            cursor.execute("SET lock_timeout = '300ms'")
            dbapi_connection.commit()
        else:
            cursor.execute("PRAGMA busy_timeout = 300")
        cursor.close()

    return db


def runner(db: Database) -> CommandRunner:
    return CommandRunner(db, Settings(_env_file=None), offline=True)


def snapshot(db: Database) -> tuple:
    with db.session_scope() as session:
        return (
            sorted((i.number, i.status) for i in session.exec(select(Initiative)).all()),
            len(session.exec(select(Change)).all()),
            len(session.exec(select(OutboundMessage)).all()),
        )


def test_a_locked_database_gets_a_clear_not_saved_and_nothing_half_applied(database_url):
    db = impatient(database_url)
    actor = Actor(team_id="T1", user_id="U1", channel_id="C1", now=NOW)
    for n, channel in enumerate(["C10", "C20", "C30"], start=1):
        runner(db).run(f'objective add "Objective {n}" team #{channel}', actor)
        runner(db).run(f'kr add O-{n} "Milestone {n}" by initiatives', actor)
    runner(db).run('initiative add KR-1 "Shared work"', actor)
    for n in (2, 3):
        runner(db).run(f"link I-1 KR-{n}", actor)
    before = snapshot(db)
    later = replace(actor, now=NOW + timedelta(minutes=1))

    held, release = threading.Event(), threading.Event()

    def hold_a_lock() -> None:
        # Another writer: SQLite's one write lock, or on PostgreSQL the row of the third
        # KR, so `done I-1` fails after it updated the work and two KRs.
        if ON_POSTGRES:
            other = Database(database_url)
            with other.engine.connect() as connection:
                connection.execute(text("SELECT id FROM key_result WHERE number = 3 FOR UPDATE"))
                held.set()
                release.wait(10)
                connection.rollback()
            other.dispose()
        else:
            connection = sqlite3.connect(make_url(database_url).database, isolation_level=None)
            connection.execute("BEGIN IMMEDIATE")
            held.set()
            release.wait(10)
            connection.execute("ROLLBACK")
            connection.close()

    holder = threading.Thread(target=hold_a_lock)
    holder.start()
    try:
        assert held.wait(10)
        outcome = runner(db).run("done I-1", later)
    finally:
        release.set()
        holder.join(10)

    assert outcome.reply.error and NOT_SAVED in outcome.reply.text and outcome.queued == []
    assert snapshot(db) == before  # not the work, not one KR, no audit row, no message
    assert not runner(db).run("done I-1", later).reply.error  # the lock is gone: it applies, whole
    assert snapshot(db)[0][0] == (1, "done")
    db.dispose()
