"""Measure options for more semantic reach on the real-OKR evaluation, without PyTorch
and without downloads at run time.

    python -m eval.semantic_reach [--wordnet /usr/share/wordnet] [--embedding-model DIR]

Options, each measured through the same service path as eval/real_eval.py:
  lexicon      today's hand-written concept groups (domain/lexicon.py) only;
  wordnet-1    plus WordNet 3.0 synonym sets, each word joined to its most frequent sense only
               (Debian package wordnet-base, 28 MB installed, WordNet 3.0 licence);
  wordnet-2    the same with each word's two most frequent senses;
  cooccur      plus groups learned from the workspace's own text: two words that appear
               together in at least two KR titles, objectives or linked work titles;
  embedding    (with --embedding-model) the option OKRBOT_EMBEDDING_MODEL: the larger of the
               lexical and a sentence-embedding confidence (domain/semantic_matching.py), at its
               own cut-offs, chosen on TUNE by eval/embedding_tune.py.
Each option is printed for TUNE, REPORT and eval/serves (hit@1, hit@3, off-topic "no KR").
Nothing here changes the product: the options are installed for the run only.
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from contextlib import contextmanager
from pathlib import Path

from eval import real_eval, serves_eval
from okrbot.domain import matching
from okrbot.domain.analyzer import Analyzer, is_informative, stem, words
from okrbot.domain.lexicon import CONCEPTS
from okrbot.domain.semantic_matching import SemanticMatcher
from okrbot.domain.sentence_encoder import load_encoder

DEFAULT_WORDNET = Path("/usr/share/wordnet")
WORDNET_PARTS = ("noun", "verb", "adj")
COOCCUR_MIN_TEXTS = 2


def wordnet_groups(directory: Path = DEFAULT_WORDNET, *, senses: int = 1) -> dict[str, list[str]]:
    """WordNet synonym sets as concept groups: each word joins the sets of its `senses` most
    frequent senses (index files list a word's senses most frequent first); sets of one word go."""
    groups: dict[str, list[str]] = {}
    for part in WORDNET_PARTS:
        for line in (directory / f"index.{part}").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith(" "):  # the licence header
                continue
            fields = line.split()
            lemma, synsets, pointers = fields[0], int(fields[2]), int(fields[3])
            offsets = fields[6 + pointers : 6 + pointers + synsets]
            for offset in offsets[:senses]:
                groups.setdefault(f"wn-{part}-{offset}", []).append(lemma.replace("_", " "))
    return {name: lemmas for name, lemmas in groups.items() if len(lemmas) > 1}


def cooccurrence_groups(texts: Iterable[str], *, min_texts: int = COOCCUR_MIN_TEXTS) -> dict[str, list[str]]:
    """Pairs of informative words found together in at least `min_texts` of the texts."""
    pairs: Counter[tuple[str, str]] = Counter()
    for text in texts:
        kept = sorted({w.lower() for w in words(text) if is_informative(w.lower())})
        pairs.update(itertools.combinations(kept, 2))
    return {f"co-{a}-{b}": [a, b] for (a, b), n in pairs.items() if n >= min_texts and stem(a) != stem(b)}


@contextmanager
def concepts_installed(extra: Mapping[str, Iterable[str]] | Callable[[list[str]], Mapping[str, Iterable[str]]]):
    """Every matcher built inside reads CONCEPTS plus `extra` (a mapping, or a function of the
    texts the matcher is built on, for groups learned per workspace)."""
    original_init = matching.Matcher.__init__
    shared = None if callable(extra) else Analyzer({**CONCEPTS, **extra})

    def patched(self, krs, **options):
        options.pop("previous", None)  # a matcher to reuse analysis from: made with another analyzer
        if shared is not None:
            analyzer = shared
        else:
            texts = [t for kr in krs for t in (kr.title, kr.objective, *kr.initiatives)]
            analyzer = Analyzer({**CONCEPTS, **extra(texts)})
        # Matcher builds its own analyzer in __init__: hand it this one instead.
        saved = matching.Analyzer
        matching.Analyzer = lambda: analyzer
        try:
            original_init(self, krs, **options)
        finally:
            matching.Analyzer = saved

    matching.Matcher.__init__ = patched
    try:
        yield
    finally:
        matching.Matcher.__init__ = original_init


def measure(orgs, encoder=None) -> dict[str, tuple[real_eval.Tally, ...]]:
    """Service figures per set (cold, warm, none), and eval/serves (hit@1, hit@3, none); with an
    `encoder`, the service's with that embedding model."""
    with tempfile.TemporaryDirectory() as directory:
        tallies = real_eval.run(orgs, Path(directory), encoder=encoder)
    system = "service" if encoder is None else "service, embedding"
    found = {}
    for name, members in real_eval.split(orgs).items():
        totals = []
        for mode in real_eval.MODES:
            total = real_eval.Tally()
            for org in members:
                total += tallies.get((system, org.name, mode), real_eval.Tally())
            totals.append(total)
        found[name] = tuple(totals)
    return found


def easy_set(threshold: float | None = None, encoder=None) -> str:
    krs, requests = serves_eval.load(serves_eval.DEFAULT_DATA_DIR)
    matcher = matching.Matcher(krs, threshold=threshold)
    if encoder is not None:
        matcher = SemanticMatcher(matcher, encoder)
    figures = serves_eval._figures(requests, serves_eval._answers(matcher, requests), matcher.threshold)
    return f"hit@1 {figures.hit_at_1:.3f} hit@3 {figures.hit_at_3:.3f} none {figures.no_kr_share:.3f}"


TUNING_GRID = tuple(t / 100 for t in range(20, 82, 2))


def tuned_threshold(tune_orgs) -> float:
    """The "no KR" cut-off chosen on TUNE as matching.NO_MATCH_THRESHOLD was on eval/serves:
    the middle of the widest run of cut-offs maximising cold hit@1 + off-topic "no KR"."""
    rows = real_eval.sweep(tune_orgs, TUNING_GRID)
    worth = [round(cold.hit1 / cold.asked + none.no_kr / none.asked, 6) for _, cold, _, none in rows]
    best = max(worth)
    runs, run = [], []
    for (threshold, *_), value in zip(rows, worth):
        if value == best:
            run.append(threshold)
        elif run:
            runs.append(run)
            run = []
    if run:
        runs.append(run)
    widest = max(runs, key=len)
    return widest[len(widest) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wordnet", type=Path, default=DEFAULT_WORDNET)
    parser.add_argument("--embedding-model", type=Path, default=None, help="also measure OKRBOT_EMBEDDING_MODEL with this folder")
    parser.add_argument("--embedding-only", action="store_true", help="with --embedding-model: only the lexicon and embedding rows")
    args = parser.parse_args()
    orgs = real_eval.load(real_eval.DEFAULT_DATA_DIR)
    options: dict[str, Mapping | Callable] = {"lexicon": {}}
    if (args.wordnet / "index.noun").exists():
        options["wordnet-1"] = wordnet_groups(args.wordnet, senses=1)
        options["wordnet-2"] = wordnet_groups(args.wordnet, senses=2)
    else:
        print(f"no WordNet at {args.wordnet} (Debian: apt-get install wordnet-base); skipped")
    options["cooccur"] = cooccurrence_groups
    if args.embedding_only:
        options = {"lexicon": {}}
    sets = real_eval.split(orgs)
    print("As shipped (\"no KR\" cut-off matching.NO_MATCH_THRESHOLD), through the service:")
    print(f"{'option':10} {'set':7} {'cold h@1':>8} {'h@3':>5} {'warm h@1':>8} {'h@3':>5} {'none':>5}")
    for name, extra in options.items():
        with concepts_installed(extra):
            for set_name, (cold, warm, none) in measure(orgs).items():
                print(f"{name:10} {set_name:7} {cold.show('cold'):>14} {warm.show('warm'):>14} {none.show('none'):>5}")
            print(f"{name:10} eval/serves {easy_set()}")
    if args.embedding_model:
        encoder = real_eval.RememberingEncoder(load_encoder(args.embedding_model))
        for set_name, (cold, warm, none) in measure(orgs, encoder).items():
            print(f"{'embedding':10} {set_name:7} {cold.show('cold'):>14} {warm.show('warm'):>14} {none.show('none'):>5}")
        print(f"{'embedding':10} eval/serves {easy_set(encoder=encoder)}")
    if args.embedding_only:
        return
    print("\nWith the cut-off re-chosen on TUNE for each option (matcher, same ranking as the service):")
    for name, extra in options.items():
        with concepts_installed(extra):
            threshold = tuned_threshold(sets["TUNE"])
            for set_name in ("TUNE", "REPORT"):
                ((_, cold, warm, none),) = real_eval.sweep(sets[set_name], [threshold], orgs)
                print(f"{name:10} {threshold:4.2f} {set_name:7} {cold.show('cold'):>14} {warm.show('warm'):>14}"
                      f" {none.show('none'):>5}")
            print(f"{name:10} {threshold:4.2f} eval/serves {easy_set(threshold)}")


if __name__ == "__main__":
    main()
