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
had not. Without it, answers are exactly the lexical matcher's.
"""

from __future__ import annotations

import heapq
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import groupby
from operator import itemgetter
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from okrbot.domain.commands import WorkRef
from okrbot.domain.ids import kr_id
from okrbot.domain.matching import KrEvidence, Matcher
from okrbot.domain.semantic_matching import Encoder, SemanticMatcher
from okrbot.domain.serves_tiers import SERVES_THRESHOLD, Tier, tier_of
from okrbot.domain.urls import is_url, title_from_url, url_key
from okrbot.services import okrs, periods, work
from okrbot.services.context import Actor
from okrbot.services.work import WorkOutcome
from okrbot.store.models import Initiative, KeyResult, KrLink, Objective, ServesChange, ServesFeedback, Workspace

MAX_MATCHES = 3
CACHED_INDEXES = 16  # (workspace, period) pairs kept per database; the least recently asked goes first
URL_LIMIT = 2000  # Initiative.url
# More changed KRs than this since the cached index: read the whole period (one query beats a long IN list).
REREAD_LIMIT = 2000

ACTIVE = "active"


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


# One cache per database engine: each process has one engine per database, and
# a test's fresh database never sees another test's index.
_caches: WeakKeyDictionary[Engine, _IndexCache] = WeakKeyDictionary()
_caches_lock = threading.Lock()


def serves(
    session: Session, actor: Actor, text: str, *, shown_to_channel: bool = False, encoder: Encoder | None = None
) -> ServesAnswer:
    """Up to three KRs of the current period that the request may serve, best first.

    `shown_to_channel`: the answer is posted where others read it, so no private
    objective's KR is in it, whoever asked. `encoder`: the operator's embedding model
    (services/embedding_model.py), or None to rank by words alone.
    """
    period = okrs.period_or_current(None, actor)
    if periods.is_closed(session, actor.team_id, period):
        # Graded and frozen (closed early by an admin): no new work goes to its KRs.
        return ServesAnswer(request=text, period=period, krs_considered=0, fits=[], tier=Tier.NONE)
    revision = _revision(session, actor.team_id)
    hidden, sees_private = _private_objectives(session, actor, period, everyone=shown_to_channel)
    index, matcher = _matcher(session, actor.team_id, period, revision, with_private=sees_private, encoder=encoder)
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
    encoder: Encoder | None = None,
) -> tuple[_Index, AnyMatcher]:
    cache = _cache_for(session)
    # With a model, its own index: (workspace, period, model); the index holds the model, so its id stays its.
    key = (team_id, period) if encoder is None else (team_id, period, id(encoder))
    # One lock per database: a question waits while another builds, rather than building twice.
    with cache.lock:
        index = cache.indexes.get(key)
        if index is None or index.revision != revision:
            changed = None if index is None else _changed_krs(session, team_id, index.revision, revision)
            if changed is None:
                evidence, krs = _load_evidence(session, team_id, period)
            else:
                evidence, krs = _updated(index, changed, *_load_evidence(session, team_id, period, only=changed))
            fresh = _Index(revision, evidence, krs, encoder)
            if index is not None:
                if index.evidence == fresh.evidence:
                    fresh.matcher = index.matcher  # word for word the same KRs
                    fresh.public = index.public if index.krs == fresh.krs else None
                else:
                    fresh.superseded = index.matcher or index.superseded
            index = cache.indexes[key] = fresh
        if index.matcher is None:
            # The matcher before the change lends the analysis of every KR it read the same
            # (and, with a model, the vectors of every text it had embedded).
            before = index.superseded
            lexical = Matcher(index.evidence, previous=before.lexical if isinstance(before, SemanticMatcher) else before)
            index.matcher = lexical if encoder is None else SemanticMatcher(
                lexical, encoder, previous=before if isinstance(before, SemanticMatcher) else None)
            index.superseded = None
            cache.builds += 1
        matcher = index.scope(with_private)
        cache.indexes.move_to_end(key)
        while len(cache.indexes) > CACHED_INDEXES:
            cache.indexes.popitem(last=False)
        return index, matcher


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
