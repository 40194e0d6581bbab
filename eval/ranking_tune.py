"""Choose the "does this serve a KR?" cut-offs on the TUNE organisations of eval/realokrs only.

    python -m eval.ranking_tune [eval/realokrs]

Never reads a REPORT organisation. For every TUNE organisation-period it asks the matcher
(no cut-off) the same requests as eval/real_eval.py: its work items with no work linked
(cold), the unlinked half with the other half linked (warm), and the other TUNE
organisations' items as off-topic requests, asked of the cold workspace and, because linked
work also makes off-topic requests look closer, of the warm one. eval/serves' tune half is
the second guard. Prints, and picks by these rules:
  "no KR" (matching.NO_MATCH_THRESHOLD): the lowest cut-off at which off-topic requests are
      answered "no KR" >= NONE_TARGET (the issue's target) in cold and in warm workspaces and
      eval/serves' tune half answers its off-topic ones "no KR" >= SERVES_SET_NONE;
  "Serves" (serves_tiers.SERVES_THRESHOLD): the lowest cut-off at which the first KR of a
      "Serves" answer is right for >= SERVES_PRECISION of them, every request above counted.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from eval import real_eval, serves_eval
from okrbot.domain.matching import Match, Matcher
from okrbot.domain.serves_tiers import SERVES_PRECISION, Tier, tier_of

NONE_TARGET = 0.85
SERVES_SET_NONE = 0.95
GRID = tuple(i / 100 for i in range(10, 96))

Answer = tuple[str, frozenset[str] | None, list[Match]]  # mode, KRs filed under (None: off-topic), top 3


def tune_answers(tune: Sequence[real_eval.OrgPeriod]) -> list[Answer]:
    answers: list[Answer] = []
    for org in tune:
        linked, asked = real_eval.warm_split(org)
        off_topic = [(i.text, None) for i in real_eval.other_org(org, tune)]
        for mode, links, questions in (
            ("cold", {}, [(i.text, i.krs) for i in org.items]),
            ("warm", linked, [(i.text, i.krs) for i in asked]),
            ("none", {}, off_topic),
            ("none, warm", linked, off_topic),
        ):
            matcher = Matcher(real_eval.evidence(org, links), threshold=0.0)
            answers.extend((mode, expected, matcher.match(text, 3)) for text, expected in questions)
    return answers


def serves_set_answers() -> list[Answer]:
    krs, requests = serves_eval.load(serves_eval.DEFAULT_DATA_DIR)
    matcher = Matcher(krs, threshold=0.0)
    return [("eval/serves", frozenset(r.expected) or None, matcher.match(r.text, 3))
            for r in requests if r.split == "tune"]


def named(matches: list[Match], cut_off: float) -> list[Match]:
    """What the matcher names at this cut-off (matching.Matcher.match)."""
    return [m for m in matches if m.score >= cut_off]


def figures(answers: Sequence[Answer], cut_off: float) -> dict[str, tuple[float, float, float]]:
    """Per mode: hit@1, hit@3 (requests that serve a KR), share answered "no KR" (off-topic)."""
    tallies: dict[str, list[int]] = {}
    for mode, expected, matches in answers:
        kept = named(matches, cut_off)
        t = tallies.setdefault(mode, [0, 0, 0, 0, 0])
        if expected is None:
            t[3] += 1
            t[4] += not kept
        else:
            t[0] += 1
            t[1] += bool(kept) and kept[0].kr_id in expected
            t[2] += any(m.kr_id in expected for m in kept)
    return {mode: (t[1] / max(1, t[0]), t[2] / max(1, t[0]), t[4] / max(1, t[3])) for mode, t in tallies.items()}


def serves_precision(answers: Sequence[Answer], no_kr: float, serves: float) -> tuple[int, float]:
    said = [(expected, kept) for _, expected, matches in answers
            if (kept := named(matches, no_kr)) and tier_of([m.score for m in kept], serves_threshold=serves) is Tier.SERVES]
    right = sum(expected is not None and kept[0].kr_id in expected for expected, kept in said)
    return len(said), right / len(said) if said else 0.0


def no_kr_ok(answers: Sequence[Answer], guard: Sequence[Answer], cut_off: float) -> bool:
    f, g = figures(answers, cut_off), figures(guard, cut_off)
    return (f["none"][2] >= NONE_TARGET and f["none, warm"][2] >= NONE_TARGET
            and g["eval/serves"][2] >= SERVES_SET_NONE)


def choose(answers: Sequence[Answer], guard: Sequence[Answer]) -> tuple[float | None, float | None]:
    """The "no KR" and "Serves" cut-offs by the rules above (None: no cut-off meets them)."""
    no_kr = next((c for c in GRID if no_kr_ok(answers, guard, c)), None)
    if no_kr is None:
        return None, None
    serves = next((c for c in GRID if c >= no_kr
                   and (said := serves_precision(answers, no_kr, c))[0] and said[1] >= SERVES_PRECISION), None)
    return no_kr, serves


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", nargs="?", default=real_eval.DEFAULT_DATA_DIR)
    args = parser.parse_args()
    tune = real_eval.split(real_eval.load(args.data_dir))["TUNE"]
    answers, guard = tune_answers(tune), serves_set_answers()
    no_kr, serves = choose(answers, guard)
    print(f"TUNE: {', '.join(o.name for o in tune)}")
    print(f"{'cut-off':>7}  {'cold h@1 h@3':>12}  {'warm h@1 h@3':>12}  {'none':>5}  {'none,warm':>9}  {'eval/serves none':>16}")
    for cut_off in GRID:
        f, g = figures(answers, cut_off), figures(guard, cut_off)
        print(f"{cut_off:7.2f}  {f['cold'][0]:6.3f}{f['cold'][1]:6.3f}  {f['warm'][0]:6.3f}{f['warm'][1]:6.3f}"
              f"  {f['none'][2]:5.3f}  {f['none, warm'][2]:9.3f}  {g['eval/serves'][2]:16.3f}{'  <- no KR' if cut_off == no_kr else ''}")
    print(f"\n\"no KR\" cut-off by the rule: {no_kr}")
    if no_kr is None:
        return
    print(f"\"Serves\": first KR right among answers said \"Serves\" (no KR cut-off {no_kr:.2f}):")
    for cut_off in GRID:
        if cut_off >= no_kr:
            count, precision = serves_precision(answers, no_kr, cut_off)
            print(f"  {cut_off:4.2f}  {count:4} said  {precision:5.3f} right{'  <- Serves' if cut_off == serves else ''}")
    print(f"\"Serves\" cut-off by the rule (precision >= {SERVES_PRECISION}): {serves}")


if __name__ == "__main__":
    main()
