"""SQLModel tables. Every row carries `team_id`; every query filters on it.

Short ids (O-n, KR-n, I-n) are the `number` columns, allocated from the
workspace's counters so they are never reused, even after deletes.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Column, DateTime, ForeignKey, Index, Integer, LargeBinary, MetaData, String, Table, UniqueConstraint, func
from sqlmodel import Field, SQLModel

from okrbot.store.types import UtcDateTime, utcnow

# Named constraints keep Alembic migrations stable across backends; set before any model.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata: MetaData = SQLModel.metadata


def _when(**kwargs: Any) -> Any:
    return Field(sa_type=UtcDateTime, **kwargs)


def _fk(target: str, *, nullable: bool = False, ondelete: str = "CASCADE") -> Any:
    return Field(
        default=None,
        sa_column=Column(Integer, ForeignKey(target, ondelete=ondelete), nullable=nullable, index=True),
    )


class Workspace(SQLModel, table=True):
    team_id: str = Field(primary_key=True, max_length=32)
    name: str = Field(default="", max_length=200)
    timezone: str | None = Field(default=None, max_length=64)
    next_objective: int = 0
    next_kr: int = 0
    next_initiative: int = 0
    # Moves with every change the "serves" matcher reads (store/revisions.py).
    okr_revision: int = 0
    # Moves with every change to what `/okr status` shows (store/revisions.py).
    status_revision: int = 0
    review_schedule: str | None = Field(default=None, max_length=200)
    review_enabled: bool = True
    # Scheduled review runs before this instant are not caught up: set when the
    # schedule changes or reviews are turned on, so that never nudges at once.
    review_since: datetime | None = _when(default=None)
    created_at: datetime = _when(default_factory=utcnow)
    # The month (1-12) the fiscal year starts in; None: OKRBOT_FISCAL_YEAR_START.
    fiscal_year_start: int | None = None
    # Where the company scorecard goes when a period closes (`/okr settings report-channel`).
    report_channel: str | None = Field(default=None, max_length=32)
    # Its Enterprise Grid organisation, when it has one (learnt from its requests): an org-wide
    # OAuth install is the organisation's, so this is how a scheduled job finds its token.
    enterprise_id: str | None = Field(default=None, max_length=32)
    # An owner whose KRs were all checked in within this many days is not nudged (None: 5, 0: never skip).
    review_skip_days: int | None = None


class Objective(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("team_id", "number"),
        Index("ix_objective_team_period", "team_id", "period"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(foreign_key="workspace.team_id", max_length=32)
    number: int
    title: str = Field(max_length=500)
    owner: str = Field(max_length=32, index=True)
    team_channel: str | None = Field(default=None, max_length=32)
    period: str = Field(max_length=16)
    parent_id: int | None = _fk("objective.id", nullable=True, ondelete="SET NULL")
    description: str = Field(default="", max_length=3000)
    private: bool = False
    status: str = Field(default="active", max_length=16)
    created_by: str | None = Field(default=None, max_length=32)
    created_at: datetime = _when(default_factory=utcnow)
    updated_at: datetime = _when(default_factory=utcnow)
    # The id of the objective this one continues (`/okr carry`): one carry per source.
    # No foreign key: SQLite cannot add one to an existing table, and rows are archived, not deleted.
    carried_from_id: int | None = Field(
        default=None, sa_column=Column(Integer, nullable=True, unique=True, index=True)
    )
    # `/okr review cadence O-n weekly|every 2 weeks|monthly`; None: the workspace's schedule.
    review_cadence: str | None = Field(default=None, max_length=16)


class KeyResult(SQLModel, table=True):
    __tablename__ = "key_result"
    __table_args__ = (UniqueConstraint("team_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(foreign_key="workspace.team_id", max_length=32)
    number: int
    objective_id: int = _fk("objective.id")
    title: str = Field(max_length=500)
    owner: str = Field(max_length=32, index=True)
    metric: str = Field(max_length=16)
    direction: str = Field(max_length=16)
    keep: str | None = Field(default=None, max_length=8)
    start: float | None = None
    target: float | None = None
    current: float | None = None
    unit: str | None = Field(default=None, max_length=32)
    weight: float = 1.0
    confidence: int | None = None
    status: str = Field(default="active", max_length=16)
    # Last check-in or done work: "no data" health and staleness read this.
    last_progress_at: datetime | None = _when(default=None)
    created_at: datetime = _when(default_factory=utcnow)
    updated_at: datetime = _when(default_factory=utcnow)
    # committed (expected to reach 1.0) | aspirational (0.7 is success) | None: not said.
    commitment: str | None = Field(default=None, max_length=16)
    # The end-of-period grade, 0.0-1.0; `grade_source` says who set it: owner | suggested.
    grade: float | None = None
    grade_note: str = Field(default="", max_length=3000)
    grade_source: str | None = Field(default=None, max_length=16)
    graded_by: str | None = Field(default=None, max_length=32)
    graded_at: datetime | None = _when(default=None)
    carried_from_id: int | None = Field(
        default=None, sa_column=Column(Integer, nullable=True, unique=True, index=True)
    )


class Initiative(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("team_id", "number"),
        Index("ix_initiative_team_url", "team_id", "url_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(foreign_key="workspace.team_id", max_length=32)
    number: int
    title: str = Field(max_length=500)
    owner: str | None = Field(default=None, max_length=32)
    status: str = Field(default="todo", max_length=16)
    url: str | None = Field(default=None, max_length=2000)
    # The URL normalised for matching webhooks and /okr link <url>.
    url_key: str | None = Field(default=None, max_length=2000)
    created_at: datetime = _when(default_factory=utcnow)
    updated_at: datetime = _when(default_factory=utcnow)


class KrLink(SQLModel, table=True):
    __tablename__ = "kr_link"
    __table_args__ = (UniqueConstraint("initiative_id", "kr_id"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(foreign_key="workspace.team_id", max_length=32)
    initiative_id: int = _fk("initiative.id")
    kr_id: int = _fk("key_result.id")
    weight: float = 1.0
    created_at: datetime = _when(default_factory=utcnow)
    # Whether the work was done when its KR's period closed: a closed KR reads this, not the
    # initiative's status now, so work done later (say, carried over) does not move it. None: open.
    done_at_close: bool | None = None


class CheckIn(SQLModel, table=True):
    __tablename__ = "checkin"

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(foreign_key="workspace.team_id", max_length=32)
    kr_id: int = _fk("key_result.id")
    at: datetime = _when(default_factory=utcnow)
    value: float | None = None
    confidence: int | None = None
    note: str = Field(default="", max_length=3000)
    author: str = Field(max_length=32)
    source: str = Field(max_length=16)


class Change(SQLModel, table=True):
    """One audited change (done, reopen, undo, link, unlink, check-in, …).

    `snapshot` holds the exact state before the change so Undo can restore it.
    """

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(foreign_key="workspace.team_id", max_length=32, index=True)
    at: datetime = _when(default_factory=utcnow)
    actor: str = Field(max_length=32)
    action: str = Field(max_length=16)
    source: str = Field(default="command", max_length=16)
    initiative_id: int | None = _fk("initiative.id", nullable=True, ondelete="SET NULL")
    summary: str = Field(default="", max_length=3000)
    snapshot: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    reverts_id: int | None = _fk("change.id", nullable=True, ondelete="SET NULL")
    undone_at: datetime | None = _when(default=None)


class ChangeKr(SQLModel, table=True):
    """Which KRs a change moved, from what to what (for /okr history KR-n)."""

    __tablename__ = "change_kr"
    __table_args__ = (UniqueConstraint("change_id", "kr_id"),)

    id: int | None = Field(default=None, primary_key=True)
    change_id: int = _fk("change.id")
    kr_id: int = _fk("key_result.id")
    before: float | None = None
    after: float | None = None


class ProcessedEvent(SQLModel, table=True):
    """Keys of events and webhook deliveries already applied: retries change nothing."""

    __tablename__ = "processed_event"

    key: str = Field(primary_key=True, max_length=200)
    team_id: str = Field(max_length=32)
    at: datetime = _when(default_factory=utcnow)


class ReviewCycle(SQLModel, table=True):
    __tablename__ = "review_cycle"
    __table_args__ = (UniqueConstraint("team_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(foreign_key="workspace.team_id", max_length=32)
    key: str = Field(max_length=32)
    period: str = Field(max_length=16)
    due_at: datetime = _when()
    started_at: datetime = _when(default_factory=utcnow)
    closes_at: datetime = _when()
    digest_sent_at: datetime | None = _when(default=None)
    # The rhythm it serves (schedule words); None: the workspace's own schedule.
    schedule: str | None = Field(default=None, max_length=200)


class Nudge(SQLModel, table=True):
    """A claimed review DM: unique per owner per cycle, claimed before it is sent."""

    __table_args__ = (UniqueConstraint("cycle_id", "owner"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(foreign_key="workspace.team_id", max_length=32)
    cycle_id: int = _fk("review_cycle.id")
    owner: str = Field(max_length=32)
    status: str = Field(default="claimed", max_length=16)
    channel: str | None = Field(default=None, max_length=32)
    ts: str | None = Field(default=None, max_length=32, index=True)
    claimed_at: datetime = _when(default_factory=utcnow)
    sent_at: datetime | None = _when(default=None)
    answered_at: datetime | None = _when(default=None)
    reminders_sent: int = 0
    last_reminded_at: datetime | None = _when(default=None)
    escalated_at: datetime | None = _when(default=None)


class OutboundMessage(SQLModel, table=True):
    """A message to Slack written in the same transaction as the change it reports,
    then delivered (and retried) after commit, so nothing acknowledged is lost."""

    __tablename__ = "outbound_message"
    __table_args__ = (
        UniqueConstraint("dedupe_key"),
        Index("ix_outbound_message_due", "status", "next_attempt_at"),
        Index("ix_outbound_message_sent", "team_id", "channel", "sent_ts"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(foreign_key="workspace.team_id", max_length=32)
    kind: str = Field(max_length=32)
    channel: str = Field(max_length=32)
    # The initiative a message is about: a ✅ on it marks that initiative done.
    initiative_id: int | None = _fk("initiative.id", nullable=True, ondelete="SET NULL")
    # A reply in the thread of this message: it waits until the parent has its ts (adapters/slack/delivery.py).
    parent_id: int | None = _fk("outbound_message.id", nullable=True, ondelete="SET NULL")
    dedupe_key: str | None = Field(default=None, max_length=200)
    method: str = Field(default="chat.postMessage", max_length=64)
    payload: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = _when(default_factory=utcnow)
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = _when(default_factory=utcnow)
    sent_at: datetime | None = _when(default=None)
    sent_ts: str | None = Field(default=None, max_length=32)


class InboundRequest(SQLModel, table=True):
    """A request Slack or a webhook sender was told we have: written before the 200 goes back,
    claimed by one worker at a time, done once (store/inbox.py)."""

    __tablename__ = "inbound_request"
    __table_args__ = (UniqueConstraint("key"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200)  # event_id, trigger_id, view id + hash, X-GitHub-Delivery, …
    route: str = Field(max_length=16)
    team_id: str | None = Field(default=None, max_length=32)
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    headers: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    query: str = Field(default="", max_length=2000)
    answer_wanted: bool = False  # the sender reads the answer (a modal's field errors, a webhook)
    status: str = Field(default="pending", max_length=16)  # pending → working → done
    worker: str | None = Field(default=None, max_length=100)
    attempts: int = 0
    received_at: datetime = _when(default_factory=utcnow)
    lease_until: datetime | None = _when(default=None)
    done_at: datetime | None = _when(default=None)
    answer_status: int | None = None
    answer_body: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    answer_headers: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))


# The requests not done yet, in the order workers take them. Partial, and read in order by a
# plain index scan: a queue's rows leave dead index entries behind them with every change of
# status until vacuum runs, and a scan of (status, lease_until) visited every one of them
# (16 ms of PostgreSQL CPU per claim after 20,000 requests). An ordered scan marks the dead
# entries it meets, so the next claim skips them.
Index(
    "ix_inbound_request_open",
    InboundRequest.__table__.c.answer_wanted.desc(),
    InboundRequest.__table__.c.id,
    postgresql_where=InboundRequest.__table__.c.status != "done",
    sqlite_where=InboundRequest.__table__.c.status != "done",
)


class OkrPeriod(SQLModel, table=True):
    """A period that was closed (graded and frozen) or reopened; periods with no row are open."""

    __tablename__ = "okr_period"
    __table_args__ = (UniqueConstraint("team_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(foreign_key="workspace.team_id", max_length=32)
    name: str = Field(max_length=16)
    closed_at: datetime | None = _when(default=None)
    closed_by: str | None = Field(default=None, max_length=32)
    # Reopened by an admin: the grading window's end does not close it again.
    reopened_at: datetime | None = _when(default=None)


class GradingDm(SQLModel, table=True):
    """A claimed grading DM: unique per owner per period, claimed before it is sent."""

    __tablename__ = "grading_dm"
    __table_args__ = (UniqueConstraint("team_id", "period", "owner"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(foreign_key="workspace.team_id", max_length=32)
    period: str = Field(max_length=16)
    owner: str = Field(max_length=32)
    channel: str | None = Field(default=None, max_length=32)
    ts: str | None = Field(default=None, max_length=32, index=True)
    claimed_at: datetime = _when(default_factory=utcnow)


class WebhookSecret(SQLModel, table=True):
    """A workspace's own webhook URL token and secret for one tool (github, gitlab, …):
    a delivery to /webhooks/<tool>/<token> is checked with this secret and moves only
    this workspace's work."""

    __tablename__ = "webhook_secret"
    __table_args__ = (UniqueConstraint("team_id", "vendor"), UniqueConstraint("token"))

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(foreign_key="workspace.team_id", max_length=32)
    vendor: str = Field(max_length=16)
    token: str = Field(max_length=64)
    secret: str = Field(max_length=128)
    created_at: datetime = _when(default_factory=utcnow)
    rotated_at: datetime | None = _when(default=None)


ALL_TABLES = [
    Workspace,
    Objective,
    KeyResult,
    Initiative,
    KrLink,
    CheckIn,
    Change,
    ChangeKr,
    ProcessedEvent,
    ReviewCycle,
    Nudge,
    OutboundMessage,
    InboundRequest,
    OkrPeriod,
    GradingDm,
    WebhookSecret,
]


class ServesFeedback(SQLModel, table=True):
    """"Not this one" on a "does this serve a KR?" answer: this request does not serve
    this KR. Negative evidence the matcher reads (services/serves.py); one row per
    person, KR and request."""

    __tablename__ = "serves_feedback"
    __table_args__ = (UniqueConstraint("kr_id", "user_id", "request_key"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(foreign_key="workspace.team_id", max_length=32, index=True)
    kr_id: int = _fk("key_result.id")
    request: str = Field(max_length=2000)
    # The request lower-cased with its spaces squeezed: the same words are one rejection.
    request_key: str = Field(max_length=255)
    user_id: str = Field(max_length=32)
    created_at: datetime = _when(default_factory=utcnow)


class ServesChange(SQLModel, table=True):
    """The journal of the OKR revision (store/revisions.py): per revision, the KRs whose
    "serves" evidence it may have changed, so a cached index re-reads only those
    (services/serves.py). Every revision has at least one row; `kr_id` None is a revision
    that changed no KR's evidence, or, with `every_kr`, one that may have changed any
    (a bulk import). Rows older than what a cache could still use are pruned."""

    __tablename__ = "serves_change"
    __table_args__ = (Index("ix_serves_change_team_revision", "team_id", "revision"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(foreign_key="workspace.team_id", max_length=32)
    revision: int
    kr_id: int | None = None  # no foreign key: a deleted KR is a change too
    every_kr: bool = False


class ChannelAnnounce(SQLModel, table=True):
    """How progress is announced in one team channel (`/okr channel announce`); a channel
    without a row hears every change."""

    __tablename__ = "channel_announce"
    __table_args__ = (UniqueConstraint("team_id", "channel"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(foreign_key="workspace.team_id", max_length=32)
    channel: str = Field(max_length=32)
    mode: str = Field(default="every", max_length=16)  # every | thread | daily
    digest_minute: int | None = None  # daily: minutes after midnight, workspace time zone
    set_by: str = Field(max_length=32)
    set_at: datetime = _when(default_factory=utcnow)


class AnnounceThread(SQLModel, table=True):
    """Thread mode: the message that opened an objective's thread in a channel for one ISO week."""

    __tablename__ = "announce_thread"
    __table_args__ = (UniqueConstraint("team_id", "channel", "objective_id", "week"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(foreign_key="workspace.team_id", max_length=32)
    channel: str = Field(max_length=32)
    objective_id: int = _fk("objective.id")
    week: str = Field(max_length=10)  # 2026-W49
    message_id: int = _fk("outbound_message.id")


class DigestItem(SQLModel, table=True):
    """Daily mode: one change held for the channel's next digest; `message_id` is the digest
    that carried it (claimed once, compare-and-set)."""

    __tablename__ = "digest_item"
    __table_args__ = (Index("ix_digest_item_waiting", "team_id", "channel", "message_id"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(foreign_key="workspace.team_id", max_length=32)
    channel: str = Field(max_length=32)
    change_id: int | None = _fk("change.id", nullable=True, ondelete="SET NULL")
    text: str = Field(max_length=3000)  # mrkdwn, as the announcement would have said it
    created_at: datetime = _when(default_factory=utcnow)
    message_id: int | None = _fk("outbound_message.id", nullable=True, ondelete="SET NULL")


# slack_sdk's OAuth installation and state tables, declared here so that Alembic migrates them
# (0015_oauth_installations) and `okrbot workspace delete` finds them. The columns are slack_sdk's
# own (SQLAlchemyInstallationStore.build_*_table, SQLAlchemyOAuthStateStore.build_oauth_states_table);
# its stores read and write these rows through their own Table objects on okrbot's engine.
def _install_keys() -> list[Column]:
    return [
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("client_id", String(32), nullable=False),
        Column("app_id", String(32), nullable=False),
        Column("enterprise_id", String(32)),
        Column("enterprise_name", String(200)),
    ]


def _bot_token_columns() -> list[Column]:
    return [
        Column("bot_token", String(200)),
        Column("bot_id", String(32)),
        Column("bot_user_id", String(32)),
        Column("bot_scopes", String(1000)),
        Column("bot_refresh_token", String(200)),
        Column("bot_token_expires_at", DateTime),
    ]


installations = Table(
    "slack_installations",
    metadata,
    *_install_keys(),
    Column("enterprise_url", String(200)),
    Column("team_id", String(32)),
    Column("team_name", String(200)),
    *_bot_token_columns(),
    Column("user_id", String(32), nullable=False),
    Column("user_token", String(200)),
    Column("user_scopes", String(1000)),
    Column("user_refresh_token", String(200)),
    Column("user_token_expires_at", DateTime),
    Column("incoming_webhook_url", String(200)),
    Column("incoming_webhook_channel", String(200)),
    Column("incoming_webhook_channel_id", String(200)),
    Column("incoming_webhook_configuration_url", String(200)),
    Column("is_enterprise_install", Boolean, default=False, nullable=False),
    Column("token_type", String(32)),
    Column("installed_at", DateTime, nullable=False, default=func.now()),
    Index("slack_installations_idx", "client_id", "enterprise_id", "team_id", "user_id", "installed_at"),
)

bots = Table(
    "slack_bots",
    metadata,
    *_install_keys(),
    Column("team_id", String(32)),
    Column("team_name", String(200)),
    *_bot_token_columns(),
    Column("is_enterprise_install", Boolean, default=False, nullable=False),
    Column("installed_at", DateTime, nullable=False, default=func.now()),
    Index("slack_bots_idx", "client_id", "enterprise_id", "team_id", "installed_at"),
)

oauth_states = Table(
    "slack_oauth_states",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("state", String(200), nullable=False),
    Column("expire_at", DateTime, nullable=False),
)

OAUTH_TABLES = (installations, bots, oauth_states)
class ReviewHoliday(SQLModel, table=True):
    """Days a workspace takes off: review runs falling on them move to the next working day."""

    __tablename__ = "review_holiday"
    __table_args__ = (UniqueConstraint("team_id", "first_day", "last_day"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(foreign_key="workspace.team_id", max_length=32)
    first_day: date
    last_day: date
    added_by: str | None = Field(default=None, max_length=32)


class ReviewPause(SQLModel, table=True):
    """A person's `/okr review pause until <day>`: no nudges or reminders before that day."""

    __tablename__ = "review_pause"

    team_id: str = Field(foreign_key="workspace.team_id", max_length=32, primary_key=True)
    user_id: str = Field(max_length=32, primary_key=True)
    paused_until: date | None = None


class UnpromptedDm(SQLModel, table=True):
    """Each DM okrbot sends someone unasked (nudges, reminders, grading DMs), at the moment it
    may go: the weekly cap counts these."""

    __tablename__ = "unprompted_dm"
    __table_args__ = (UniqueConstraint("dedupe_key"), Index("ix_unprompted_dm_person", "team_id", "user_id", "at"))

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(foreign_key="workspace.team_id", max_length=32)
    user_id: str = Field(max_length=32)
    at: datetime = _when()
    kind: str = Field(max_length=32)
    dedupe_key: str = Field(max_length=200)
