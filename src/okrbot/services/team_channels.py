"""The channels objectives name as their teams', read once per status revision.

Every `/okr status` asks whether it was typed in a team channel, and every listing a
person reads asks which private objectives' channels they are in: two queries per request
before. The answer changes only when an objective's team channel or privacy does, which
moves the workspace's status revision (store/revisions.py), so it is kept per workspace
until the revision moves. Per process.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from sqlmodel import Session, col, select

from okrbot.services.context import Actor
from okrbot.store.models import Objective
from okrbot.store.workspaces import status_revision


@dataclass(frozen=True)
class TeamChannels:
    all: frozenset[str]
    private: frozenset[str]  # the team channel of at least one private objective


_known: dict[tuple[str, str], tuple[tuple, TeamChannels]] = {}  # (database, workspace) -> (revision, channels)
_lock = threading.Lock()


def team_channels(session: Session, team_id: str) -> TeamChannels:
    revision = status_revision(session, team_id)
    if revision is not None:
        with _lock:
            known = _known.get(revision[:2])
        if known is not None and known[0] == revision:
            return known[1]
    rows = session.exec(
        select(Objective.team_channel, Objective.private)
        .where(Objective.team_id == team_id, col(Objective.team_channel).is_not(None))
        .distinct()
    ).all()
    found = TeamChannels(frozenset(channel for channel, _ in rows), frozenset(channel for channel, private in rows if private))
    if revision is not None:  # None: no workspace yet, or changed by this transaction
        with _lock:
            _known[revision[:2]] = (revision, found)
    return found


def is_team_channel(session: Session, team_id: str, channel_id: str) -> bool:
    """Some objective (of any period) names `channel_id` as its team's."""
    return channel_id in team_channels(session, team_id).all


def member_channels(session: Session, actor: Actor) -> list[str]:
    """The team channels of the workspace's private objectives that the actor is a member of."""
    if not actor.knows_memberships:
        return []
    return sorted(channel for channel in team_channels(session, actor.team_id).private if actor.member_of(channel))
