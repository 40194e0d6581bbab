"""OKR hygiene: the gaps that `/okr gaps` reports (SPEC §7).

Pure domain code. The caller gathers the facts of one period and renders the
gaps; this module only decides what is wrong and what to type about it.

One `Gap` per flag per item at fault, so every line of the report names one
KR, objective or owner and its advice can quote the exact command to type.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum


class GapFlag(StrEnum):
    """The hygiene flags, declared in report order."""

    KR_NO_INITIATIVE = "kr_no_initiative"
    KR_OVERLINKED = "kr_overlinked"
    OWNER_OVERLOADED = "owner_overloaded"
    OBJECTIVE_TOO_MANY_KRS = "objective_too_many_krs"
    OBJECTIVE_NO_KRS = "objective_no_krs"
    KR_NOT_MEASURABLE = "kr_not_measurable"
    KR_OUTPUT_WORDED = "kr_output_worded"
    KR_VANITY = "kr_vanity"
    KR_STALE = "kr_stale"
    # Drafts for a coming period (`/okr gaps next`) are held to the planning rules too.
    TEAM_TOO_MANY_OBJECTIVES = "team_too_many_objectives"
    OBJECTIVE_TOO_FEW_KRS = "objective_too_few_krs"


GAP_TITLES: dict[GapFlag, str] = {
    GapFlag.KR_NO_INITIATIVE: "KRs with no work behind them",
    GapFlag.KR_OVERLINKED: "KRs spread over too many initiatives",
    GapFlag.OWNER_OVERLOADED: "Owners with too many objectives",
    GapFlag.OBJECTIVE_TOO_MANY_KRS: "Objectives with too many KRs",
    GapFlag.OBJECTIVE_NO_KRS: "Objectives with no KRs",
    GapFlag.KR_NOT_MEASURABLE: "KRs with no measurable target",
    GapFlag.KR_OUTPUT_WORDED: "KRs worded as outputs, not outcomes",
    GapFlag.KR_VANITY: "KRs that track vanity metrics",
    GapFlag.KR_STALE: "KRs with no check-in in 30 days",
    GapFlag.TEAM_TOO_MANY_OBJECTIVES: "Teams with too many objectives",
    GapFlag.OBJECTIVE_TOO_FEW_KRS: "Objectives with fewer than 2 KRs",
}

MAX_INITIATIVES_PER_KR = 4
MAX_OBJECTIVES_PER_OWNER = 5
MAX_KRS_PER_OBJECTIVE = 5
DRAFT_ONLY = (GapFlag.TEAM_TOO_MANY_OBJECTIVES, GapFlag.OBJECTIVE_TOO_FEW_KRS)
MAX_OBJECTIVES_PER_TEAM = 5  # for drafts
MIN_KRS_PER_OBJECTIVE = 2  # for drafts
STALE_AFTER = timedelta(days=30)
URGENT_FROM = timedelta(days=7)  # "from the second week of the period"


@dataclass(frozen=True)
class KrFacts:
    number: int  # n of KR-n
    objective: int  # n of O-n
    title: str
    owner: str
    metric: str  # numeric | percentage | boolean | milestone
    direction: str  # increase | decrease | maintain
    start: float | None
    target: float | None
    linked_initiatives: int
    last_checkin_at: datetime | None  # aware UTC; also counts done work / progress events
    created_at: datetime


@dataclass(frozen=True)
class ObjectiveFacts:
    number: int
    title: str
    owner: str
    kr_count: int
    team: str | None = None  # the team channel


@dataclass(frozen=True)
class Gap:
    flag: GapFlag
    ids: tuple[str, ...]  # "KR-3", "O-2", or "@U123" for owners: the ids at fault
    problem: str  # one plain sentence: what is wrong
    advice: str  # what to do about it, with the /okr command to type
    urgent: bool = False


def find_gaps(
    objectives: Iterable[ObjectiveFacts],
    krs: Iterable[KrFacts],
    *,
    period_start: date,
    today: date,
    now: datetime,
    drafts: bool = False,
) -> list[Gap]:
    """Every gap of one period, ordered by flag (declaration order), then by id number.

    `drafts`: the period has not started; add the planning checks (teams with too many
    objectives, objectives with fewer than 2 KRs)."""
    objectives = sorted(objectives, key=lambda o: o.number)
    krs = sorted(krs, key=lambda k: k.number)
    urgent = today >= period_start + URGENT_FROM
    period_began = datetime.combine(period_start, time(), UTC)
    return [
        *(_no_initiative(kr, urgent) for kr in krs if kr.linked_initiatives == 0),
        *(_overlinked(kr) for kr in krs if kr.linked_initiatives > MAX_INITIATIVES_PER_KR),
        *_overloaded_owners(objectives),
        *(_too_many_krs(o) for o in objectives if o.kr_count > MAX_KRS_PER_OBJECTIVE),
        *(_no_krs(o) for o in objectives if o.kr_count == 0),
        *_present(_not_measurable(kr) for kr in krs),
        *(_output_worded(kr) for kr in krs if is_output_worded(kr.title)),
        *_present(_vanity(kr) for kr in krs),
        *_present(_stale(kr, period_began, _utc(now)) for kr in krs),
        *(_crowded_teams(objectives) if drafts else []),
        *(_too_few_krs(o) for o in objectives if drafts and 0 < o.kr_count < MIN_KRS_PER_OBJECTIVE),
    ]


def _crowded_teams(objectives: list[ObjectiveFacts]) -> list[Gap]:
    by_team: dict[str, list[ObjectiveFacts]] = defaultdict(list)
    for objective in objectives:
        if objective.team:
            by_team[objective.team].append(objective)
    return [
        Gap(
            GapFlag.TEAM_TOO_MANY_OBJECTIVES,
            (f"#{team}", *(_objective_id(o) for o in theirs)),
            f"<#{team}> has {len(theirs)} objectives drafted; more than {MAX_OBJECTIVES_PER_TEAM} is more than a team can focus on.",
            "Keep the few that matter most; carry or archive the rest: /okr archive O-n.",
        )
        for team, theirs in sorted(by_team.items())
        if len(theirs) > MAX_OBJECTIVES_PER_TEAM
    ]


def _too_few_krs(objective: ObjectiveFacts) -> Gap:
    oid = _objective_id(objective)
    return Gap(
        GapFlag.OBJECTIVE_TOO_FEW_KRS,
        (oid,),
        f"{_objective_ref(objective)} has only {objective.kr_count} KR; one number rarely shows an objective is met.",
        f'Add a second measurable result: /okr kr add {oid} "Title" from 45 to 25.',
    )


# --- one builder per flag -------------------------------------------------


def _no_initiative(kr: KrFacts, urgent: bool) -> Gap:
    if kr.metric == "milestone":
        why = "and its progress comes only from initiatives, so it cannot move"
    else:
        why = "so no planned work stands behind it"
    return Gap(
        GapFlag.KR_NO_INITIATIVE,
        (_kr_id(kr),),
        f"{_kr_ref(kr)} has no linked initiative, {why}.",
        f'Link the work that will move it: /okr initiative add {_kr_id(kr)} "…" '
        f"or /okr link I-n {_kr_id(kr)}.",
        urgent=urgent,
    )


def _overlinked(kr: KrFacts) -> Gap:
    return Gap(
        GapFlag.KR_OVERLINKED,
        (_kr_id(kr),),
        f"{_kr_ref(kr)} has {kr.linked_initiatives} linked initiatives; more than "
        f"{MAX_INITIATIVES_PER_KR} spreads the effort thin and hides what really moves it.",
        f"Keep the few that matter most and unlink the rest: /okr unlink I-n {_kr_id(kr)}.",
    )


def _overloaded_owners(objectives: list[ObjectiveFacts]) -> list[Gap]:
    owned: dict[str, list[ObjectiveFacts]] = defaultdict(list)
    for objective in objectives:
        owned[_owner_id(objective.owner)].append(objective)
    return [
        Gap(
            GapFlag.OWNER_OVERLOADED,
            (owner, *(_objective_id(o) for o in theirs)),
            f"{owner} owns {len(theirs)} objectives this period; more than "
            f"{MAX_OBJECTIVES_PER_OWNER} is more than one person can drive.",
            "Hand some over or merge them: /okr edit O-n to change the owner.",
        )
        for owner, theirs in sorted(owned.items())  # owners have no number: sort by Slack id
        if len(theirs) > MAX_OBJECTIVES_PER_OWNER
    ]


def _too_many_krs(objective: ObjectiveFacts) -> Gap:
    return Gap(
        GapFlag.OBJECTIVE_TOO_MANY_KRS,
        (_objective_id(objective),),
        f"{_objective_ref(objective)} has {objective.kr_count} KRs; more than "
        f"{MAX_KRS_PER_OBJECTIVE} dilutes its focus.",
        "Keep the 3 to 5 KRs that best show it is met and move the others "
        "to another objective with /okr edit KR-n.",
    )


def _no_krs(objective: ObjectiveFacts) -> Gap:
    oid = _objective_id(objective)
    return Gap(
        GapFlag.OBJECTIVE_NO_KRS,
        (oid,),
        f"{_objective_ref(objective)} has no key results, so nothing shows whether it is met.",
        f'Add 3 to 5 measurable results: /okr kr add {oid} "Title" from 45 to 25.',
    )


def _not_measurable(kr: KrFacts) -> Gap | None:
    problem = _measurability_problem(kr)
    if problem is None:
        return None
    example = '"keep above 99.9"' if kr.direction == "maintain" else '"from 45 to 25"'
    return Gap(
        GapFlag.KR_NOT_MEASURABLE,
        (_kr_id(kr),),
        f"{_kr_ref(kr)} {problem}.",
        f"Give it a number to reach with /okr edit {_kr_id(kr)}, e.g. {example}.",
    )


def _measurability_problem(kr: KrFacts) -> str | None:
    """Why a KR's progress can't be measured, or None when it can.

    boolean (yes/no) and milestone (share of linked work done) KRs always can;
    a milestone with no work is KR_NO_INITIATIVE. Numeric and percentage KRs
    need a target; increase/decrease also need a start on the far side of it.
    """
    if kr.metric in ("boolean", "milestone"):
        return None
    if kr.target is None:
        if re.search(r"\d", kr.title):
            return (
                "names a number in its title but has no target recorded, "
                "so its progress can't be computed"
            )
        return "has no target, so nobody can tell when it is met"
    if kr.direction == "maintain":
        return None  # the target is the level to hold; no start needed
    if kr.start is None:
        return "has no starting value, so its progress can't be computed"
    if kr.start == kr.target:
        return f"starts and ends at {_num(kr.target)}, so there is nothing to move"
    if (kr.target > kr.start) != (kr.direction == "increase"):
        side = "above" if kr.target > kr.start else "below"
        return (
            f"is set to {kr.direction} but its target {_num(kr.target)} is {side} "
            f"its start {_num(kr.start)}"
        )
    return None


def _output_worded(kr: KrFacts) -> Gap:
    kid = _kr_id(kr)
    return Gap(
        GapFlag.KR_OUTPUT_WORDED,
        (kid,),
        f"{_kr_ref(kr)} is worded as an output (something to deliver) "
        "rather than an outcome (a result to measure).",
        "Reword it as the change the work should cause, with a number "
        f'(e.g. "Increase weekly active teams from 40 to 60"), using /okr edit {kid}, '
        "and track the delivery as an initiative: "
        f'/okr initiative add {kid} "{_quotable(kr.title)}".',
    )


def _vanity(kr: KrFacts) -> Gap | None:
    metric = vanity_metric(kr.title, kr.direction)
    if metric is None:
        return None
    return Gap(
        GapFlag.KR_VANITY,
        (_kr_id(kr),),
        f"{_kr_ref(kr)} tracks a vanity metric ({metric}) that can rise "
        "without customers getting more value.",
        "Measure what that number should lead to (activation, retention, conversion "
        f"to paid or revenue) with /okr edit {_kr_id(kr)}.",
    )


def _stale(kr: KrFacts, period_began: datetime, now: datetime) -> Gap | None:
    # The clock starts at the last check-in (or creation), but never before the
    # period: KRs drafted weeks ahead of their quarter are not stale on day one.
    since = max(_utc(kr.last_checkin_at or kr.created_at), period_began)
    silent = now - since
    if silent <= STALE_AFTER:
        return None
    kid = _kr_id(kr)
    if kr.metric == "milestone":
        advice = f"Mark finished work done with /okr done I-n, or /okr checkin {kid} <value>."
    elif kr.metric == "boolean":
        advice = f"Record where it stands: /okr checkin {kid} yes (or no)."
    else:
        advice = f"Record where it stands: /okr checkin {kid} <value>."
    return Gap(
        GapFlag.KR_STALE,
        (kid,),
        f"{_kr_ref(kr)} has had no check-in for {silent.days} days.",
        advice,
    )


# --- output vs outcome wording ----------------------------------------------

# Imperative delivery verbs at the start of a title. "hire"/"recruit" count:
# headcount is capacity, the outcome is what the hires change. Verbs that
# often start a noun ("hold churn", "open tickets", "plan adoption",
# "document processing") are left out on purpose.
_DELIVERY_VERBS = (
    "launch", "ship", "release", "build", "create", "implement", "deliver", "write",
    "publish", "migrate", "roll out", "complete", "finish", "develop", "design",
    "set up", "setup", "hire", "recruit", "do", "run", "host", "conduct", "organi[sz]e",
    "attend", "deploy", "introduce", "add", "integrate", "automate", "redesign", "rebuild",
    "rewrite", "refactor", "replace", "upgrade", "produce", "prepare", "draft", "send",
    "train", "fix", "test", "define", "establish", "start", "begin", "kick off",
)
# A delivery verb followed by one of these is a noun: "Build time", "Run rate".
_METRIC_NOUNS = (
    "rate", "rates", "ratio", "time", "times", "frequency", "cadence", "velocity", "speed",
    "duration", "latency", "cost", "costs", "quality", "success", "failure", "failures",
    "coverage", "partner", "partners", "revenue", "volume", "cycle", "pass", "adoption",
    "stability", "reliability", "size",
)
_OUTCOME_VERBS = (
    "increase", "reduce", "decrease", "grow", "raise", "improve", "lower", "cut", "keep",
    "maintain", "reach", "hit", "double", "triple", "halve", "lift", "boost", "drop",
    "shrink", "retain", "sustain", "stay",
)
_FILLERS = r"(?:(?:successfully|fully|finally|we will|we'll|we|to)\s+)*"
_DONE = (
    r"(?:launched|shipped|released|delivered|deployed|completed|implemented|built"
    r"|published|migrated|rolled\s+out|live|done|finished|in\s+place)"
)
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*"
_DEADLINE = rf"(?:the\s+)?(?:end|eo[qmy]|mid|q[1-4]|{_MONTH}|\d{{4}})"


def _alternatives(words: Iterable[str]) -> str:
    return "|".join(w.replace(" ", r"\s+") for w in words)


_OUTCOME_LEAD = re.compile(rf"^{_FILLERS}(?:{_alternatives(_OUTCOME_VERBS)})\b")
# (?![\w-]) keeps hyphenated compounds out: "Launch-to-activation rate" is a metric.
_OUTPUT_LEAD = re.compile(
    rf"^{_FILLERS}(?:{_alternatives(_DELIVERY_VERBS)})(?![\w-])"
    rf"(?!\s+(?:{_alternatives(_METRIC_NOUNS)})\b)"
)
_GET_IT_DONE = re.compile(rf"^(?:get|have)\b.*\b{_DONE}\b")  # "Get the new pricing page live"
# "Mobile app launched by March"
_DONE_BY_DEADLINE = re.compile(rf"\b{_DONE}\s+(?:by|before)\s+{_DEADLINE}\b")


def is_output_worded(title: str) -> bool:
    """True when a KR title names work to deliver rather than a result to measure.

    Flagged: a title led by an imperative delivery verb ("Launch the app",
    "Successfully ship v2", "Migrate 100% of customers to v2": a percentage of
    a migration is still a project's progress), "Get/Have X live|done|shipped",
    and "X launched|live|… by <deadline>". Never flagged: a title led by an
    outcome verb ("Reduce time to ship from 10 days to 3"), inflected or noun
    forms ("Shipping cost", "Launches adopted by 30%"), hyphenated compounds
    ("Launch-to-activation rate") and verb+metric nouns ("Build time").
    """
    text = re.sub(r"^[^a-z]+", "", title.lower().replace("’", "'"))
    if _OUTCOME_LEAD.match(text):
        return False
    return bool(
        _OUTPUT_LEAD.match(text) or _GET_IT_DONE.match(text) or _DONE_BY_DEADLINE.search(text)
    )


# --- vanity metrics -------------------------------------------------------

# (name shown, pattern) on the lower-cased title with hyphens read as spaces.
_VANITY_METRICS = (
    ("page views", r"page ?views?|views"),
    ("impressions", r"impressions"),
    ("followers", r"followers|fans"),
    ("likes", r"likes|retweets|social shares"),
    ("clicks", r"clicks"),
    ("visits", r"visits|visitors|(?:web|website|site) traffic"),
    ("downloads", r"downloads"),
    ("app installs", r"installs"),
    ("sign-ups", r"sign ?ups|registrations|registered users|accounts created"),
    ("lines of code", r"lines of code|commits|story points"),
    ("meetings", r"meetings"),
    ("emails sent", r"emails? sent|(?:number|count) of emails|send [\d.,]+k? (?:\w+ )?emails"),
    (
        "tickets closed",
        r"tickets (?:closed|resolved)|(?:closed|resolved) tickets"
        r"|(?:close|resolve) [\d.,]+k? (?:\w+ )?tickets",
    ),
    ("press mentions", r"press mentions"),
    ("features shipped", r"features shipped"),
)
_VANITY_PATTERNS = tuple(
    (name, re.compile(rf"\b(?:{pattern})\b")) for name, pattern in _VANITY_METRICS
)
# A count tied to activation, retention or money measures value, not attention.
_VALUE_QUALIFIER = re.compile(
    r"\b(?:activat\w*|active|retain\w*|retention|convert\w*|conversions?"
    r"|paying|paid|revenue|churn\w*|[dwm]au)\b"
)


def vanity_metric(title: str, direction: str = "increase") -> str | None:
    """The vanity metric a KR title tracks (see _VANITY_METRICS), or None.

    A decreasing KR is never vanity: fewer meetings or emails is an
    efficiency result, and nobody games a count downwards.
    """
    if direction == "decrease":
        return None
    text = " ".join(title.lower().replace("-", " ").split())
    if _VALUE_QUALIFIER.search(text):
        return None
    return next((name for name, pattern in _VANITY_PATTERNS if pattern.search(text)), None)


# --- small helpers --------------------------------------------------------


def _present(gaps: Iterable[Gap | None]) -> list[Gap]:
    return [gap for gap in gaps if gap is not None]


def _utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; they are stored as UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _kr_id(kr: KrFacts) -> str:
    return f"KR-{kr.number}"


def _objective_id(objective: ObjectiveFacts) -> str:
    return f"O-{objective.number}"


def _owner_id(owner: str) -> str:
    return "@" + owner.removeprefix("@")


def _kr_ref(kr: KrFacts) -> str:
    return f'{_kr_id(kr)} "{kr.title}"'


def _objective_ref(objective: ObjectiveFacts) -> str:
    return f'{_objective_id(objective)} "{objective.title}"'


def _quotable(title: str) -> str:
    return title.replace('"', "'")


def _num(value: float) -> str:
    return f"{value:g}"
