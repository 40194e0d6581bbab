"""The processes of one install share the serves index through snapshots (services/serves.py,
store/snapshots.py): a process with nothing in memory reads the newest snapshot instead of
building, brings it up to date through the journal, and answers exactly as an index built
from nothing; a snapshot that is damaged, written by another version of okrbot, or of
another history of the database is never trusted.

The organisation is tests/services/test_serves.py's; the changes are test_serves_journal.py's."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from dataclasses import asdict, replace
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from okrbot.services import okrs, serves
from okrbot.services.context import Actor
from okrbot.store import snapshots as snapshot_files
from okrbot.store.db import Database
from okrbot.store.snapshots import SUFFIX, Snapshots, read_file, write_file
from tests.conftest import ON_POSTGRES
from tests.services.test_serves import MILESTONE, PERIOD, admin, build_organisation
from tests.services import test_serves_journal
from tests.services.test_serves_journal import ASKERS, CHANGES, QUESTIONS, _kr

reads = test_serves_journal.reads  # the fixture: what each evidence read asked for


@pytest.fixture
def shared(tmp_path: Path) -> Snapshots:
    return Snapshots(tmp_path / "shared", "serves")


def answers(db: Database, actor: Actor, snapshots: Snapshots | None = None) -> list[dict]:
    """Every question asked by a member, both private objectives' owners, an admin and a channel."""
    askers = [admin(actor) if who == "ADMIN" else replace(actor, user_id=who) for who in ASKERS]
    found = []
    with db.session_scope() as session:
        for who in askers:
            found += [serves.serves(session, who, text, snapshots=snapshots) for text in QUESTIONS]
        found += [serves.serves(session, actor, text, shown_to_channel=True, snapshots=snapshots) for text in QUESTIONS]
    return json.loads(json.dumps([asdict(answer) for answer in found]))


def counters(db: Database) -> tuple[int, int]:
    """(matchers built, indexes read from a snapshot) by this process since its cache began."""
    with db.session_scope() as session:
        return serves.matcher_builds(session), serves.snapshots_restored(session)


def cached_index(db: Database) -> serves._Index:
    with db.session_scope() as session:
        return serves._cache_for(session).indexes[("T1", PERIOD)]


def a_new_process() -> None:
    serves._caches.clear()  # this process's indexes gone, as in a worker that starts now


def from_nothing(db: Database, actor: Actor) -> list[dict]:
    """The answers of an index built from nothing, in a process that reads no snapshot."""
    a_new_process()
    found = answers(db, actor)
    a_new_process()
    return found


def snapshot_files_in(shared: Snapshots) -> list[Path]:
    return sorted(shared.root.rglob(f"*{SUFFIX}"))


SECOND_PROCESS = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from okrbot.services import serves
    from okrbot.store.db import Database
    from okrbot.store.snapshots import Snapshots
    from tests.services.test_serves_snapshot import answers, counters
    from tests.conftest import NOW
    from okrbot.services.context import Actor

    db = Database(sys.argv[1])
    reads = []
    load = serves._load_evidence
    def spy(session, team_id, period, *, only=None):
        reads.append(None if only is None else sorted(only))
        return load(session, team_id, period, only=only)
    serves._load_evidence = spy
    found = answers(db, Actor(team_id="T1", user_id="U1", channel_id="C1", now=NOW), Snapshots(Path(sys.argv[2]), "serves"))
    builds, restored = counters(db)
    print(json.dumps({"answers": found, "builds": builds, "restored": restored, "reads": reads}))
    """
)


def second_process(database_url: str, shared: Snapshots, tmp_path: Path) -> dict:
    script = tmp_path / "second_process.py"
    script.write_text(SECOND_PROCESS)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, str(script), database_url, str(shared.root.parent)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])


def test_a_second_process_answers_from_the_snapshot_without_building_as_a_fresh_build_would(
        db, database_url, actor, shared, tmp_path):
    build_organisation(db, actor)
    first = answers(db, actor, shared)  # this process builds, and writes the snapshot
    assert counters(db) == (1, 0)
    assert len(snapshot_files_in(shared)) == 1

    other = second_process(database_url, shared, tmp_path)
    assert (other["builds"], other["restored"]) == (0, 1)
    # Never the whole period: only the KRs of the snapshot's last revisions, checked against it.
    assert other["reads"] and None not in other["reads"]
    assert other["answers"] == first == from_nothing(db, actor)

    # A change after the snapshot: the next process reads the snapshot, then only the KRs the
    # journal names, and rebuilds from the snapshot's matcher.
    with db.session_scope() as session:
        before = serves._revision(session, "T1")
        CHANGES["new KR"](session, admin(actor))
        CHANGES["Not this one"](session, admin(actor))
    with db.session_scope() as session:
        changed = serves._changed_krs(session, "T1", before, serves._revision(session, "T1"))
    later = second_process(database_url, shared, tmp_path)
    assert (later["builds"], later["restored"]) == (1, 1)
    assert len(changed) == 2 and later["reads"][-1] == sorted(changed) and None not in later["reads"]
    assert later["answers"] == from_nothing(db, actor)
    assert later["answers"] != first


@pytest.mark.parametrize("change", list(CHANGES))
def test_after_each_kind_of_change_an_index_read_from_the_snapshot_answers_as_one_built_from_nothing(
        db, actor, shared, reads, change):
    build_organisation(db, actor)
    answers(db, actor, shared)
    with db.session_scope() as session:
        CHANGES[change](session, admin(actor))
    expected = from_nothing(db, actor)
    del reads[:]

    assert answers(db, actor, shared) == expected
    assert counters(db)[1] == 1
    assert reads and all(read is not None for read in reads), "the whole period read: the snapshot was not trusted"
    index = cached_index(db)
    with db.session_scope() as session:
        assert (index.evidence, index.krs) == serves._load_evidence(session, "T1", PERIOD)


def test_nothing_changed_since_the_snapshot_means_no_read_and_no_build(db, actor, shared, reads):
    build_organisation(db, actor)
    first = answers(db, actor, shared)
    a_new_process()
    del reads[:]
    assert answers(db, actor, shared) == first
    assert counters(db) == (0, 1)
    assert None not in reads


def test_the_owner_of_a_private_objective_and_a_channel_see_what_a_fresh_build_shows_them(db, actor, shared):
    build_organisation(db, actor)
    answers(db, actor, shared)
    a_new_process()
    owner = replace(actor, user_id="U5")  # Acquire Initech's owner
    with db.session_scope() as session:
        theirs = serves.serves(session, owner, "Initech customers cancelling", snapshots=shared)
        channel = serves.serves(session, owner, "Initech customers cancelling", shown_to_channel=True, snapshots=shared)
    assert counters(db) == (0, 1)
    assert any("Initech" in fit.kr_title for fit in theirs.fits)
    assert not any("Initech" in fit.kr_title or "Globex" in fit.kr_title for fit in channel.fits)


def damage(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-5] ^= 0xFF  # a byte of the last array
    path.write_bytes(bytes(data))


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def another_version(path: Path) -> None:
    header, arrays = read_file(path)
    write_file(path, {**header, "code": "0123456789abcdef"}, {name: array.copy() for name, array in arrays.items()})


def not_a_snapshot(path: Path) -> None:
    path.write_bytes(b"\x80\x04\x95 a pickle, or anything else")


@pytest.mark.parametrize("spoil", [damage, truncate, another_version, not_a_snapshot])
def test_a_damaged_or_foreign_snapshot_is_never_read_and_is_replaced(db, actor, shared, spoil):
    build_organisation(db, actor)
    first = answers(db, actor, shared)
    (snapshot,) = snapshot_files_in(shared)
    spoil(snapshot)
    a_new_process()

    assert answers(db, actor, shared) == first
    assert counters(db) == (1, 0)  # built from nothing
    (replaced,) = snapshot_files_in(shared)
    read_file(replaced)  # whole again


def test_a_snapshot_of_another_history_is_not_trusted(db, database_url, actor, shared, tmp_path):
    """A database restored from a backup counts the same revisions again with other changes:
    the snapshot of the first history must not answer for the second."""
    if ON_POSTGRES:
        pytest.skip("a backup of the SQLite file stands for a restore here")
    build_organisation(db, actor)
    path = Path(make_url(database_url).database)
    db.dispose()
    shutil.copyfile(path, tmp_path / "backup.db")
    with db.session_scope() as session:
        _kr(session, 4).title = "Improve warehouse pick accuracy to 99.5%"
    answers(db, actor, shared)  # the snapshot of the first history
    db.dispose()
    shutil.copyfile(tmp_path / "backup.db", path)  # restored by hand, over the file
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    a_new_process()
    with db.session_scope() as session:
        _kr(session, 4).title = "Cut p95 API latency of the warehouse service"  # the same revision, other words
    expected = from_nothing(db, actor)

    assert answers(db, actor, shared) == expected
    builds, restored = counters(db)
    assert restored == 1 and builds == 1  # its matcher lent the analysis of the KRs that read the same


def test_a_workspace_made_again_does_not_read_the_old_ones_snapshot(db, actor, shared):
    build_organisation(db, actor)
    first = answers(db, actor, shared)
    with db.session_scope() as session:
        from okrbot.store.models import Workspace

        session.get(Workspace, "T1").created_at = session.get(Workspace, "T1").created_at.replace(year=2020)
    a_new_process()
    assert answers(db, actor, shared) == first
    index = cached_index(db)
    assert index.snapshot_revision == index.revision  # its own written over the other
    assert len(snapshot_files_in(shared)) == 1


def test_an_index_far_past_its_snapshot_writes_a_new_one_and_the_old_goes(db, actor, shared, monkeypatch):
    monkeypatch.setattr(serves, "SNAPSHOT_EVERY", 3)
    build_organisation(db, actor)
    answers(db, actor, shared)
    (first,) = snapshot_files_in(shared)
    for n in range(3):
        with db.session_scope() as session:
            okrs.create_kr(session, admin(actor), okrs.NewKr(3, f"Warehouse pick accuracy in site {n}", *MILESTONE, "U3"))
        answers(db, actor, shared)
        assert snapshot_files_in(shared) == [first] or n == 2
    (newer,) = snapshot_files_in(shared)
    assert int(newer.stem) == int(first.stem) + 3 == cached_index(db).revision
    a_new_process()
    answers(db, actor, shared)
    assert counters(db) == (0, 1)


def test_old_stray_and_surplus_snapshot_files_are_swept(shared, monkeypatch):
    monkeypatch.setattr(snapshot_files, "MAX_FILES", 3)
    folder = shared.root / "db" / "code"
    now = 1_000_000_000.0
    for n, (team, age_days) in enumerate([("T1", 0), ("T2", 1), ("T3", 2), ("T4", 3), ("GONE", 40)]):
        path = folder / team / PERIOD / f"{n:012d}{SUFFIX}"
        path.parent.mkdir(parents=True)
        write_file(path, {}, {})
        os.utime(path, (now - age_days * 86400, now - age_days * 86400))
    stray = folder / "T1" / PERIOD / ".000000000009.snap.123.ab.tmp"
    stray.write_bytes(b"half")
    os.utime(stray, (now - 7200, now - 7200))
    shared.sweep(now=now)
    assert sorted(p.parent.parent.name for p in snapshot_files_in(shared)) == ["T1", "T2", "T3"]
    assert not stray.exists() and not (folder / "GONE").exists()


def test_a_cache_that_cannot_be_written_only_costs_a_build(db, actor, tmp_path):
    build_organisation(db, actor)
    (tmp_path / "file").write_text("not a directory")
    unwritable = Snapshots(tmp_path / "file", "serves")
    first = answers(db, actor, unwritable)
    assert first == from_nothing(db, actor)


def test_settings_put_the_cache_next_to_a_sqlite_file_or_where_okrbot_cache_dir_says(tmp_path, monkeypatch):
    from okrbot.config import Settings

    monkeypatch.delenv("OKRBOT_CACHE_DIR", raising=False)
    assert Settings(_env_file=None, DATABASE_URL=f"sqlite:///{tmp_path}/okrbot.db").cache_directory == Path(
        f"{tmp_path}/okrbot.db-cache")
    assert Settings(_env_file=None, DATABASE_URL="sqlite://").cache_directory is None
    assert Settings(_env_file=None, OKRBOT_CACHE_DIR=str(tmp_path / "c")).cache_directory == tmp_path / "c"
    assert Settings(_env_file=None, OKRBOT_CACHE_DIR="off").cache_directory is None
    assert serves.index_snapshots(Settings(_env_file=None, OKRBOT_CACHE_DIR="off")) is None


def test_forgetting_a_database_removes_its_snapshots_only(db, actor, shared, tmp_path):
    build_organisation(db, actor)
    answers(db, actor, shared)
    other = shared.folder(make_url(f"sqlite:///{tmp_path}/other.db"), "code", ("T1", PERIOD))
    other.mkdir(parents=True)
    write_file(other / f"{1:012d}{SUFFIX}", {}, {})
    shared.forget(db.engine.url)  # what `okrbot restore` does: the history before the backup is gone
    assert snapshot_files_in(shared) == [other / f"{1:012d}{SUFFIX}"]


def test_a_process_waits_for_the_one_building_the_same_index_then_goes_on(shared, tmp_path):
    import threading
    import time

    folder = tmp_path / "folder"
    order = []
    with shared.building(folder, wait=30):
        def second() -> None:
            with shared.building(folder, wait=30):
                order.append("second builds")

        waiting = threading.Thread(target=second)
        waiting.start()
        time.sleep(0.3)
        order.append("first done")
    waiting.join(timeout=10)
    assert order == ["first done", "second builds"]
    started = time.monotonic()
    with shared.building(folder, wait=0.2), shared.building(folder, wait=0.2):  # held: the second gives up waiting
        assert time.monotonic() - started >= 0.2
