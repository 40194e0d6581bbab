"""Evaluate "does this serve a KR?" on the labelled set in eval/serves.

    python -m eval.serves_eval [eval/serves] [--scale 5000]

Prints hit@1, hit@3, the share of off-topic requests answered "no KR" and
latency, for the matcher and the plain BM25 baseline, on the whole set and on
its two halves: "tune" (the half the constants and thresholds were chosen on)
and "holdout" (never used for choosing anything). With --scale it also builds
an index of N synthetic KRs and reports build time and query latency.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from okrbot.domain.analyzer import is_informative, stem, words
from okrbot.domain.matching import Bm25Matcher, KrEvidence, Match, Matcher
from okrbot.domain.serves_tiers import SERVES_PRECISION, SERVES_THRESHOLD, Tier, tier_of

DEFAULT_DATA_DIR = Path("eval/serves")
SPLITS = ("all", "tune", "holdout")
THRESHOLD_GRID = tuple(i / 100 for i in range(100))

MatcherFactory = Callable[..., Matcher | Bm25Matcher]
MATCHERS: dict[str, MatcherFactory] = {"Matcher": Matcher, "Bm25Matcher": Bm25Matcher}


@dataclass(frozen=True)
class Request:
    text: str
    expected: tuple[str, ...]  # KR ids that serve it; () for "no KR"

    @property
    def split(self) -> str:
        # A fixed hash, so the halves never move between runs or machines.
        return "tune" if zlib.crc32(self.text.encode()) % 2 == 0 else "holdout"


@dataclass(frozen=True)
class Figures:
    requests: int
    serving: int
    off_topic: int
    hit_at_1: float
    hit_at_3: float
    no_kr_share: float  # off-topic requests answered "no KR"
    p50_ms: float
    p95_ms: float


def load(data_dir: Path | str) -> tuple[list[KrEvidence], list[Request]]:
    data_dir = Path(data_dir)
    krs = [
        KrEvidence(k["id"], k["title"], k["objective"], tuple(k.get("initiatives", ())))
        for k in json.loads((data_dir / "krs.json").read_text(encoding="utf-8"))
    ]
    requests = []
    for line in (data_dir / "requests.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            requests.append(Request(row["text"], tuple(row["expected"])))
    return krs, requests


def _answers(
    matcher: Matcher | Bm25Matcher, requests: Sequence[Request]
) -> list[tuple[list[Match], float]]:
    """Each request's top 3 and its wall-clock latency in ms."""
    return [(matches, wall) for matches, wall, _ in _timed_answers(matcher, requests)]


def _timed_answers(
    matcher: Matcher | Bm25Matcher, requests: Sequence[Request]
) -> list[tuple[list[Match], float, float]]:
    """Top 3, wall-clock ms and CPU ms per request (CPU time is steadier on a busy machine)."""
    if requests:
        matcher.match(requests[0].text)  # warm caches once, as a running bot would be
    gc.collect()
    answered = []
    for request in requests:
        wall, cpu = time.perf_counter(), time.process_time()
        matches = matcher.match(request.text, limit=3)
        answered.append(
            (
                matches,
                (time.perf_counter() - wall) * 1000.0,
                (time.process_time() - cpu) * 1000.0,
            )
        )
    return answered


def _figures(
    requests: Sequence[Request], answers: Sequence[tuple[list[Match], float]], threshold: float
) -> Figures:
    hit1 = hit3 = serving = no_kr = off_topic = 0
    for request, (matches, _) in zip(requests, answers):
        kept = [m for m in matches if m.score >= threshold]
        if request.expected:
            serving += 1
            hit1 += bool(kept) and kept[0].kr_id in request.expected
            hit3 += any(m.kr_id in request.expected for m in kept)
        else:
            off_topic += 1
            no_kr += not kept
    latencies = sorted(ms for _, ms in answers) or [0.0]
    return Figures(
        requests=len(requests),
        serving=serving,
        off_topic=off_topic,
        hit_at_1=hit1 / serving if serving else 0.0,
        hit_at_3=hit3 / serving if serving else 0.0,
        no_kr_share=no_kr / off_topic if off_topic else 0.0,
        p50_ms=_percentile(latencies, 50),
        p95_ms=_percentile(latencies, 95),
    )


def _percentile(sorted_values: Sequence[float], percent: float) -> float:
    index = min(len(sorted_values) - 1, round(percent / 100 * (len(sorted_values) - 1)))
    return sorted_values[index]


def tune_threshold(
    requests: Sequence[Request], answers: Sequence[tuple[list[Match], float]]
) -> float:
    """The middle of the widest run of thresholds maximising hit@1 + "no KR" share.

    Both kinds of error count alike; the middle of the best run keeps the most
    margin against requests that score a little higher or lower than these.
    """
    gains = []
    for threshold in THRESHOLD_GRID:
        figures = _figures(requests, answers, threshold)
        gains.append(round(figures.hit_at_1 + figures.no_kr_share, 9))
    best = max(gains)
    runs: list[list[float]] = []
    for threshold, gain in zip(THRESHOLD_GRID, gains):
        if gain != best:
            continue
        if runs and round(threshold - runs[-1][-1], 9) <= 0.01:
            runs[-1].append(threshold)
        else:
            runs.append([threshold])
    widest = max(runs, key=len)
    return widest[len(widest) // 2]


def tune_serves_threshold(
    requests: Sequence[Request], answers: Sequence[tuple[list[Match], float]], no_kr: float
) -> float:
    """The lowest cut-off (so the most confident answers) at which the KR a "Serves"
    answer names is right for at least SERVES_PRECISION of the requests it names one for."""
    for threshold in THRESHOLD_GRID:
        if threshold < no_kr:
            continue
        named = [
            (r, m[0])
            for r, (m, _) in zip(requests, answers)
            if tier_of([x.score for x in m if x.score >= no_kr], serves_threshold=threshold) is Tier.SERVES
        ]
        right = sum(best.kr_id in request.expected for request, best in named)
        if named and right / len(named) >= SERVES_PRECISION:
            return threshold
    return 1.0


def tier_shares(
    requests: Sequence[Request], answers: Sequence[tuple[list[Match], float]], no_kr: float, serves: float
) -> dict[str, dict[str, float]]:
    """How serving and off-topic requests were answered, by tier; "right" means the
    confident KR (serves) or one of the KRs named (might) is an expected one."""
    counts = {kind: {"serves_right": 0, "serves_wrong": 0, "might_right": 0, "might_wrong": 0, "none": 0}
              for kind in ("serving", "off_topic")}
    for request, (matches, _) in zip(requests, answers):
        kept = [m for m in matches if m.score >= no_kr]
        tier = tier_of([m.score for m in kept], serves_threshold=serves)
        kind = "serving" if request.expected else "off_topic"
        if tier is Tier.NONE:
            counts[kind]["none"] += 1
            continue
        named = kept[:1] if tier is Tier.SERVES else kept
        right = any(m.kr_id in request.expected for m in named)
        counts[kind][f"{tier.value}_{'right' if right else 'wrong'}"] += 1
    return {
        kind: {key: round(value / max(1, sum(c.values())), 3) for key, value in c.items()}
        for kind, c in counts.items()
    }


def _no_step(label: str = "") -> None:
    return None


def evaluate(data_dir: Path | str = DEFAULT_DATA_DIR, *, on_step: Callable[[str], None] = _no_step) -> dict:
    """Figures for every matcher and split, plus the thresholds in use and re-tuned;
    `on_step(name)` after each matcher (a progress bar's steps)."""
    krs, requests = load(data_dir)
    report: dict = {
        "krs": len(krs),
        "objectives": len({kr.objective for kr in krs}),
        "requests": len(requests),
        "serving": sum(1 for r in requests if r.expected),
        "off_topic": sum(1 for r in requests if not r.expected),
        "matchers": {},
    }
    for name, factory in MATCHERS.items():
        in_use = factory(krs).threshold
        answers = _answers(factory(krs, threshold=0.0), requests)
        tune = [i for i, r in enumerate(requests) if r.split == "tune"]
        tuned = tune_threshold([requests[i] for i in tune], [answers[i] for i in tune])
        entry = {"threshold": in_use, "tuned_threshold": tuned, "splits": {}}
        for split in SPLITS:
            chosen = [i for i, r in enumerate(requests) if split == "all" or r.split == split]
            entry["splits"][split] = asdict(
                _figures([requests[i] for i in chosen], [answers[i] for i in chosen], in_use)
            )
        timed = _timed_answers(factory(krs), requests)
        entry["splits"]["all"].update(
            p50_ms=_percentile(sorted(ms for _, ms, _ in timed), 50),
            p95_ms=_percentile(sorted(ms for _, ms, _ in timed), 95),
            cpu_p95_ms=_percentile(sorted(ms for _, _, ms in timed), 95),
        )
        no_overlap = [
            i for i, r in enumerate(requests) if r.expected and not _shares_title_word(r, krs)
        ]
        entry["no_title_word"] = asdict(
            _figures([requests[i] for i in no_overlap], [answers[i] for i in no_overlap], in_use)
        )
        if name == "Matcher":
            entry["serves_threshold"] = SERVES_THRESHOLD
            entry["tuned_serves_threshold"] = tune_serves_threshold(
                [requests[i] for i in tune], [answers[i] for i in tune], in_use
            )
            holdout = [i for i, r in enumerate(requests) if r.split == "holdout"]
            entry["tiers"] = {
                split: tier_shares([requests[i] for i in chosen], [answers[i] for i in chosen], in_use, SERVES_THRESHOLD)
                for split, chosen in (("tune", tune), ("holdout", holdout))
            }
        report["matchers"][name] = entry
        on_step(name)
    report["warm"] = warm_report(krs, requests)
    return report


def warm_split(
    krs: Sequence[KrEvidence], requests: Sequence[Request]
) -> tuple[list[KrEvidence], list[Request], list[Request]]:
    """A workspace that has linked half of each KR's work: per KR, the half of its serving
    requests with the lower stable hash become linked initiatives (as a Link click would
    make them); the others are asked, against the KRs cold and warm. A request serving
    several KRs is linked if any KR links it, and then not asked."""
    linked: dict[str, list[str]] = {}
    taught: set[str] = set()
    for kr in krs:
        own = sorted((r for r in requests if kr.kr_id in r.expected), key=lambda r: zlib.crc32(r.text.encode()))
        for request in own[: len(own) // 2]:
            linked.setdefault(kr.kr_id, []).append(request.text)
            taught.add(request.text)
    warm = [
        KrEvidence(kr.kr_id, kr.title, kr.objective, kr.initiatives + tuple(linked.get(kr.kr_id, ())), kr.rejected)
        for kr in krs
    ]
    asked = [r for r in requests if r.expected and r.text not in taught]
    return warm, asked, [r for r in requests if not r.expected]


def warm_report(krs: Sequence[KrEvidence], requests: Sequence[Request]) -> dict:
    """hit@1, hit@3 and the "no KR" share of off-topic requests, cold and warm, per matcher."""
    warm, asked, off_topic = warm_split(krs, requests)
    chosen = [*asked, *off_topic]
    report: dict = {"asked": len(asked), "linked": sum(1 for r in requests if r.expected) - len(asked), "matchers": {}}
    for name, factory in MATCHERS.items():
        states = {}
        for state, evidence in (("cold", krs), ("warm", warm)):
            matcher = factory(evidence)
            states[state] = asdict(_figures(chosen, _answers(matcher, chosen), matcher.threshold))
        report["matchers"][name] = states
    return report


def _shares_title_word(request: Request, krs: Sequence[KrEvidence]) -> bool:
    """Whether the request shares an informative word stem with an expected KR's title."""
    titles = " ".join(kr.title for kr in krs if kr.kr_id in request.expected)
    return bool(_informative_stems(request.text) & _informative_stems(titles))


def _informative_stems(text: str) -> set[str]:
    return {stem(w) for w in words(text) if is_informative(w)}


def scale_report(data_dir: Path | str, size: int, *, seed: int = 7) -> dict:
    """Build time and query latency with `size` KRs: the eval KRs plus synthetic ones."""
    krs, requests = load(data_dir)
    corpus = synthetic_krs(krs, size, seed=seed)
    report: dict = {"krs": len(corpus), "queries": len(requests), "matchers": {}}
    for name, factory in MATCHERS.items():
        gc.collect()
        wall, cpu = time.perf_counter(), time.process_time()
        matcher = factory(corpus)
        build_s, build_cpu_s = time.perf_counter() - wall, time.process_time() - cpu
        timed = _timed_answers(matcher, requests)
        walls = sorted(ms for _, ms, _ in timed)
        cpus = sorted(ms for _, _, ms in timed)
        report["matchers"][name] = {
            "build_s": build_s,
            "build_cpu_s": build_cpu_s,
            "p50_ms": _percentile(walls, 50),
            "p95_ms": _percentile(walls, 95),
            "max_ms": walls[-1],
            "cpu_p50_ms": _percentile(cpus, 50),
            "cpu_p95_ms": _percentile(cpus, 95),
        }
    return report


# Vocabulary for synthetic KRs: metrics by function, where they apply, and
# the kind of linked work teams write. Varied enough that idf behaves as in a
# big company's OKR set.
_METRICS = {
    "finance": ["gross margin", "days sales outstanding", "invoice processing time",
                "forecast accuracy", "budget variance", "month-end close time"],
    "people": ["employee engagement score", "regretted attrition", "training completion",
               "internal mobility rate", "manager effectiveness score", "referral hires"],
    "engineering": ["code review turnaround", "unit test coverage", "build success rate",
                    "mean time to detect", "error budget burn", "escaped defects",
                    "lead time for changes", "open bug count", "tech debt backlog"],
    "product": ["feature adoption", "weekly active teams", "search success rate",
                "dashboard adoption", "report exports", "task completion rate",
                "time on task", "retention of power users"],
    "operations": ["on-time delivery", "warehouse pick accuracy", "inventory turns",
                   "order fulfilment time", "shipping cost per order", "return rate"],
    "marketing": ["marketing qualified leads", "webinar attendance", "email open rate",
                  "cost per acquisition", "brand awareness", "share of voice",
                  "event-sourced pipeline", "content downloads"],
    "partnerships": ["partner-sourced revenue", "certified partners",
                     "marketplace listings", "co-sell opportunities"],
    "data": ["data freshness", "pipeline job failures", "query cost", "data quality incidents",
             "self-serve analytics users"],
    "sales": ["average deal size", "renewal rate", "pipeline coverage", "quota attainment",
              "meetings booked", "discount rate"],
    "support": ["first contact resolution", "ticket backlog age", "tickets per customer",
                "reopened tickets", "chat wait time"],
    "design": ["design system adoption", "usability score", "accessibility issues",
               "design review turnaround"],
    "security": ["security training completion", "phishing click rate", "patch compliance",
                 "privileged accounts", "open pen-test findings"],
    "infrastructure": ["cloud spend", "p99 latency", "error rate", "deploy lead time",
                       "storage cost", "queue backlog"],
    "mobile": ["crash-free users", "app size", "app store reviews", "push opt-in rate",
               "offline sync failures"],
    "legal": ["contract turnaround", "policy acknowledgements", "open legal requests"],
    "sustainability": ["carbon footprint", "office energy use", "supplier emissions"],
}
_SCOPES = ["for enterprise accounts", "in EMEA", "in North America", "in APAC", "on iOS",
           "on Android", "for the self-serve plan", "in the Payments product",
           "for the data platform", "for SMB customers", "for the web app", "in the mobile SDK",
           "for new markets", "across all regions", "for the API", "in the admin console",
           "for the reporting suite", "for the marketplace", "in the billing service", ""]
_VERBS = ["Raise", "Lift", "Increase", "Reduce", "Cut", "Lower", "Improve", "Grow", "Double",
          "Halve"]
_OBJECTIVES = ["Delight our largest customers", "Run a lean, predictable business",
               "Build the best place to work", "Make quality everyone's job",
               "Win the mid-market", "Earn trust with every release",
               "Make data a habit", "Scale operations without scaling headcount",
               "Grow through partners", "Be the easiest product to adopt",
               "Protect the company", "Ship faster with confidence",
               "Reach net zero sooner", "Turn support into a growth engine"]
_INITIATIVES = ["Migrate {thing} to the new platform", "Launch {thing} beta",
                "Run customer interviews about {thing}", "Automate {thing}",
                "Redesign {thing}", "Write a playbook for {thing}", "Instrument {thing}",
                "Hire a lead for {thing}", "Pilot {thing} with three customers",
                "Retire the legacy {thing}"]
_THINGS = ["the reporting pipeline", "invoice approvals", "the partner portal",
           "quarterly planning", "the onboarding emails", "search ranking", "the design system",
           "access reviews", "the warehouse scanner app", "usage-based pricing",
           "the data catalogue", "the renewal workflow", "chat support", "the iOS widget",
           "regional pricing", "the status page", "expense reports", "carbon reporting"]


def synthetic_krs(real: Sequence[KrEvidence], size: int, *, seed: int = 7) -> list[KrEvidence]:
    """`size` KRs: the real ones first, then generated ones with varied titles and work."""
    rng = random.Random(seed)
    krs = list(real)
    number = 1000
    while len(krs) < size:
        number += 1
        function = rng.choice(sorted(_METRICS))
        metric = rng.choice(_METRICS[function])
        scope = rng.choice(_SCOPES)
        low = rng.randint(5, 70)
        shape = rng.random()
        if shape < 0.5:
            high = low + rng.randint(5, 25)
            title = f"{rng.choice(_VERBS)} {metric} {scope} from {low}% to {high}%"
        elif shape < 0.8:
            title = f"{rng.choice(_VERBS)} {metric} {scope} by {rng.randint(10, 50)}%"
        else:
            title = f"Keep {metric} {scope} under {rng.randint(2, 500)}"
        objective = f"{function.title()}: {rng.choice(_OBJECTIVES)}"
        initiatives = tuple(
            rng.choice(_INITIATIVES).format(thing=rng.choice(_THINGS))
            for _ in range(rng.choice((0, 0, 1, 1, 2, 3)))
        )
        krs.append(KrEvidence(f"KR-{number}", " ".join(title.split()), objective, initiatives))
    return krs


def _table(report: dict) -> str:
    lines = [
        f"eval/serves: {report['krs']} KRs in {report['objectives']} objectives; "
        f"{report['requests']} requests ({report['serving']} serve a KR, "
        f"{report['off_topic']} serve none)",
        "",
        f"{'matcher':<12} {'split':<8} {'n':>4} {'hit@1':>6} {'hit@3':>6} "
        f"{'none->no KR':>12} {'p50 ms':>7} {'p95 ms':>7} {'cpu p95':>8}",
    ]
    for name, entry in report["matchers"].items():
        for split in SPLITS:
            f = entry["splits"][split]
            latency = (
                f"{f['p50_ms']:>7.2f} {f['p95_ms']:>7.2f} {f['cpu_p95_ms']:>8.2f}"
                if split == "all"
                else ""
            )
            lines.append(
                f"{name:<12} {split:<8} {f['requests']:>4} {f['hit_at_1']:>6.3f} "
                f"{f['hit_at_3']:>6.3f} {f['no_kr_share']:>12.3f} {latency}"
            )
    lines.append("")
    for name, entry in report["matchers"].items():
        f = entry["no_title_word"]
        lines.append(
            f"{name}: requests sharing no word with their KR's title: {f['serving']}, "
            f"hit@1 {f['hit_at_1']:.3f}, hit@3 {f['hit_at_3']:.3f}"
        )
    for name, entry in report["matchers"].items():
        lines.append(
            f"{name}: threshold in use {entry['threshold']:.2f}; re-tuned on the tune half "
            f"(middle of the best run of hit@1 + none share): {entry['tuned_threshold']:.2f}"
        )
    warm = report["warm"]
    lines.append("")
    lines.append(
        f"warm: half of each KR's serving requests linked as its work ({warm['linked']}), "
        f"the other {warm['asked']} asked, with the off-topic ones"
    )
    for name, states in warm["matchers"].items():
        for state in ("cold", "warm"):
            f = states[state]
            lines.append(
                f"{name:<12} {state:<5} hit@1 {f['hit_at_1']:.3f}  hit@3 {f['hit_at_3']:.3f}  "
                f"none->no KR {f['no_kr_share']:.3f}"
            )
    entry = report["matchers"]["Matcher"]
    lines.append(
        f"Matcher: \"serves\" (confident) cut-off in use {entry['serves_threshold']:.2f}; re-tuned on the "
        f"tune half (lowest with >= {SERVES_PRECISION:.0%} right): {entry['tuned_serves_threshold']:.2f}"
    )
    lines.append("")
    lines.append(f"{'tiers':<20} {'serves ok':>9} {'serves bad':>10} {'might ok':>9} {'might bad':>9} {'no KR':>6}")
    for split, shares in entry["tiers"].items():
        for kind, f in shares.items():
            lines.append(
                f"{split + ', ' + kind:<20} {f['serves_right']:>9.3f} {f['serves_wrong']:>10.3f} "
                f"{f['might_right']:>9.3f} {f['might_wrong']:>9.3f} {f['none']:>6.3f}"
            )
    return "\n".join(lines)


def _scale_table(report: dict) -> str:
    lines = [f"scale: {report['krs']} KRs, {report['queries']} queries each"]
    for name, m in report["matchers"].items():
        lines.append(
            f"{name:<12} build {m['build_s']:.2f} s (cpu {m['build_cpu_s']:.2f} s)   "
            f"query p50 {m['p50_ms']:.2f} ms  p95 {m['p95_ms']:.2f} ms  max {m['max_ms']:.2f} ms   "
            f"(cpu p50 {m['cpu_p50_ms']:.2f} ms  p95 {m['cpu_p95_ms']:.2f} ms)"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None, *, on_step: Callable[[str], None] = _no_step) -> int:
    parser = argparse.ArgumentParser(prog="eval.serves_eval", description=__doc__.split("\n")[0])
    parser.add_argument("data_dir", nargs="?", default=str(DEFAULT_DATA_DIR))
    parser.add_argument("--scale", type=int, metavar="N", help="also time an index of N KRs")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    report = evaluate(args.data_dir, on_step=on_step)
    if args.scale:
        report["scale"] = scale_report(args.data_dir, args.scale)
        on_step(f"{args.scale} KRs")
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(_table(report))
        if args.scale:
            print()
            print(_scale_table(report["scale"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
