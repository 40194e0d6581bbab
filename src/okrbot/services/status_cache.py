"""Rendered `/okr status` answers, reused until what they show changes.

A status answer at M read ~250 KRs and built ~50 blocks: about 20 ms of CPU, most of a
worker's time per request (docs/performance.md). The answer is a function of the rows it
shows, which move the workspace's status revision (store/revisions.py), of who reads it
(what they may see), and of the time, through health: a KR is on track while its progress
keeps up with the share of the period gone by. So an entry is keyed by the revision and
the reader, and holds until the first moment any health it shows would change
(`health_holds_until`), at most MAX_AGE (aligned objectives' health is not tracked).

Per process; every worker keeps its own. The workspace's creation time is in the key, so
a workspace made again (a test's fresh database) never meets an old entry. The revision
is read from the workspace row the unit of work holds: no query of its own.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from okrbot.domain.periods import current_period, parse_period
from okrbot.domain.progress import AT_RISK_SHARE, ON_TRACK_SHARE
from okrbot.services import permissions
from okrbot.services.context import Actor
from okrbot.services.summaries import ObjectiveSummary
from okrbot.services.team_channels import member_channels
from okrbot.store.workspaces import status_revision

MAX_ENTRIES = 128  # a few readers × channels × scopes; each entry is one message's blocks
MAX_AGE = timedelta(seconds=60)


@dataclass(frozen=True)
class _Entry:
    value: Any
    valid_until: datetime


class StatusCache:
    """A small LRU of rendered answers, each valid until a moment."""

    def __init__(self, size: int = MAX_ENTRIES) -> None:
        self._size = size
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, now: datetime) -> Any | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if now >= entry.valid_until:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry.value

    def put(self, key: Hashable, value: Any, valid_until: datetime) -> None:
        with self._lock:
            self._entries[key] = _Entry(value, valid_until)
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)


answers = StatusCache()


def reader_key(session: Session, actor: Actor, *what: Hashable) -> tuple | None:
    """The key of an answer about `what` for this reader now; None when the workspace has
    no row yet (nothing to show, nothing worth keeping)."""
    revision = status_revision(session, actor.team_id)
    if revision is None:
        return None
    trusted = permissions.trusted(actor)
    # What a reader may see: everything (trusted), one channel's team (an answer read in a
    # channel), or their own and their teams' private objectives.
    teams = () if trusted or actor.audience is not None else tuple(member_channels(session, actor))
    return (*revision, actor.user_id, trusted, actor.audience, teams, str(actor.tz), actor.fiscal_start, *what)


def health_holds_until(summaries: Sequence[ObjectiveSummary], actor: Actor) -> datetime:
    """The first moment after now at which any objective's or KR's health in `summaries`
    would change with nothing else changing (their progress stays; the period goes by)."""
    until = actor.now + MAX_AGE
    for summary in summaries:
        period = parse_period(summary.period, actor.fiscal_start) or current_period(actor.now, actor.tz, actor.fiscal_start)
        start, end = period.start_at(actor.tz), period.end_at(actor.tz)
        progresses = [summary.progress, *(kr.progress for kr in summary.krs if kr.has_data)]
        for progress in progresses:
            for share in (ON_TRACK_SHARE, AT_RISK_SHARE):
                # health() compares progress with share × elapsed: it changes once the
                # elapsed share passes progress / share (never, past the period's end).
                turns = progress / share
                if turns < 1:
                    moment = start + (end - start) * turns
                    if moment > actor.now:
                        until = min(until, moment)
    return until
