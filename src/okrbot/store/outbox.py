"""The outbox: messages written with the change they report, delivered after commit.

A row is claimed with a lease before sending, so several processes can drain
the same outbox without sending a message twice, and a process that dies
mid-send leaves the row to be retried when the lease runs out.

States: pending (due at next_attempt_at) → posting (claimed by one process, the
Slack call may be under way) → sent | pending (Slack said no: not posted) |
failed (given up). A row found in `posting` after its lease ran out belongs to
a process that died or lost its answer: Slack may or may not have the message,
so the next sender checks before posting again (adapters/slack/delivery.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Integer, bindparam, insert, update
from sqlmodel import Session, col, select

from okrbot.store.models import OutboundMessage

LEASE = timedelta(minutes=2)
PENDING, POSTING, SENT, FAILED = "pending", "posting", "sent", "failed"
# An initiative's card (with its Mark done button): updated in place, never posted twice in a channel.
CARD_KIND = "initiative"
ANNOUNCEMENT_PREFIX = "progress:"  # dedupe_key of a change's announcement: progress:<change id>:<channel>


@dataclass(frozen=True)
class Queued:
    """An outbox row as it was queued: what sending it right after commit needs."""

    id: int
    team_id: str
    kind: str
    channel: str
    method: str
    payload: dict
    dedupe_key: str | None
    parent_id: int | None
    initiative_id: int | None
    status: str
    attempts: int
    next_attempt_at: datetime
    created_at: datetime


# Built once: every answer is a row, and the ORM's add and flush cost a worker more CPU
# than the rest of a cached status answer (docs/performance.md).
_INSERT = insert(OutboundMessage.__table__).returning(OutboundMessage.__table__.c.id)


def enqueue(
    session: Session,
    *,
    team_id: str,
    kind: str,
    channel: str,
    payload: dict,
    now: datetime,
    method: str = "chat.postMessage",
    initiative_id: int | None = None,
    dedupe_key: str | None = None,
    parent_id: int | None = None,
    claimed_for: timedelta | None = None,
    send_at: datetime | None = None,
) -> Queued:
    """Queue a message in the caller's transaction (a taken `dedupe_key` raises
    IntegrityError), to go at `send_at` (default: now). With `claimed_for` it is born
    claimed (`posting`, one attempt, leased that long) by the process that will send it
    right after commit: no second transaction to claim it. A crash before that send leaves
    it as unsure as a crash during one, so only messages that may be sent again after an
    unknown outcome are queued this way (adapters/slack/delivery.py, `sent_at_once`)."""
    claimed = claimed_for is not None
    values = {
        "team_id": team_id,
        "kind": kind,
        "channel": channel,
        "method": method,
        "payload": {**payload, "channel": channel},
        "initiative_id": initiative_id,
        "dedupe_key": dedupe_key,
        "parent_id": parent_id,
        "status": POSTING if claimed else PENDING,
        "attempts": 1 if claimed else 0,
        "next_attempt_at": now + claimed_for if claimed else (send_at or now),
        "created_at": now,
    }
    session.flush()  # rows it may point at (its workspace, initiative, parent) are written first
    message_id = session.connection().execute(_INSERT, values).scalar_one()
    return Queued(id=message_id, **values)


def claim_due(session: Session, now: datetime, *, limit: int = 50, ids: Sequence[int] | None = None) -> list[OutboundMessage]:
    """Lease up to `limit` due messages to this caller; others skip them until the lease ends."""
    query = select(OutboundMessage.id).where(
        OutboundMessage.status.in_(("pending", "sending")), OutboundMessage.next_attempt_at <= now
    )
    if ids is not None:
        query = query.where(col(OutboundMessage.id).in_(list(ids)))
    candidates = session.exec(query.order_by(OutboundMessage.id).limit(limit)).all()
    claimed = []
    for message_id in candidates:
        # Compare-and-set: only one process wins each row.
        won = session.execute(
            update(OutboundMessage)
            .where(
                OutboundMessage.id == message_id,
                OutboundMessage.status.in_(("pending", "sending")),
                OutboundMessage.next_attempt_at <= now,
            )
            .values(status="sending", next_attempt_at=now + LEASE, attempts=OutboundMessage.attempts + 1)
            .execution_options(synchronize_session=False)
        ).rowcount
        if won:
            claimed.append(message_id)
    if not claimed:
        return []
    return list(session.exec(select(OutboundMessage).where(col(OutboundMessage.id).in_(claimed)).order_by(OutboundMessage.id)).all())


def due(session: Session, now: datetime, *, limit: int = 50, ids: Sequence[int] | None = None) -> list[tuple[int, str, str]]:
    """(id, status, method) of up to `limit` messages that may be sent now, oldest first."""
    query = select(OutboundMessage.id, OutboundMessage.status, OutboundMessage.method).where(
        col(OutboundMessage.status).in_((PENDING, "sending", POSTING)), OutboundMessage.next_attempt_at <= now
    )
    if ids is not None:
        query = query.where(col(OutboundMessage.id).in_(list(ids)))
    return [(message_id, status, method) for message_id, status, method in session.exec(query.order_by(OutboundMessage.id).limit(limit)).all()]


def claim(session: Session, message_id: int, seen_status: str, now: datetime, *, lease: timedelta = LEASE) -> OutboundMessage | None:
    """Take one message for sending right now, or None if another process took it first.

    Compare-and-set on the status and due time that were seen, so exactly one
    process wins; the row goes to `posting` for `lease` before Slack is called.
    The caller learns from `seen_status` whether an earlier attempt may have
    reached Slack (`posting`), which the bulk `claim_due` cannot tell.
    """
    # One statement: the row comes back with the update (both backends support RETURNING).
    return session.execute(
        update(OutboundMessage)
        .where(
            OutboundMessage.id == message_id,
            OutboundMessage.status == seen_status,
            OutboundMessage.next_attempt_at <= now,
        )
        .values(status=POSTING, next_attempt_at=now + lease, attempts=OutboundMessage.attempts + 1)
        .returning(OutboundMessage)
        .execution_options(synchronize_session=False)
    ).scalars().first()


def mark_unsure(
    session: Session, message_id: int, *, error: str, retry_at: datetime, give_up: bool = False, refund: bool = False
) -> None:
    """The Slack call's outcome is unknown (no answer, or a 5xx): stay `posting`, so the
    next attempt checks whether Slack has the message before sending it again. `give_up`
    ends it as failed, never sent blind; `refund` when the attempt should not count
    (Slack said "slow down" to the look-up)."""
    values: dict = {"status": FAILED if give_up else POSTING, "next_attempt_at": retry_at, "last_error": error[:500]}
    if refund:
        values["attempts"] = OutboundMessage.attempts - 1
    session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.id == message_id, OutboundMessage.status == POSTING)
        .values(values)
        .execution_options(synchronize_session=False)
    )


_table = OutboundMessage.__table__
_SENT = (  # built once, as _INSERT
    update(_table)
    .where(_table.c.id == bindparam("sent_id", type_=Integer))
    .values(status=SENT, sent_at=bindparam("sent_now", type_=_table.c.sent_at.type), sent_ts=bindparam("ts_given", type_=_table.c.sent_ts.type), last_error=None)
)


def mark_sent(on: Session | Connection, message_id: int, *, ts: str | None, now: datetime) -> None:
    """In a session's transaction, or on a connection (Database.each_statement_commits)."""
    connection = on.connection() if isinstance(on, Session) else on
    connection.execute(_SENT, {"sent_id": message_id, "sent_now": now, "ts_given": ts})


def mark_retry(
    session: Session, message_id: int, *, error: str, retry_at: datetime, give_up: bool = False, refund: bool = False
) -> None:
    """Try again at `retry_at`; `refund` when the attempt should not count (Slack said "slow down")."""
    values: dict = {"status": "failed" if give_up else "pending", "next_attempt_at": retry_at, "last_error": error[:500]}
    if refund:
        values["attempts"] = OutboundMessage.attempts - 1
    session.execute(
        update(OutboundMessage).where(OutboundMessage.id == message_id).values(values).execution_options(synchronize_session=False)
    )


def drop_unsent(session: Session, team_id: str, *, why: str, message_id: int | None = None) -> int:
    """Give up every message of a workspace not sent yet (or just one): okrbot was uninstalled
    there, so no token may send them. Returns how many were dropped."""
    where = [OutboundMessage.team_id == team_id, col(OutboundMessage.status).in_((PENDING, POSTING))]
    if message_id is not None:
        where.append(OutboundMessage.id == message_id)
    result = session.execute(
        update(OutboundMessage).where(*where).values(status=FAILED, last_error=why[:500]).execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


def redirect(session: Session, message_id: int, *, method: str, channel: str, payload: dict, now: datetime) -> None:
    """Send this message another way from now on (an answer whose response_url expired)."""
    session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.id == message_id)
        .values(method=method, channel=channel, payload={**payload, "channel": channel}, status=PENDING, next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )


def initiative_for_message(session: Session, team_id: str, channel: str, ts: str) -> int | None:
    """The initiative a posted message is about (for ✅ reactions on it)."""
    return session.exec(
        select(OutboundMessage.initiative_id).where(
            OutboundMessage.team_id == team_id,
            OutboundMessage.channel == channel,
            OutboundMessage.sent_ts == ts,
            col(OutboundMessage.initiative_id).is_not(None),
        )
    ).first()


def cards(session: Session, initiative_id: int) -> list[tuple[int, str, str | None]]:
    """(id, channel, ts) of every card about an initiative that Slack has or will have once
    the outbox sends it (queued, or sent with its outcome unknown: ts None); a second card in
    one of those channels would be a second live Mark done button."""
    rows = session.exec(
        select(OutboundMessage.id, OutboundMessage.channel, OutboundMessage.sent_ts).where(
            OutboundMessage.initiative_id == initiative_id,
            OutboundMessage.kind == CARD_KIND,
            col(OutboundMessage.status).in_((PENDING, POSTING, SENT)),
        )
    ).all()
    return [(message_id, channel, ts) for message_id, channel, ts in rows]


def revise_unsent(session: Session, ids: Sequence[int], *, text: str, blocks: list[dict]) -> None:
    """Messages not in Slack yet (no ts to update) go out with this content instead."""
    rows = session.exec(
        select(OutboundMessage).where(col(OutboundMessage.id).in_(list(ids)), col(OutboundMessage.status).in_((PENDING, POSTING)))
    ).all()
    for row in rows:
        row.payload = {**row.payload, "text": text, "blocks": blocks}
    session.flush()


def payload_of(session: Session, message_id: int) -> dict:
    return session.exec(select(OutboundMessage.payload).where(OutboundMessage.id == message_id)).one()


def announcements_of(session: Session, team_id: str, change_id: int) -> list[OutboundMessage]:
    """The messages that announced a change in channels (one per channel)."""
    return list(
        session.exec(
            select(OutboundMessage).where(
                OutboundMessage.team_id == team_id,
                col(OutboundMessage.dedupe_key).startswith(f"{ANNOUNCEMENT_PREFIX}{change_id}:"),
            )
        ).all()
    )


def thread_parent(session: Session, parent_id: int) -> tuple[str, str | None]:
    """(status, ts) of the message a reply goes under; ("failed", None) when it is gone."""
    row = session.exec(select(OutboundMessage.status, OutboundMessage.sent_ts).where(OutboundMessage.id == parent_id)).first()
    return (row[0], row[1]) if row is not None else (FAILED, None)


def set_thread(session: Session, message_id: int, thread_ts: str | None) -> dict:
    """Put a reply under its parent's ts (or, with None, post it on its own); returns the payload."""
    row = session.exec(select(OutboundMessage).where(OutboundMessage.id == message_id)).one()
    payload = {key: value for key, value in row.payload.items() if key != "thread_ts"}
    if thread_ts:
        payload["thread_ts"] = thread_ts
    row.payload, row.parent_id = payload, None
    session.flush()
    return payload


def reply_under(session: Session, message_id: int, parent_id: int) -> None:
    """Send this queued message as a reply in the thread of another."""
    session.execute(update(OutboundMessage).where(OutboundMessage.id == message_id).values(parent_id=parent_id).execution_options(synchronize_session=False))
