"""Text to index terms for matching: words, light stems, phrases and concepts.

The same analysis runs on KR text and on a request, so "crashes", "crashed"
and "crash" meet at one stem, and "cancellation" meets "churn" at one concept
key ("#churn"). Stems only need to be consistent, not good English.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache

from okrbot.domain.lexicon import CONCEPTS, DIRECTION_WORDS, REQUEST_FILLER, STOPWORDS

# A request longer than this is a document, not a question; reading more
# only slows the answer down.
MAX_WORDS = 200
_MAX_CHARACTERS = 20 * MAX_WORDS

CONCEPT_PREFIX = "#"

_WORD = re.compile(r"[^\W_]+")
_CAMEL_CASE = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z]{2,})")
# "500ms" is a number and a unit; "2fa" and "ec2" stay whole.
_NUMBER_UNIT = re.compile(r"(?<=\d)(?=(?:ms|s|sec|secs|min|mins|h|hrs|kb|mb|gb|tb|x|k|m|pc)\b)")
_VOWELS = frozenset("aeiouy")
_BRITISH_ISE = re.compile(r"is(e|ed|es|ing|ation|ations)$")


class TermKind(Enum):
    WORD = "word"
    CONCEPT = "concept"


@dataclass(frozen=True, slots=True)
class Term:
    """One index term found in a text.

    `key` is what the index stores (a stem, or "#concept"); `shown` is the text
    that produced it, for explaining a match; `positions` are the indexes of
    the words it came from.
    """

    key: str
    shown: str
    kind: TermKind
    positions: tuple[int, ...]


def words(text: str) -> list[str]:
    """Lower-case words of the text's start; "NullPointerException" becomes three words."""
    text = unicodedata.normalize("NFKC", text[:_MAX_CHARACTERS])
    text = _CAMEL_CASE.sub(" ", text).lower()
    return _WORD.findall(_NUMBER_UNIT.sub(" ", text))


@lru_cache(maxsize=1 << 16)
def stem(word: str) -> str:
    """A light suffix stripper: -ise as -ize, plurals, -ing, -ed, -ly, -ion after t/s, final e."""
    if len(word) <= 3 or not word.isalpha():
        return word
    w = _BRITISH_ISE.sub(r"iz\1", word) if len(word) > 5 else word
    if w.endswith("ies") and len(w) > 4:
        w = w[:-3] + "y"
    elif w.endswith("sses"):
        w = w[:-2]
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    for suffix in ("ing", "ed", "ly"):
        base = w[: -len(suffix)]
        if w.endswith(suffix) and len(base) >= 3 and _VOWELS & set(base):
            w = base
            break
    if w.endswith("ion") and len(w) > 5 and w[-4] in "ts":
        w = w[:-3]
    if w.endswith("e") and len(w) > 3:
        w = w[:-1]
    # "shipp" -> "ship", "cancell" -> "cancel"; "ss", "zz" and vowel pairs stay.
    if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "szaeiou":
        w = w[:-1]
    return w


def _stems(phrase: str) -> tuple[str, ...]:
    return tuple(stem(w) for w in words(phrase))


_FILLER_STEMS = frozenset(stem(w) for w in REQUEST_FILLER | DIRECTION_WORDS)


def is_informative(word: str, stemmed: str | None = None) -> bool:
    """False for stopwords, request filler, bare numbers and single letters."""
    s = stem(word) if stemmed is None else stemmed
    return not (word in STOPWORDS or s in _FILLER_STEMS or s.isdigit() or len(s) < 2)


class Analyzer:
    """Finds word and concept terms in text, using a concept lexicon."""

    def __init__(self, concepts: Mapping[str, Iterable[str]] = CONCEPTS) -> None:
        phrases: dict[tuple[str, ...], set[str]] = {}
        for concept, entries in concepts.items():
            for entry in entries:
                key = _stems(entry)
                if key:
                    phrases.setdefault(key, set()).add(concept)
        self._phrases = {k: tuple(sorted(v)) for k, v in phrases.items()}
        sizes: dict[str, set[int]] = {}
        for key in self._phrases:
            sizes.setdefault(key[0], set()).add(len(key))
        # Phrase lengths by first stem, so a text is scanned once.
        self._sizes_by_first = {first: tuple(sorted(n, reverse=True)) for first, n in sizes.items()}
        self.concept_words = frozenset(k[0] for k in self._phrases if len(k) == 1)

    def concepts_of(self, stem_key: str) -> tuple[str, ...]:
        """Concepts a single stem belongs to (for compounds and misspellings)."""
        return self._phrases.get((stem_key,), ())

    def terms(self, text: str) -> list[Term]:
        """Concept terms (longest phrases first) then informative word stems."""
        raw = words(text)[:MAX_WORDS]
        stems = [stem(w) for w in raw]
        phrases: list[tuple[int, int, tuple[str, ...]]] = []
        for start, first in enumerate(stems):
            for size in self._sizes_by_first.get(first, ()):
                if start + size > len(stems):
                    continue
                concepts = self._phrases.get(tuple(stems[start : start + size]), ())
                if concepts:
                    phrases.append((-size, start, concepts))
        # Longest phrase first: "npm audit" is about vulnerabilities, even
        # though "audit" alone is about compliance.
        phrases.sort(key=lambda p: (p[0], p[1]))
        found: list[Term] = []
        claimed: set[int] = set()
        for negative_size, start, concepts in phrases:
            positions = tuple(range(start, start - negative_size))
            if claimed.intersection(positions):
                continue
            claimed.update(positions)
            shown = " ".join(raw[start : start - negative_size])
            found.extend(
                Term(CONCEPT_PREFIX + c, shown, TermKind.CONCEPT, positions) for c in concepts
            )
        found.extend(
            Term(s, w, TermKind.WORD, (i,))
            for i, (w, s) in enumerate(zip(raw, stems))
            if is_informative(w, s)
        )
        return found
