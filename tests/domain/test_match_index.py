"""The compact index answers exactly as the plain per-document BM25F it replaced, and a
matcher rebuilt from another (the other scope, or after a change) as one built afresh."""

from __future__ import annotations

import heapq
import math
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from eval.serves_eval import load, synthetic_krs
from okrbot.domain.match_index import FieldedBm25, FuzzyVocabulary, _trigrams
from okrbot.domain.matching import FIELD_WEIGHTS, Matcher, _Reader

EVAL_DIR = Path(__file__).resolve().parents[2] / "eval" / "serves"
TOLERANCE = 1e-9


class ReferenceBm25:
    """The index as it was: a dict of term weights per document, summed per question."""

    def __init__(self, documents, field_weights, *, k1=1.2, b=0.4):
        size = len(documents)
        average = {
            f: (sum(len(d.get(f, ())) for d in documents) / size) or 1.0 if size else 1.0 for f in field_weights
        }
        heaviest = max(field_weights.values(), default=1.0)
        pseudo, frequency = [], {}
        for document in documents:
            counts, presence = {}, {}
            for f, weight in field_weights.items():
                terms = document.get(f, ())
                if not terms:
                    continue
                norm = 1.0 - b + b * len(terms) / average[f]
                for term, count in Counter(terms).items():
                    counts[term] = counts.get(term, 0.0) + weight * count / norm
                    presence[term] = max(presence.get(term, 0.0), weight / heaviest)
            pseudo.append(counts)
            for term, share in presence.items():
                frequency[term] = frequency.get(term, 0.0) + share
        self.idf = {t: math.log(1.0 + (size - df + 0.5) / (df + 0.5)) for t, df in frequency.items()}
        self.document_terms = [
            {t: self.idf[t] * tf * (k1 + 1.0) / (tf + k1) for t, tf in counts.items()} for counts in pseudo
        ]

    def scores(self, query):
        totals = {}
        for position, weights in enumerate(self.document_terms):
            for term, query_weight in query.items():
                if term in weights:
                    totals[position] = totals.get(position, 0.0) + query_weight * weights[term]
        return totals


@pytest.fixture(scope="module")
def evaluation():
    krs, requests = load(EVAL_DIR)
    return synthetic_krs(krs, 400), [r.text for r in requests]


def _documents(krs):
    read = _Reader(Matcher([])._analyzer)
    return [{f: [key for group in groups for key in group] for f, groups in read(kr).items()} for kr in krs]


def _queries(matcher, questions):
    return [{key: term.weight for key, term in matcher._query(q)[0].items()} for q in questions]


def test_scores_idf_and_document_weights_equal_the_plain_bm25f(evaluation):
    krs, questions = evaluation
    matcher = Matcher(krs)
    reference = ReferenceBm25(_documents(krs), FIELD_WEIGHTS)
    index = matcher._index
    assert index.idf.keys() == reference.idf.keys()
    assert all(abs(index.idf[t] - reference.idf[t]) <= TOLERANCE for t in reference.idf)
    for position in (0, 1, len(krs) // 2, len(krs) - 1):
        ours, theirs = index.document_terms[position], reference.document_terms[position]
        assert ours.keys() == theirs.keys()
        assert all(abs(ours[t] - theirs[t]) <= TOLERANCE for t in theirs)
    for query in _queries(matcher, questions):
        ours, theirs = index.scores(query), reference.scores(query)
        assert ours.keys() == theirs.keys()
        assert all(abs(ours[p] - theirs[p]) <= TOLERANCE for p in theirs)
        assert index.best(query, 20) == heapq.nlargest(20, ours.items(), key=lambda item: (item[1], -item[0]))


def test_a_plain_index_over_word_lists_equals_the_reference():
    documents = [{"text": "a b b c".split()}, {"text": "b d".split()}, {}, {"text": "c c c e".split()}]
    index, reference = FieldedBm25(documents, {"text": 1.0}, b=0.75), ReferenceBm25(documents, {"text": 1.0}, b=0.75)
    for query in ({"b": 1.0}, {"c": 1.0, "e": 2.0}, {"zzz": 1.0}):
        assert index.scores(query) == pytest.approx(reference.scores(query), abs=TOLERANCE)
    assert index.document_terms[2] == {}


def _answers(matcher, questions):
    return [
        [(m.kr_id, m.score, m.reason, m.matched_terms, m.matched_initiative) for m in matcher.match(q, limit=5)]
        for q in questions
    ]


def test_a_matcher_rebuilt_after_changes_answers_as_one_built_afresh(evaluation):
    krs, questions = evaluation
    before = Matcher(krs)
    changed = list(krs)
    changed[3] = replace(changed[3], title=changed[3].title + " for enterprise customers")
    changed[10] = replace(changed[10], initiatives=changed[10].initiatives + ("Cut the invoice export time",))
    changed[20] = replace(changed[20], rejected=("speed up the dashboard",))
    del changed[30]
    changed.insert(5, replace(krs[0], kr_id="KR-9999", title="Grow the partner marketplace to 40 listings"))
    rebuilt, afresh = Matcher(changed, previous=before), Matcher(changed)
    assert _answers(rebuilt, questions) == _answers(afresh, questions)
    for query in _queries(afresh, questions):
        assert rebuilt._index.scores(query) == afresh._index.scores(query)


def test_a_matcher_restored_from_its_arrays_answers_as_it_did_and_lends_its_analysis(evaluation):
    """What a snapshot holds (services/serves.py): the vocabulary's keys and plain arrays."""
    krs, questions = evaluation
    original = Matcher(krs[:-10])
    Matcher(krs, previous=original)  # the shared vocabulary grows past what the original counted
    keys, arrays = original.arrays()
    restored = Matcher.restored(krs[:-10], list(keys), {name: array.copy() for name, array in arrays.items()})
    assert _answers(restored, questions) == _answers(original, questions)
    hidden = list(range(0, len(krs) - 10, 5))
    assert _answers(restored.without(hidden), questions) == _answers(original.without(hidden), questions)
    assert _answers(Matcher(krs, previous=restored), questions) == _answers(Matcher(krs), questions)


@pytest.mark.parametrize("spoil", [
    lambda keys, arrays: (keys[:-1], arrays),  # a term fewer than the corpus names
    lambda keys, arrays: (keys + [keys[0]], arrays),  # a key twice
    lambda keys, arrays: (keys, {**arrays, "index.posting_documents": arrays["index.posting_documents"][:-1]}),
    lambda keys, arrays: (keys, {**arrays, "corpus.title.ids": arrays["corpus.title.ids"].astype("int64")}),
    lambda keys, arrays: (keys, {k: a for k, a in arrays.items() if k != "index.document_ends"}),
])
def test_arrays_that_do_not_fit_together_are_refused(evaluation, spoil):
    krs, _ = evaluation
    keys, arrays = Matcher(krs).arrays()
    keys, arrays = spoil(list(keys), dict(arrays))
    with pytest.raises((ValueError, KeyError)):
        Matcher.restored(krs, keys, arrays)


def test_the_public_scope_from_the_full_matcher_answers_as_one_built_afresh(evaluation):
    krs, questions = evaluation
    public = [kr for position, kr in enumerate(krs) if position % 7]
    everything = Matcher(krs)
    assert _answers(Matcher(public, previous=everything), questions) == _answers(Matcher(public), questions)


def test_the_full_matcher_without_some_krs_answers_as_one_built_without_them(evaluation):
    """One index serves both scopes: the private KRs are left out of every statistic
    (document frequencies, average lengths, the fuzzy vocabulary) and of the answers."""
    krs, questions = evaluation
    hidden = [position for position in range(len(krs)) if position % 7 == 0 or position % 11 == 3]
    public = [kr for position, kr in enumerate(krs) if position not in set(hidden)]
    everything = Matcher(krs)
    scoped, afresh = everything.without(hidden), Matcher(public)
    assert _answers(scoped, questions) == _answers(afresh, questions)
    assert _answers(everything.without(()), questions) == _answers(everything, questions)
    assert scoped._index.idf.keys() == afresh._index.idf.keys()
    assert all(scoped._index.idf[t] == afresh._index.idf[t] for t in afresh._index.idf)
    assert scoped._index.rare_idf == afresh._index.rare_idf
    kept = [position for position in range(len(krs)) if position not in set(hidden)]
    for query in _queries(afresh, questions):
        ours = scoped._index.scores(query)
        assert set(ours) <= set(kept)
        assert {kept.index(p): score for p, score in ours.items()} == afresh._index.scores(query)  # to the last bit
    for position in (0, 1, 5, len(public) - 1):
        assert scoped._index.document_terms[kept[position]] == afresh._index.document_terms[position]
    # A typo of a word only hidden KRs use (and no concept) is not corrected towards it.
    concepts = everything._analyzer.concept_words
    only_hidden = {
        k for k in everything._index.idf
        if k not in scoped._index.idf and k not in concepts and k.isalpha() and len(k) >= 6
    }
    assert only_hidden
    for word in sorted(only_hidden)[:20]:
        typo = word[:2] + word[3:]
        found = scoped._fuzzy.closest(typo)
        assert found == afresh._fuzzy.closest(typo) and (found is None or found[0] != word)


def test_fuzzy_vocabulary_finds_what_the_set_union_similarity_finds():
    vocabulary = ["infinite", "infinity", "dashboard", "dashboards", "latency", "latent", "onboarding"]
    narrower = ["infinity", "dashboards", "latent"]  # what a scope still has
    fuzzy = FuzzyVocabulary(vocabulary)
    for known, found_in in ((vocabulary, fuzzy), (narrower, fuzzy.within({"infinity", "latent"}, {"dashboards"}))):
        for word in ("infite", "infinit", "dashbord", "latncy", "onbaording", "zzzzzz"):
            grams = _trigrams(word)
            best = max(
                ((w, len(grams & _trigrams(w)) / len(grams | _trigrams(w))) for w in known),
                key=lambda pair: pair[1],
            )
            expected = best if best[1] >= 0.55 else None
            found = found_in.closest(word)
            assert (found and (found[0], round(found[1], 12))) == (expected and (expected[0], round(expected[1], 12)))
        assert all(word in found_in for word in known)
    assert "latency" not in fuzzy.within({"infinity", "latent"}, {"dashboards"})
