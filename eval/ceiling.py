"""How far any "no KR" cut-off could take each ranking on REPORT: the ceiling of issue 12's
real-data targets.

    python -m eval.ceiling [eval/realokrs] [--embedding-model DIR]

eval/real_eval.py measures the service at cut-offs chosen on TUNE. This asks a different
question: could *some* cut-off reach the targets, if it were chosen knowing the answers?
For each ranking it gives, on REPORT (never used for choosing anything in the product):
  no cut-off       every request named its top KRs (off-topic requests then all fail);
  best cut-off     the single cut-off chosen on REPORT itself, the lowest at which off-topic
                   requests are answered "no KR" >= 0.85 (an oracle: not a product figure);
  per workspace    each organisation-period given its own such cut-off, chosen on its own
                   off-topic requests (the most any per-workspace calibration of one
                   confidence could do).
Rankings: the lexical matcher (domain/matching.py), plain BM25, and with a model the
embedding matcher (domain/semantic_matching.py, as shipped) and a fusion (the model's
similarity plus the lexical and BM25 confidences, weights chosen on TUNE by mean hit@1 and
hit@3 with no cut-off). Requests, warm halves and off-topic sets are eval/real_eval.py's.
Writes bench/results/real_eval_ceiling.json.
"""

from __future__ import annotations

import argparse
import itertools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from eval import real_eval
from eval.ranking_tune import NONE_TARGET
from eval.real_eval import OrgPeriod, RememberingEncoder
from okrbot.domain.matching import Bm25Matcher, Matcher
from okrbot.domain.semantic_matching import Calibration, SemanticMatcher, confidences
from okrbot.domain.sentence_encoder import load_encoder

RESULT = Path("bench/results/real_eval_ceiling.json")
TARGETS = {"cold": (0.40, 0.60), "warm": (0.55, 0.75), "none": 0.85}
FUSION_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)


@dataclass(frozen=True)
class Asked:
    """One request asked of one workspace, with every KR's score under each ranking."""

    workspace: str  # organisation-period
    mode: str  # cold, warm, none
    expected: frozenset[str]  # empty: off-topic
    ids: tuple[str, ...]
    scores: dict[str, np.ndarray]  # ranking -> score per KR (0: not named)


def gather(orgs: Sequence[OrgPeriod], pool: Sequence[OrgPeriod], encoder=None) -> list[Asked]:
    asked = []
    for org in orgs:
        linked, halves = real_eval.warm_split(org)
        ids = tuple(kr.id for kr in org.krs)
        for mode, links, questions in (
            ("cold", {}, [(i.text, i.krs) for i in org.items]),
            ("warm", linked, [(i.text, i.krs) for i in halves]),
            ("none", {}, [(i.text, frozenset()) for i in real_eval.other_org(org, pool)]),
        ):
            known = real_eval.evidence(org, links)
            lexical = Matcher(known, threshold=0.0)
            bm25 = Bm25Matcher(real_eval.evidence(org, links), threshold=0.0)
            semantic = SemanticMatcher(Matcher(known), encoder) if encoder is not None else None
            for text, expected in questions:
                scores = {"lexical": _lexical(lexical, text, len(ids)), "bm25": _bm25(bm25, text, ids)}
                if semantic is not None:
                    found = semantic.components(text)
                    scores["embedding"] = confidences(found, Calibration()).astype(np.float64)
                    scores["similarity"] = Calibration().semantic(found.own, found.work).astype(np.float64)
                asked.append(Asked(org.name, mode, expected, ids, scores))
    return asked


def _lexical(matcher: Matcher, text: str, count: int) -> np.ndarray:
    scores = np.zeros(count)
    for position, confidence in matcher.ranked(text, count)[0]:
        scores[position] = confidence
    return scores


def _bm25(matcher: Bm25Matcher, text: str, ids: tuple[str, ...]) -> np.ndarray:
    scores = np.zeros(len(ids))
    for match in matcher.match(text, len(ids)):
        scores[ids.index(match.kr_id)] = match.score
    return scores


Ranking = Callable[[dict[str, np.ndarray]], np.ndarray]


def fusion(weights: tuple[float, float]) -> Ranking:
    lexical, bm25 = weights
    return lambda s: s["similarity"] + lexical * s["lexical"] + bm25 * s["bm25"]


def figures(asked: Sequence[Asked], rank: Ranking, cut_off: Callable[[str], float]) -> dict[str, tuple[float, ...]]:
    """mode -> (hit@1, hit@3) for cold and warm, ("no KR",) for none; a KR is named when its score
    is above 0 and at or above the workspace's cut-off."""
    tallies: dict[str, list[tuple[bool, bool, bool]]] = {}
    for one in asked:
        score = rank(one.scores)
        threshold = cut_off(one.workspace)
        top = [one.ids[p] for p in np.argsort(-score, kind="stable")[:3] if score[p] > 0 and score[p] >= threshold]
        tallies.setdefault(one.mode, []).append(
            (bool(top) and top[0] in one.expected, any(kr in one.expected for kr in top), not top))
    out = {}
    for mode, rows in tallies.items():
        shares = np.mean(rows, axis=0)
        out[mode] = (round(float(shares[2]), 3),) if mode == "none" else tuple(round(float(v), 3) for v in shares[:2])
    return out


def lowest_cut_off(asked: Sequence[Asked], rank: Ranking) -> float:
    """The lowest cut-off at which off-topic requests among `asked` are answered "no KR" >= 0.85."""
    best = np.sort([rank(one.scores).max() for one in asked if one.mode == "none"])
    # Strictly above the best score of all but the top 15%: those and every lower one name nothing.
    return float(np.nextafter(best[int(np.ceil(NONE_TARGET * len(best))) - 1], np.inf))


def ceiling(asked: Sequence[Asked], rank: Ranking) -> dict[str, dict[str, tuple[float, ...]]]:
    overall = lowest_cut_off(asked, rank)
    own = {ws: lowest_cut_off([a for a in asked if a.workspace == ws], rank) for ws in {a.workspace for a in asked}}
    return {
        "no cut-off": figures(asked, rank, lambda _: 0.0),
        "best cut-off (oracle)": figures(asked, rank, lambda _: overall),
        "per workspace (oracle)": figures(asked, rank, own.__getitem__),
    }


def choose_fusion(tune: Sequence[Asked]) -> tuple[float, float]:
    """Weights of the lexical and BM25 confidences added to the similarity: the best mean of cold
    and warm hit@1 and hit@3 on TUNE with no cut-off (the first of equals)."""
    def mean_hits(weights):
        found = figures(tune, fusion(weights), lambda _: 0.0)
        return sum(found["cold"]) + sum(found["warm"])
    return max(itertools.product(FUSION_WEIGHTS, FUSION_WEIGHTS), key=mean_hits)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", nargs="?", default=real_eval.DEFAULT_DATA_DIR)
    parser.add_argument("--embedding-model", type=Path, default=None, help="a sentence-transformers model folder")
    args = parser.parse_args()
    orgs = real_eval.load(args.data_dir)
    sets = real_eval.split(orgs)
    encoder = RememberingEncoder(load_encoder(args.embedding_model)) if args.embedding_model else None
    report = gather(sets["REPORT"], orgs, encoder)
    rankings: dict[str, Ranking] = {"lexical matcher": lambda s: s["lexical"], "plain BM25": lambda s: s["bm25"]}
    chosen = None
    if encoder is not None:
        chosen = choose_fusion(gather(sets["TUNE"], sets["TUNE"], encoder))
        rankings["embedding matcher"] = lambda s: s["embedding"]
        rankings[f"fusion (similarity + {chosen[0]} lexical + {chosen[1]} BM25)"] = fusion(chosen)
    print(f"REPORT ({', '.join(sorted({o.org for o in sets['REPORT']}))}): cold h@1 h@3 | warm h@1 h@3 | none")
    print(f"targets: {TARGETS['cold'][0]:.2f} {TARGETS['cold'][1]:.2f} | {TARGETS['warm'][0]:.2f} "
          f"{TARGETS['warm'][1]:.2f} | {TARGETS['none']:.2f}")
    found = {}
    for name, rank in rankings.items():
        found[name] = ceiling(report, rank)
        for rule, f in found[name].items():
            print(f"{name[:52]:52} {rule:24} {f['cold'][0]:.2f} {f['cold'][1]:.2f} | {f['warm'][0]:.2f} {f['warm'][1]:.2f}"
                  f" | {f['none'][0]:.2f}")
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps({
        "targets": TARGETS, "embedding_model": str(args.embedding_model) if args.embedding_model else None,
        "fusion_weights_chosen_on_tune": chosen, "report": found}, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
