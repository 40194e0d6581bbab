"""Quieter channels: how each team channel hears about progress (`/okr channel announce`).

every: each change is posted (the default). thread: the first change of an objective in an
ISO week opens a thread in the channel, later ones that week reply in it. daily: changes are
held and posted as one digest a day at the channel's hour (workspace time zone).

Exactly once for digests: the digest's outbox row has a unique dedupe key per channel and
day, and each held change is taken by one digest only (compare-and-set on its message_id),
both in the transaction that queues the digest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from okrbot.domain.commands import ANNOUNCE_MODES
from okrbot.services.context import Actor
from okrbot.services.errors import Invalid, NotAllowed
from okrbot.services.periods import ADMINS
from okrbot.services.reviews import workspace_tz
from okrbot.store import outbox
from okrbot.store.models import AnnounceThread, Change, ChannelAnnounce, DigestItem, Objective, OutboundMessage, Workspace

EVERY, THREAD, DAILY = ANNOUNCE_MODES
DEFAULT_DIGEST_AT = time(17, 0)
DIGEST_KIND = "progress_digest"
DIGEST_PREFIX = "digest:"  # dedupe_key of a daily digest: digest:<team>:<channel>:<day>[:<part>]


@dataclass(frozen=True)
class ChannelMode:
    channel: str
    mode: str = EVERY
    digest_at: time | None = None
    set_by: str | None = None


@dataclass(frozen=True)
class HeldChange:
    """A change waiting for (or carried by) a digest."""

    id: int
    change_id: int | None
    text: str
    at: datetime


@dataclass(frozen=True)
class Digest:
    """The changes one digest carries, and the key that makes it once per channel and day."""

    team_id: str
    channel: str
    day: date | None  # None: the changes left when a channel stopped being daily
    items: list[HeldChange]

    def key(self, part: int) -> str | None:
        if self.day is None:
            return None
        return f"{DIGEST_PREFIX}{self.team_id}:{self.channel}:{self.day.isoformat()}:{part}"


# --------------------------------------------------------------------------- the setting


def modes_of(session: Session, team_id: str, channels: list[str]) -> dict[str, ChannelMode]:
    """Each channel's mode (every, when none was chosen)."""
    rows = session.exec(
        select(ChannelAnnounce).where(ChannelAnnounce.team_id == team_id, col(ChannelAnnounce.channel).in_(channels))
    ).all() if channels else []
    found = {row.channel: _mode(row) for row in rows}
    return {channel: found.get(channel, ChannelMode(channel)) for channel in channels}


def mode_here(session: Session, actor: Actor) -> ChannelMode:
    channel = _team_channel_here(actor)
    return modes_of(session, actor.team_id, [channel])[channel]


def set_mode(session: Session, actor: Actor, mode: str, digest_at: time | None) -> tuple[ChannelMode, Digest | None]:
    """Choose how this channel hears progress. Returns the new mode and, when the channel
    stops being daily, the changes it still held (to be posted now, not lost)."""
    channel = _team_channel_here(actor)
    require_may_set(session, actor, channel)
    row = session.exec(select(ChannelAnnounce).where(ChannelAnnounce.team_id == actor.team_id, ChannelAnnounce.channel == channel)).first()
    if row is None:
        row = ChannelAnnounce(team_id=actor.team_id, channel=channel, set_by=actor.user_id)
        session.add(row)
    row.mode = mode
    row.digest_minute = _minutes(digest_at or DEFAULT_DIGEST_AT) if mode == DAILY else None
    row.set_by, row.set_at = actor.user_id, actor.now
    session.flush()
    left = waiting(session, actor.team_id, channel, before=None) if mode != DAILY else []
    return _mode(row), Digest(actor.team_id, channel, None, left) if left else None


def require_may_set(session: Session, actor: Actor, channel: str) -> None:
    if actor.is_admin or actor.system:
        return
    owners = objective_owners(session, actor.team_id, channel)
    if actor.user_id in owners:
        return
    who = f"{ADMINS} or the owners of this channel's objectives ({', '.join(f'<@{owner}>' for owner in owners)})" if owners else ADMINS
    raise NotAllowed(f"Only {who} can change how progress is announced here.", hint="Ask one of them, or see the mode with `/okr channel announce`.")


def objective_owners(session: Session, team_id: str, channel: str) -> list[str]:
    """Owners of the active objectives whose team is this channel."""
    return sorted(
        set(
            session.exec(
                select(Objective.owner).where(Objective.team_id == team_id, Objective.team_channel == channel, Objective.status == "active")
            ).all()
        )
    )


def _team_channel_here(actor: Actor) -> str:
    if not actor.channel_id or actor.in_dm:
        raise Invalid("How progress is announced is chosen per team channel.", hint="Type `/okr channel announce …` in that channel.")
    return actor.channel_id


def _mode(row: ChannelAnnounce) -> ChannelMode:
    at = time(row.digest_minute // 60, row.digest_minute % 60) if row.digest_minute is not None else None
    return ChannelMode(row.channel, row.mode, at, row.set_by)


def _minutes(at: time) -> int:
    return at.hour * 60 + at.minute


# --------------------------------------------------------------------------- threads


def week_of(moment: datetime, tz: ZoneInfo) -> str:
    """The ISO week of a moment in the workspace's time zone: 2026-W49."""
    year, week, _ = moment.astimezone(tz).isocalendar()
    return f"{year}-W{week:02d}"


def team_tz(session: Session, team_id: str, default: ZoneInfo) -> ZoneInfo:
    return workspace_tz(session.get(Workspace, team_id), default)


def thread_of(session: Session, team_id: str, channel: str, objective_id: int, week: str) -> int | None:
    """The outbox row that opened this objective's thread in the channel this week."""
    return session.exec(
        select(AnnounceThread.message_id).where(
            AnnounceThread.team_id == team_id,
            AnnounceThread.channel == channel,
            AnnounceThread.objective_id == objective_id,
            AnnounceThread.week == week,
        )
    ).first()


def open_thread(session: Session, team_id: str, channel: str, objective_id: int, week: str, message_id: int) -> int:
    """Make `message_id` this week's thread of the objective in the channel; returns the
    thread's message, another one when a concurrent change opened it first."""
    try:
        with session.begin_nested():
            session.add(AnnounceThread(team_id=team_id, channel=channel, objective_id=objective_id, week=week, message_id=message_id))
            session.flush()
    except IntegrityError:
        found = thread_of(session, team_id, channel, objective_id, week)
        return found if found is not None else message_id
    return message_id


# --------------------------------------------------------------------------- daily digests


def hold(session: Session, team_id: str, channel: str, change_id: int | None, text: str, now: datetime) -> None:
    """Keep a change for the channel's next digest."""
    session.add(DigestItem(team_id=team_id, channel=channel, change_id=change_id, text=text[:3000], created_at=now))
    session.flush()


def waiting(session: Session, team_id: str, channel: str, *, before: datetime | None) -> list[HeldChange]:
    query = select(DigestItem).where(DigestItem.team_id == team_id, DigestItem.channel == channel, col(DigestItem.message_id).is_(None))
    if before is not None:
        query = query.where(DigestItem.created_at < before)
    rows = session.exec(query.order_by(DigestItem.created_at, DigestItem.id)).all()
    return [HeldChange(row.id, row.change_id, row.text, row.created_at) for row in rows]


def revise(session: Session, team_id: str, change_id: int, text: str) -> list[tuple[int, str]]:
    """A corrected change says `text` now, in the digest still to come and in the one
    that carried it: returns (digest message, the text it showed) for the latter."""
    rows = session.exec(select(DigestItem).where(DigestItem.team_id == team_id, DigestItem.change_id == change_id)).all()
    shown = [(row.message_id, row.text) for row in rows if row.message_id is not None]
    for row in rows:
        row.text = text[:3000]
    session.flush()
    return shown


def channels_waiting(session: Session) -> list[tuple[str, str]]:
    """(team, channel) of every channel with changes held for a digest."""
    rows = session.exec(select(DigestItem.team_id, DigestItem.channel).where(col(DigestItem.message_id).is_(None)).distinct()).all()
    return sorted((team_id, channel) for team_id, channel in rows)


def due_digest(session: Session, team_id: str, channel: str, now: datetime, default_tz: ZoneInfo) -> Digest | None:
    """The digest this channel owes at `now`: the changes held from before its last digest
    moment (today's hour if it has passed, else yesterday's). A channel no longer daily owes
    what it still holds at once."""
    mode = modes_of(session, team_id, [channel])[channel]
    if mode.mode != DAILY:
        items = waiting(session, team_id, channel, before=None)
        return Digest(team_id, channel, None, items) if items else None
    tz = team_tz(session, team_id, default_tz)
    local = now.astimezone(tz)
    at = mode.digest_at or DEFAULT_DIGEST_AT
    day = local.date() if local.time() >= at else local.date() - timedelta(days=1)
    moment = datetime.combine(day, at, tzinfo=tz)
    items = waiting(session, team_id, channel, before=moment)
    return Digest(team_id, channel, day, items) if items else None


def claim_digest(session: Session, digest: Digest, parts: list[tuple[dict, list[int]]], now: datetime) -> list[int]:
    """Queue the digest, one message per part (its payload and the held changes it carries),
    and give each message its changes; returns the outbox ids, none when another process (or
    an earlier run) already sent this channel's digest for that day or took its changes."""
    try:
        with session.begin_nested():
            ids = [
                outbox.enqueue(
                    session, team_id=digest.team_id, kind=DIGEST_KIND, channel=digest.channel, payload=payload, now=now, dedupe_key=digest.key(part)
                ).id
                for part, (payload, _items) in enumerate(parts, start=1)
            ]
    except IntegrityError:
        return []  # that day's digest exists: its dedupe key is taken
    taken = sum(_take(session, items, message_id) for message_id, (_payload, items) in zip(ids, parts, strict=True))
    if taken != len(digest.items):  # another digest took some first: this one is not sent
        session.execute(delete(OutboundMessage).where(col(OutboundMessage.id).in_(ids)))
        return []
    return ids


def undoable(session: Session, change_ids: list[int]) -> set[int]:
    """The changes that may still be undone (their Undo button is still shown)."""
    if not change_ids:
        return set()
    return set(session.exec(select(Change.id).where(col(Change.id).in_(change_ids), col(Change.undone_at).is_(None))).all())


def _take(session: Session, item_ids: list[int], message_id: int) -> int:
    """Mark held changes as carried by `message_id`, each by one digest only (compare-and-set);
    returns how many this call took."""
    return session.execute(
        update(DigestItem)
        .where(col(DigestItem.id).in_(item_ids), col(DigestItem.message_id).is_(None))
        .values(message_id=message_id)
        .execution_options(synchronize_session=False)
    ).rowcount
