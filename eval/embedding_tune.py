"""Choose the embedding option's calibration and cut-offs on the TUNE organisations only.

    python -m eval.embedding_tune --embedding-model DIR [eval/realokrs]

With OKRBOT_EMBEDDING_MODEL set, "does this serve a KR?" ranks KRs by the larger of the
lexical confidence and a semantic one (domain/semantic_matching.py): the request's cosine
similarity with the KR's title and objective, or with its closest linked work (times a work
weight), mapped from a floor (no evidence) to a "full" similarity (full confidence). This
chooses those three numbers and the two cut-offs by the rules eval/ranking_tune.py uses for
the lexical matcher, on the same requests (TUNE: cold, warm, off-topic asked of workspaces
with and without linked work; eval/serves' tune half as the guard), never a REPORT one:
  for each calibration on the grid, the lowest "no KR" cut-off at which off-topic requests are
      answered "no KR" >= NONE_TARGET in cold and warm workspaces and eval/serves' tune half
      answers its off-topic ones "no KR" >= SERVES_SET_NONE; at that cut-off, the mean of cold
      and warm hit@1 and hit@3; the calibration with the highest mean wins (the first on ties);
  "Serves": the lowest cut-off at which the first KR of a "Serves" answer is right for at least
      SERVES_PRECISION of them (as ranking_tune.serves_precision).
"""

from __future__ import annotations

import argparse
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


from eval import ranking_tune, real_eval, serves_eval
from eval.real_eval import RememberingEncoder
from okrbot.domain.matching import KrEvidence, Match, Matcher
from okrbot.domain.semantic_matching import Calibration, Components, SemanticMatcher, confidences, ranked
from okrbot.domain.sentence_encoder import load_encoder

FLOORS = (0.0, 0.1, 0.2, 0.3)
FULLS = (0.6, 0.7, 0.8, 0.9)
WORK_WEIGHTS = (0.8, 0.9, 1.0, 1.1)


@dataclass(frozen=True)
class Asked:
    mode: str
    expected: frozenset[str] | None  # None: off-topic
    ids: tuple[str, ...]  # the workspace's KRs by position
    found: Components


def gather(tune: Sequence[real_eval.OrgPeriod], encoder) -> list[Asked]:
    """Every TUNE request's evidence per KR, and eval/serves' tune half's (mode "eval/serves")."""
    asked: list[Asked] = []

    def ask(krs: Sequence[KrEvidence], mode: str, questions) -> None:
        matcher = SemanticMatcher(Matcher(krs), encoder)
        ids = tuple(kr.kr_id for kr in krs)
        asked.extend(Asked(mode, expected, ids, matcher.components(text)) for text, expected in questions)

    for org in tune:
        linked, unlinked = real_eval.warm_split(org)
        off_topic = [(i.text, None) for i in real_eval.other_org(org, tune)]
        ask(real_eval.evidence(org, {}), "cold", [(i.text, i.krs) for i in org.items])
        ask(real_eval.evidence(org, linked), "warm", [(i.text, i.krs) for i in unlinked])
        ask(real_eval.evidence(org, {}), "none", off_topic)
        ask(real_eval.evidence(org, linked), "none, warm", off_topic)
    krs, requests = serves_eval.load(serves_eval.DEFAULT_DATA_DIR)
    ask(krs, "eval/serves", [(r.text, frozenset(r.expected) or None) for r in requests if r.split == "tune"])
    return asked


def answers(asked: Sequence[Asked], calibration: Calibration) -> tuple[list, list]:
    """ranking_tune's answers (mode, expected, top 3 as Matches) for TUNE, and for the guard."""
    tune, guard = [], []
    for one in asked:
        confidence = confidences(one.found, calibration)
        top = [Match(one.ids[p], float(confidence[p]), "", (), None) for p in ranked(confidence, 3)]
        (guard if one.mode == "eval/serves" else tune).append((one.mode, one.expected, top))
    return tune, guard


def objective(figures: dict[str, tuple[float, float, float]]) -> float:
    return (sum(figures["cold"][:2]) + sum(figures["warm"][:2])) / 4


def choose(asked: Sequence[Asked]) -> tuple[Calibration, float, float | None, list[tuple]]:
    rows = []
    for floor, full, work_weight in itertools.product(FLOORS, FULLS, WORK_WEIGHTS):
        calibration = Calibration(floor, full, work_weight)
        tune, guard = answers(asked, calibration)
        no_kr, _ = ranking_tune.choose(tune, guard)
        if no_kr is None:
            continue
        figures = ranking_tune.figures(tune, no_kr)
        rows.append((objective(figures), calibration, no_kr, figures))
    best = max(rows, key=lambda row: row[0])  # the first of equals, in grid order
    _, calibration, no_kr, _ = best
    tune, guard = answers(asked, calibration)
    _, serves = ranking_tune.choose(tune, guard)
    return calibration, no_kr, serves, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", nargs="?", default=real_eval.DEFAULT_DATA_DIR)
    parser.add_argument("--embedding-model", type=Path, required=True, help="a sentence-transformers model folder")
    args = parser.parse_args()
    tune = real_eval.split(real_eval.load(args.data_dir))["TUNE"]
    encoder = RememberingEncoder(load_encoder(args.embedding_model))
    asked = gather(tune, encoder)
    calibration, no_kr, serves, rows = choose(asked)
    print(f"TUNE: {', '.join(o.name for o in tune)}; {len(asked)} requests asked")
    print(f"{'floor':>5} {'full':>5} {'work':>5} {'no KR':>6}  {'cold h@1 h@3':>12}  {'warm h@1 h@3':>12}  {'none':>5} {'none,warm':>9}  mean")
    for value, c, cut, f in sorted(rows, key=lambda row: -row[0])[:15]:
        print(f"{c.floor:5.2f} {c.full:5.2f} {c.work_weight:5.2f} {cut:6.2f}  {f['cold'][0]:6.3f}{f['cold'][1]:6.3f}"
              f"  {f['warm'][0]:6.3f}{f['warm'][1]:6.3f}  {f['none'][2]:5.3f} {f['none, warm'][2]:9.3f}  {value:.3f}")
    print(f"\nChosen: floor {calibration.floor}, full {calibration.full}, work weight {calibration.work_weight}, "
          f"\"no KR\" cut-off {no_kr}, \"Serves\" cut-off {serves}")
    tune_answers, _ = answers(asked, calibration)
    print("\"Serves\": first KR right among answers said \"Serves\":")
    for cut_off in ranking_tune.GRID:
        if cut_off >= no_kr:
            count, precision = ranking_tune.serves_precision(tune_answers, no_kr, cut_off)
            print(f"  {cut_off:4.2f}  {count:4} said  {precision:5.3f} right{'  <- Serves' if cut_off == serves else ''}")


if __name__ == "__main__":
    main()
