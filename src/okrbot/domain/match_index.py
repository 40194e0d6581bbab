"""An in-memory BM25F index over a few text fields, and a typo-tolerant vocabulary.

Term weights are computed once at build time, so answering a question is a
walk over the postings of its few terms: fast enough for thousands of KRs in
pure Python.
"""

from __future__ import annotations

import math
from array import array
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

Document = Mapping[str, Sequence[str]]


class FieldedBm25:
    """BM25F: each field's term counts are length-normalised and weighted, then saturated once."""

    def __init__(
        self,
        documents: Sequence[Document],
        field_weights: Mapping[str, float],
        *,
        k1: float = 1.2,
        b: float = 0.4,
    ) -> None:
        self.size = len(documents)
        self._field_weights = dict(field_weights)
        average_length = {
            field: (sum(len(d.get(field, ())) for d in documents) / self.size) or 1.0
            if self.size
            else 1.0
            for field in self._field_weights
        }
        pseudo_counts: list[dict[str, float]] = []
        # A term only in a light field (a shared objective) makes a document
        # count less towards the term's document frequency.
        document_frequency: dict[str, float] = {}
        heaviest = max(self._field_weights.values(), default=1.0)
        for document in documents:
            counts: dict[str, float] = {}
            presence: dict[str, float] = {}
            for field, weight in self._field_weights.items():
                terms = document.get(field, ())
                if not terms:
                    continue
                norm = 1.0 - b + b * len(terms) / average_length[field]
                for term, count in Counter(terms).items():
                    counts[term] = counts.get(term, 0.0) + weight * count / norm
                    presence[term] = max(presence.get(term, 0.0), weight / heaviest)
            pseudo_counts.append(counts)
            for term, share in presence.items():
                document_frequency[term] = document_frequency.get(term, 0.0) + share

        self.idf = {
            term: math.log(1.0 + (self.size - df + 0.5) / (df + 0.5))
            for term, df in document_frequency.items()
        }
        # The idf of a term only one document has: the unit for "one rare
        # word's worth", which keeps scores comparable across index sizes.
        self.rare_idf = math.log(1.0 + (self.size - 0.5) / 1.5) if self.size else 1.0
        self.document_terms: list[dict[str, float]] = []
        # Per term, the documents holding it and its weight in each, as two packed
        # arrays: a tuple per posting cost a quarter of the index's memory.
        self._postings: dict[str, tuple[array, array]] = {}
        for position, counts in enumerate(pseudo_counts):
            weights = {
                term: self.idf[term] * tf * (k1 + 1.0) / (tf + k1) for term, tf in counts.items()
            }
            self.document_terms.append(weights)
            for term, weight in weights.items():
                documents_of, weights_of = self._postings.setdefault(term, (array("i"), array("d")))
                documents_of.append(position)
                weights_of.append(weight)

    def scores(self, query: Mapping[str, float]) -> dict[int, float]:
        """Sum of query weight x term weight, for every document sharing a term."""
        totals: dict[int, float] = {}
        for term, query_weight in query.items():
            posting = self._postings.get(term)
            if posting is None:
                continue
            for position, weight in zip(*posting):
                totals[position] = totals.get(position, 0.0) + query_weight * weight
        return totals


def _trigrams(word: str) -> frozenset[str]:
    padded = f"^{word}$"
    return frozenset(padded[i : i + 3] for i in range(len(padded) - 2))


class FuzzyVocabulary:
    """Finds the known word closest to a misspelt one ("infite" -> "infinite")."""

    def __init__(self, vocabulary: Iterable[str], *, min_length: int = 5) -> None:
        self._min_length = min_length
        self._grams: dict[str, frozenset[str]] = {}
        self._by_gram: dict[str, list[str]] = {}
        for word in vocabulary:
            if len(word) >= min_length and word.isalpha():
                grams = _trigrams(word)
                self._grams[word] = grams
                for gram in grams:
                    self._by_gram.setdefault(gram, []).append(word)

    def __contains__(self, word: str) -> bool:
        return word in self._grams

    def closest(self, word: str, *, min_similarity: float = 0.55) -> tuple[str, float] | None:
        if len(word) < self._min_length or word in self._grams:
            return None
        grams = _trigrams(word)
        shared: Counter[str] = Counter()
        for gram in grams:
            shared.update(self._by_gram.get(gram, ()))
        best: tuple[str, float] | None = None
        for candidate, common in shared.items():
            similarity = common / len(grams | self._grams[candidate])
            if similarity >= min_similarity and (best is None or similarity > best[1]):
                best = (candidate, similarity)
        return best
