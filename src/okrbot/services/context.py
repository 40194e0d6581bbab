"""Who is acting, where, and when: passed to every use case."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from okrbot.store.types import utcnow


@dataclass(frozen=True)
class Actor:
    team_id: str
    user_id: str
    channel_id: str | None = None
    is_admin: bool = False
    source: str = "command"  # command | modal | button | reaction | webhook | nudge | import
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    now: datetime = field(default_factory=utcnow)

    @property
    def in_dm(self) -> bool:
        return bool(self.channel_id) and self.channel_id.startswith("D")
