"""Evaluate "does this serve a KR?" on real OKRs (eval/realokrs): work items that the
organisations themselves filed under their KRs, asked of okrbot's real service.

    python -m eval.real_eval [eval/realokrs] [--sweep] [--embedding-model DIR]

For every organisation and period it builds a workspace in a SQLite database (the
migrations, then rows) and asks `services.serves.serves`, as /okr serves does:
  cold  no work linked; every work item asked;
  warm  half of each KR's items linked (a fixed hash picks them), the other half asked;
  none  the work items of another organisation asked: the share answered "No KR fits".
A hit@k counts when a KR the item was filed under is among the first k KRs the answer
names (tiers "Serves" and "Might serve"). Beside it: plain BM25 over KR + objective
titles (warm: plus the linked items), ranked without any cut-off, and the service's
matcher ranked without its "no KR" cut-off.

Organisations are split once, here: TUNE (cut-offs may be chosen on them) and REPORT
(the headline; never used for choosing anything). --sweep prints, on TUNE only, the
figures the service would reach at other "no KR" cut-offs.

With --embedding-model DIR (a sentence-transformers model folder, e.g. all-MiniLM-L6-v2)
the service is also asked with that model (OKRBOT_EMBEDDING_MODEL; domain/semantic_matching.py),
beside the figures without it: "service, embedding" and its matcher without a cut-off.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import zlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from okrbot.domain import matching, serves_tiers
from okrbot.domain import semantic_matching
from okrbot.domain.matching import Bm25Matcher, KrEvidence, Match, Matcher
from okrbot.domain.semantic_matching import SemanticMatcher
from okrbot.domain.sentence_encoder import SentenceEncoder, load_encoder
from okrbot.domain.serves_tiers import Tier
from okrbot.services import serves
from okrbot.services.context import Actor
from okrbot.store.db import Database
from okrbot.store.migrate import upgrade_to_head
from okrbot.store.models import Initiative, KeyResult, KrLink, Objective
from okrbot.store.workspaces import ensure_workspace

DEFAULT_DATA_DIR = Path("eval/realokrs")
# Fixed once. Cut-offs and weights may be chosen on TUNE only; REPORT is the headline.
# Organisations (publishers): Protocol Labs/IPFS (ipfs-* and js-ipfs), Tekton, Kubeflow, napari, Rust.
TUNE = ("ipfs-web-browsers", "ipfs-package-managers", "tekton", "kubeflow")
REPORT = ("js-ipfs", "napari", "rust-project-goals")
DEFAULT_RESULT = Path("bench/results/real_eval.json")
EMBEDDING_RESULT = Path("bench/results/real_eval_embedding.json")
NOW = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)  # every organisation's period is asked as this quarter
PERIOD = "2026-Q4"
MODES = ("cold", "warm", "none")


@dataclass(frozen=True)
class Item:
    text: str
    url: str | None
    krs: frozenset[str]  # the KRs its authors filed it under


@dataclass(frozen=True)
class Kr:
    id: str
    title: str
    objective: str


@dataclass(frozen=True)
class OrgPeriod:
    org: str
    period: str
    krs: tuple[Kr, ...]
    items: tuple[Item, ...]

    @property
    def name(self) -> str:
        return f"{self.org} {self.period}"


def load(data_dir: Path | str = DEFAULT_DATA_DIR) -> list[OrgPeriod]:
    """Every organisation's periods; an item filed under two KRs is one item with both."""
    found = []
    for path in sorted(Path(data_dir).glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        for period in doc["periods"]:
            krs = tuple(Kr(k["id"], k["title"], k["objective"]) for k in period["krs"])
            filed: dict[str, tuple[str | None, set[str]]] = {}
            for k in period["krs"]:
                for item in k["items"]:
                    url, under = filed.setdefault(item["text"], (item.get("url"), set()))
                    under.add(k["id"])
            items = tuple(Item(text, url, frozenset(under)) for text, (url, under) in filed.items())
            found.append(OrgPeriod(doc["org"], period["period"], krs, items))
    return found


def split(orgs: Sequence[OrgPeriod]) -> dict[str, list[OrgPeriod]]:
    """TUNE and REPORT; an organisation in neither is a mistake, not a silent third set."""
    unknown = {o.org for o in orgs} - set(TUNE) - set(REPORT)
    if unknown:
        raise ValueError(f"organisations in neither TUNE nor REPORT: {sorted(unknown)}")
    return {"TUNE": [o for o in orgs if o.org in TUNE], "REPORT": [o for o in orgs if o.org in REPORT]}


def warm_split(org: OrgPeriod) -> tuple[dict[str, list[Item]], list[Item]]:
    """Half of each KR's items (the lower half by a fixed hash, rounded down) linked to it;
    the items linked nowhere are asked."""
    linked: dict[str, list[Item]] = {}
    for kr in org.krs:
        under = sorted((i for i in org.items if kr.id in i.krs), key=lambda i: zlib.crc32(i.text.encode()))
        linked[kr.id] = under[: len(under) // 2]
    known = {item for items in linked.values() for item in items}
    return linked, [item for item in org.items if item not in known]


def other_org(org: OrgPeriod, orgs: Sequence[OrgPeriod]) -> list[Item]:
    """Off-topic requests: every item of every other organisation. A TUNE organisation is asked
    only other TUNE organisations' items, so no REPORT text is ever used in choosing anything."""
    pool = [o for o in orgs if o.org in TUNE] if org.org in TUNE else orgs
    return [item for other in pool if other.org != org.org for item in other.items]


# --- asking the service ---------------------------------------------------------------------


class Workspaces:
    """One SQLite database, one workspace per (organisation, period, mode)."""

    def __init__(self, directory: Path) -> None:
        url = f"sqlite:///{directory / 'realokrs.db'}"
        upgrade_to_head(url)
        self.db = Database(url)
        self._teams = 0

    def add(self, org: OrgPeriod, linked: dict[str, list[Item]]) -> Actor:
        self._teams += 1
        team = f"TREAL{self._teams}"
        now = NOW
        with self.db.session_scope() as session:
            ensure_workspace(session, team)
            objectives: dict[str, Objective] = {}
            for kr in org.krs:
                if kr.objective not in objectives:
                    objectives[kr.objective] = Objective(
                        team_id=team, number=len(objectives) + 1, title=kr.objective[:300], owner="U1",
                        period=PERIOD, created_at=now, updated_at=now)
            session.add_all(objectives.values())
            session.flush()
            rows = {}
            for kr in org.krs:
                rows[kr.id] = KeyResult(
                    team_id=team, number=int(kr.id.split("-")[1]), objective_id=objectives[kr.objective].id,
                    title=kr.title[:300], owner="U1", metric="milestone", direction="increase",
                    created_at=now, updated_at=now)
            session.add_all(rows.values())
            session.flush()
            number = 0
            for kr_id, items in linked.items():
                for item in items:
                    number += 1
                    initiative = Initiative(team_id=team, number=number, title=item.text[:300], url=item.url,
                                            owner="U1", created_at=now, updated_at=now)
                    session.add(initiative)
                    session.flush()
                    session.add(KrLink(team_id=team, initiative_id=initiative.id, kr_id=rows[kr_id].id, created_at=now))
        return Actor(team_id=team, user_id="U1", channel_id="C1", now=NOW)

    def ask(self, actor: Actor, text: str, encoder=None) -> tuple[list[str], Tier, list[float]]:
        with self.db.session_scope() as session:
            answer = serves.serves(session, actor, text, encoder=encoder)
        return [f"KR-{fit.kr_number}" for fit in answer.fits], answer.tier, [fit.score for fit in answer.fits]


# --- figures ----------------------------------------------------------------------------------


@dataclass
class Tally:
    asked: int = 0
    hit1: int = 0
    hit3: int = 0
    no_kr: int = 0

    def add(self, named: Sequence[str], expected: frozenset[str] | None) -> None:
        self.asked += 1
        if expected is None:
            self.no_kr += not named
        else:
            self.hit1 += bool(named) and named[0] in expected
            self.hit3 += any(kr in expected for kr in named[:3])

    def __iadd__(self, other: Tally) -> Tally:
        self.asked += other.asked
        self.hit1 += other.hit1
        self.hit3 += other.hit3
        self.no_kr += other.no_kr
        return self

    def show(self, mode: str) -> str:
        if not self.asked:
            return "-"
        if mode == "none":
            return f"{self.no_kr / self.asked:6.2f}"
        return f"{self.hit1 / self.asked:6.2f} {self.hit3 / self.asked:6.2f}"


def evidence(org: OrgPeriod, linked: dict[str, list[Item]]) -> list[KrEvidence]:
    """What the service reads for each KR: titles, and linked work's title and URL."""
    return [
        KrEvidence(kr.id, kr.title, kr.objective,
                   tuple(t for i in linked.get(kr.id, []) for t in (i.text, i.url) if t))
        for kr in org.krs
    ]


def _named(matches: Iterable[Match]) -> list[str]:
    return [m.kr_id for m in matches]


def _tier_outcome(tier: Tier, named: Sequence[str], expected: frozenset[str] | None) -> str:
    """"serves ok", "might bad", "no KR" ...: how the answer's tier fared on one request."""
    if tier is Tier.NONE:
        return "no KR" if expected is None else "no KR (missed)"
    right = expected is not None and named[0] in expected if tier is Tier.SERVES else (
        expected is not None and any(kr in expected for kr in named))
    return f"{tier.value} {'ok' if right else 'bad'}"


TIER_OUTCOMES = ("serves ok", "serves bad", "might ok", "might bad", "no KR (missed)", "no KR")


class RememberingEncoder:
    """The model, each text run through it once per evaluation (the same requests are asked
    of many workspaces); the service sees an ordinary encoder."""

    def __init__(self, encoder: SentenceEncoder) -> None:
        self.encoder = encoder
        self.name = encoder.name
        self.dimension = encoder.dimension
        self._known: dict[str, object] = {}

    def encode(self, texts):
        fresh = [t for t in dict.fromkeys(texts) if t not in self._known]
        if fresh:
            self._known.update(zip(fresh, self.encoder.encode(fresh)))
        return np.array([self._known[t] for t in texts], dtype=np.float32).reshape(len(texts), self.dimension)


def run(orgs: Sequence[OrgPeriod], directory: Path, tiers: dict[str, Counter] | None = None, *,
        encoder=None, embedding_tiers: dict[str, Counter] | None = None) -> dict[tuple[str, str, str], Tally]:
    """(system, organisation name, mode) -> tally; systems: service, matcher (no cut-off), bm25,
    and with an `encoder` the service and its matcher with the embedding model too.
    `tiers` (`embedding_tiers`), when given, gathers the service's tier outcomes per organisation."""
    spaces = Workspaces(directory)
    tallies: dict[tuple[str, str, str], Tally] = {}
    tiers = {} if tiers is None else tiers
    embedding_tiers = {} if embedding_tiers is None else embedding_tiers

    def tally(system: str, org: OrgPeriod, mode: str) -> Tally:
        return tallies.setdefault((system, org.name, mode), Tally())

    for org in orgs:
        linked, asked = warm_split(org)
        cases = {
            "cold": ({}, [(i, i.krs) for i in org.items]),
            "warm": (linked, [(i, i.krs) for i in asked]),
            "none": ({}, [(i, None) for i in other_org(org, orgs)]),
        }
        for mode, (links, questions) in cases.items():
            actor = spaces.add(org, links)
            known = evidence(org, links)
            matcher = Matcher(known, threshold=0.0)
            bm25 = Bm25Matcher(evidence(org, links) if mode == "warm" else evidence(org, {}), threshold=0.0)
            semantic = None if encoder is None else SemanticMatcher(Matcher(known), encoder, threshold=0.0)
            for item, expected in questions:
                named, tier, _ = spaces.ask(actor, item.text)
                tally("service", org, mode).add(named, expected)
                tiers.setdefault(org.org, Counter())[_tier_outcome(tier, named, expected)] += 1
                if encoder is not None:
                    named, tier, _ = spaces.ask(actor, item.text, encoder)
                    tally("service, embedding", org, mode).add(named, expected)
                    embedding_tiers.setdefault(org.org, Counter())[_tier_outcome(tier, named, expected)] += 1
                if mode != "none":
                    tally("matcher, no cut-off", org, mode).add(_named(matcher.match(item.text, 3)), expected)
                    tally("bm25, no cut-off", org, mode).add(_named(bm25.match(item.text, 3)), expected)
                    if semantic is not None:
                        tally("embedding matcher, no cut-off", org, mode).add(_named(semantic.match(item.text, 3)), expected)
    spaces.db.dispose()
    return tallies


def sweep(
    orgs: Sequence[OrgPeriod], thresholds: Sequence[float], off_topic: Sequence[OrgPeriod] | None = None
) -> list[tuple[float, Tally, Tally, Tally]]:
    """The matcher's figures at each "no KR" cut-off (cold, warm, none), for choosing it on TUNE.
    Off-topic requests come from `off_topic` (default: `orgs`)."""
    off_topic = orgs if off_topic is None else off_topic
    rows = []
    for threshold in thresholds:
        cold, warm, none = Tally(), Tally(), Tally()
        for org in orgs:
            linked, asked = warm_split(org)
            for links, questions, into in (({}, [(i, i.krs) for i in org.items], cold),
                                           (linked, [(i, i.krs) for i in asked], warm),
                                           ({}, [(i, None) for i in other_org(org, off_topic)], none)):
                matcher = Matcher(evidence(org, links), threshold=threshold)
                for item, expected in questions:
                    into.add(_named(matcher.match(item.text, 3)), expected)
        rows.append((threshold, cold, warm, none))
    return rows


SYSTEMS = ("service", "matcher, no cut-off", "bm25, no cut-off")
EMBEDDING_SYSTEMS = ("service, embedding", "embedding matcher, no cut-off")


def systems_in(tallies: dict[tuple[str, str, str], Tally]) -> list[str]:
    present = {system for system, _, _ in tallies}
    return [s for s in (*SYSTEMS, *EMBEDDING_SYSTEMS) if s in present or s in SYSTEMS]


def summary(orgs: Sequence[OrgPeriod], tallies: dict[tuple[str, str, str], Tally]
            ) -> dict[str, dict[str, dict[str, dict[str, Tally]]]]:
    """set -> row (each organisation, then ALL) -> system -> mode -> tally. An organisation's row
    adds up its periods; ALL adds up the set's organisations."""
    found: dict[str, dict[str, dict[str, dict[str, Tally]]]] = {}
    systems = systems_in(tallies)
    for set_name, members in split(orgs).items():
        rows: dict[str, dict[str, dict[str, Tally]]] = {}
        for org_name in sorted({o.org for o in members}) + ["ALL"]:
            periods = [o for o in members if org_name in ("ALL", o.org)]
            rows[org_name] = {system: {mode: Tally() for mode in MODES} for system in systems}
            for system in systems:
                for mode in MODES:
                    for org in periods:
                        rows[org_name][system][mode] += tallies.get((system, org.name, mode), Tally())
        found[set_name] = rows
    return found


def report(orgs: Sequence[OrgPeriod], tallies: dict[tuple[str, str, str], Tally]) -> str:
    lines = []
    for set_name, rows in sorted(summary(orgs, tallies).items()):  # REPORT first, TUNE second
        lines.append(f"\n{set_name} ({', '.join(org for org in rows if org != 'ALL')})")
        lines.append(f"{'':44} {'cold n':>6} {'h@1':>6} {'h@3':>6}  {'warm n':>6} {'h@1':>6} {'h@3':>6}  {'none n':>6} {'no KR':>6}")
        for system in systems_in(tallies):
            for org_name, row in rows.items():
                label = f"ALL {set_name}" if org_name == "ALL" else org_name
                lines.append(_row(f"{system}: {label}", [row[system][m] for m in MODES]))
    return "\n".join(lines)


def _row(label: str, row: Sequence[Tally]) -> str:
    cold, warm, none = row
    return (f"{label[:44]:44} {cold.asked:6} {cold.show('cold'):>13}  {warm.asked:6} {warm.show('warm'):>13}"
            f"  {none.asked:6} {none.show('none'):>6}")


def as_json(orgs: Sequence[OrgPeriod], tallies: dict[tuple[str, str, str], Tally],
            tiers: dict[str, Counter], embedding_tiers: dict[str, Counter] | None = None,
            model: str | None = None) -> dict:
    """The figures as data: per set, per organisation (and ALL), per system and mode, the counts and
    the shares (hit@1 and hit@3 for cold and warm; "no KR" for none), and the service's tiers."""
    def figures(tally: Tally, mode: str) -> dict:
        out = {"asked": tally.asked}
        if tally.asked and mode == "none":
            out["no_kr"] = round(tally.no_kr / tally.asked, 4)
        elif tally.asked:
            out |= {"hit1": round(tally.hit1 / tally.asked, 4), "hit3": round(tally.hit3 / tally.asked, 4)}
        return out

    sets = split(orgs)
    systems = systems_in(tallies)

    def tier_counts(found: dict[str, Counter], set_name: str) -> dict:
        return dict(sum((found.get(org, Counter()) for org in {o.org for o in sets[set_name]}), Counter()))

    extra = {}
    if embedding_tiers:
        extra = {"embedding_model": model, "embedding_thresholds": {
            "no_kr": semantic_matching.EMBEDDING_NO_MATCH_THRESHOLD, "serves": semantic_matching.EMBEDDING_SERVES_THRESHOLD,
            "floor": semantic_matching.SIMILARITY_FLOOR, "full": semantic_matching.SIMILARITY_FULL,
            "work_weight": semantic_matching.WORK_WEIGHT}}
    return {
        "thresholds": {"no_kr": matching.NO_MATCH_THRESHOLD, "serves": serves_tiers.SERVES_THRESHOLD},
        **extra,
        "sets": {
            set_name: {
                "organisations": {
                    org_name: {
                        "periods": [o.period for o in sets[set_name] if org_name in ("ALL", o.org)],
                        "krs": sum(len(o.krs) for o in sets[set_name] if org_name in ("ALL", o.org)),
                        "items": sum(len(o.items) for o in sets[set_name] if org_name in ("ALL", o.org)),
                        "systems": {system: {mode: figures(row[system][mode], mode) for mode in MODES
                                             if system.startswith("service") or mode != "none"}
                                    for system in systems},
                    }
                    for org_name, row in rows.items()
                },
                "service_tiers": tier_counts(tiers, set_name),
                **({"service_embedding_tiers": tier_counts(embedding_tiers, set_name)} if embedding_tiers else {}),
            }
            for set_name, rows in summary(orgs, tallies).items()
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", nargs="?", default=DEFAULT_DATA_DIR)
    parser.add_argument("--sweep", action="store_true", help="on TUNE: the matcher at other 'no KR' cut-offs")
    parser.add_argument("--json", type=Path, default=None,
                        help=f"where the figures are written as JSON (default {DEFAULT_RESULT}, or {EMBEDDING_RESULT} with a model)")
    parser.add_argument("--embedding-model", type=Path, default=None,
                        help="a sentence-transformers model folder: also ask the service with it (OKRBOT_EMBEDDING_MODEL)")
    args = parser.parse_args()
    encoder = RememberingEncoder(load_encoder(args.embedding_model)) if args.embedding_model else None
    result = args.json or (EMBEDDING_RESULT if encoder else DEFAULT_RESULT)
    orgs = load(args.data_dir)
    sets = split(orgs)
    for name, members in sets.items():
        items = sum(len(o.items) for o in members)
        krs = sum(len(o.krs) for o in members)
        print(f"{name}: {len(members)} organisation-periods, {krs} KRs, {items} work items")
    if args.sweep:
        print("\nTUNE, matcher at each 'no KR' cut-off: cold h@1 h@3 | warm h@1 h@3 | none")
        for threshold, cold, warm, none in sweep(sets["TUNE"], [t / 20 for t in range(0, 20)]):
            print(f"  {threshold:4.2f}  {cold.show('cold')} | {warm.show('warm')} | {none.show('none')}")
        return
    tiers: dict[str, Counter] = {}
    embedding_tiers: dict[str, Counter] = {}
    with tempfile.TemporaryDirectory() as directory:
        tallies = run(orgs, Path(directory), tiers, encoder=encoder, embedding_tiers=embedding_tiers)
    print(report(orgs, tallies))
    result.parent.mkdir(parents=True, exist_ok=True)
    model = str(args.embedding_model) if args.embedding_model else None
    result.write_text(json.dumps(as_json(orgs, tallies, tiers, embedding_tiers, model), indent=1) + "\n", encoding="utf-8")
    for label, found in (("service", tiers), ("service, embedding", embedding_tiers)):
        if not found:
            continue
        print(f"\nThe {label}'s tiers over every request asked (cold, warm and off-topic), share of requests:")
        print(f"{'':8} " + " ".join(f"{outcome:>14}" for outcome in TIER_OUTCOMES))
        for set_name, members in sets.items():
            total = Counter()
            for org in {o.org for o in members}:
                total.update(found.get(org, Counter()))
            asked = sum(total.values()) or 1
            print(f"{set_name:8} " + " ".join(f"{total[o] / asked:14.2f}" for o in TIER_OUTCOMES))


if __name__ == "__main__":
    main()
