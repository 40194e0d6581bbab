"""'Does this serve a KR?' with the optional sentence-embedding model (OKRBOT_EMBEDDING_MODEL).

The lexical matcher (domain/matching.py) ranks as it always does; the model adds a
second, semantic confidence for every KR: how close in meaning the request is to the
KR's title and objective, or to the closest piece of work already linked to it. A KR's
confidence is the larger of the two, so the model can name a KR that shares no word with
the request, and never lowers one the words found. "Not this one" holds for both.

KR and linked-work vectors are computed when the index is built (about 10 ms a text on
one core: 50 s at 5,000 KRs, docs/performance.md) and reused for every question and, text
by text, by the index built after a change; a question embeds only the request.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np

from okrbot.domain.matching import REJECTION_SIMILARITY, KrEvidence, Match, Matcher

# Chosen on the TUNE organisations of eval/realokrs only (`python -m eval.embedding_tune
# --embedding-model DIR`, all-MiniLM-L6-v2), by the rules that chose matching.NO_MATCH_THRESHOLD
# and serves_tiers.SERVES_THRESHOLD: the calibration and "no KR" cut-off that name the right
# KR most often (cold and warm hit@1 and hit@3) while off-topic requests are answered "no KR"
# at least 0.85 of the time in workspaces with and without linked work, and eval/serves' tune
# half at least 0.95; then the lowest "Serves" cut-off right for at least 0.80 of its answers.
# Cosine similarity SIMILARITY_FLOOR or less is no evidence; SIMILARITY_FULL or more is full confidence.
SIMILARITY_FLOOR = 0.0
SIMILARITY_FULL = 0.90
# Linked work says what serves a KR, one item at a time: a little less than the KR itself.
WORK_WEIGHT = 0.9
EMBEDDING_NO_MATCH_THRESHOLD = 0.55
EMBEDDING_SERVES_THRESHOLD = 0.83

_URL = re.compile(r"\s*https?://\S+\s*")


class Encoder(Protocol):
    """What the matcher needs of a model (domain/sentence_encoder.py's SentenceEncoder)."""

    name: str

    @property
    def dimension(self) -> int: ...

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class Calibration:
    floor: float = SIMILARITY_FLOOR
    full: float = SIMILARITY_FULL
    work_weight: float = WORK_WEIGHT

    def semantic(self, own: np.ndarray, work: np.ndarray) -> np.ndarray:
        """Per KR, the confidence its meaning alone gives: its own text's similarity, or its
        closest linked work's weighted, whichever is higher, mapped from floor..full to 0..1."""
        similarity = np.maximum(own, np.where(work > -1, work * self.work_weight, -1.0))
        return np.clip((similarity - self.floor) / (self.full - self.floor), 0.0, 1.0)


class TextVectors:
    """Unit vectors of texts, each text once; an index after a change reuses the vectors of
    every text the one before had embedded."""

    def __init__(self, encoder: Encoder, texts: Iterable[str], *, previous: TextVectors | None = None) -> None:
        self.rows: dict[str, int] = {}
        for text in texts:
            self.rows.setdefault(text, len(self.rows))
        self.matrix = np.zeros((len(self.rows), encoder.dimension), dtype=np.float32)
        known = previous.rows if previous is not None else {}
        fresh = [text for text in self.rows if text not in known]
        if previous is not None:
            reused = [(row, known[text]) for text, row in self.rows.items() if text in known]
            if reused:
                mine, theirs = (np.fromiter(side, dtype=np.int64, count=len(reused)) for side in zip(*reused))
                self.matrix[mine] = previous.matrix[theirs]
        if fresh:
            self.matrix[[self.rows[text] for text in fresh]] = encoder.encode(fresh)
        self.embedded = len(fresh)  # texts this build ran the model on

    def of(self, texts: Sequence[str]) -> np.ndarray:
        return np.fromiter((self.rows[text] for text in texts), dtype=np.int64, count=len(texts))


def kr_text(kr: KrEvidence) -> str:
    """What a KR is, as the model reads it: its title, then its objective."""
    return f"{kr.title}. {kr.objective}"


def work_texts(kr: KrEvidence) -> list[str]:
    """Titles of the KR's linked work (a bare link says little to the model)."""
    found = []
    for text in kr.initiatives:
        title = _URL.sub(" ", text).strip()
        if title:
            found.append(title)
    return found


def unembedded(krs: Sequence[KrEvidence], encoder: Encoder, previous: SemanticMatcher | None = None) -> int:
    """How many texts of these KRs the model would have to read for an index: those the index
    before did not hold, and, when the encoder keeps vectors on disk, that it does not have."""
    known = previous.vectors.texts.rows if previous is not None else {}
    texts = [text for text in dict.fromkeys(t for kr in krs for t in (kr_text(kr), *work_texts(kr))) if text not in known]
    missing = getattr(encoder, "missing", None)  # store/vector_cache.CachedEncoder
    return len(texts if missing is None else missing(texts))


class KrVectors:
    """Per KR, the row of its own text, and the rows of its linked work (grouped by KR)."""

    def __init__(self, krs: Sequence[KrEvidence], encoder: Encoder, *, previous: KrVectors | None = None) -> None:
        own = [kr_text(kr) for kr in krs]
        work = [work_texts(kr) for kr in krs]
        self.texts = TextVectors(encoder, [*own, *(t for ts in work for t in ts)],
                                 previous=previous.texts if previous is not None else None)
        self.own = self.texts.of(own)
        flat = [t for ts in work for t in ts]
        self.work = self.texts.of(flat)
        self.work_texts = flat
        counts = np.fromiter((len(ts) for ts in work), dtype=np.int64, count=len(krs))
        self.work_owner = np.repeat(np.arange(len(krs), dtype=np.int64), counts)  # grouped by KR, in order
        self._with_work = np.flatnonzero(counts)
        self._work_starts = (np.cumsum(counts) - counts)[self._with_work]
        self.size = len(krs)

    def similarities(self, query: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Cosine similarity of the request with each KR's own text; with its closest linked
        work (-1 without any); and which work item that is (-1 without any)."""
        everything = self.texts.matrix @ query
        own = everything[self.own]
        closest = np.full(self.size, -1.0, dtype=np.float32)
        which = np.full(self.size, -1, dtype=np.int64)
        if len(self.work):
            work = everything[self.work]
            closest[self._with_work] = np.maximum.reduceat(work, self._work_starts)
            # The item that reached each KR's maximum (the first if several tie).
            hits = np.flatnonzero(work == closest[self.work_owner])
            which[self.work_owner[hits[::-1]]] = hits[::-1]
        return own, closest, which


@dataclass(frozen=True)
class Components:
    """One request's evidence per KR, for tuning (eval/embedding_tune.py)."""

    lexical: dict[int, Match]  # position -> the lexical matcher's match (shortlisted KRs only)
    own: np.ndarray  # similarity to each KR's title and objective
    work: np.ndarray  # similarity to each KR's closest linked work, -1 without any
    rejection: dict[int, float]  # position -> word overlap with a request said not to serve it


class SemanticMatcher:
    """Ranks KRs by the larger of the lexical and the semantic confidence (module docstring).
    The same interface as Matcher: `match(text, limit)`, `without(positions)`, `threshold`."""

    def __init__(
        self,
        lexical: Matcher,
        encoder: Encoder,
        *,
        previous: SemanticMatcher | None = None,
        calibration: Calibration = Calibration(),
        threshold: float | None = None,
        vectors: KrVectors | None = None,
    ) -> None:
        self.lexical = lexical
        self.encoder = encoder
        self.calibration = calibration
        self.threshold = EMBEDDING_NO_MATCH_THRESHOLD if threshold is None else threshold
        self.serves_threshold = EMBEDDING_SERVES_THRESHOLD
        krs = lexical.krs
        self.vectors = vectors if vectors is not None else KrVectors(
            krs, encoder, previous=previous.vectors if previous is not None else None)
        self._ids = [kr.kr_id for kr in krs]
        self._titles = [kr.title for kr in krs]
        self._hidden: np.ndarray | None = None
        self._last: tuple[str, np.ndarray] | None = None

    def without(self, positions: Iterable[int]) -> SemanticMatcher:
        """As Matcher.without: these KRs count in no statistic and answer nothing."""
        scoped = copy.copy(self)
        positions = list(positions)
        scoped.lexical = self.lexical.without(positions)
        hidden = np.zeros(self.vectors.size, dtype=bool)
        hidden[positions] = True
        scoped._hidden = hidden
        return scoped

    def components(self, text: str) -> Components:
        """The evidence `match` weighs, per KR (for tuning the calibration)."""
        own, work, _ = self.vectors.similarities(self._vector(text))
        lexical, explain = self.lexical.ranked(text)
        return Components({p: explain(p, c) for p, c in lexical}, own, work, self.lexical.rejections(text))

    def _vector(self, text: str) -> np.ndarray:
        """The request's vector; the last one is kept, for a second ask of the same request
        (services/serves.py asks again when hidden KRs took the top places)."""
        last = self._last
        if last is not None and last[0] == text:
            return last[1]
        vector = self.encoder.encode([text])[0]
        self._last = (text, vector)
        return vector

    def match(self, text: str, limit: int = 3) -> list[Match]:
        """Best first, only KRs at or above the threshold; [] means "no KR"."""
        if limit <= 0 or not self.vectors.size or not text.strip():
            return []
        own, work, which = self.vectors.similarities(self._vector(text))
        shortlist, explain = self.lexical.ranked(text)
        lexical = dict(shortlist)
        confidence = combined(lexical, self.calibration.semantic(own, work), self.lexical.rejections(text))
        if self._hidden is not None:
            confidence[self._hidden] = -1.0
        semantic = self.calibration.semantic(own, work)
        named = []
        for position in ranked(confidence, limit):
            if confidence[position] < self.threshold:
                break
            words = explain(position, lexical[position]) if position in lexical else None
            named.append(self._explain(position, float(confidence[position]), words, own[position], work[position],
                                       which[position], semantic[position]))
        return named

    def _explain(self, position: int, confidence: float, lexical: Match | None, own: float, work: float,
                 which: int, semantic: float) -> Match:
        words_won = lexical is not None and lexical.score >= semantic
        if words_won:
            return replace(lexical, score=confidence)
        weighted_work = work * self.calibration.work_weight
        if which >= 0 and weighted_work >= own:
            item = self.vectors.work_texts[which]
            meaning = f'close in meaning to linked work "{item}"'
        else:
            item = None
            meaning = "close in meaning to this KR"
        reason = f"{lexical.reason}; {meaning}" if lexical is not None and lexical.reason else meaning
        return Match(
            kr_id=self._ids[position],
            score=confidence,
            reason=reason,
            matched_terms=lexical.matched_terms if lexical is not None else (),
            matched_initiative=item if item is not None else (lexical.matched_initiative if lexical is not None else None),
        )




def confidences(found: Components, calibration: Calibration) -> np.ndarray:
    """Per KR, what `SemanticMatcher.match` ranks by, from the evidence it weighs."""
    lexical = {position: match.score for position, match in found.lexical.items()}
    return combined(lexical, calibration.semantic(found.own, found.work), found.rejection)


def combined(lexical: dict[int, float], semantic: np.ndarray, rejection: dict[int, float]) -> np.ndarray:
    """Per KR, the larger of its lexical and its semantic confidence, after "Not this one"
    (as Matcher applies it), rounded as the matcher rounds."""
    confidence = semantic.astype(np.float64)
    for position, score in lexical.items():
        confidence[position] = max(confidence[position], score)
    for position, overlap in rejection.items():
        confidence[position] = 0.0 if overlap >= REJECTION_SIMILARITY else confidence[position] * (1.0 - overlap)
    return np.round(confidence, 3)


def ranked(confidence: np.ndarray, limit: int) -> list[int]:
    """The positions of the `limit` highest confidences, highest first, then lowest position."""
    count = min(limit, len(confidence))
    if count <= 0:
        return []
    best = np.argpartition(-confidence, count - 1)[:count] if count < len(confidence) else np.arange(len(confidence))
    # Ties at the edge: argpartition may pick any of them; take the lowest positions.
    edge = confidence[best].min()
    best = np.union1d(best, np.flatnonzero(confidence == edge))
    return best[np.lexsort((best, -confidence[best]))][:count].tolist()
