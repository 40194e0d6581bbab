"""Work moves progress: done, reopen, undo, links, all or nothing (issue 4).

Runs on SQLite and, with OKRBOT_TEST_DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from okrbot.config import Settings
from okrbot.domain.commands import WorkRef
from okrbot.services import work
from okrbot.services.context import Actor
from okrbot.services.history import kr_history
from okrbot.services.undo import undo
from okrbot.adapters.slack.commands.runner import CommandRunner
from okrbot.store.db import Database
from okrbot.store.models import Change, ChangeKr, Initiative, KeyResult, KrLink, OutboundMessage

TEAMS = ["C10", "C20", "C30", "C40", "C50"]


def runner(db: Database) -> CommandRunner:
    return CommandRunner(db, Settings(_env_file=None), offline=True)


def run(db: Database, text: str, actor: Actor) -> str:
    """Run one /okr line; fail the test if it was refused. Returns the reply text."""
    outcome = runner(db).run(text, actor)
    assert not outcome.reply.error, f"/okr {text}: {outcome.reply.text}"
    return outcome.reply.text


def later(actor: Actor, minutes: int) -> Actor:
    return replace(actor, now=actor.now + timedelta(minutes=minutes))


def state(db: Database) -> dict:
    """Everything done/reopen may touch, to compare before and after."""
    with db.session_scope() as session:
        krs = session.exec(select(KeyResult).order_by(KeyResult.number)).all()
        return {
            "initiatives": {i.number: (i.status, i.updated_at) for i in session.exec(select(Initiative)).all()},
            "krs": {kr.number: (work.progress_map(session, [kr])[kr.id], kr.last_progress_at, kr.updated_at) for kr in krs},
            "changes": session.exec(select(func.count(Change.id))).one(),
            "change_krs": session.exec(select(func.count(ChangeKr.id))).one(),
            "outbox": session.exec(select(func.count(OutboundMessage.id))).one(),
        }


def progress(db: Database) -> dict[int, float]:
    return {number: values[0] for number, values in state(db)["krs"].items()}


@pytest.fixture
def five_objectives(db: Database, actor: Actor) -> Actor:
    """I-1 feeds a milestone KR in each of 5 objectives (5 team channels); I-2 too, so done I-1 is 50%."""
    for n, channel in enumerate(TEAMS, start=1):
        run(db, f'objective add "Objective {n}" team #{channel}', actor)
        run(db, f'kr add O-{n} "Ship milestone {n}" by initiatives', actor)
    run(db, 'initiative add KR-1 "Shared platform work"', actor)
    run(db, 'initiative add KR-1 "Other work"', actor)
    for n in range(2, 6):
        run(db, f"link I-1 KR-{n}", actor)
        run(db, f"link I-2 KR-{n}", actor)
    return later(actor, 5)


# --- all or nothing across 5 objectives --------------------------------------


def test_a_failure_half_way_through_five_objectives_leaves_nothing_half_updated(db, five_objectives, monkeypatch):
    actor = five_objectives
    before = state(db)
    assert set(progress(db).values()) == {0.0}
    made = []

    def change_kr_that_fails_on_the_third(**fields):
        # By now the initiative and all five KRs were written (flushed) in this transaction.
        made.append(fields["kr_id"])
        if len(made) == 3:
            raise RuntimeError("process died")
        return ChangeKr(**fields)

    monkeypatch.setattr(work, "ChangeKr", change_kr_that_fails_on_the_third)
    outcome = runner(db).run("done I-1", actor)

    assert outcome.reply.error and outcome.queued == []
    assert len(made) == 3
    assert state(db) == before  # status, progress, last_progress_at, audit rows, outbox: all as before

    monkeypatch.undo()
    reply = runner(db).run("done I-1", actor)
    assert not reply.reply.error
    assert set(progress(db).values()) == {0.5}
    after = state(db)
    assert after["initiatives"][1][0] == "done"
    assert all(last == actor.now for _, last, _ in after["krs"].values())
    assert after["changes"] == before["changes"] + 1  # one change moved all five
    assert after["change_krs"] == before["change_krs"] + 5
    with db.session_scope() as session:
        channels = session.exec(select(OutboundMessage.channel).where(OutboundMessage.kind == "progress")).all()
    assert sorted(channels) == TEAMS  # one announcement in each objective's team channel


KILL_MID_WAY = textwrap.dedent(
    """
    import os, sys
    from datetime import datetime
    from sqlalchemy import event
    from okrbot.config import Settings
    from okrbot.services.context import Actor
    from okrbot.adapters.slack.commands.runner import CommandRunner
    from okrbot.store.db import Database

    db = Database(sys.argv[1])
    seen = []

    @event.listens_for(db.engine, "before_cursor_execute")
    def kill(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement.split()[0])
        if statement.startswith("INSERT INTO change_kr"):
            # Initiative and KR updates are in the database's transaction, not committed.
            assert "UPDATE" in seen
            sys.stdout.flush()
            os._exit(137)

    actor = Actor(team_id="T1", user_id="U1", channel_id="C1", now=datetime.fromisoformat(sys.argv[2]))
    CommandRunner(db, Settings(_env_file=None), offline=True).run("done I-1", actor)
    sys.exit(1)  # not reached when the kill fired
    """
)


def test_a_process_killed_mid_way_leaves_every_kr_as_it_was(db, database_url, five_objectives, tmp_path: Path):
    before = state(db)
    script = tmp_path / "kill_mid_way.py"
    script.write_text(KILL_MID_WAY)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}

    killed = subprocess.run(
        [sys.executable, str(script), database_url, five_objectives.now.isoformat()], env=env, capture_output=True, timeout=60
    )

    assert killed.returncode == 137, killed.stderr.decode()[-2000:]
    assert state(db) == before
    run(db, "done I-1", five_objectives)  # the database is usable, the work applies whole
    assert set(progress(db).values()) == {0.5}


# --- done, reopen, undo ------------------------------------------------------------


def test_done_twice_moves_once_and_undo_restores_the_exact_previous_state(db, five_objectives):
    actor = five_objectives
    before = state(db)
    with db.session_scope() as session:
        first = work.mark_done(session, actor, WorkRef(initiative=1))
        assert first.changed and [(m.number, m.before, m.after) for m in first.moves] == [(n, 0.0, 0.5) for n in range(1, 6)]
        change_id = first.change.id
    with db.session_scope() as session:
        again = work.mark_done(session, later(actor, 1), WorkRef(initiative=1))
        assert not again.changed and again.moves == []
    assert set(progress(db).values()) == {0.5}

    with db.session_scope() as session:
        reverted, moves = undo(session, later(actor, 2), change_id)
        assert reverted.action == "undo" and [(m.before, m.after) for m in moves] == [(0.5, 0.0)] * 5
    after = state(db)
    assert {n: (p, last) for n, (p, last, _) in after["krs"].items()} == {
        n: (p, last) for n, (p, last, _) in before["krs"].items()
    }
    assert after["initiatives"][1][0] == before["initiatives"][1][0] == "todo"
    with db.session_scope() as session:
        kr = session.exec(select(KeyResult).where(KeyResult.number == 3)).one()
        actions = [(entry.action, entry.undone) for entry in kr_history(session, kr)]
        assert actions[:2] == [("undo", False), ("done", True)]
        with pytest.raises(Exception, match="already undone"):
            undo(session, later(actor, 3), change_id)


def test_undo_refuses_when_the_work_changed_again(db, five_objectives):
    actor = five_objectives
    with db.session_scope() as session:
        change_id = work.mark_done(session, actor, WorkRef(initiative=1)).change.id
    run(db, "reopen I-1", later(actor, 1))
    with db.session_scope() as session, pytest.raises(Exception, match="changed again since"):
        undo(session, later(actor, 2), change_id)
    assert set(progress(db).values()) == {0.0}


def test_milestone_progress_is_the_weighted_share_of_done_work(db, actor):
    run(db, 'objective add "Delivery"', actor)
    run(db, 'kr add O-1 "Roadmap delivered" by initiatives', actor)
    run(db, 'initiative add KR-1 "A"', actor)
    run(db, 'initiative add KR-1 "B"', actor)
    run(db, 'initiative add KR-1 "C" weight 2', actor)

    run(db, "done I-3", actor)
    assert progress(db) == {1: 0.5}
    run(db, "done I-1", actor)
    assert progress(db) == {1: 0.75}
    run(db, "reopen I-3", actor)
    assert progress(db) == {1: 0.25}


def test_numeric_krs_record_the_link_but_do_not_move_with_done_work(db, actor):
    run(db, 'objective add "Speed"', actor)
    run(db, 'kr add O-1 "Reduce lead time" from 10 to 5 days', actor)
    run(db, 'initiative add KR-1 "Faster CI"', actor)
    reply = run(db, "done I-1", actor)
    assert "no milestone KR" in reply
    assert progress(db) == {1: 0.0}


# --- link, unlink, by URL ------------------------------------------------------------


def test_link_by_a_new_url_creates_the_initiative_and_reuses_it_after(db, actor):
    run(db, 'objective add "Quality"', actor)
    run(db, 'kr add O-1 "Bugs fixed" by initiatives', actor)
    run(db, 'kr add O-1 "Docs written" by initiatives', actor)
    url = "https://github.com/Acme/App/issues/12"

    assert "Created and linked *I-1*" in run(db, f"link {url} KR-1", actor)
    assert "Linked *I-1*" in run(db, f"link https://github.com/acme/app/issues/12/ KR-2 weight 2", actor)
    with db.session_scope() as session:
        (initiative,) = session.exec(select(Initiative)).all()
        assert initiative.title == "Acme/App#12" and initiative.url == url
    assert "already linked" in run(db, f"link {url} KR-1", actor)

    run(db, f"done {url}", actor)
    assert progress(db) == {1: 1.0, 2: 1.0}
    reply = run(db, "unlink I-1 KR-2", actor)
    assert "Unlinked *I-1* from *KR-2*" in reply and "100% → *0%*" in reply
    with db.session_scope() as session:
        kr = session.exec(select(KeyResult).where(KeyResult.number == 2)).one()
        assert [entry.action for entry in kr_history(session, kr)] == ["unlink", "done", "link"]


def test_unknown_work_and_unlinked_pairs_are_explained(db, actor):
    run(db, 'objective add "Quality"', actor)
    run(db, 'kr add O-1 "Bugs fixed" by initiatives', actor)
    run(db, 'kr add O-1 "Docs written" by initiatives', actor)
    run(db, 'initiative add KR-1 "Triage"', actor)
    for text, expected in [
        ("done I-9", "There is no initiative I-9"),
        ("done https://example.com/none", "There is no initiative https://example.com/none"),
        ("link I-9 KR-1", "There is no initiative I-9"),
        ("unlink I-1 KR-2", "I-1 is not linked to KR-2"),
        ("link I-1 KR-2 weight 0", "weight must be above 0"),
    ]:
        outcome = runner(db).run(text, actor)
        assert outcome.reply.error and expected in outcome.reply.text, text
    assert state(db)["changes"] == 1  # only the link of I-1 was recorded


def test_a_check_in_is_audited_and_undone_like_work(db, actor):
    run(db, 'objective add "Speed"', actor)
    run(db, 'kr add O-1 "Reduce lead time" from 10 to 5 days', actor)
    run(db, "checkin KR-1 7.5", later(actor, 1))
    assert progress(db) == {1: 0.5}
    with db.session_scope() as session:
        change = session.exec(select(Change).where(Change.action == "checkin")).one()
        undo(session, later(actor, 2), change.id)
    assert progress(db) == {1: 0.0}
    with db.session_scope() as session:
        kr = session.exec(select(KeyResult)).one()
        assert kr.current == 10 and kr.last_progress_at is None
        assert [(e.action, e.undone) for e in kr_history(session, kr)] == [("undo", False), ("checkin", True)]


def test_work_is_never_found_across_workspaces(db, actor):
    run(db, 'objective add "Quality"', actor)
    run(db, 'kr add O-1 "Bugs fixed" by initiatives', actor)
    run(db, 'initiative add KR-1 "Triage"', actor)
    other = replace(actor, team_id="T2")
    outcome = runner(db).run("done I-1", other)
    assert outcome.reply.error and "There is no initiative I-1" in outcome.reply.text
    with Session(db.engine) as session:
        assert session.exec(select(Initiative.status)).one() == "todo"


def test_two_dones_at_the_same_moment_move_the_krs_once(db, five_objectives):
    """A ✅ and a webhook arrive together: the second waits for the first and sees the work done."""
    actor = five_objectives
    first_wrote, release = threading.Event(), threading.Event()
    outcomes: dict[str, bool] = {}

    def first() -> None:
        with db.session_scope() as session:
            outcomes["first"] = work.mark_done(session, actor, WorkRef(initiative=1)).changed
            first_wrote.set()
            release.wait(10)  # hold the transaction open, uncommitted

    def second() -> None:
        with db.session_scope() as session:
            outcomes["second"] = work.mark_done(session, later(actor, 1), WorkRef(initiative=1)).changed

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    threads[0].start()
    assert first_wrote.wait(10)
    threads[1].start()
    threads[1].join(1.0)  # the second is now blocked behind the first (or would have read "todo")
    release.set()
    for thread in threads:
        thread.join(30)

    assert outcomes == {"first": True, "second": False}
    with db.session_scope() as session:
        assert session.exec(select(func.count(Change.id)).where(Change.action == "done")).one() == 1
    assert set(progress(db).values()) == {0.5}


def test_undo_puts_links_back_exactly(db, actor):
    clock = iter(range(1, 100))

    def step() -> Actor:  # each change a minute after the last, so history reads in order
        return later(actor, next(clock))

    run(db, 'objective add "Delivery"', step())
    run(db, 'kr add O-1 "Roadmap delivered" by initiatives', step())
    run(db, 'initiative add KR-1 "A"', step())
    run(db, 'initiative add KR-1 "B"', step())
    run(db, "done I-1", step())
    assert progress(db) == {1: 0.5}

    def undo_last(action: str) -> None:
        with db.session_scope() as session:
            change = session.exec(select(Change).where(Change.action == action).order_by(Change.id.desc())).first()
            undo(session, step(), change.id)

    def links() -> dict[int, float]:
        with db.session_scope() as session:
            rows = session.exec(select(Initiative.number, KrLink.weight).join(KrLink, KrLink.initiative_id == Initiative.id)).all()
            return dict(rows)

    run(db, 'initiative add KR-1 "C"', step())  # 50% → 33%
    undo_last("link")
    assert progress(db) == {1: 0.5} and links() == {1: 1.0, 2: 1.0}

    run(db, "link I-2 KR-1 weight 3", step())  # a new weight: 50% → 25%
    assert progress(db) == {1: 0.25}
    undo_last("link")
    assert progress(db) == {1: 0.5} and links() == {1: 1.0, 2: 1.0}

    run(db, "link I-2 KR-1 weight 2", step())
    run(db, "unlink I-2 KR-1", step())  # 33% → 100%
    assert progress(db) == {1: 1.0}
    undo_last("unlink")
    assert progress(db) == {1: 1 / 3} and links() == {1: 1.0, 2: 2.0}

    run(db, "unlink I-2 KR-1", step())
    run(db, "link I-2 KR-1", step())
    with db.session_scope() as session, pytest.raises(Exception, match="changed again since"):
        change = session.exec(select(Change).where(Change.action == "unlink").order_by(Change.id.desc())).first()
        undo(session, step(), change.id)
    with db.session_scope() as session:
        kr = session.exec(select(KeyResult)).one()
        history = [(entry.action, entry.undone) for entry in kr_history(session, kr)]
    assert history[:4] == [("link", False), ("unlink", False), ("undo", False), ("unlink", True)]
