"""A realistic, deterministic organisation in the interchange format (SPEC §9).

For demos, tests and benchmarks: S is 50 objectives; M is 1,000 objectives with
5,000 KRs, 20,000 initiatives and 100,000 check-ins; L is ten times M. The same
arguments always give the same document, and it is already in the form export
writes (ids in order, integral numbers as ints), without the computed `progress`.
"""

from __future__ import annotations

import random
import string
import time as _time
from dataclasses import dataclass, field
from datetime import UTC, datetime, time

from okrbot.domain.commands import Direction, Keep, Metric
from okrbot.domain.ids import initiative_id, kr_id, objective_id
from okrbot.domain.periods import parse_period
from okrbot.services.interchange import FORMAT_VERSION, plain_number


@dataclass(frozen=True)
class KrShape:
    """A kind of KR a team writes: title template, metric and the ranges its numbers come from."""

    title: str  # may use {start}, {target}, {segment}
    metric: Metric
    direction: Direction
    unit: str | None = None
    start: tuple[float, float] = (0, 0)
    target: tuple[float, float] = (0, 0)
    decimals: int = 0
    keep: Keep | None = None
    spread: float = 0.0  # maintain KRs: how far values wander from the threshold


@dataclass(frozen=True)
class Function:
    """One part of the organisation, with the words its OKRs and work are written in."""

    repo: str
    segments: tuple[str, ...]
    objectives: tuple[str, ...]
    krs: tuple[KrShape, ...]
    verbs: tuple[str, ...]
    things: tuple[str, ...]
    reasons: tuple[str, ...]


N, P, B, M = Metric.NUMERIC, Metric.PERCENTAGE, Metric.BOOLEAN, Metric.MILESTONE
UP, DOWN, HOLD = Direction.INCREASE, Direction.DECREASE, Direction.MAINTAIN
ABOVE, BELOW = Keep.ABOVE, Keep.BELOW

FUNCTIONS: dict[str, Function] = {
    "growth": Function(
        repo="acme/growth-web",
        segments=("self-serve teams", "EMEA", "North America", "APAC", "the free tier", "small businesses"),
        objectives=(
            "Make onboarding effortless for {segment}",
            "Turn more trials into paying customers",
            "Grow the self-serve funnel in {segment}",
            "Make activation a habit for {segment}",
        ),
        krs=(
            KrShape("Raise week-1 activation for {segment} from {start}% to {target}%", P, UP, "%", (18, 30), (35, 50), 1),
            KrShape("Cut time to first value from {start} to {target} days", N, DOWN, "days", (10, 21), (3, 7)),
            KrShape("Grow weekly active teams from {start} to {target}", N, UP, "teams", (800, 2000), (2500, 4000)),
            KrShape("Keep trial-to-paid conversion at or above {target}%", P, HOLD, "%", target=(8, 12), decimals=1, keep=ABOVE, spread=2),
            KrShape("Referral programme live in {segment}", B, UP),
            KrShape("Pricing experiments for {segment}", M, UP),
        ),
        verbs=("Redesign", "A/B test", "Simplify", "Instrument", "Localise", "Rebuild"),
        things=("the signup form", "the onboarding checklist", "trial reminder emails", "the pricing page", "the invite flow", "the activation dashboard"),
        reasons=("Half of new teams never invite a colleague.", "Activation is the best predictor of retention we have."),
    ),
    "reliability": Function(
        repo="acme/platform",
        segments=("the API", "billing", "search", "the web app", "webhooks", "the data pipeline"),
        objectives=(
            "Make {segment} boringly reliable",
            "Recover from incidents in minutes, not hours",
            "Cut operational toil for on-call",
            "Scale {segment} for next year's traffic",
        ),
        krs=(
            KrShape("Keep {segment} availability at or above {target}%", P, HOLD, "%", target=(99.5, 99.95), decimals=2, keep=ABOVE, spread=0.1),
            KrShape("Keep p95 latency of {segment} at or below {target} ms", N, HOLD, "ms", target=(250, 400), keep=BELOW, spread=60),
            KrShape("Cut mean time to recovery from {start} to {target} minutes", N, DOWN, "minutes", (60, 120), (15, 30)),
            KrShape("Reduce paging alerts from {start} to {target} a week", N, DOWN, "alerts", (40, 80), (5, 15)),
            KrShape("Every tier-1 service has a tested runbook", B, UP),
            KrShape("Move {segment} to the new cluster", M, UP),
        ),
        verbs=("Add circuit breakers to", "Load test", "Autoscale", "Add SLO alerts for", "Shard", "Write the runbook for"),
        things=("the API gateway", "the billing workers", "the search index", "the job queue", "the webhook sender", "the Postgres primary"),
        reasons=("Two outages last quarter cost us a top-ten customer.", "On-call burnout is our top retention risk."),
    ),
    "sales": Function(
        repo="acme/crm-tools",
        segments=("EMEA", "North America", "APAC", "mid-market", "enterprise", "the public sector"),
        objectives=(
            "Win more enterprise deals in {segment}",
            "Build a predictable pipeline",
            "Land our first customers in {segment}",
            "Shorten the path from demo to signature",
        ),
        krs=(
            KrShape("Grow new ARR in {segment} from {start}k to {target}k USD", N, UP, "k USD", (200, 600), (900, 1500)),
            KrShape("Raise win rate from {start}% to {target}%", P, UP, "%", (15, 22), (28, 35)),
            KrShape("Shorten the sales cycle from {start} to {target} days", N, DOWN, "days", (70, 110), (40, 60)),
            KrShape("Keep pipeline coverage at or above {target}x", N, HOLD, "x", target=(3, 4), decimals=1, keep=ABOVE, spread=1),
            KrShape("Reseller partner signed in {segment}", B, UP),
            KrShape("Sales playbook rolled out in {segment}", M, UP),
        ),
        verbs=("Write", "Pilot", "Automate", "Run", "Refresh", "Launch"),
        things=("the discovery call script", "the ROI calculator", "lead scoring", "the partner portal", "the demo environment", "quarterly business reviews"),
        reasons=("Deals above 50k stall in legal review.", "Pipeline was lumpy in the last three quarters."),
    ),
    "support": Function(
        repo="acme/helpdesk",
        segments=("enterprise customers", "the free tier", "EMEA hours", "APAC hours", "billing questions", "API users"),
        objectives=(
            "Answer customers while they still care",
            "Make self-serve help the first stop for {segment}",
            "Delight {segment}",
            "Keep the support queue healthy",
        ),
        krs=(
            KrShape("Cut first response time from {start} to {target} hours", N, DOWN, "hours", (8, 16), (1, 3), 1),
            KrShape("Raise CSAT for {segment} from {start}% to {target}%", P, UP, "%", (82, 88), (92, 96)),
            KrShape("Keep the ticket backlog at or below {target}", N, HOLD, "tickets", target=(150, 300), keep=BELOW, spread=80),
            KrShape("Raise self-serve deflection from {start}% to {target}%", P, UP, "%", (20, 30), (40, 55)),
            KrShape("24/7 coverage for {segment}", B, UP),
            KrShape("Move {segment} to the new help centre", M, UP),
        ),
        verbs=("Write macros for", "Triage", "Add a help article on", "Route", "Automate replies to", "Review"),
        things=("password resets", "invoice questions", "SSO setup", "rate limit errors", "data exports", "refund requests"),
        reasons=("Slow first replies drive most of our detractors.", "A third of tickets are answered in the docs already."),
    ),
    "hiring": Function(
        repo="acme/people-ops",
        segments=("Berlin", "Lisbon", "remote EMEA", "New York", "the platform team", "design"),
        objectives=(
            "Build the team for {segment}",
            "Make hiring fast and fair",
            "Be the place engineers want to work",
            "Grow {segment} without lowering the bar",
        ),
        krs=(
            KrShape("Hire {target} engineers in {segment}", N, UP, "hires", (0, 0), (4, 12)),
            KrShape("Cut time to hire from {start} to {target} days", N, DOWN, "days", (45, 70), (25, 35)),
            KrShape("Raise offer acceptance from {start}% to {target}%", P, UP, "%", (60, 72), (80, 90)),
            KrShape("Keep candidate NPS at or above {target}", N, HOLD, "NPS", target=(40, 60), keep=ABOVE, spread=15),
            KrShape("Structured interview loop adopted in {segment}", B, UP),
            KrShape("Employer brand refresh for {segment}", M, UP),
        ),
        verbs=("Run", "Rewrite", "Train interviewers for", "Calibrate", "Publish", "Automate scheduling for"),
        things=("the take-home exercise", "job descriptions", "the onsite loop", "the referral bonus", "the careers page", "the hiring committee"),
        reasons=("We lost three finalists to slow feedback.", "The roadmap needs twelve more engineers by spring."),
    ),
    "security": Function(
        repo="acme/security",
        segments=("production", "laptops", "CI", "the data warehouse", "third-party vendors", "customer data"),
        objectives=(
            "Earn enterprise trust with {segment}",
            "Shrink our attack surface",
            "Make the secure way the easy way",
            "Pass our audits without heroics",
        ),
        krs=(
            KrShape("Cut critical vulnerabilities older than 30 days from {start} to {target}", N, DOWN, "vulns", (20, 40), (0, 3)),
            KrShape("Raise MFA adoption from {start}% to {target}%", P, UP, "%", (60, 80), (98, 100)),
            KrShape("Keep mean time to patch at or below {target} days", N, HOLD, "days", target=(5, 14), keep=BELOW, spread=4),
            KrShape("SOC 2 Type II report issued", B, UP),
            KrShape("Secrets for {segment} moved to the vault", M, UP),
            KrShape("Raise phishing-test pass rate from {start}% to {target}%", P, UP, "%", (70, 80), (90, 95)),
        ),
        verbs=("Rotate keys in", "Enable SSO for", "Scan", "Lock down", "Audit access to", "Pen test"),
        things=("the CI runners", "the admin panel", "S3 buckets", "the VPN", "production databases", "the mobile API"),
        reasons=("Three enterprise deals are waiting on our SOC 2 report.", "Most incidents start with a stolen credential."),
    ),
    "mobile": Function(
        repo="acme/mobile-app",
        segments=("iOS", "Android", "tablets", "low-end Android devices", "the offline mode", "new users"),
        objectives=(
            "Make the app fast on {segment}",
            "Ship a mobile app people rate five stars",
            "Make the app work where the network doesn't",
            "Release weekly without fear",
        ),
        krs=(
            KrShape("Raise crash-free sessions on {segment} from {start}% to {target}%", P, UP, "%", (98.5, 99.2), (99.6, 99.9), 2),
            KrShape("Cut cold start time from {start} to {target} ms", N, DOWN, "ms", (1800, 2500), (800, 1200)),
            KrShape("Raise the app store rating from {start} to {target}", N, UP, "stars", (3.8, 4.2), (4.5, 4.8), 1),
            KrShape("Keep release cadence at or above {target} a week", N, HOLD, "releases", target=(1, 2), keep=ABOVE, spread=1),
            KrShape("Offline mode available on {segment}", B, UP),
            KrShape("Design system adopted on {segment}", M, UP),
        ),
        verbs=("Profile", "Lazy-load", "Cache", "Rewrite", "Add tests for", "Ship"),
        things=("the home feed", "image loading", "the login screen", "push notifications", "the sync engine", "deep links"),
        reasons=("Reviews mention slowness more than any missing feature.", "Field teams work with no signal."),
    ),
    "docs": Function(
        repo="acme/docs",
        segments=("the API", "new developers", "admins", "the SDKs", "integrations", "self-hosting"),
        objectives=(
            "Make the docs answer the question first time",
            "Help {segment} succeed without a call",
            "Turn the docs into a growth channel",
            "Keep the docs true to the product",
        ),
        krs=(
            KrShape("Raise docs search success from {start}% to {target}%", P, UP, "%", (45, 60), (70, 80)),
            KrShape("Cut docs-related tickets from {start} to {target} a week", N, DOWN, "tickets", (60, 120), (20, 40)),
            KrShape("Grow monthly docs readers from {start}k to {target}k", N, UP, "k readers", (40, 80), (100, 150)),
            KrShape("Keep broken links at or below {target}", N, HOLD, "links", target=(0, 5), keep=BELOW, spread=6),
            KrShape("API reference generated from the OpenAPI spec", B, UP),
            KrShape("Tutorials for {segment}", M, UP),
        ),
        verbs=("Write a guide to", "Record a video on", "Restructure", "Add examples to", "Translate", "Review"),
        things=("authentication", "webhooks", "pagination", "the quickstart", "error codes", "rate limits"),
        reasons=("Most trial users read the quickstart before they sign up.", "Outdated pages cause a fifth of our tickets."),
    ),
}
FUNCTION_NAMES = tuple(FUNCTIONS)

# Weighted choices are spelled out by repetition: picking uniformly from them is fast.
NOTES = ("",) * 4 + ("on track", "blocked on legal review", "waiting for the data team", "slipped a week", "ahead of plan")
SOURCES = ("command", "command", "modal", "nudge", "button")
KR_WEIGHTS = (1,) * 16 + (2,) * 3 + (1.5,)
LINK_WEIGHTS = (1,) * 6 + (2,) * 3 + (3,)
WORK_STATUSES = ("done",) * 7 + ("in_progress",) * 6 + ("todo",) * 7


def generate_document(
    objectives: int,
    *,
    krs_per_objective: int = 5,
    initiatives_per_kr: int = 4,
    checkins_per_kr: int = 20,
    seed: int = 0,
    team_channels: int = 20,
    owners: int = 100,
    period: str = "2026-Q4",
) -> dict:
    """An organisation with `objectives` objectives, ready for `import_document`."""
    parsed = parse_period(period)
    if parsed is None:
        raise ValueError(f"{period!r} is not a period like 2026-Q4")
    start = datetime.combine(parsed.first_day, time(0), tzinfo=UTC)
    end = datetime.combine(parsed.end_day, time(0), tzinfo=UTC)
    generator = _Generator(
        rng=random.Random(seed),
        krs_per_objective=krs_per_objective,
        initiatives_per_kr=initiatives_per_kr,
        checkins_per_kr=checkins_per_kr,
        channels=_slack_ids(random.Random(seed + 1), "C", team_channels),
        owners=_slack_ids(random.Random(seed + 2), "U", owners),
        period=str(parsed),
        period_start=int(start.timestamp()),
        period_seconds=int((end - start).total_seconds()),
    )
    return generator.document(objectives)


def _slack_ids(rng: random.Random, prefix: str, count: int) -> list[str]:
    alphabet = string.ascii_uppercase + string.digits
    found: dict[str, None] = {}
    while len(found) < max(count, 1):
        found[prefix + "0" + "".join(rng.choices(alphabet, k=9))] = None
    return list(found)


@dataclass
class _Generator:
    rng: random.Random
    krs_per_objective: int
    initiatives_per_kr: int
    checkins_per_kr: int
    channels: list[str]
    owners: list[str]
    period: str
    period_start: int  # Unix seconds
    period_seconds: int
    kr_count: int = 0
    issue_numbers: dict[str, int] = field(default_factory=dict)  # last issue number per repository

    def document(self, count: int) -> dict:
        objectives, krs = [], []
        for number in range(1, count + 1):
            name = self._pick(FUNCTION_NAMES)
            objective = self._objective(number, count, name)
            objectives.append(objective)
            krs += [(kr, FUNCTIONS[name]) for kr in objective["key_results"]]
        initiatives = self._initiatives(krs)
        return {"version": FORMAT_VERSION, "objectives": objectives, "initiatives": initiatives}

    def _pick(self, options):
        # rng.choice costs several Python calls; this one is a single C call, which M and L feel.
        return options[int(self.rng.random() * len(options))]

    def _chance(self, share: float) -> bool:
        return self.rng.random() < share

    # --- objectives and KRs -------------------------------------------------------

    def _objective(self, number: int, count: int, name: str) -> dict:
        function = FUNCTIONS[name]
        owner = self._pick(self.owners)
        archived = self._chance(0.03)
        return {
            "id": objective_id(number),
            "title": self._pick(function.objectives).format(segment=self._pick(function.segments)),
            "owner": owner,
            "team": self._team_channel(name) if self._chance(0.9) else None,
            "period": self.period,
            "parent": self._parent(number, count),
            "private": self._chance(0.07),
            "description": self._pick(function.reasons) if self._chance(0.4) else "",
            "status": "archived" if archived else "active",
            # Interchange version 2: a fresh period has no grades and nothing carried over.
            "grade": None,
            "carried_from": None,
            "key_results": [self._kr(function, owner, archived) for _ in range(self.krs_per_objective)],
        }

    def _team_channel(self, function_name: str) -> str:
        # Each function owns its own few channels, as teams do.
        mine = self.channels[FUNCTION_NAMES.index(function_name) :: len(FUNCTION_NAMES)] or self.channels
        return self._pick(mine)

    def _parent(self, number: int, count: int) -> str | None:
        """About a third align to one of the first tenth: the company-level objectives."""
        company_level = max(1, count // 10)
        if number <= company_level or not self._chance(0.35):
            return None
        return objective_id(1 + int(self.rng.random() * company_level))

    def _kr(self, function: Function, objective_owner: str, archived: bool) -> dict:
        self.kr_count += 1
        shape = self._pick(function.krs)
        start, target = self._start_and_target(shape)
        owner = objective_owner if self._chance(0.5) else self._pick(self.owners)
        values = self._values(shape, start, target)
        checkins = self._checkins(values, owner, objective_owner)
        current = values[-1] if values else (start if shape.metric in (N, P) and shape.direction is not HOLD else None)
        return {
            "id": kr_id(self.kr_count),
            "title": shape.title.format(start=start, target=target, segment=self._pick(function.segments)),
            "owner": owner,
            "metric": shape.metric.value,
            "direction": shape.direction.value,
            "keep": shape.keep.value if shape.keep else None,
            "start": start,
            "target": target,
            "current": current,
            "unit": shape.unit,
            "weight": self._pick(KR_WEIGHTS),
            "confidence": checkins[-1]["confidence"] if checkins else None,
            "status": "archived" if archived else "active",
            "commitment": None,
            "grade": None,
            "grade_note": "",
            "grade_source": None,
            "carried_from": None,
            "checkins": checkins,
        }

    def _start_and_target(self, shape: KrShape) -> tuple[float | None, float | None]:
        if shape.metric is B:
            return 0, 1
        if shape.metric is M:
            return None, None
        target = self._between(shape.target, shape.decimals)
        start = None if shape.direction is HOLD else self._between(shape.start, shape.decimals)
        return start, target

    def _between(self, bounds: tuple[float, float], decimals: int) -> float | int:
        return plain_number(round(self.rng.uniform(*bounds), decimals))

    def _values(self, shape: KrShape, start: float | None, target: float | None) -> list:
        """A believable history: values drift towards (or past) the target, or hold around a threshold."""
        count, uniform = self.checkins_per_kr, self.rng.uniform
        if shape.metric is M:
            return [None] * count  # milestone KRs move with work; their check-ins carry confidence and notes
        if shape.metric is B:
            flip = int(self.rng.random() * (count + 1)) if self._chance(0.4) else count
            return [0 if index < flip else 1 for index in range(count)]
        if shape.direction is HOLD:
            side = -1 if shape.keep is BELOW else 1
            return [self._plausible(shape, target + side * shape.spread * uniform(-0.3, 1.0)) for _ in range(count)]
        reach = uniform(0.2, 1.2)
        return [
            self._plausible(shape, start + (target - start) * (reach * (index + 1) / count + uniform(-0.05, 0.05)))
            for index in range(count)
        ]

    @staticmethod
    def _plausible(shape: KrShape, value: float) -> float | int:
        value = max(0.0, min(100.0, value)) if shape.metric is P else max(0.0, value)
        return plain_number(round(value, shape.decimals))

    def _checkins(self, values: list, owner: str, objective_owner: str) -> list[dict]:
        step = self.period_seconds * 0.85 / max(len(values), 1)
        random_ = self.rng.random
        return [
            {
                # Spread over the period with jitter under one step, so times stay in order.
                "at": _utc_text(self.period_start + int(step * (index + 0.8 * random_()))),
                "value": value,
                "confidence": 3 + int(random_() * 7) if random_() < 0.9 else None,
                "note": self._pick(NOTES),
                "by": owner if random_() < 0.85 else objective_owner,
                "source": self._pick(SOURCES),
            }
            for index, value in enumerate(values)
        ]

    # --- initiatives ----------------------------------------------------------------

    def _initiatives(self, krs: list[tuple[dict, Function]]) -> list[dict]:
        initiatives = []
        for index, (kr, function) in enumerate(krs):
            for _ in range(self.initiatives_per_kr):
                links = [{"kr": kr["id"], "weight": self._pick(LINK_WEIGHTS)}]
                if len(krs) > 1 and self._chance(0.1):
                    # Some work serves two KRs, often another team's.
                    other = krs[(index + 1 + int(self.rng.random() * (len(krs) - 1))) % len(krs)][0]
                    links.append({"kr": other["id"], "weight": self._pick(LINK_WEIGHTS)})
                    links.sort(key=lambda link: int(link["kr"].removeprefix("KR-")))
                initiatives.append(self._initiative(len(initiatives) + 1, function, links))
        return initiatives

    def _initiative(self, number: int, function: Function, links: list[dict]) -> dict:
        title = f"{self._pick(function.verbs)} {self._pick(function.things)}"
        if self._chance(0.3):
            title += f" for {self._pick(function.segments)}"
        return {
            "id": initiative_id(number),
            "title": title,
            "owner": self._pick(self.owners) if self._chance(0.95) else None,
            "status": self._pick(WORK_STATUSES),
            "url": self._work_url(function) if self._chance(0.85) else None,
            "links": links,
        }

    def _work_url(self, function: Function) -> str:
        number = self.issue_numbers.get(function.repo, 100) + 1 + int(self.rng.random() * 7)
        self.issue_numbers[function.repo] = number
        kind = "pull" if self._chance(0.3) else "issues"
        return f"https://github.com/{function.repo}/{kind}/{number}"


def _utc_text(seconds: int) -> str:
    """Interchange time text (2026-10-01T10:00:00Z) for Unix seconds."""
    return _time.strftime("%Y-%m-%dT%H:%M:%SZ", _time.gmtime(seconds))
