"""The serves index after a change re-reads only the KRs the OKR revision's journal names
(store/revisions.py, `serves_change`): after every kind of change it must hold exactly
the evidence a full read gives and answer exactly as an index built from nothing, and a
journal that cannot say (a bulk import, pruned rows) must mean a full read.

The organisation is tests/services/test_serves.py's (2026-Q4, private O-4 and O-5, a
2027-Q1 objective "Finance" with KR-12, another workspace)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest
from sqlmodel import Session, func, select

from okrbot.domain.commands import WorkRef
from okrbot.services import okrs, serves, work
from okrbot.services.context import Actor
from okrbot.store import revisions
from okrbot.store.db import Database
from okrbot.store.models import Initiative, KeyResult, Objective, ServesChange
from tests.services.test_serves import MILESTONE, OFF_TOPIC, PERIOD, admin, ask, build_organisation

QUESTIONS = [
    "speed up the slow API endpoints", "Initech customers cancelling", "Globex customers cancelling",
    "a checklist on first login", "Move our services to Kubernetes", "customers leaving us",
    "warehouse pick accuracy", "invoice processing time", "trial conversion to paid", OFF_TOPIC,
]
ASKERS = ("U1", "U5", "U7", "ADMIN")  # a member, the owners of the two private objectives, an admin


def _kr(session: Session, number: int) -> KeyResult:
    return session.exec(select(KeyResult).where(KeyResult.team_id == "T1", KeyResult.number == number)).one()


def _objective(session: Session, number: int) -> Objective:
    return session.exec(select(Objective).where(Objective.team_id == "T1", Objective.number == number)).one()


def _initiative(session: Session, number: int) -> Initiative:
    return session.exec(select(Initiative).where(Initiative.team_id == "T1", Initiative.number == number)).one()


def _retitle_kr(session: Session, who: Actor) -> None:
    _kr(session, 4).title = "Improve warehouse pick accuracy to 99.5%"


def _retitle_objective(session: Session, who: Actor) -> None:
    _objective(session, 2).title = "Stop customers cancelling and leaving us"


def _retitle_work(session: Session, who: Actor) -> None:
    _initiative(session, 1).title = "Migrate services to Kubernetes"


def _kr_to_next_period(session: Session, who: Actor) -> None:
    _kr(session, 3).objective_id = _objective(session, 6).id  # O-6 "Finance" is 2027-Q1's


def _kr_from_next_period(session: Session, who: Actor) -> None:
    _kr(session, 12).objective_id = _objective(session, 1).id


def _objective_to_next_period(session: Session, who: Actor) -> None:
    _objective(session, 3).period = "2027-Q1"


def _delete_kr(session: Session, who: Actor) -> None:
    session.delete(_kr(session, 1))  # its link and rejections go with it (ON DELETE CASCADE)


def _delete_objective(session: Session, who: Actor) -> None:
    session.delete(_objective(session, 1))  # and its KRs with it


def _delete_work(session: Session, who: Actor) -> None:
    session.delete(_initiative(session, 1))  # its links go with it


def _link_and_reject_in_one_flush(session: Session, who: Actor) -> None:
    okrs.create_kr(session, who, okrs.NewKr(1, "Ship a guided Kubernetes onboarding", *MILESTONE, "U1"))
    work.link(session, who, WorkRef(initiative=1), 2)
    serves.reject(session, who, 1, "a checklist on first login")


CHANGES: dict[str, Callable[[Session, Actor], object]] = {
    "link": lambda s, who: work.link(s, who, WorkRef(initiative=1), 4),
    "unlink": lambda s, who: work.unlink(s, who, WorkRef(initiative=1), 1),
    "new linked work": lambda s, who: work.create_initiative(s, who, kr_number=4, title="Migrate services to Kubernetes", owner="U3"),
    "linked work retitled": _retitle_work,
    "linked work deleted": _delete_work,
    "Not this one": lambda s, who: serves.reject(s, who, 1, "a checklist on first login"),
    "new KR": lambda s, who: okrs.create_kr(s, who, okrs.NewKr(3, "Improve warehouse pick accuracy to 99.5%", *MILESTONE, "U3")),
    "new KR in a private objective": lambda s, who: okrs.create_kr(s, who, okrs.NewKr(4, "Speed up the Initech API endpoints", *MILESTONE, "U5")),
    "KR edited": _retitle_kr,
    "objective retitled": _retitle_objective,
    "objective made private": lambda s, who: setattr(okrs.get_objective(s, who, 3), "private", True),
    "objective made public": lambda s, who: setattr(okrs.get_objective(s, who, 4), "private", False),
    "objective archived": lambda s, who: okrs.archive_objective(s, who, 3),
    "KR archived": lambda s, who: setattr(_kr(s, 4), "status", "archived"),
    "KR moved to another period": _kr_to_next_period,
    "KR moved in from another period": _kr_from_next_period,
    "objective moved to another period": _objective_to_next_period,
    "KR deleted": _delete_kr,
    "objective deleted": _delete_objective,
    "several changes in one flush": _link_and_reject_in_one_flush,
}


def answers(db: Database, actor: Actor) -> list:
    askers = [admin(actor) if who == "ADMIN" else replace(actor, user_id=who) for who in ASKERS]
    found = [ask(db, who, text) for who in askers for text in QUESTIONS]
    found += [ask(db, actor, text, shown_to_channel=True) for text in QUESTIONS]
    return found


def cached_index(db: Database) -> serves._Index:
    with db.session_scope() as session:
        return serves._cache_for(session).indexes[("T1", PERIOD)]


def full_read(db: Database):
    with db.session_scope() as session:
        return serves._load_evidence(session, "T1", PERIOD)


@pytest.fixture
def reads(monkeypatch) -> list[set[int] | None]:
    """What each evidence read asked for: None for the whole period, else the KRs' primary keys."""
    seen: list[set[int] | None] = []
    load = serves._load_evidence

    def spy(session, team_id, period, *, only=None):
        seen.append(None if only is None else set(only))
        return load(session, team_id, period, only=only)

    monkeypatch.setattr(serves, "_load_evidence", spy)
    return seen


@pytest.mark.parametrize("change", list(CHANGES))
def test_after_each_kind_of_change_the_updated_index_answers_as_one_built_from_nothing(db, actor, reads, change):
    build_organisation(db, actor)
    answers(db, actor)  # warm: both scopes built
    assert reads == [None]
    with db.session_scope() as session:
        CHANGES[change](session, admin(actor))
    updated = answers(db, actor)
    assert len(reads) == 2 and reads[1] is not None, "read again in full, not from the journal"
    index = cached_index(db)
    evidence, krs = full_read(db)
    assert index.evidence == evidence and index.krs == krs

    serves._caches.clear()  # as a worker that starts now
    assert answers(db, actor) == updated


def test_changes_that_change_no_evidence_move_the_revision_and_read_nothing_more(db, actor, reads):
    build_organisation(db, actor)
    answers(db, actor)
    with db.session_scope() as session:
        okrs.create_objective(session, admin(actor), okrs.NewObjective(title="Hire well", owner="U1", period=PERIOD))
    answers(db, actor)
    assert reads[1] == set()  # the journal names no KR: nothing read again


def test_a_bulk_import_means_reading_the_whole_period(db, actor, reads):
    build_organisation(db, actor)
    answers(db, actor)
    with db.session_scope() as session:
        _kr(session, 4).title = "Improve warehouse pick accuracy to 99.5%"
        session.flush()
        revisions.bump(session, ["T1"])  # what interchange's bulk writes do: "any KR may have changed"
    updated = answers(db, actor)
    assert reads[1:] == [None]
    serves._caches.clear()
    assert answers(db, actor) == updated


def test_the_journal_is_pruned_and_a_cache_behind_the_pruned_rows_reads_everything(db, actor, reads, monkeypatch):
    monkeypatch.setattr(revisions, "KEEP_REVISIONS", 4)
    monkeypatch.setattr(revisions, "PRUNE_EVERY", 2)
    build_organisation(db, actor)
    answers(db, actor)
    for n in range(12):
        with db.session_scope() as session:
            okrs.create_kr(session, admin(actor), okrs.NewKr(3, f"Warehouse pick accuracy in site {n}", *MILESTONE, "U3"))
    with db.session_scope() as session:
        rows = session.exec(select(func.count()).select_from(ServesChange).where(ServesChange.team_id == "T1")).one()
        oldest, newest = session.exec(select(func.min(ServesChange.revision), func.max(ServesChange.revision))
                                      .where(ServesChange.team_id == "T1")).one()
    assert newest > 12 and newest - oldest < 5  # at most KEEP_REVISIONS + PRUNE_EVERY - 1 revisions
    assert rows <= 5
    updated = answers(db, actor)
    assert reads[1:] == [None]  # the rows since the cached revision are gone: read in full
    serves._caches.clear()
    assert answers(db, actor) == updated


def test_every_revision_is_journalled_once_with_the_krs_it_changed(db, actor):
    build_organisation(db, actor)
    with db.session_scope() as session:
        before = serves._revision(session, "T1")
        work.link(session, admin(actor), WorkRef(initiative=1), 4)
        kr4 = _kr(session, 4).id
    with db.session_scope() as session:
        now = serves._revision(session, "T1")
        rows = session.exec(select(ServesChange.revision, ServesChange.kr_id, ServesChange.every_kr)
                            .where(ServesChange.team_id == "T1", ServesChange.revision > before)).all()
    assert now > before
    assert {revision for revision, _, _ in rows} == set(range(before + 1, now + 1))
    assert {kr for _, kr, _ in rows if kr is not None} == {kr4}
    assert not any(every for _, _, every in rows)
