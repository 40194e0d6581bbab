"""Typed command objects: what a line of the /okr language means.

The grammar (`domain.grammar`) turns text into one of these; the command
layer runs the matching use case. Nothing here touches storage or Slack.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from enum import StrEnum


class Kind(StrEnum):
    """The three kinds of short id people see: O-n, KR-n, I-n."""

    OBJECTIVE = "O"
    KR = "KR"
    INITIATIVE = "I"


@dataclass(frozen=True)
class Ref:
    """A short id such as KR-34: its kind and per-workspace number."""

    kind: Kind
    number: int

    def __str__(self) -> str:
        return f"{self.kind.value}-{self.number}"


@dataclass(frozen=True)
class UserRef:
    """A Slack user: `id` when it arrived escaped (<@U123|ana>) or looks like an
    id; otherwise only the typed `name` (raw @ana), resolved later."""

    id: str | None = None
    name: str | None = None

    def __str__(self) -> str:
        return f"<@{self.id}>" if self.id else f"@{self.name}"


@dataclass(frozen=True)
class ChannelRef:
    """A Slack channel: `id` from <#C123|growth>, or a raw `name` (#growth)."""

    id: str | None = None
    name: str | None = None

    def __str__(self) -> str:
        return f"<#{self.id}>" if self.id else f"#{self.name}"


@dataclass(frozen=True)
class WorkRef:
    """An initiative named by id (I-3) or by the URL of its work item."""

    initiative: int | None = None
    url: str | None = None
    issue_key: str | None = None  # a Jira key (PAY-12), made a browse link with the configured site

    def __str__(self) -> str:
        if self.initiative is not None:
            return f"I-{self.initiative}"
        return str(self.url or self.issue_key)


class StatusScope(StrEnum):
    DEFAULT = "default"  # the channel's team when in a team channel, else mine
    ME = "me"
    USER = "user"
    CHANNEL = "channel"
    OBJECTIVE = "objective"
    KR = "kr"
    ALL = "all"
    WORK = "work"  # an initiative, by I-n or the URL of its work item


class Metric(StrEnum):
    NUMERIC = "numeric"
    PERCENTAGE = "percentage"
    BOOLEAN = "boolean"
    MILESTONE = "milestone"


class Direction(StrEnum):
    INCREASE = "increase"
    DECREASE = "decrease"
    MAINTAIN = "maintain"


class Keep(StrEnum):
    """For maintain KRs: which side of the threshold counts as held."""

    ABOVE = "above"
    BELOW = "below"


class Commitment(StrEnum):
    """What a KR is expected to reach: committed 1.0; aspirational 0.7 is success."""

    COMMITTED = "committed"
    ASPIRATIONAL = "aspirational"


# --- commands -----------------------------------------------------------------


@dataclass(frozen=True)
class Status:
    scope: StatusScope = StatusScope.DEFAULT
    user: UserRef | None = None
    channel: ChannelRef | None = None
    ref: Ref | None = None  # O-n or KR-n for those scopes
    period: str | None = None  # canonical "2026-Q4"
    work: WorkRef | None = None  # for the WORK scope


@dataclass(frozen=True)
class Help:
    topic: str | None = None  # a command word such as "kr" or "checkin"


@dataclass(frozen=True)
class ObjectiveAdd:
    """title None means: open the create modal."""

    title: str | None = None
    owner: UserRef | None = None
    team: ChannelRef | None = None
    period: str | None = None
    parent: int | None = None
    private: bool = False


@dataclass(frozen=True)
class KrAdd:
    """One KR of any metric.

    numeric/percentage: start and target set, direction increase/decrease by
    their order. boolean: start 0, target 1. milestone: no start/target.
    maintain: direction MAINTAIN, keep ABOVE/BELOW, target the threshold.
    """

    objective: int
    title: str
    metric: Metric
    direction: Direction
    start: float | None = None
    target: float | None = None
    unit: str | None = None
    keep: Keep | None = None
    owner: UserRef | None = None
    weight: float | None = None
    commitment: Commitment | None = None


@dataclass(frozen=True)
class InitiativeAdd:
    kr: int
    title: str
    owner: UserRef | None = None
    url: str | None = None
    weight: float | None = None


@dataclass(frozen=True)
class Link:
    work: WorkRef
    kr: int
    weight: float | None = None


@dataclass(frozen=True)
class Unlink:
    work: WorkRef
    kr: int


@dataclass(frozen=True)
class Done:
    work: WorkRef


@dataclass(frozen=True)
class Reopen:
    work: WorkRef


@dataclass(frozen=True)
class Checkin:
    """value is a float, or True/False for boolean KRs (yes/no)."""

    kr: int
    value: float | bool
    confidence: int | None = None
    note: str | None = None


@dataclass(frozen=True)
class CheckinFix:
    """Correct the person's latest check-in of `entry.kr` to `entry`'s value; its confidence
    and note stay unless given."""

    entry: Checkin


@dataclass(frozen=True)
class CheckinDelete:
    """Delete the person's latest check-in of a KR."""

    kr: int


@dataclass(frozen=True)
class Chart:
    """A KR's trend, or an objective's KRs side by side, as a picture."""

    ref: Ref


@dataclass(frozen=True)
class Serves:
    text: str


@dataclass(frozen=True)
class Gaps:
    period: str | None = None


class ReviewAction(StrEnum):
    NOW = "now"
    STATUS = "status"
    OFF = "off"
    SCHEDULE = "schedule"


@dataclass(frozen=True)
class Review:
    action: ReviewAction
    when: str | None = None  # schedule text, for SCHEDULE
    tz: str | None = None  # IANA name, for SCHEDULE


@dataclass(frozen=True)
class ReviewCadence:
    """`/okr review cadence O-n weekly|every 2 weeks|monthly|default`; cadence None: the workspace's."""

    objective: int
    cadence: str | None


@dataclass(frozen=True)
class ReviewPause:
    """`/okr review pause until 2027-01-05`: no review DMs for me before that day."""

    until: date


@dataclass(frozen=True)
class ReviewResume:
    """`/okr review resume`: end my pause now."""


class HolidayAction(StrEnum):
    LIST = "list"
    ADD = "add"
    REMOVE = "remove"


@dataclass(frozen=True)
class ReviewHolidays:
    """`/okr review holidays [add|remove 2026-12-24..2027-01-01]`."""

    action: HolidayAction = HolidayAction.LIST
    first: date | None = None
    last: date | None = None


@dataclass(frozen=True)
class ReviewSkipDays:
    """`/okr settings review-skip-days N`: an owner whose KRs were all checked in within N days is not nudged."""

    days: int


@dataclass(frozen=True)
class Edit:
    ref: Ref


@dataclass(frozen=True)
class Archive:
    objective: int


@dataclass(frozen=True)
class History:
    kr: int


@dataclass(frozen=True)
class FiscalYear:
    """`/okr settings fiscal-year starts <month>`; month None: show the settings."""

    month: int | None = None


@dataclass(frozen=True)
class Grade:
    kr: int
    grade: float  # 0.0 to 1.0
    note: str | None = None


@dataclass(frozen=True)
class ClosePeriod:
    period: str


@dataclass(frozen=True)
class ReopenPeriod:
    period: str


@dataclass(frozen=True)
class Carry:
    """`/okr carry O-n [KR-a KR-b …] [to <period>]`; no KRs: the unfinished ones."""

    objective: int
    krs: tuple[int, ...] = ()
    period: str | None = None


@dataclass(frozen=True)
class ReportChannel:
    """`/okr settings report-channel #channel`: where company scorecards go."""

    channel: ChannelRef


@dataclass(frozen=True)
class Report:
    """`/okr report [period] [#channel]`."""

    period: str | None = None
    channel: ChannelRef | None = None


# The tools that deliver to okrbot's webhooks (per-workspace URLs and secrets).
WEBHOOK_TOOLS = ("github", "gitlab", "jira", "linear", "work", "metric")


@dataclass(frozen=True)
class Webhooks:
    """Show this workspace's webhook URLs and secrets; rotate one tool's secret (a new
    random one), or set it to the one the tool made (Linear makes its own)."""

    tool: str | None = None  # one of WEBHOOK_TOOLS, to rotate or set
    secret: str | None = None  # set: the tool's own secret


# How progress is announced in a team channel (`/okr channel announce`).
ANNOUNCE_MODES = ("every", "thread", "daily")


@dataclass(frozen=True)
class ChannelAnnounce:
    """`/okr channel announce [every|thread|daily [17:00]]`: None shows the channel's mode."""

    mode: str | None = None
    digest_at: time | None = None  # daily: the hour of the digest (workspace time zone)


Command = (
    Status
    | Help
    | ObjectiveAdd
    | KrAdd
    | InitiativeAdd
    | Link
    | Unlink
    | Done
    | Reopen
    | Checkin
    | Serves
    | Gaps
    | Review
    | ReviewCadence
    | ReviewPause
    | ReviewResume
    | ReviewHolidays
    | ReviewSkipDays
    | Edit
    | Archive
    | History
    | CheckinFix
    | CheckinDelete
    | Chart
    | FiscalYear
    | Grade
    | ClosePeriod
    | ReopenPeriod
    | Carry
    | ReportChannel
    | Report
    | Webhooks
    | ChannelAnnounce
)
