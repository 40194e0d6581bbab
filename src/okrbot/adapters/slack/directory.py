"""Who is an admin (OKRBOT_ADMINS, or Slack's own admin/owner flags) and who is in
which team channel (conversations.members); both cached briefly."""

from __future__ import annotations

import logging
import threading
import time

from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from okrbot.config import Settings

log = logging.getLogger("okrbot.directory")
CACHE_SECONDS = 600.0
MEMBERS_CACHE_SECONDS = 120.0  # someone who joins a team channel sees its private OKRs within 2 minutes
MEMBER_PAGES = 20  # 1,000 members a page: channels bigger than that are not team channels


class Directory:
    def __init__(self, clients: Callable[[str], WebClient | None], settings: Settings):
        self.clients = clients  # a workspace's own client (adapters/slack/installs.py)
        self.settings = settings
        # Keyed by workspace too: with OAuth installs one process answers many workspaces.
        self._admins: dict[tuple[str, str], tuple[bool, float]] = {}
        self._members: dict[tuple[str, str], tuple[frozenset[str], float]] = {}
        self._lock = threading.Lock()

    def is_admin(self, team_id: str, user_id: str) -> bool:
        if user_id in self.settings.admin_ids:
            return True
        now = time.monotonic()
        with self._lock:
            cached = self._admins.get((team_id, user_id))
        if cached and now - cached[1] < CACHE_SECONDS:
            return cached[0]
        client = self.clients(team_id)
        if client is None:
            return False
        try:
            user = client.users_info(user=user_id).get("user", {})
            admin = bool(user.get("is_admin") or user.get("is_owner"))
        except SlackApiError as error:
            # Not knowing means not an admin; people can still do what owners may do.
            log.warning("users.info failed for %s: %s", user_id, error.response.get("error"))
            return False
        with self._lock:
            self._admins[(team_id, user_id)] = (admin, now)
        return admin

    def is_member(self, team_id: str, user_id: str, channel_id: str) -> bool:
        """Is the user in the channel? Unknown (an error, a channel the bot can't read) is no."""
        now = time.monotonic()
        with self._lock:
            cached = self._members.get((team_id, channel_id))
        if cached and now - cached[1] < MEMBERS_CACHE_SECONDS:
            return user_id in cached[0]
        members: set[str] = set()
        cursor = None
        client = self.clients(team_id)
        if client is None:
            return False
        try:
            for _page in range(MEMBER_PAGES):
                answer = client.conversations_members(channel=channel_id, limit=1000, cursor=cursor)
                members.update(answer.get("members") or [])
                cursor = (answer.get("response_metadata") or {}).get("next_cursor")
                if not cursor:
                    break
        except SlackApiError as error:
            log.warning("conversations.members failed for %s: %s", channel_id, error.response.get("error"))
            return False
        with self._lock:
            self._members[(team_id, channel_id)] = (frozenset(members), now)
        return user_id in members
