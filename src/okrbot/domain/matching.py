"""'Does this serve a KR?' (SPEC §6): rank the period's KRs for a free-text request.

Offline and dependency-free. A KR is known by its title, its objective and the
initiatives already linked to it; a request matches on shared words (light
stems), on shared concepts from a hand-written business lexicon ("cancel" and
"churn" are one idea), on compound words ("sign up" / "signup") and on near
spellings. Scores are BM25F over three weighted fields; the confidence blends
how strongly the best KR matched with how much of the request it explains,
and a request below NO_MATCH_THRESHOLD gets a clear "no KR".

The workspace teaches it: work linked to a KR (by hand or with an answer's Link
button) is a precedent, so a request worded like it is confidently that KR's;
"Not this one" is a rejection, so a request worded like it no longer names that KR.

`Bm25Matcher` is the plain-BM25 baseline the evaluation compares against.
"""

from __future__ import annotations

import copy
import heapq
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from okrbot.domain.analyzer import (
    CONCEPT_PREFIX,
    MAX_WORDS,
    Analyzer,
    Term,
    TermKind,
    stem,
    words,
)
from okrbot.domain.lexicon import STOPWORDS
from okrbot.domain.match_index import FieldedBm25, FuzzyVocabulary, TokenCorpus, Vocabulary

# Below this confidence the best KR is not named: the answer is "no KR". Chosen on
# the TUNE organisations of eval/realokrs (real work items, worded by the team, not
# by the KR; `python -m eval.ranking_tune`): the lowest cut-off at which off-topic
# requests (another organisation's work) are answered "no KR" at least 0.85 of the
# time, asked both of a workspace with no linked work and of one with half its work
# linked, and at which eval/serves' tune half still answers its off-topic requests
# "no KR" at least 0.95 of the time. Lower cut-offs name the right KR more often
# but name a KR for off-topic work more often still: the confidence separates the
# two only so far (ROC AUC 0.79 on TUNE).
NO_MATCH_THRESHOLD = 0.53
BM25_NO_MATCH_THRESHOLD = 0.34  # the baseline's own, tuned the same way

# The title says what the KR is; linked work is evidence of what serves it, but
# noisy (one shared everyday word with one linked title is no reason): at 0.5 a
# workspace that linked half its work answers off-topic requests "no KR" as often
# as a cold one nearly (eval/serves, tune half, "warm"); the objective is shared by
# several KRs, so it only breaks ties.
FIELD_WEIGHTS = {"title": 1.0, "initiatives": 0.5, "objective": 0.15}
CONCEPT_WEIGHT = 1.2  # a shared concept is the topic; the same word also matches itself
COMPOUND_WEIGHT = 0.8  # "sign up" for "signup"
FUZZY_WEIGHT = 0.6  # scaled by spelling similarity

# Confidence = strength x coverage^COVERAGE_EXPONENT, where strength saturates
# as the normalised score grows past STRENGTH_SCALE.
STRENGTH_SCALE = 0.9
COVERAGE_EXPONENT = 0.2

# A word no KR uses still counts against coverage, as much as a rare word.
UNKNOWN_WORD_MASS = 1.0

MAX_REASON_TERMS = 4
SHORTLIST = 20

# Word overlap (Jaccard of informative stems) with linked work at which the
# request is taken as the same kind of work: its confidence is at least the
# overlap's square root (0.5 -> 0.71, 1.0 -> 1.0).
PRECEDENT_SIMILARITY = 0.5
# Word overlap with a request someone said does not serve the KR: at or above
# this the KR is not named; below it the confidence shrinks by the overlap.
REJECTION_SIMILARITY = 0.5


@dataclass(frozen=True)
class KrEvidence:
    kr_id: str  # "KR-12"
    title: str
    objective: str  # objective title
    initiatives: tuple[str, ...] = ()  # titles (and URLs) of linked initiatives
    rejected: tuple[str, ...] = ()  # requests someone said do not serve this KR


@dataclass(frozen=True)
class Match:
    kr_id: str
    score: float  # 0..1 confidence
    reason: str  # plain English: which words or which linked work matched
    matched_terms: tuple[str, ...]
    matched_initiative: str | None


_AddTerm = Callable[[str, float, str, Sequence[int]], None]


@dataclass
class _QueryTerm:
    weight: float
    shown: str
    positions: set[int] = field(default_factory=set)


class _KrTerms:
    """What one KR was indexed with, read back for explaining matches."""

    def __init__(
        self,
        shown: Callable[[], dict[str, str]],
        initiatives: tuple[frozenset[str], ...],
        rejected: tuple[frozenset[str], ...],
    ) -> None:
        self._shown = shown
        self.initiatives = initiatives  # index keys of each initiative
        self.rejected = rejected  # informative word stems of each rejected request

    @cached_property
    def shown(self) -> dict[str, str]:
        """Index key -> the KR's own word for it (read from the corpus when an answer needs it)."""
        return self._shown()


class _Explanations(Sequence[_KrTerms]):
    """Per KR, its _KrTerms, made when read from the compact corpus (20 KRs a question)."""

    def __init__(self, matcher: Matcher, rejected: dict[int, tuple[frozenset[str], ...]]) -> None:
        self._matcher = matcher
        self.rejected = rejected  # position -> informative word stems of each rejected request

    def __len__(self) -> int:
        return len(self._matcher._krs)

    def __getitem__(self, position):  # type: ignore[override]
        matcher = self._matcher
        return _KrTerms(
            lambda: matcher._shown(position),
            tuple(frozenset(keys) for keys in matcher._corpus.groups("initiatives", position)),
            self.rejected.get(position, ()),
        )


class Matcher:
    """Ranks KRs for a request using words, concepts and linked work."""

    def __init__(
        self, krs: Sequence[KrEvidence], *, threshold: float | None = None, previous: Matcher | None = None
    ) -> None:
        """`previous`: a matcher over the same workspace (another scope, or before a change);
        the KRs it read word for word the same are not analysed again."""
        self._krs = tuple(krs)
        self.threshold = NO_MATCH_THRESHOLD if threshold is None else threshold
        self._analyzer = Analyzer()
        vocabulary = previous._corpus.vocabulary if previous is not None else Vocabulary()
        fresh = TokenCorpus(vocabulary, (*FIELD_WEIGHTS, SHOWN))
        known = {kr: position for position, kr in enumerate(previous._krs)} if previous is not None else {}
        picks = []  # per KR: (0, its position in previous) or (1, its position in fresh)
        read = _Reader(self._analyzer)
        for kr in self._krs:
            before = known.get(kr)
            if before is None:
                picks.append((1, fresh.size))
                fresh.add(read(kr))
            else:
                picks.append((0, before))
        fresh.freeze()
        if previous is None:
            self._corpus = fresh
        else:
            self._corpus = TokenCorpus.combine((previous._corpus, fresh), picks)
        self._finish(FieldedBm25.from_corpus(self._corpus, FIELD_WEIGHTS))

    def _finish(self, index: FieldedBm25) -> None:
        """What a matcher derives from its corpus and index: the rejections' words, the typo vocabulary."""
        rejected = {
            position: tuple(_word_keys(self._analyzer.terms(text)) for text in kr.rejected)
            for position, kr in enumerate(self._krs)
            if kr.rejected
        }
        self._explained = _Explanations(self, rejected)
        self._index = index
        vocabulary = {k for k in self._index.idf if not k.startswith(CONCEPT_PREFIX)}
        self._fuzzy = FuzzyVocabulary(vocabulary | self._analyzer.concept_words)

    def arrays(self) -> tuple[list[str], dict[str, np.ndarray]]:
        """What `restored` needs besides the KRs: the vocabulary's keys (term id order) and
        the analysed corpus and the index as named arrays. Nothing in them is code."""
        arrays = {f"corpus.{name}": array for name, array in self._corpus.arrays().items()}
        arrays.update({f"index.{name}": array for name, array in self._index.arrays().items()})
        # The vocabulary may have grown since (a matcher built from this one shares it):
        # this matcher's terms are the ones its index counted.
        return self._corpus.vocabulary.keys[: self._index.terms], arrays

    @classmethod
    def restored(
        cls, krs: Sequence[KrEvidence], keys: Sequence[str], arrays: Mapping[str, np.ndarray], *,
        threshold: float | None = None,
    ) -> Matcher:
        """The matcher whose `arrays()` these are, over the same KRs: answers exactly as it did,
        without analysing a KR or counting a term again. Raises ValueError when they do not fit."""
        matcher = cls.__new__(cls)
        matcher._krs = tuple(krs)
        matcher.threshold = NO_MATCH_THRESHOLD if threshold is None else threshold
        matcher._analyzer = Analyzer()
        vocabulary = Vocabulary.from_keys(keys)
        matcher._corpus = TokenCorpus.from_arrays(
            vocabulary, (*FIELD_WEIGHTS, SHOWN), {k[len("corpus."):]: a for k, a in arrays.items() if k.startswith("corpus.")})
        if matcher._corpus.size != len(matcher._krs):
            raise ValueError(f"the corpus holds {matcher._corpus.size} KRs, not {len(matcher._krs)}")
        matcher._finish(FieldedBm25.from_arrays(
            vocabulary, len(matcher._krs), {k[len("index."):]: a for k, a in arrays.items() if k.startswith("index.")},
            FIELD_WEIGHTS))
        return matcher

    def without(self, positions: Iterable[int]) -> Matcher:
        """This matcher as if the KRs at these positions did not exist: their words count in no
        statistic and they answer nothing. It shares the index: nothing is analysed again."""
        scoped = copy.copy(self)
        scoped._index = self._index.without(positions)
        scoped._fuzzy = self._fuzzy.within(scoped._index.idf, self._analyzer.concept_words)
        return scoped

    @property
    def krs(self) -> tuple[KrEvidence, ...]:
        return self._krs

    @cached_property
    def positions(self) -> dict[str, int]:
        """"KR-n" -> its position."""
        return {kr.kr_id: position for position, kr in enumerate(self._krs)}

    def rejections(self, text: str) -> dict[int, float]:
        """Per KR someone said "Not this one" for, the request's word overlap with the closest
        such request (what `match` applies; domain/semantic_matching.py applies it too)."""
        rejected = self._explained.rejected
        if not rejected:
            return {}
        asked = _word_keys(self._analyzer.terms(text))
        return {position: max(_overlap(asked, keys) for keys in texts) for position, texts in rejected.items()}

    def _shown(self, position: int) -> dict[str, str]:
        (flat,) = self._corpus.groups(SHOWN, position)
        return dict(zip(flat[0::2], flat[1::2]))

    def match(self, text: str, limit: int = 3, *, threshold: float | None = None) -> list[Match]:
        """Best first, only KRs at or above the threshold (this matcher's, unless given); [] means "no KR"."""
        cut_off = self.threshold if threshold is None else threshold
        if limit <= 0:
            return []
        ranked, explain = self.ranked(text, limit)
        return [explain(position, confidence) for position, confidence in ranked[:limit] if confidence >= cut_off]

    def ranked(self, text: str, limit: int = SHORTLIST) -> tuple[list[tuple[int, float]], Callable[[int, float], Match]]:
        """The shortlisted KRs (at least `limit`) as (position, confidence), best first, and a function
        that explains one of them: `match` explains only those it names."""
        query, mass, asked = self._query(text)
        if not query:
            return [], lambda position, confidence: self._explain(position, confidence, query)
        weights = {key: term.weight for key, term in query.items()}
        # Re-rank the strongest few by confidence: a KR that explains the
        # whole request beats one that shares a single rare word.
        shortlist = self._index.best(weights, max(SHORTLIST, limit))
        ranked = sorted(
            (
                (round(self._learned(position, asked, self._confidence(raw, self._coverage(position, query, mass))), 3), -position)
                for position, raw in shortlist
            ),
            reverse=True,
        )
        return ([(-negative, confidence) for confidence, negative in ranked],
                lambda position, confidence: self._explain(position, confidence, query))

    def _learned(self, position: int, asked: frozenset[str], confidence: float) -> float:
        """Confidence after what the workspace taught: linked work and "Not this one"."""
        explained = self._explained[position]
        rejection = max((_overlap(asked, keys) for keys in explained.rejected), default=0.0)
        if rejection >= REJECTION_SIMILARITY:
            return 0.0
        precedent = max(
            (_overlap(asked, _without_concepts(keys)) for keys in explained.initiatives), default=0.0
        )
        if precedent >= PRECEDENT_SIMILARITY:
            confidence = max(confidence, math.sqrt(precedent))
        return confidence * (1.0 - rejection)

    def _query(
        self, text: str
    ) -> tuple[dict[str, _QueryTerm], dict[int, float], frozenset[str]]:
        """Weighted query terms, the information mass of each informative word, and those words' stems."""
        query: dict[str, _QueryTerm] = {}

        def add(key: str, weight: float, shown: str, positions: Sequence[int]) -> None:
            term = query.setdefault(key, _QueryTerm(0.0, shown))
            if weight > term.weight:
                term.weight, term.shown = weight, shown
            term.positions.update(positions)

        terms = self._analyzer.terms(text)
        for term in terms:
            weight = 1.0 if term.kind is TermKind.WORD else CONCEPT_WEIGHT
            add(term.key, weight, term.shown, term.positions)
        self._add_compounds(words(text)[:MAX_WORDS], add)
        for term in terms:
            if term.kind is TermKind.WORD and term.key not in self._index.idf:
                self._add_fuzzy(term, add)
        # Each informative word carries its idf (an unknown word the most);
        # words that only count as part of a phrase ("1:1") share the phrase's.
        mass: dict[int, float] = {}
        unknown = UNKNOWN_WORD_MASS * self._index.rare_idf
        for term in terms:
            if term.kind is TermKind.WORD:
                mass[term.positions[0]] = self._index.idf.get(term.key, unknown)
        for term in terms:
            if term.kind is TermKind.CONCEPT:
                for position in term.positions:
                    if position not in mass:
                        mass[position] = self._index.idf.get(term.key, 0.0) / len(term.positions)
        return query, mass, _word_keys(terms)

    def _add_compounds(self, raw: list[str], add: _AddTerm) -> None:
        """Also read "sign up" as "signup" when the KRs or the lexicon know that word."""
        for i in range(len(raw) - 1):
            joined = stem(raw[i] + raw[i + 1])
            if len(joined) <= 4:
                continue
            shown, positions = f"{raw[i]} {raw[i + 1]}", (i, i + 1)
            if joined in self._index.idf:
                add(joined, COMPOUND_WEIGHT, shown, positions)
            for concept in self._analyzer.concepts_of(joined):
                add(CONCEPT_PREFIX + concept, COMPOUND_WEIGHT, shown, positions)

    def _add_fuzzy(self, term: Term, add: _AddTerm) -> None:
        """A word no KR uses may be a misspelling of one that a KR or the lexicon uses."""
        found = self._fuzzy.closest(term.key)
        if found is None:
            return
        key, similarity = found
        add(key, FUZZY_WEIGHT * similarity, term.shown, term.positions)
        for concept in self._analyzer.concepts_of(key):
            add(CONCEPT_PREFIX + concept, CONCEPT_WEIGHT * similarity, term.shown, term.positions)

    def _coverage(
        self, position: int, query: dict[str, _QueryTerm], mass: dict[int, float]
    ) -> float:
        """Share of the request's information that this KR accounts for."""
        total = sum(mass.values())
        if total <= 0:
            return 0.0
        document = self._index.document_terms[position]
        covered: set[int] = set()
        for key, term in query.items():
            if key in document:
                covered.update(term.positions)
        return sum(m for p, m in mass.items() if p in covered) / total

    def _confidence(self, raw: float, coverage: float) -> float:
        strength = raw / self._index.rare_idf
        return (1.0 - math.exp(-strength / STRENGTH_SCALE)) * coverage**COVERAGE_EXPONENT

    def _explain(self, position: int, confidence: float, query: dict[str, _QueryTerm]) -> Match:
        kr = self._krs[position]
        explained = self._explained[position]
        document = self._index.document_terms[position]
        # Same words first, then related ones, each by how much it counted;
        # a request word is explained once.
        contributions = sorted(
            (
                (key.startswith(CONCEPT_PREFIX), -query[key].weight * document[key], key)
                for key in query
                if key in document
            )
        )
        described: list[str] = []
        matched_terms: list[str] = []
        explained_positions: set[int] = set()
        for _, _, key in contributions:
            own_word = explained.shown[key]
            positions = query[key].positions
            if own_word in matched_terms or positions <= explained_positions:
                continue
            explained_positions |= positions
            matched_terms.append(own_word)
            asked = query[key].shown
            same = stem(asked) == stem(own_word) or asked == own_word
            described.append(f'"{own_word}"' if same else f'"{asked}" (related to "{own_word}")')
            if len(described) == MAX_REASON_TERMS:
                break
        initiative = self._closest_initiative(position, query)
        parts = []
        if described:
            parts.append("matches " + ", ".join(described))
        if initiative is not None:
            parts.append(f'like linked work "{initiative}"')
        return Match(
            kr_id=kr.kr_id,
            score=confidence,
            reason="; ".join(parts),
            matched_terms=tuple(matched_terms),
            matched_initiative=initiative,
        )

    def _closest_initiative(self, position: int, query: dict[str, _QueryTerm]) -> str | None:
        """The linked initiative sharing most with the request; a title beats a bare URL."""
        best, best_rank = None, (False, 0.0)
        initiatives = zip(self._krs[position].initiatives, self._explained[position].initiatives)
        for text, keys in initiatives:
            weight = sum(
                term.weight * self._index.idf.get(key, 0.0)
                for key, term in query.items()
                if key in keys
            )
            rank = (not _URL.fullmatch(text.strip()), weight)
            if weight > 0 and rank > best_rank:
                best, best_rank = text, rank
        return best


class _Reader:
    """A KR's index keys per field, and each key's own wording ("shown"); within one build
    a text read before (an objective shared by many KRs, recurring work) is not analysed again."""

    def __init__(self, analyzer: Analyzer) -> None:
        self._analyzer = analyzer
        self._objectives: dict[str, list[tuple[str, str]]] = {}
        self._initiatives: dict[str, list[tuple[str, str]]] = {}

    def __call__(self, kr: KrEvidence) -> dict[str, Sequence[Sequence[str]]]:
        objective = self._objectives.get(kr.objective)
        if objective is None:
            objective = self._objectives[kr.objective] = _pairs(self._analyzer.terms(kr.objective))
        per_initiative = []
        for text in kr.initiatives:
            found = self._initiatives.get(text)
            if found is None:
                found = self._initiatives[text] = _pairs(self._analyzer.terms(_readable(text)))
            per_initiative.append(found)
        title = _pairs(self._analyzer.terms(kr.title))
        shown: dict[str, str] = {}
        for pairs in (title, *per_initiative, objective):
            # Within one field, the shortest wording of a concept reads best.
            for key, word in sorted(pairs, key=lambda pair: len(pair[1])):
                shown.setdefault(key, word)
        return {
            "title": ([key for key, _ in title],),
            "initiatives": [[key for key, _ in pairs] for pairs in per_initiative],
            "objective": ([key for key, _ in objective],),
            SHOWN: ([text for pair in shown.items() for text in pair],),  # key, word, key, word, ...
        }


SHOWN = "shown"  # the corpus field holding each KR's index keys with its own words for them


def _pairs(terms: Sequence[Term]) -> list[tuple[str, str]]:
    return [(t.key, t.shown) for t in terms]


class Bm25Matcher:
    """Baseline: plain BM25 over title + objective + initiatives, no stems or synonyms."""

    # Squashes a raw BM25 score into 0..1 so one threshold rule fits both matchers.
    SCORE_SCALE = 5.0

    def __init__(self, krs: Sequence[KrEvidence], *, threshold: float | None = None) -> None:
        self._krs = tuple(krs)
        self.threshold = BM25_NO_MATCH_THRESHOLD if threshold is None else threshold
        documents = [
            {"text": _plain_words(" ".join([kr.title, kr.objective, *kr.initiatives]))}
            for kr in self._krs
        ]
        self._index = FieldedBm25(documents, {"text": 1.0}, b=0.75)

    def match(self, text: str, limit: int = 3) -> list[Match]:
        if limit <= 0:
            return []
        query = {word: 1.0 for word in _plain_words(text)}
        scores = self._index.scores(query)
        best = heapq.nlargest(limit, scores.items(), key=lambda item: (item[1], -item[0]))
        matches = []
        for position, raw in best:
            confidence = round(raw / (raw + self.SCORE_SCALE), 3)
            if confidence < self.threshold:
                continue
            shared = [w for w in query if w in self._index.document_terms[position]]
            matches.append(
                Match(
                    kr_id=self._krs[position].kr_id,
                    score=confidence,
                    reason="matches " + ", ".join(f'"{w}"' for w in shared[:MAX_REASON_TERMS]),
                    matched_terms=tuple(shared),
                    matched_initiative=None,
                )
            )
        return matches


_URL = re.compile(r"https?://\S+")
# Parts of a link that say where it is, not what it is about.
_URL_NOISE = frozenset(
    "http https www com org net io github gitlab bitbucket issues issue pull pulls merge_requests "
    "blob tree main master browse jira atlassian linear app notion so docs google".split()
)


def _readable(text: str) -> str:
    """A linked URL counts by the words in its path (".../reports/issues/12" -> "reports")."""

    def path_words(link: re.Match[str]) -> str:
        return " ".join(w for w in words(link.group()) if w not in _URL_NOISE and not w.isdigit())

    return _URL.sub(path_words, text)


def _word_keys(terms: Sequence[Term]) -> frozenset[str]:
    return frozenset(t.key for t in terms if t.kind is TermKind.WORD)


def _without_concepts(keys: frozenset[str]) -> frozenset[str]:
    """An initiative's word stems (its index keys less "#concept" keys)."""
    return frozenset(key for key in keys if not key.startswith(CONCEPT_PREFIX))


def _overlap(asked: frozenset[str], known: frozenset[str]) -> float:
    """Jaccard overlap of two sets of word stems."""
    if not asked or not known:
        return 0.0
    return len(asked & known) / len(asked | known)


def _plain_words(text: str) -> list[str]:
    return [w for w in words(text)[:MAX_WORDS] if w not in STOPWORDS and len(w) > 1]
