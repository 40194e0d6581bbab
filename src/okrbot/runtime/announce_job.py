"""The digest tick: every `okrbot serve` process runs it with the review tick. Each
channel in daily mode gets one digest a day, at its hour in the workspace's time zone,
of the changes held since its last one; the database decides which process sends it
(services/announce.py), so replicas and restarts never send a channel two digests for
a day, and a digest due while the bot was down goes out when it starts.
"""

from __future__ import annotations

import logging
from datetime import datetime

from okrbot.services import announce
from okrbot.services.notifier import Notifier
from okrbot.store.types import utcnow

log = logging.getLogger("okrbot.announce")


def digest_tick(bot: Notifier, now: datetime | None = None, *, deliver: bool = True) -> list[int]:
    """Queue every digest due at `now`; returns the outbox ids queued."""
    now = now or utcnow()
    with bot.db.session_scope() as session:
        waiting = announce.channels_waiting(session)
    queued: list[int] = []
    for team_id, channel in waiting:
        try:  # each channel in its own transaction: one failing never holds up the rest
            with bot.db.session_scope() as session:
                digest = announce.due_digest(session, team_id, channel, now, bot.settings.tz)
                if digest is not None:
                    queued += bot.queue_digest(session, digest, now)
        except Exception:  # noqa: BLE001 - logged; the next tick tries again
            log.exception("digest failed for %s in workspace %s", channel, team_id)
    if deliver and queued:
        bot.deliver(queued)
    return queued
