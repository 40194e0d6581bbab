""""Does this serve a KR?" (SPEC §6): rank the current period's KRs for a request,
and link a request to the KR someone picked.

Evidence is every active KR of the period: its title, its objective's title and
the titles and URLs of the work linked to it, loaded in two queries. Building
a matcher over 5,000 KRs takes over a second, so matchers are cached per
database engine and (workspace, period), and checked on every question against
the workspace's OKR revision (store/revisions.py: one primary-key read, moved by
every change to the words the matcher reads). When it moves, the revision's journal
(`serves_change`, written in the same flush) names the KRs whose evidence may have
changed, and only those are read again (a few rows, where the whole period is 213,000
rows of linked work at L); a journal that cannot say (a bulk import, rows pruned, too
many KRs) means reading the whole period. A matcher is rebuilt only when its evidence
itself changed.

Private objectives: a matcher's word statistics come from the KRs it holds, so
people who may see no private objective of the period (nearly everyone) ask the
index with those KRs masked out of every statistic (`Matcher.without`: one index,
two scopes), as if they did not exist. People who may see some ask it over all KRs.
Either way each answer drops the KRs whose objective the asker may not see, read
fresh on every question (`okrs.visible`), and asks the matcher for more when hidden
KRs took the top places. A matcher after a change reuses the text analysis of every
KR that the one before read word for word the same: it costs the index's arithmetic,
not reading 50,000 KRs again.

The workspace teaches the matcher: linked work is read with each KR, and "Not this
one" (a `ServesFeedback` row) is read as a rejection of that KR for those words. Both
move the OKR revision, so the next question is answered with them.

With the operator's embedding model (OKRBOT_EMBEDDING_MODEL, services/embedding_model.py)
the index also holds a vector per KR and per linked work title (domain/semantic_matching.py),
computed when it is built; an index after a change embeds only the texts the one before
had not, and texts any process of the machine embedded come from the vector cache
(store/vector_cache.py). The first time the model reads a workspace with more than
EMBED_WHILE_ASKED texts, questions are answered by words while a background thread
embeds it. Without a model, answers are exactly the lexical matcher's.

Shared between processes (`snapshots`, OKRBOT_CACHE_DIR, store/snapshots.py): a process
that built an index from nothing writes a snapshot of it (the evidence, the matcher's
arrays, the OKR revision they are as of), and so does one whose index moved SNAPSHOT_EVERY
revisions past the newest snapshot; a process with no index in memory reads the newest
instead of building (the big arrays memory-mapped, shared with the other processes) and
brings it up to date through the journal as above. The snapshot is trusted as of its
revision only when the workspace row was created at the same instant and the journal's
rows of that revision are the ones it recorded (a database restored from a backup, or a
workspace deleted and made again, writes other rows); otherwise its evidence is read
again in full and its matcher only lends the analysis of the KRs that read word for word
the same, as after any change. A snapshot from another okrbot (a digest of the code that
analyses and indexes) is never read. The lexical matcher only: with an embedding model,
the vectors come from the vector cache instead (or are computed again without one).
"""

from __future__ import annotations

import gc
import hashlib
import heapq
import json
import logging
import re
import sys
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import groupby
from operator import itemgetter
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

import numpy as np
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from okrbot.config import Settings
from okrbot.domain import analyzer, lexicon, match_index, matching
from okrbot.domain.commands import WorkRef
from okrbot.domain.ids import kr_id
from okrbot.domain.matching import KrEvidence, Matcher
from okrbot.domain.semantic_matching import Encoder, SemanticMatcher, unembedded
from okrbot.domain.serves_tiers import SERVES_THRESHOLD, Tier, tier_of
from okrbot.domain.urls import is_url, title_from_url, url_key
from okrbot.services import okrs, periods, work
from okrbot.services.context import Actor
from okrbot.services.work import WorkOutcome
from okrbot.store import snapshots as snapshot_files
from okrbot.store.models import Initiative, KeyResult, KrLink, Objective, ServesChange, ServesFeedback, Workspace
from okrbot.store.snapshots import Snapshot, Snapshots

MAX_MATCHES = 3
CACHED_INDEXES = 16  # (workspace, period) pairs kept per database; the least recently asked goes first
URL_LIMIT = 2000  # Initiative.url
# More changed KRs than this since the cached index: read the whole period (one query beats a long IN list).
REREAD_LIMIT = 2000
# With a model, a question waits for the model to read at most this many texts (about 10 ms
# each); a workspace that needs more, the first time the model reads it, is answered by
# words while a background thread embeds it.
EMBED_WHILE_ASKED = 64
EMBED_PASSES = 1000  # indexes one background thread embeds before it stops (a bound, never reached)
# An index this many revisions past the newest snapshot writes a new one: a process starting
# then applies at most this much journal (written rows are kept for store/revisions.py's
# KEEP_REVISIONS), and writing (0.3 s at L) stays rare.
SNAPSHOT_EVERY = 100
# How long a process waits for another that is building the same index from nothing, to
# read its snapshot rather than build too (a build at L is 6 s of CPU on an idle core).
SNAPSHOT_WAIT_SECONDS = 60.0
SNAPSHOT_FORMAT = 1  # what a snapshot holds and how (the code digest covers the rest)
# A snapshot read is checked against the journal's rows of its last this many revisions, and
# the KRs they name against the database (see `_of_this_history`).
VERIFY_REVISIONS = 20

ACTIVE = "active"

log = logging.getLogger("okrbot.serves")


@dataclass(frozen=True)
class KrFit:
    """A KR that may serve the request, and why."""

    kr_number: int
    kr_title: str
    objective_number: int
    objective_title: str
    reason: str  # plain English: the words or the linked work that matched
    score: float  # the matcher's confidence, 0..1


@dataclass(frozen=True)
class ServesAnswer:
    request: str
    period: str
    krs_considered: int  # active KRs of the period the asker may see
    fits: list[KrFit]  # best first; empty means "no KR"
    tier: Tier = Tier.NONE  # how sure the answer may sound (domain/serves_tiers.py)


@dataclass(frozen=True)
class _KrInfo:
    pk: int  # KeyResult.id: what the journal names
    number: int
    title: str
    objective_pk: int
    objective_number: int
    objective_title: str
    private: bool


AnyMatcher = Matcher | SemanticMatcher


@dataclass
class _Index:
    """The period's evidence, and one matcher over all of its KRs built when first asked."""

    revision: int | None  # the workspace's OKR revision the evidence is as of
    evidence: tuple[KrEvidence, ...]  # every active KR of the period, by number
    krs: dict[str, _KrInfo]  # "KR-n" -> what the answer shows
    encoder: Encoder | None = None  # the embedding model the matcher uses (held: the cache is keyed by its id)
    matcher: AnyMatcher | None = None  # over every KR: for people who may see a private objective
    public: AnyMatcher | None = None  # the same index without the private objectives' KRs
    # The matcher of the index this one replaced, until this one has its own: the KRs
    # it read word for word the same are not analysed again (domain/matching.py), nor
    # the texts it had embedded.
    superseded: AnyMatcher | None = None
    # The revision of the newest snapshot of this workspace-period this process read or
    # wrote (None: none that is of this database's history).
    snapshot_revision: int | None = None
    # A snapshot read but not of this history: removed when this index writes its own.
    disowned: Path | None = None

    def scope(self, with_private: bool) -> AnyMatcher:
        """The matcher for people who may see some private objective, or for those who may see none:
        the public one counts the private KRs in no statistic, as if they did not exist."""
        assert self.matcher is not None
        if with_private:
            return self.matcher
        if self.public is None:
            hidden = [position for position, kr in enumerate(self.evidence) if self.krs[kr.kr_id].private]
            self.public = self.matcher.without(hidden)
        return self.public


@dataclass
class _IndexCache:
    # (workspace, period), or (workspace, period, id of the embedding model) -> index
    indexes: OrderedDict[tuple, _Index] = field(default_factory=OrderedDict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    builds: int = 0  # matchers built so far (tests and the benchmark read it)
    restored: int = 0  # indexes read from a snapshot instead
    embedding: threading.Thread | None = None  # embedding indexes answered by words meanwhile


# One cache per database engine: each process has one engine per database, and
# a test's fresh database never sees another test's index.
_caches: WeakKeyDictionary[Engine, _IndexCache] = WeakKeyDictionary()
_caches_lock = threading.Lock()


def serves(
    session: Session, actor: Actor, text: str, *, shown_to_channel: bool = False, encoder: Encoder | None = None,
    snapshots: Snapshots | None = None,
) -> ServesAnswer:
    """Up to three KRs of the current period that the request may serve, best first.

    `shown_to_channel`: the answer is posted where others read it, so no private
    objective's KR is in it, whoever asked. `encoder`: the operator's embedding model
    (services/embedding_model.py), or None to rank by words alone. `snapshots`: where
    the processes of this install share their indexes (`index_snapshots`), or None.
    """
    period = okrs.period_or_current(None, actor)
    if periods.is_closed(session, actor.team_id, period):
        # Graded and frozen (closed early by an admin): no new work goes to its KRs.
        return ServesAnswer(request=text, period=period, krs_considered=0, fits=[], tier=Tier.NONE)
    revision = _revision(session, actor.team_id)
    hidden, sees_private = _private_objectives(session, actor, period, everyone=shown_to_channel)
    index, matcher = _matcher(
        session, actor.team_id, period, revision, with_private=sees_private, encoder=encoder, snapshots=snapshots)
    in_scope = [info for info in index.krs.values() if sees_private or not info.private]
    hidden_krs = sum(info.objective_pk in hidden for info in in_scope)
    fits = _visible_matches(index, matcher, text, hidden, hidden_krs)
    return ServesAnswer(
        request=text,
        period=period,
        krs_considered=len(in_scope) - hidden_krs,
        fits=fits,
        tier=tier_of([fit.score for fit in fits], serves_threshold=_serves_threshold(matcher)),
    )


def _serves_threshold(matcher: AnyMatcher) -> float:
    """The "Serves" cut-off: each kind of matcher's confidence was calibrated on its own."""
    return matcher.serves_threshold if isinstance(matcher, SemanticMatcher) else SERVES_THRESHOLD


def matcher_builds(session: Session) -> int:
    """How many matchers this database's cache has built (for tests and the benchmark)."""
    return _cache_for(session).builds


def snapshots_restored(session: Session) -> int:
    """How many indexes this database's cache read from a snapshot instead of building."""
    return _cache_for(session).restored


def index_snapshots(settings: Settings) -> Snapshots | None:
    """Where this install's processes share their "serves" indexes (OKRBOT_CACHE_DIR), or None."""
    return snapshot_files.snapshots_for(settings, "serves")


def _visible_matches(index: _Index, matcher: AnyMatcher, text: str, hidden: set[int], hidden_krs: int) -> list[KrFit]:
    limit = MAX_MATCHES
    while True:
        found = matcher.match(text, limit=limit)
        shown = [match for match in found if index.krs[match.kr_id].objective_pk not in hidden]
        if len(shown) >= MAX_MATCHES or len(found) < limit or limit >= MAX_MATCHES + hidden_krs:
            break
        # Hidden KRs took some of the top places: ask once more with room for all of them.
        limit = MAX_MATCHES + hidden_krs
    fits = []
    for match in shown[:MAX_MATCHES]:
        info = index.krs[match.kr_id]
        fits.append(
            KrFit(info.number, info.title, info.objective_number, info.objective_title, match.reason, match.score)
        )
    return fits


# --- the cached index ---------------------------------------------------------------------


def _cache_for(session: Session) -> _IndexCache:
    engine = session.get_bind()
    with _caches_lock:
        cache = _caches.get(engine)
        if cache is None:
            cache = _caches[engine] = _IndexCache()
        return cache


def _matcher(
    session: Session, team_id: str, period: str, revision: int | None, *, with_private: bool,
    encoder: Encoder | None = None, snapshots: Snapshots | None = None,
) -> tuple[_Index, AnyMatcher]:
    cache = _cache_for(session)
    # With a model, its own index: (workspace, period, model); the index holds the model, so its id stays its.
    key = (team_id, period) if encoder is None else (team_id, period, id(encoder))
    folder = None
    if snapshots is not None and revision is not None:
        folder = snapshots.folder(session.get_bind().url, _code_key(), (team_id, period))
    # One lock per database: a question waits while another builds, rather than building twice.
    with cache.lock:
        index = cache.indexes.get(key)
        if index is None and folder is not None:
            assert snapshots is not None
            index = _shared(session, cache, snapshots, folder, team_id, period, revision, encoder)
        index = _up_to_date(session, index, team_id, period, revision, encoder)
        if index.matcher is None:
            _build_matcher(cache, index, encoder)
        if folder is not None and index.revision is not None and (
                index.snapshot_revision is None or index.revision - index.snapshot_revision >= SNAPSHOT_EVERY):
            assert snapshots is not None
            newest = snapshots.newest_revision(folder)  # another process may have written one since
            if index.disowned is not None or newest is None or index.revision - newest >= SNAPSHOT_EVERY:
                _write_snapshot(session, snapshots, folder, team_id, index)
            else:
                index.snapshot_revision = newest
        cache.indexes[key] = index
        matcher = index.scope(with_private)
        cache.indexes.move_to_end(key)
        while len(cache.indexes) > CACHED_INDEXES:
            cache.indexes.popitem(last=False)
        return index, matcher


def _shared(
    session: Session, cache: _IndexCache, snapshots: Snapshots, folder: Path, team_id: str, period: str,
    revision: int, encoder: Encoder | None,
) -> _Index:
    """The index another process wrote, or, when there is none yet, the one this process
    builds (and writes) while the others that want it now wait to read it."""
    index = _restored(session, snapshots, folder, team_id, period, revision, encoder)
    if index is None:
        with snapshots.building(folder, wait=SNAPSHOT_WAIT_SECONDS):
            index = _restored(session, snapshots, folder, team_id, period, revision, encoder)  # written while this waited?
            if index is None:
                index = _up_to_date(session, None, team_id, period, revision, encoder)
                _build_matcher(cache, index, encoder)
                _write_snapshot(session, snapshots, folder, team_id, index)
                return index
    cache.restored += 1
    return index


def _up_to_date(
    session: Session, index: _Index | None, team_id: str, period: str, revision: int | None, encoder: Encoder | None
) -> _Index:
    """`index` if it is as of `revision`, else the index as of `revision`: the journal's changed
    KRs read again (or everything), holding on to the matcher when the evidence is the same."""
    if index is not None and index.revision == revision:
        return index
    changed = None if index is None else _changed_krs(session, team_id, index.revision, revision)
    if changed is None:
        evidence, krs = _load_evidence(session, team_id, period)
    else:
        assert index is not None
        evidence, krs = _updated(index, changed, *_load_evidence(session, team_id, period, only=changed))
    fresh = _Index(revision, evidence, krs, encoder)
    if index is not None:
        fresh.snapshot_revision, fresh.disowned = index.snapshot_revision, index.disowned
        if index.evidence == fresh.evidence and index.matcher is not None:
            fresh.matcher = index.matcher  # word for word the same KRs
            fresh.public = index.public if index.krs == fresh.krs else None
        else:
            fresh.superseded = index.matcher or index.superseded
    return fresh


def _build_matcher(cache: _IndexCache, index: _Index, encoder: Encoder | None) -> None:
    # The matcher before the change lends the analysis of every KR it read the same
    # (and, with a model, the vectors of every text it had embedded).
    before = index.superseded
    lexical = Matcher(index.evidence, previous=_lexical(before))
    index.superseded = None
    cache.builds += 1
    if encoder is None:
        index.matcher = lexical
        return
    previous = before if isinstance(before, SemanticMatcher) else None
    if unembedded(lexical.krs, encoder, previous) <= EMBED_WHILE_ASKED:
        index.matcher = SemanticMatcher(lexical, encoder, previous=previous)
        return
    # The model has not read this workspace yet (52 s at 5,000 KRs; every question of this
    # database waits on the lock meanwhile): answer by words until it has.
    index.matcher = lexical
    if cache.embedding is None:
        cache.embedding = threading.Thread(target=_embed_waiting, args=(cache,), name="okrbot-embed", daemon=True)
        cache.embedding.start()


def _embed_waiting(cache: _IndexCache) -> None:
    """Give every cached index of a model still answered by words its vectors, one at a time,
    outside the lock, until none is left; then the next question of each is answered with them."""
    last: SemanticMatcher | None = None  # lends its vectors by text: a workspace changed meanwhile is quick
    for _ in range(EMBED_PASSES):
        with cache.lock:
            waiting = next((index for index in cache.indexes.values()
                            if index.encoder is not None and type(index.matcher) is Matcher), None)
            if waiting is None:
                cache.embedding = None
                return
            lexical, encoder = waiting.matcher, waiting.encoder
        try:
            semantic = SemanticMatcher(lexical, encoder, previous=last if last is not None and last.encoder is encoder else None)
        except Exception:  # the model failed: answers stay by words, the next build tries again
            log.exception("embedding the serves index failed; answering by words")
            with cache.lock:
                cache.embedding = None
            return
        with cache.lock:
            for index in cache.indexes.values():  # the index itself, or one after a change that kept its KRs
                if index.matcher is lexical:
                    index.matcher, index.public = semantic, None
                if index.superseded is lexical:
                    index.superseded = semantic
        last = semantic
    with cache.lock:
        cache.embedding = None


def _lexical(matcher: AnyMatcher | None) -> Matcher | None:
    return matcher.lexical if isinstance(matcher, SemanticMatcher) else matcher


# --- snapshots: the index shared with the other processes ---------------------------------


@lru_cache(maxsize=1)
def _code_key() -> str:
    """What a snapshot's content depends on besides the data: the code that reads the evidence,
    analyses and indexes it (a digest of its source), and Unicode's tables (the analyzer folds)."""
    digest = hashlib.sha256(f"{SNAPSHOT_FORMAT} {unicodedata.unidata_version}".encode())
    for module in (analyzer, lexicon, matching, match_index, snapshot_files, sys.modules[__name__]):
        digest.update(Path(module.__file__ or "").read_bytes())
    return digest.hexdigest()[:16]


def _write_snapshot(session: Session, snapshots: Snapshots, folder: Path, team_id: str, index: _Index) -> None:
    """Write the index for the other processes (its lexical matcher, its evidence, the revision
    and what says which history that revision is of). Never fails the question."""
    assert index.revision is not None and index.matcher is not None
    if index.disowned is not None:
        snapshots.discard(index.disowned)  # not of this history: this one replaces it
        index.disowned = None
    index.snapshot_revision = index.revision  # written or not, not tried again before SNAPSHOT_EVERY
    header = {
        "format": SNAPSHOT_FORMAT,
        "code": _code_key(),
        "revision": index.revision,
        "workspace": _workspace_stamp(session, team_id),
        "journal": _journal_before(session, team_id, index.revision),
        "krs": len(index.evidence),
    }
    lexical = _lexical(index.matcher)
    assert lexical is not None
    keys, arrays = lexical.arrays()
    arrays.update(_evidence_arrays(index, keys))
    snapshots.write(folder, index.revision, header, arrays)


def _restored(
    session: Session, snapshots: Snapshots, folder: Path, team_id: str, period: str, revision: int,
    encoder: Encoder | None,
) -> _Index | None:
    """The index of the newest snapshot in `folder`, as of its revision; None when there is
    none this process can use (a damaged or foreign one is removed)."""
    snapshot = snapshots.newest(folder)
    if snapshot is None:
        return None
    header = snapshot.header
    if header.get("format") != SNAPSHOT_FORMAT or header.get("code") != _code_key() or header.get("revision") != snapshot.revision:
        log.warning("snapshot %s removed: written by another version of okrbot", snapshot.path)
        snapshots.discard(snapshot.path)
        return None
    try:
        evidence, krs, lexical = _decoded(snapshot)
    except (KeyError, TypeError, ValueError, IndexError) as error:
        log.warning("snapshot %s removed: %s: %s", snapshot.path, error.__class__.__name__, error)
        snapshots.discard(snapshot.path)
        return None
    ours = _of_this_history(session, snapshot, evidence, krs, team_id, period, revision)
    index = _Index(snapshot.revision if ours else None, evidence, krs, encoder)
    if ours:
        index.snapshot_revision = snapshot.revision
    else:
        # Another history of this database (restored from a backup, the workspace made again)
        # or a journal pruned past it: its evidence is read again, its matcher only lends
        # the analysis of the KRs that read the same.
        index.disowned = snapshot.path
    if encoder is None:
        index.matcher = lexical
    else:
        index.superseded = lexical  # its vectors are computed again
    return index


def _workspace_stamp(session: Session, team_id: str) -> str | None:
    created = session.exec(select(Workspace.created_at).where(Workspace.team_id == team_id)).one_or_none()
    return None if created is None else str(created)


def _journal_before(session: Session, team_id: str, revision: int) -> list[list]:
    """The journal's rows of the last VERIFY_REVISIONS revisions up to `revision`, as a snapshot records them."""
    rows = session.exec(
        select(ServesChange.revision, ServesChange.id, ServesChange.kr_id, ServesChange.every_kr)
        .where(ServesChange.team_id == team_id, ServesChange.revision > revision - VERIFY_REVISIONS,
               ServesChange.revision <= revision)
        .order_by(ServesChange.revision, ServesChange.id)
    ).all()
    return [[at, row_id, kr, bool(every)] for at, row_id, kr, every in rows]


def _of_this_history(
    session: Session, snapshot: Snapshot, evidence: tuple[KrEvidence, ...], krs: dict[str, _KrInfo], team_id: str,
    period: str, revision: int,
) -> bool:
    """Whether the snapshot's evidence is this database's as of its revision, so that the journal
    since may bring it up to date. Revision numbers alone cannot say: a database restored from
    a backup, or a workspace deleted and made again, counts the same numbers again with other
    changes. So the workspace row must be the same (created at the same instant), the journal's
    rows of the snapshot's last revisions the same rows, and the KRs they name that nothing has
    changed since read word for word as the snapshot has them."""
    header = snapshot.header
    if header.get("workspace") != _workspace_stamp(session, team_id):
        return False
    journal = _journal_before(session, team_id, snapshot.revision)
    if not journal or header.get("journal") != journal:
        return False  # another history, or pruned
    since = _changed_krs(session, team_id, snapshot.revision, revision)
    if since is None:
        return False  # too far behind for the journal: read in full either way
    named = {kr for _, _, kr, _ in journal if kr is not None} - since
    if not named:
        return True
    if len(named) > REREAD_LIMIT:
        return False
    held = {info.pk: (kr, info) for kr, info in zip(evidence, krs.values()) if info.pk in named}
    read_evidence, read_krs = _load_evidence(session, team_id, period, only=named)
    return held == {info.pk: (kr, info) for kr, info in zip(read_evidence, read_krs.values())}


def _evidence_arrays(index: _Index, keys: list[str]) -> dict[str, np.ndarray]:
    """The evidence and what answers show (`_KrInfo`) as number arrays, their texts as one JSON
    array of UTF-8 bytes: nothing in it is code."""
    infos = list(index.krs.values())  # in evidence order
    objectives: dict[int, int] = {}
    objective_rows: list[tuple[int, int, bool]] = []
    objective_titles: list[str] = []
    for info in infos:
        if info.objective_pk not in objectives:
            objectives[info.objective_pk] = len(objective_rows)
            objective_rows.append((info.objective_pk, info.objective_number, info.private))
            objective_titles.append(info.objective_title)
    texts = {
        "vocabulary": keys,
        "idents": [kr.kr_id for kr in index.evidence],
        "titles": [kr.title for kr in index.evidence],
        "objectives": objective_titles,
        "work": [text for kr in index.evidence for text in kr.initiatives],
        "rejected": [text for kr in index.evidence for text in kr.rejected],
    }
    return {
        "kr.pk": np.array([info.pk for info in infos], dtype=np.int64),
        "kr.number": np.array([info.number for info in infos], dtype=np.int64),
        "kr.objective": np.array([objectives[info.objective_pk] for info in infos], dtype=np.int64),
        "kr.work_ends": np.cumsum([len(kr.initiatives) for kr in index.evidence], dtype=np.int64),
        "kr.rejected_ends": np.cumsum([len(kr.rejected) for kr in index.evidence], dtype=np.int64),
        "objective.pk": np.array([row[0] for row in objective_rows], dtype=np.int64),
        "objective.number": np.array([row[1] for row in objective_rows], dtype=np.int64),
        "objective.private": np.array([row[2] for row in objective_rows], dtype=bool),
        "texts": np.frombuffer(json.dumps(texts, ensure_ascii=False).encode(), dtype=np.uint8),
    }


def _decoded(snapshot: Snapshot) -> tuple[tuple[KrEvidence, ...], dict[str, _KrInfo], Matcher]:
    arrays = snapshot.arrays
    texts = json.loads(arrays["texts"].tobytes())
    idents, titles, objective_titles = texts["idents"], texts["titles"], texts["objectives"]
    work, rejected = texts["work"], texts["rejected"]
    numbers, pks = arrays["kr.number"].tolist(), arrays["kr.pk"].tolist()
    objective_of = arrays["kr.objective"].tolist()
    objective_pks, objective_numbers = arrays["objective.pk"].tolist(), arrays["objective.number"].tolist()
    private = arrays["objective.private"].tolist()
    work_ends, rejected_ends = arrays["kr.work_ends"].tolist(), arrays["kr.rejected_ends"].tolist()
    counts = {len(numbers), len(pks), len(objective_of), len(idents), len(titles), len(work_ends), len(rejected_ends)}
    if (counts != {snapshot.header.get("krs")} or len(objective_titles) != len(objective_pks)
            or not _bounds(work_ends, len(work)) or not _bounds(rejected_ends, len(rejected))
            or not _bounds(sorted(set(objective_of)), len(objective_pks) - 1)):
        raise ValueError("the evidence does not add up")
    evidence = []
    krs: dict[str, _KrInfo] = {}
    work_start = rejected_start = 0
    with _collector_paused():  # 100,000 new tuples at L: half the time went to collections finding no cycle
        for position, ident in enumerate(idents):
            row = objective_of[position]
            title, objective_title = titles[position], objective_titles[row]
            work_end, rejected_end = work_ends[position], rejected_ends[position]
            evidence.append(KrEvidence(ident, title, objective_title, tuple(work[work_start:work_end]),
                                       tuple(rejected[rejected_start:rejected_end])))
            krs[ident] = _KrInfo(pks[position], numbers[position], title, objective_pks[row], objective_numbers[row],
                                 objective_title, private[row])
            work_start, rejected_start = work_end, rejected_end
    if len(krs) != len(evidence):
        raise ValueError("a KR is listed twice")
    return tuple(evidence), krs, Matcher.restored(evidence, texts["vocabulary"], arrays)


def _bounds(ascending: list[int], last: int) -> bool:
    """Whether these numbers never go down, start at 0 or more and end at `last` (none: any)."""
    return not ascending or (ascending[0] >= 0 and ascending[-1] == last
                             and all(a <= b for a, b in zip(ascending, ascending[1:])))


@contextmanager
def _collector_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _in_period(query, team_id: str, period: str):
    """Active KRs of active objectives of `period`, in one workspace."""
    return query.where(
        Objective.team_id == team_id,
        Objective.period == period,
        Objective.status == ACTIVE,
        KeyResult.status == ACTIVE,
    )


def _of_period_krs(query, kr_column, team_id: str, period: str):
    """Rows attached (by `kr_column`) to an active KR of `period`."""
    return _in_period(
        query.join(KeyResult, KeyResult.id == kr_column).join(Objective, Objective.id == KeyResult.objective_id),
        team_id,
        period,
    )


def _revision(session: Session, team_id: str) -> int | None:
    """Moves whenever the evidence may have changed (the cache is keyed by period already):
    the workspace's OKR revision (store/revisions.py), one primary-key read. Done work and
    check-ins leave it alone."""
    return session.exec(select(Workspace.okr_revision).where(Workspace.team_id == team_id)).one_or_none()


def _changed_krs(session: Session, team_id: str, since: int | None, now: int | None) -> set[int] | None:
    """The KRs (primary keys) whose evidence revisions `since` (excluded) to `now` may have
    changed, from the journal; None when it cannot say: read the whole period again."""
    if since is None or now is None or now < since:
        return None
    if now - since > REREAD_LIMIT:
        return None
    rows = _tuples(
        session,
        select(ServesChange.revision, ServesChange.kr_id, ServesChange.every_kr).where(
            ServesChange.team_id == team_id, ServesChange.revision > since, ServesChange.revision <= now
        ),
    )
    if len({revision for revision, _, _ in rows}) != now - since:
        return None  # pruned (every revision writes at least one row)
    if any(every for _, _, every in rows):
        return None  # a bulk import: any KR may have changed
    changed = {kr for _, kr, _ in rows if kr is not None}
    return changed if len(changed) <= REREAD_LIMIT else None


def _updated(
    index: _Index, changed: set[int], evidence: tuple[KrEvidence, ...], krs: dict[str, _KrInfo]
) -> tuple[tuple[KrEvidence, ...], dict[str, _KrInfo]]:
    """The cached evidence with the changed KRs replaced by what they read now (`evidence`,
    `krs`: those of them still active in the period), in KR number order as a full read gives."""
    kept = [(info.number, kr, ident, info) for (ident, info), kr in zip(index.krs.items(), index.evidence) if info.pk not in changed]
    read = [(info.number, kr, ident, info) for (ident, info), kr in zip(krs.items(), evidence)]
    merged = heapq.merge(kept, read, key=itemgetter(0)) if read else kept
    all_evidence, all_krs = [], {}
    for _, kr, ident, info in merged:
        all_evidence.append(kr)
        all_krs[ident] = info
    return tuple(all_evidence), all_krs


def _load_evidence(
    session: Session, team_id: str, period: str, *, only: set[int] | None = None
) -> tuple[tuple[KrEvidence, ...], dict[str, _KrInfo]]:
    """Every active KR of the period (or of those in `only`, primary keys) with its objective,
    linked work and rejections: three queries.

    Read as the driver's plain tuples: at L (48,000 KRs, 213,000 linked titles) making a
    SQLAlchemy row of each cost more than the queries."""

    def of_krs(query, kr_column):
        return query if only is None else query.where(kr_column.in_(sorted(only)))

    rows = _tuples(
        session,
        of_krs(_in_period(
            select(
                KeyResult.id,
                KeyResult.number,
                KeyResult.title,
                Objective.id,
                Objective.number,
                Objective.title,
                Objective.private,
            ).join(Objective, Objective.id == KeyResult.objective_id),
            team_id,
            period,
        ), KeyResult.id).order_by(KeyResult.number),
    )
    if only is not None and not rows:
        return (), {}
    linked = _tuples(
        session,
        of_krs(_of_period_krs(
            select(KrLink.kr_id, Initiative.title, Initiative.url).join(Initiative, Initiative.id == KrLink.initiative_id),
            KrLink.kr_id, team_id, period,
        ), KrLink.kr_id).order_by(KrLink.kr_id, Initiative.number),
    )
    rejections = _tuples(
        session,
        of_krs(_of_period_krs(select(ServesFeedback.kr_id, ServesFeedback.request), ServesFeedback.kr_id, team_id, period),
               ServesFeedback.kr_id).order_by(ServesFeedback.kr_id, ServesFeedback.id),
    )
    rejected_of = {kr_pk: tuple(r for _, r in group) for kr_pk, group in groupby(rejections, itemgetter(0))}
    work_of = {}
    for kr_pk, group in groupby(linked, itemgetter(0)):  # ordered by KR
        texts: list[str] = []
        for _, title, url in group:
            texts.append(title)
            if url:
                texts.append(url)  # the matcher reads a link by the words in its path
        work_of[kr_pk] = tuple(texts)
    held: dict[str, str] = {}  # an objective's title, once for its KRs
    evidence = []
    krs: dict[str, _KrInfo] = {}
    for kr_pk, number, title, objective_pk, objective_number, objective_title, private in rows:
        ident = _kr_ident(number)
        objective_title = held.setdefault(objective_title, objective_title)
        evidence.append(KrEvidence(ident, title, objective_title, work_of.get(kr_pk, ()), rejected_of.get(kr_pk, ())))
        krs[ident] = _KrInfo(kr_pk, number, title, objective_pk, objective_number, objective_title, bool(private))
    return tuple(evidence), krs


_kr_ident = lru_cache(maxsize=1 << 17)(kr_id)  # "KR-n" for 50,000 KRs at each change adds up


def _tuples(session: Session, statement) -> list[tuple[Any, ...]]:
    """The statement's rows as the driver returns them (tuples; a boolean may be 0/1)."""
    result = session.connection().execute(statement)
    try:
        return result.cursor.fetchall()  # type: ignore[attr-defined]
    finally:
        result.close()


def _private_objectives(session: Session, actor: Actor, period: str, *, everyone: bool) -> tuple[set[int], bool]:
    """The period's private objectives this actor (or, with `everyone`, anyone) may not
    see, and whether they may see any."""
    rows = session.exec(
        select(Objective.id, okrs.visible(actor, session)).where(
            Objective.team_id == actor.team_id,
            Objective.period == period,
            Objective.status == ACTIVE,
            col(Objective.private).is_(True),
        )
    ).all()
    if everyone:
        return {pk for pk, _ in rows}, False
    return {pk for pk, may_see in rows if not may_see}, any(may_see for _, may_see in rows)


# --- linking a request to the KR it serves --------------------------------------------------

_URL = re.compile(r"https?://[^\s<>\"]+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}'\"’”"
_EDGE_PUNCTUATION = " \t-–—:;,|·"


def request_work(text: str) -> tuple[str, str | None]:
    """The initiative a request becomes: its title and, when it holds a link, its URL.

    "Fix the signup emails https://github.com/acme/app/issues/12" becomes
    "Fix the signup emails" with that URL; a bare link gets a title made from it.
    """
    text = " ".join(text.split())
    url = None
    found = _URL.search(text)
    if found:
        candidate = found.group().rstrip(_TRAILING)
        if is_url(candidate) and len(candidate) <= URL_LIMIT:
            url = candidate
            text = " ".join((text[: found.start()] + " " + text[found.end() :]).split()).strip(_EDGE_PUNCTUATION)
    title = text or (title_from_url(url) if url else "")
    if len(title) > okrs.TITLE_LIMIT:
        title = title[: okrs.TITLE_LIMIT - 1].rstrip() + "…"
    return title, url


def link_request(session: Session, actor: Actor, kr_number: int, text: str) -> WorkOutcome:
    """Make the request an initiative linked to the KR (the answer's Link button).

    Work already known by its URL is linked rather than created twice; a second
    click on the same button changes nothing.
    """
    title, url = request_work(text)
    if url is not None and _initiative_with_url(session, actor.team_id, url) is not None:
        return work.link(session, actor, WorkRef(url=url), kr_number)
    kr = okrs.get_kr(session, actor, kr_number)
    existing = _linked_with_title(session, kr.id, title, url)
    if existing is not None:
        return WorkOutcome(initiative=existing, changed=False, kr=kr)
    return work.create_initiative(session, actor, kr_number=kr_number, title=title, owner=actor.user_id, url=url)


def _initiative_with_url(session: Session, team_id: str, url: str) -> Initiative | None:
    return session.exec(
        select(Initiative).where(Initiative.team_id == team_id, Initiative.url_key == url_key(url)).limit(1)
    ).first()


def _linked_with_title(session: Session, kr_pk: int, title: str, url: str | None) -> Initiative | None:
    return session.exec(
        select(Initiative)
        .join(KrLink, KrLink.initiative_id == Initiative.id)
        .where(KrLink.kr_id == kr_pk, Initiative.title == title, Initiative.url == url)
        .limit(1)
    ).first()


# --- "Not this one" ---------------------------------------------------------------------------

REQUEST_KEY_LIMIT = 255  # ServesFeedback.request_key


def request_key(text: str) -> str:
    """The same words, whatever their case and spacing, are one rejection."""
    return " ".join(text.lower().split())[:REQUEST_KEY_LIMIT]


def reject(session: Session, actor: Actor, kr_number: int, text: str) -> bool:
    """Record that the request does not serve the KR ("Not this one"); False when this
    person had already said so. The KR is not suggested for these words again."""
    kr = okrs.get_kr(session, actor, kr_number)  # refuses a KR the asker may not see
    key = request_key(text)
    already = session.exec(
        select(ServesFeedback.id).where(
            ServesFeedback.kr_id == kr.id, ServesFeedback.user_id == actor.user_id, ServesFeedback.request_key == key
        )
    ).first()
    if already is not None:
        return False
    session.add(
        ServesFeedback(team_id=actor.team_id, kr_id=kr.id, request=" ".join(text.split())[:URL_LIMIT],
                       request_key=key, user_id=actor.user_id)
    )
    session.flush()
    return True
