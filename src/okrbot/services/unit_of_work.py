"""What a change works with: one transaction, the person acting, and the outbox.

Every surface (Slack listeners, webhooks, scheduled jobs, the shell) changes data through
a unit of work, so what it posts is queued in the same transaction as the change and
delivered once, after commit (store/outbox.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from okrbot.config import Settings
from okrbot.domain.commands import ChannelRef, UserRef
from okrbot.services.context import Actor
from okrbot.services.errors import Invalid
from okrbot.services.people import NoDirectory, PeopleDirectory, person_id
from okrbot.store import outbox

def block_dicts(blocks: Sequence[Any]) -> list[dict]:
    """Blocks as the outbox stores them: dicts, whatever built them."""
    return [block if isinstance(block, dict) else block.to_dict() for block in blocks]


@dataclass
class Outcome:
    reply: Any  # the presenter's answer
    queued: list[int]  # outbox ids to deliver now that the change is committed
    duplicate: bool = False  # the event was applied before; nothing was done
    answered: bool = False  # the reply is queued in the outbox (with `reply_to`)
    claimed: list[Any] = field(default_factory=list)  # of `queued`: rows born claimed, for the caller to send at once


@dataclass
class UnitOfWork:
    session: Session
    actor: Actor
    settings: Settings
    people: PeopleDirectory = field(default_factory=NoDirectory)  # who a typed @name means
    # Offline (okrbot shell) there is no directory: a typed @name or #name is the id.
    offline: bool = False
    queued: list[int] = field(default_factory=list)
    claimed: list[Any] = field(default_factory=list)  # outbox rows queued already claimed (`queue(claim=True)`)

    def user_id(self, ref: UserRef | None) -> str:
        """The Slack id of a mentioned user; the actor when none was given."""
        if ref is None:
            return self.actor.user_id
        if ref.id:
            return ref.id
        if self.offline:
            return ref.name or self.actor.user_id
        return person_id(self.people, self.actor.team_id, ref.name or "")

    def channel_id(self, ref: ChannelRef | None) -> str | None:
        if ref is None:
            return None
        if ref.id:
            return ref.id
        if self.offline:
            return ref.name
        raise Invalid(
            f"I can't tell which channel #{ref.name} is.",
            hint="Pick the channel from Slack's autocomplete: type # and choose it from the list.",
            field="team",
        )

    def post(
        self,
        channel: str,
        blocks: Sequence[Any],
        text: str,
        *,
        kind: str,
        initiative_id: int | None = None,
        dedupe_key: str | None = None,
        thread_ts: str | None = None,
        update_ts: str | None = None,
        parent_id: int | None = None,
    ) -> int:
        """Queue a channel message (or, with `update_ts`, an edit of one) in this
        transaction; it is delivered after commit. With `parent_id` it is a reply in the
        thread of that outbox row's message, sent once Slack has given the parent a ts.
        Returns the outbox row's id."""
        payload: dict = {"text": text, "blocks": block_dicts(blocks)}
        if update_ts:
            payload["ts"] = update_ts
        else:
            payload["unfurl_links"] = False
        if thread_ts:
            payload["thread_ts"] = thread_ts
        method = "chat.update" if update_ts else "chat.postMessage"
        return self.queue(method, channel, payload, kind=kind, initiative_id=initiative_id, dedupe_key=dedupe_key, parent_id=parent_id)

    def queue(
        self,
        method: str,
        channel: str,
        payload: dict,
        *,
        kind: str,
        claim: bool = False,
        initiative_id: int | None = None,
        dedupe_key: str | None = None,
        parent_id: int | None = None,
    ) -> int:
        """Queue any outbox message (an answer to a request, say) in this transaction;
        returns the outbox row's id.

        `claim`: the caller sends it itself right after commit (Outcome.claimed), so it is
        queued already claimed, saving a transaction per answer (store/outbox.py)."""
        message = outbox.enqueue(
            self.session,
            team_id=self.actor.team_id,
            kind=kind,
            channel=channel,
            payload=payload,
            now=self.actor.now,
            method=method,
            initiative_id=initiative_id,
            dedupe_key=dedupe_key,
            parent_id=parent_id,
            claimed_for=outbox.LEASE if claim else None,
        )
        self.queued.append(message.id)
        if claim:
            self.claimed.append(message)
        return message.id
