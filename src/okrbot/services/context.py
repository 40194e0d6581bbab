"""Who is acting, where, and when: passed to every use case."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from okrbot.store.types import utcnow


def member_of_nothing(_channel: str) -> bool:
    return False


@dataclass(frozen=True)
class Actor:
    team_id: str
    user_id: str
    channel_id: str | None = None
    is_admin: bool = False
    source: str = "command"  # command | modal | button | reaction | webhook | nudge | import
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    now: datetime = field(default_factory=utcnow)
    # Is the actor a member of this channel (a team's channel)? The Slack adapter asks
    # Slack (conversations.members, cached); the shell says yes for its --channel only.
    member_of: Callable[[str], bool] = field(default=member_of_nothing, compare=False, repr=False)
    # The channel whose members will read the answer (a mention answered in a channel
    # thread); None when only the actor sees it. Private objectives of other teams stay out.
    audience: str | None = None
    # A signed webhook: trusted to move work like an admin, but not a person.
    system: bool = False
    # The month the workspace's fiscal year starts in (services/periods.py loads it).
    fiscal_start: int = 1
    # How long before a period starts OKRs can be drafted for it (OKRBOT_PLANNING_LEAD_DAYS).
    planning_lead: timedelta = timedelta(days=14)

    @property
    def in_dm(self) -> bool:
        return bool(self.channel_id) and self.channel_id.startswith("D")

    @property
    def knows_memberships(self) -> bool:
        return self.member_of is not member_of_nothing

    def in_team(self, channel: str | None) -> bool:
        """A member of `channel`, the team channel of some objective."""
        return bool(channel) and self.member_of(channel)
