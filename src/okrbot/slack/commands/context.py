"""What a command handler works with: the unit of work, the actor, and the outbox."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from slack_sdk.models.blocks import Block
from sqlmodel import Session

from okrbot.config import Settings
from okrbot.domain.commands import ChannelRef, UserRef
from okrbot.services.context import Actor
from okrbot.services.errors import Invalid
from okrbot.store import outbox

# Looks a raw @name up in the workspace; None when nobody has that name.
UserResolver = Callable[[str], str | None]


def resolve_nothing(_name: str) -> str | None:
    return None


@dataclass
class CommandContext:
    session: Session
    actor: Actor
    settings: Settings
    resolve_user: UserResolver = resolve_nothing
    # Offline (okrbot shell) there is no directory: a typed @name or #name is the id.
    offline: bool = False
    queued: list[int] = field(default_factory=list)

    def user_id(self, ref: UserRef | None) -> str:
        """The Slack id of a mentioned user; the actor when none was given."""
        if ref is None:
            return self.actor.user_id
        if ref.id:
            return ref.id
        if self.offline:
            return ref.name or self.actor.user_id
        found = self.resolve_user(ref.name or "")
        if not found:
            raise Invalid(
                f"I can't tell who @{ref.name} is.",
                hint="Mention them with Slack's autocomplete: type @ and pick the name from the list.",
                field="owner",
            )
        return found

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
        blocks: list[Block],
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
        payload: dict = {"text": text, "blocks": [block.to_dict() for block in blocks]}
        if update_ts:
            payload["ts"] = update_ts
        else:
            payload["unfurl_links"] = False
        if thread_ts:
            payload["thread_ts"] = thread_ts
        message = outbox.enqueue(
            self.session,
            team_id=self.actor.team_id,
            kind=kind,
            channel=channel,
            payload=payload,
            now=self.actor.now,
            initiative_id=initiative_id,
            dedupe_key=dedupe_key,
            method="chat.update" if update_ts else "chat.postMessage",
            parent_id=parent_id,
        )
        self.queued.append(message.id)
        return message.id
