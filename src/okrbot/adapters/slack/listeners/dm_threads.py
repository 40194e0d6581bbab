"""Replies in the threads of the DMs okrbot sent (review nudges, grading DMs): which row a
reply belongs to, and whether its writer is the person the DM was for."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from okrbot.adapters.slack.bot import SlackBot

# (session, team, channel, thread ts) → the row of the DM that started the thread (with .id and .owner), or None.
FindDm = Callable[[Session, str, str, str], Any]


@dataclass(frozen=True)
class DmThread:
    team_id: str
    channel: str
    thread_ts: str
    row_id: int
    owner: str


def dm_thread_of(bot: SlackBot, body: dict, event: dict, find: FindDm) -> DmThread | None:
    """The DM thread this reply is in, when `find` knows it; None otherwise."""
    team_id = body.get("team_id") or event.get("team")
    channel, thread_ts = event.get("channel"), event.get("thread_ts")
    if not (team_id and channel and thread_ts):
        return None
    with bot.db.session_scope(read_only=True) as session:
        row = find(session, team_id, channel, thread_ts)
        found = (row.id, row.owner) if row is not None else None
    if found is None:
        return None
    return DmThread(team_id, channel, thread_ts, *found)
