"""An in-memory BM25F index over a few text fields, and a typo-tolerant vocabulary.

Terms are interned to small integer ids and every per-document and per-term
list lives in flat numpy arrays: at 48,000 KRs a dict per document cost
hundreds of MiB, the arrays a few tens. The index keeps term counts, not
weights: a question computes the weights of its few terms' postings in one
vectorised walk, for the scope it is asked in (all documents, or all but some).

Building is two steps so that a change rebuilds cheaply: text becomes term ids
once per document (`TokenCorpus`, the slow part: the analyzer), and the
numbers (lengths, document frequencies, weights) are computed from the ids
for any subset of documents in one vectorised pass (`FieldedBm25.from_corpus`).
A corpus can copy a document's ids from another corpus that shares its
`Vocabulary`, so an index after a change re-reads only the changed documents.

Both are plain arrays plus the vocabulary's keys (`arrays()`, `from_arrays`), so a
built index can be written to a file and read back by another process without
analysing or counting anything again (services/serves_snapshot.py).
"""

from __future__ import annotations

import copy
import math
from collections import Counter
from collections.abc import Container, Iterable, Iterator, Mapping, Sequence

import numpy as np

Document = Mapping[str, Sequence[str]]


class Vocabulary:
    """Interned index terms: each distinct key gets the next integer id, for good."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.keys: list[str] = []

    def ids_of(self, keys: Iterable[str]) -> list[int]:
        ids = self.ids
        found = []
        for key in keys:
            term = ids.get(key)
            if term is None:
                term = ids[key] = len(self.keys)
                self.keys.append(key)
            found.append(term)
        return found

    def __len__(self) -> int:
        return len(self.keys)

    @classmethod
    def from_keys(cls, keys: Sequence[str]) -> Vocabulary:
        """The vocabulary whose terms are `keys`, in id order (as `keys` listed them)."""
        vocabulary = cls()
        vocabulary.keys = list(keys)
        vocabulary.ids = {key: term for term, key in enumerate(vocabulary.keys)}
        if len(vocabulary.ids) != len(vocabulary.keys):
            raise ValueError("a vocabulary lists a key twice")
        return vocabulary


class TokenCorpus:
    """Documents as term ids, field by field; a field may hold several groups
    (a KR's linked initiatives), so a group's terms can be read back alone."""

    def __init__(self, vocabulary: Vocabulary, fields: Sequence[str]) -> None:
        self.vocabulary = vocabulary
        self.fields = tuple(fields)
        self.size = 0
        self._ids: dict[str, list[int] | np.ndarray] = {f: [] for f in self.fields}
        self._group_ends: dict[str, list[int] | np.ndarray] = {f: [] for f in self.fields}
        self._document_ends: dict[str, list[int] | np.ndarray] = {f: [] for f in self.fields}

    def add(self, groups_by_field: Mapping[str, Sequence[Sequence[str]]]) -> None:
        """One document: for each field, its groups of term keys in order."""
        for field in self.fields:
            ids, group_ends = self._ids[field], self._group_ends[field]
            for group in groups_by_field.get(field, ()):
                ids.extend(self.vocabulary.ids_of(group))
                group_ends.append(len(ids))
            self._document_ends[field].append(len(group_ends))
        self.size += 1

    @classmethod
    def combine(cls, sources: Sequence[TokenCorpus], picks: Sequence[tuple[int, int]]) -> TokenCorpus:
        """A frozen corpus of documents taken from frozen corpora over one vocabulary:
        document i is document picks[i][1] of sources[picks[i][0]]. Array-wide, no loop per document."""
        corpus = cls(sources[0].vocabulary, sources[0].fields)
        corpus.size = len(picks)
        source = np.fromiter((s for s, _ in picks), dtype=np.int64, count=len(picks))
        position = np.fromiter((p for _, p in picks), dtype=np.int64, count=len(picks))
        for field in corpus.fields:
            # Stack the sources, their group and document bounds shifted to match.
            ids, group_ends, document_ends, first_document = [], [], [], []
            id_shift = group_shift = document_shift = 0
            for other in sources:
                ids.append(other._ids[field])
                group_ends.append(np.asarray(other._group_ends[field]) + id_shift)
                document_ends.append(np.asarray(other._document_ends[field]) + group_shift)
                first_document.append(document_shift)
                id_shift += len(other._ids[field])
                group_shift += len(other._group_ends[field])
                document_shift += other.size
            all_ids = np.concatenate(ids)
            all_group_ends = np.concatenate(group_ends)
            all_group_starts = np.concatenate(([0], all_group_ends[:-1]))
            all_document_ends = np.concatenate(document_ends)
            stacked = np.asarray(first_document, dtype=np.int64)[source] + position
            last_group = all_document_ends[stacked]
            first_group = np.where(stacked > 0, all_document_ends[stacked - 1], 0)
            groups = _ranges(first_group, last_group - first_group)
            group_lengths = all_group_ends[groups] - all_group_starts[groups]
            corpus._ids[field] = all_ids[_ranges(all_group_starts[groups], group_lengths)].astype(np.int32)
            corpus._group_ends[field] = np.cumsum(group_lengths)
            corpus._document_ends[field] = np.cumsum(last_group - first_group)
        return corpus

    def freeze(self) -> TokenCorpus:
        """Lists to compact arrays; no document is added after this."""
        for field in self.fields:
            self._ids[field] = np.asarray(self._ids[field], dtype=np.int32)
            self._group_ends[field] = np.asarray(self._group_ends[field], dtype=np.int64)
            self._document_ends[field] = np.asarray(self._document_ends[field], dtype=np.int64)
        return self

    def arrays(self) -> dict[str, np.ndarray]:
        """The frozen corpus as named arrays (its vocabulary apart)."""
        found = {}
        for field in self.fields:
            found[f"{field}.ids"] = np.asarray(self._ids[field])
            found[f"{field}.group_ends"] = np.asarray(self._group_ends[field])
            found[f"{field}.document_ends"] = np.asarray(self._document_ends[field])
        return found

    @classmethod
    def from_arrays(cls, vocabulary: Vocabulary, fields: Sequence[str], arrays: Mapping[str, np.ndarray]) -> TokenCorpus:
        """The frozen corpus `arrays()` gave, over `vocabulary` (the same terms, the same ids)."""
        corpus = cls(vocabulary, fields)
        sizes = set()
        for field in corpus.fields:
            ids = corpus._ids[field] = _checked(arrays[f"{field}.ids"], np.int32)
            group_ends = corpus._group_ends[field] = _checked(arrays[f"{field}.group_ends"], np.int64)
            document_ends = corpus._document_ends[field] = _checked(arrays[f"{field}.document_ends"], np.int64)
            if len(ids) and not 0 <= int(ids.min()) <= int(ids.max()) < len(vocabulary):
                raise ValueError(f"corpus field {field!r} names a term the vocabulary does not have")
            if (len(group_ends) and int(group_ends[-1]) != len(ids)) or (
                    len(document_ends) and int(document_ends[-1]) != len(group_ends)):
                raise ValueError(f"corpus field {field!r} does not add up")
            sizes.add(len(document_ends))
        if len(sizes) > 1:
            raise ValueError("corpus fields hold different numbers of documents")
        corpus.size = sizes.pop() if sizes else 0
        return corpus

    def field_ids(self, field: str) -> tuple[np.ndarray, np.ndarray]:
        """The field's term ids of every document, and where each document's end."""
        group_ends = np.concatenate(([0], self._group_ends[field]))
        return self._ids[field], group_ends[np.asarray(self._document_ends[field])]

    def groups(self, field: str, position: int) -> tuple[tuple[str, ...], ...]:
        """The term keys of each group of one document's field."""
        first, last = self._groups_of(field, position)
        start = self._group_start(field, first)
        ends = (self._group_ends[field][first:last] - start).tolist()
        if not ends:
            return ()
        keys = self.vocabulary.keys
        words = [keys[i] for i in self._ids[field][start : start + ends[-1]].tolist()]
        found, begin = [], 0
        for end in ends:
            found.append(tuple(words[begin:end]))
            begin = end
        return tuple(found)

    def _groups_of(self, field: str, position: int) -> tuple[int, int]:
        ends = self._document_ends[field]
        return (int(ends[position - 1]) if position else 0), int(ends[position])

    def _group_start(self, field: str, group: int) -> int:
        return int(self._group_ends[field][group - 1]) if group else 0


def _checked(array: np.ndarray, dtype, dimensions: int = 1) -> np.ndarray:
    """`array` as read back, refused unless it is what was written: a number array of this shape."""
    if array.dtype != np.dtype(dtype) or array.ndim != dimensions:
        raise ValueError(f"expected a {dimensions}-dimensional {np.dtype(dtype)} array, found {array.ndim} of {array.dtype}")
    return array


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The indexes start..start+length-1 of every range, one range after another."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    before = np.cumsum(lengths) - lengths
    return np.repeat(starts - before, lengths) + np.arange(total, dtype=np.int64)


def _unique_counts(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct keys and how often each occurs (a sort: the keys come nearly sorted)."""
    keys = np.sort(keys, kind="stable")
    if len(keys) == 0:
        return keys, np.zeros(0, dtype=np.int64)
    starts = np.concatenate(([0], np.flatnonzero(np.diff(keys)) + 1))
    return keys[starts], np.diff(np.concatenate((starts, [len(keys)])))


class FieldedBm25:
    """BM25F: each field's term counts are length-normalised and weighted, then saturated once.

    The index holds what does not depend on which documents are counted (each
    (document, term) pair's count per field, each document's field lengths); the
    statistics that do (document frequencies, average lengths, the number of
    documents) belong to a scope. `without(positions)` is the same index as if
    those documents did not exist: it shares every array and costs one pass over
    the pairs, so one index answers people who may see every document and people
    who may see fewer. Term weights are computed when a question reads them.
    """

    def __init__(
        self,
        documents: Sequence[Document],
        field_weights: Mapping[str, float],
        *,
        k1: float = 1.2,
        b: float = 0.4,
    ) -> None:
        corpus = TokenCorpus(Vocabulary(), tuple(field_weights))
        for document in documents:
            corpus.add({field: (document.get(field, ()),) for field in field_weights})
        self._build(corpus.freeze(), field_weights, k1, b)

    @classmethod
    def from_corpus(
        cls, corpus: TokenCorpus, field_weights: Mapping[str, float], *, k1: float = 1.2, b: float = 0.4
    ) -> FieldedBm25:
        index = cls.__new__(cls)
        index._build(corpus, field_weights, k1, b)
        return index

    def _build(self, corpus: TokenCorpus, field_weights: Mapping[str, float], k1: float, b: float) -> None:
        # Every weight is computed, array-wide and in the same order, with the float
        # arithmetic of the plain per-document loop this replaced (test_match_index.py
        # keeps it), so scores are the same to the last bit.
        self._settings(corpus.vocabulary, corpus.size, field_weights, k1, b)
        size = self.size
        terms = len(corpus.vocabulary)
        stride = max(terms, 1)  # a (document, term) pair as one sortable integer
        per_field, lengths = [], []  # each field's (unique pair keys doc*terms+term, counts)
        for field in field_weights:
            ids, ends = corpus.field_ids(field)
            field_lengths = np.diff(np.concatenate(([0], ends))).astype(np.int64)
            lengths.append(field_lengths)
            documents = np.repeat(np.arange(size, dtype=np.int64), field_lengths)
            per_field.append(_unique_counts(documents * stride + ids))
        self._lengths = tuple(lengths)
        pairs = _unique_counts(np.concatenate([p for p, _ in per_field]))[0] if per_field else np.zeros(0, np.int64)
        most = max((int(c.max()) for _, c in per_field if len(c)), default=0)
        counts = np.zeros((len(per_field), len(pairs)), dtype=np.uint16 if most <= 0xFFFF else np.uint32)
        for row, (field_pairs, field_counts) in enumerate(per_field):
            counts[row, np.searchsorted(pairs, field_pairs)] = field_counts
        pair_documents = (pairs // stride).astype(np.int32)
        pair_terms = (pairs % stride).astype(np.int32)
        # By term (sorted by document), for scoring: each pair's document and counts ...
        by_term = np.argsort(pair_terms, kind="stable")
        self._posting_documents = pair_documents[by_term]
        self._posting_counts = counts[:, by_term]
        self._posting_ends = np.cumsum(np.bincount(pair_terms, minlength=terms))
        # ... and by document (sorted by term id), for explanations and coverage: where
        # each of its pairs sits among the postings.
        self._document_ends = np.searchsorted(pair_documents, np.arange(1, size + 1, dtype=np.int32))
        self._document_term_ids = pair_terms
        self._document_postings = np.empty(len(by_term), dtype=np.int32)
        self._document_postings[by_term] = np.arange(len(by_term), dtype=np.int32)
        self._scope = _Scope(self, None)

    def _settings(self, vocabulary: Vocabulary, size: int, field_weights: Mapping[str, float], k1: float, b: float) -> None:
        self.size = size
        self._vocabulary = vocabulary
        self._k1, self._b = k1, b
        self._weights = tuple(float(w) for w in field_weights.values())
        heaviest = max(self._weights, default=1.0)
        # A term only in a light field (a shared objective) makes a document
        # count less towards the term's document frequency.
        self._shares = tuple(w / heaviest for w in self._weights)

    @property
    def terms(self) -> int:
        """How many terms of the vocabulary the index counted (those it had when built)."""
        return len(self._posting_ends)

    _ARRAYS = ("posting_documents", "posting_counts", "posting_ends", "document_ends", "document_term_ids",
               "document_postings")

    def arrays(self) -> dict[str, np.ndarray]:
        """The index's counts as named arrays (the statistics of a scope are not kept: they are
        computed again from these in one pass)."""
        found = {name: getattr(self, f"_{name}") for name in self._ARRAYS}
        found.update({f"lengths.{field}": lengths for field, lengths in enumerate(self._lengths)})
        return found

    @classmethod
    def from_arrays(
        cls, vocabulary: Vocabulary, size: int, arrays: Mapping[str, np.ndarray], field_weights: Mapping[str, float],
        *, k1: float = 1.2, b: float = 0.4,
    ) -> FieldedBm25:
        """The index `arrays()` gave, over the vocabulary it was built with: nothing counted again."""
        index = cls.__new__(cls)
        index._settings(vocabulary, size, field_weights, k1, b)
        index._lengths = tuple(_checked(arrays[f"lengths.{field}"], np.int64) for field in range(len(field_weights)))
        index._posting_documents = _checked(arrays["posting_documents"], np.int32)
        counts = arrays["posting_counts"]
        index._posting_counts = _checked(counts, np.uint32 if counts.dtype == np.uint32 else np.uint16, 2)
        index._posting_ends = _checked(arrays["posting_ends"], np.int64)
        index._document_ends = _checked(arrays["document_ends"], np.int64)
        index._document_term_ids = _checked(arrays["document_term_ids"], np.int32)
        index._document_postings = _checked(arrays["document_postings"], np.int32)
        pairs = len(index._posting_documents)
        if (any(len(lengths) != size for lengths in index._lengths) or len(index._document_ends) != size
                or index._posting_counts.shape != (len(field_weights), pairs)
                or len(index._posting_ends) != len(vocabulary) or len(index._document_term_ids) != pairs
                or len(index._document_postings) != pairs
                or (len(index._posting_ends) and int(index._posting_ends[-1]) != pairs)
                or (size and int(index._document_ends[-1]) != pairs)):
            raise ValueError("the index's arrays do not fit together")
        if pairs and not (0 <= int(index._posting_documents.min()) and int(index._posting_documents.max()) < size
                          and 0 <= int(index._document_postings.min()) and int(index._document_postings.max()) < pairs):
            raise ValueError("the index's arrays point outside it")
        index._scope = _Scope(index, None)
        return index

    def without(self, positions: Iterable[int]) -> FieldedBm25:
        """This index as if the documents at these positions did not exist: they count in
        no statistic and score nothing; the others keep their positions."""
        scoped = copy.copy(self)
        scoped._scope = _Scope(self, np.fromiter(positions, dtype=np.int64))
        return scoped

    @property
    def idf(self) -> Mapping[str, float]:
        """Term -> idf, for every term of a document in scope."""
        return self._scope.idf

    @property
    def rare_idf(self) -> float:
        """The idf of a term only one document has: the unit for "one rare word's worth",
        which keeps scores comparable across index sizes."""
        return self._scope.rare_idf

    @property
    def document_terms(self) -> _DocumentTerms:
        """Per document, {term: weight}, made when read (one or a few documents per question)."""
        return _DocumentTerms(self)

    def scores(self, query: Mapping[str, float]) -> dict[int, float]:
        """Sum of query weight x term weight, for every document sharing a term."""
        totals, touched = self._totals(query)
        positions = np.flatnonzero(touched)
        return dict(zip(positions.tolist(), totals[positions].tolist()))

    def best(self, query: Mapping[str, float], count: int) -> list[tuple[int, float]]:
        """The `count` best (position, score) pairs, highest score first, then lowest position:
        what heapq.nlargest over `scores` ranks by (score, -position) gives."""
        if count <= 0:
            return []
        totals, touched = self._totals(query)
        positions = np.flatnonzero(touched)
        values = totals[positions]
        if len(values) > count:
            kth = np.partition(values, len(values) - count)[len(values) - count]
            keep = values >= kth
            positions, values = positions[keep], values[keep]
        order = np.lexsort((positions, -values))[:count]
        return list(zip(positions[order].tolist(), values[order].tolist()))

    def _totals(self, query: Mapping[str, float]) -> tuple[np.ndarray, np.ndarray]:
        totals = np.zeros(self.size)
        touched = np.zeros(self.size, dtype=bool)
        ids = self._vocabulary.ids
        scope = self._scope
        for term, query_weight in query.items():
            found = ids.get(term)
            if found is None or found >= len(self._posting_ends):
                continue
            start = int(self._posting_ends[found - 1]) if found else 0
            postings: slice | np.ndarray = slice(start, int(self._posting_ends[found]))
            documents = self._posting_documents[postings]
            if scope.outside is not None:
                kept = ~scope.outside[documents]
                postings, documents = np.flatnonzero(kept) + start, documents[kept]
            if len(documents) == 0:
                continue
            totals[documents] += query_weight * self._weights_of(scope.idf_of(found), postings, documents)
            touched[documents] = True
        return totals, touched

    def _weights_of(self, idf: float | np.ndarray, postings: slice | np.ndarray, documents: np.ndarray) -> np.ndarray:
        """The weights of these postings (of documents `documents`) in the scope."""
        tf = np.zeros(len(documents))
        for weight, counts, norm in zip(self._weights, self._posting_counts, self._scope.norms):
            # A field without the term adds (weight x 0) / norm = +0.0: the sum is unchanged.
            tf += (weight * counts[postings].astype(np.float64)) / norm[documents]
        k1 = self._k1
        return idf * tf * (k1 + 1.0) / (tf + k1)

    def _document(self, position: int) -> dict[str, float]:
        start = int(self._document_ends[position - 1]) if position else 0
        end = int(self._document_ends[position])
        if start == end:
            return {}
        terms = self._document_term_ids[start:end]
        idf = np.array([self._scope.idf_of(t) for t in terms.tolist()])
        weights = self._weights_of(idf, self._document_postings[start:end], np.full(end - start, position))
        keys = self._vocabulary.keys
        return dict(zip((keys[t] for t in terms.tolist()), weights.tolist()))


class _Scope:
    """The statistics of the documents counted: all of them, or all but `excluded`."""

    def __init__(self, index: FieldedBm25, excluded: np.ndarray | None) -> None:
        size = index.size
        self.outside: np.ndarray | None = None
        if excluded is not None and len(excluded):
            self.outside = np.zeros(size, dtype=bool)
            self.outside[excluded] = True
        inside = None if self.outside is None else ~self.outside
        self.size = counted = size if inside is None else int(inside.sum())
        self.norms = []
        b = index._b
        for lengths in index._lengths:
            total = int(lengths.sum() if inside is None else lengths[inside].sum())
            average = ((total / counted) or 1.0) if counted else 1.0
            self.norms.append((1.0 - b) + b * lengths / average)
        presence = np.zeros(index._posting_counts.shape[1])
        for share, counts in zip(index._shares, index._posting_counts):
            presence[counts > 0] = np.maximum(presence[counts > 0], share)
        terms = len(index._posting_ends)
        posting_terms = np.repeat(np.arange(terms, dtype=np.int32), np.diff(np.concatenate(([0], index._posting_ends))))
        if inside is not None:
            kept = inside[index._posting_documents]
            posting_terms, presence = posting_terms[kept], presence[kept]
        # Summed in document order within each term, as the per-document loop did.
        self.document_frequency = np.bincount(posting_terms, weights=presence, minlength=terms)
        self.rare_idf = math.log(1.0 + (counted - 0.5) / 1.5) if counted else 1.0
        self.idf = _Idf(index._vocabulary, self)

    def idf_of(self, term: int) -> float:
        df = float(self.document_frequency[term])
        return math.log(1.0 + (self.size - df + 0.5) / (df + 0.5))


class _Idf(Mapping[str, float]):
    """Term -> idf in a scope, computed when read (a question reads a few dozen)."""

    def __init__(self, vocabulary: Vocabulary, scope: _Scope) -> None:
        self._ids = vocabulary.ids
        self._keys = vocabulary.keys
        self._scope = scope

    def _term(self, key: object) -> int | None:
        term = self._ids.get(key)  # type: ignore[arg-type]
        frequency = self._scope.document_frequency
        return term if term is not None and term < len(frequency) and frequency[term] > 0 else None

    def __contains__(self, key: object) -> bool:
        return self._term(key) is not None

    def __getitem__(self, key: str) -> float:
        term = self._term(key)
        if term is None:
            raise KeyError(key)
        return self._scope.idf_of(term)

    def get(self, key: str, default=None):  # type: ignore[override]
        term = self._term(key)
        return default if term is None else self._scope.idf_of(term)

    def __iter__(self) -> Iterator[str]:
        keys = self._keys
        return (keys[t] for t in np.flatnonzero(self._scope.document_frequency > 0).tolist())

    def __len__(self) -> int:
        return int(np.count_nonzero(self._scope.document_frequency > 0))


class _DocumentTerms(Sequence[dict[str, float]]):
    def __init__(self, index: FieldedBm25) -> None:
        self._index = index

    def __len__(self) -> int:
        return self._index.size

    def __getitem__(self, position):  # type: ignore[override]
        if isinstance(position, slice):
            return [self._index._document(p) for p in range(*position.indices(len(self)))]
        if position < 0:
            position += len(self)
        if not 0 <= position < len(self):
            raise IndexError(position)
        return self._index._document(position)


def _trigrams(word: str) -> frozenset[str]:
    padded = f"^{word}$"
    return frozenset(padded[i : i + 3] for i in range(len(padded) - 2))


class FuzzyVocabulary:
    """Finds the known word closest to a misspelt one ("infite" -> "infinite")."""

    def __init__(self, vocabulary: Iterable[str], *, min_length: int = 5) -> None:
        self._min_length = min_length
        # Per word only its number of trigrams: the shared ones are counted per question.
        self._sizes: dict[str, int] = {}
        self._by_gram: dict[str, list[str]] = {}
        for word in vocabulary:
            if len(word) >= min_length and word.isalpha():
                grams = _trigrams(word)
                self._sizes[word] = len(grams)
                for gram in grams:
                    self._by_gram.setdefault(gram, []).append(word)
        self._known: Container[str] = self._sizes

    def within(self, *sources: Container[str]) -> FuzzyVocabulary:
        """The same vocabulary less the words in none of `sources`, sharing its tables."""
        narrower = copy.copy(self)
        narrower._known = _Within(self._sizes, sources)
        return narrower

    def __contains__(self, word: str) -> bool:
        return word in self._known

    def closest(self, word: str, *, min_similarity: float = 0.55) -> tuple[str, float] | None:
        if len(word) < self._min_length or word in self._known:
            return None
        grams = _trigrams(word)
        shared: Counter[str] = Counter()
        for gram in grams:
            shared.update(self._by_gram.get(gram, ()))
        best: tuple[str, float] | None = None
        narrowed = self._known is not self._sizes
        for candidate, common in shared.items():
            if narrowed and candidate not in self._known:
                continue
            # |a ∪ b| = |a| + |b| - |a ∩ b|: the same integer as the set union's size.
            similarity = common / (len(grams) + self._sizes[candidate] - common)
            if similarity >= min_similarity and (best is None or similarity > best[1]):
                best = (candidate, similarity)
        return best


class _Within(Container[str]):
    def __init__(self, words: Container[str], sources: Sequence[Container[str]]) -> None:
        self._words, self._sources = words, sources

    def __contains__(self, item: object) -> bool:
        return item in self._words and any(item in source for source in self._sources)
