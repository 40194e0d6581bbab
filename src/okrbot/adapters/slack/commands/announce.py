"""`/okr channel announce [every|thread|daily [17:00]]` (issue 15), and the digest messages
it and the digest job queue."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from okrbot.domain import commands as cmd
from okrbot.services import announce
from okrbot.services.announce import Digest
from okrbot.services.unit_of_work import UnitOfWork
from okrbot.adapters.slack.reply import Reply
from okrbot.adapters.slack.views.announce import digest_parts, mode_reply


def channel_announce(ctx: UnitOfWork, command: cmd.ChannelAnnounce) -> Reply:
    if command.mode is None:
        return Reply.say(mode_reply(announce.mode_here(ctx.session, ctx.actor), changed=False))
    mode, left = announce.set_mode(ctx.session, ctx.actor, command.mode, command.digest_at)
    posted = 0
    if left is not None:
        ids = queue_digest(ctx.session, left, ctx.actor.now)
        ctx.queued += ids
        posted = len(left.items) if ids else 0
    # The channel sees how it will hear progress from now on.
    return Reply.say(mode_reply(mode, changed=True, posted_left=posted), public=True)


def queue_digest(session: Session, digest: Digest, now: datetime) -> list[int]:
    """Queue a digest's messages, each change with its Undo button while it can be undone;
    [] when this digest was already sent."""
    undoable = announce.undoable(session, [item.change_id for item in digest.items if item.change_id is not None])
    parts = digest_parts(digest.items, undoable, final=digest.day is None)
    payloads = [({"text": text, "blocks": [block.to_dict() for block in blocks], "unfurl_links": False}, items) for blocks, text, items in parts]
    return announce.claim_digest(session, digest, payloads, now)
