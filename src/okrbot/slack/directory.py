"""Who is an admin: OKRBOT_ADMINS, or Slack's own admin/owner flags (cached briefly)."""

from __future__ import annotations

import logging
import threading
import time

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from okrbot.config import Settings

log = logging.getLogger("okrbot.directory")
CACHE_SECONDS = 600.0


class Directory:
    def __init__(self, client: WebClient, settings: Settings):
        self.client = client
        self.settings = settings
        self._admins: dict[str, tuple[bool, float]] = {}
        self._lock = threading.Lock()

    def is_admin(self, user_id: str) -> bool:
        if user_id in self.settings.admin_ids:
            return True
        now = time.monotonic()
        with self._lock:
            cached = self._admins.get(user_id)
        if cached and now - cached[1] < CACHE_SECONDS:
            return cached[0]
        try:
            user = self.client.users_info(user=user_id).get("user", {})
            admin = bool(user.get("is_admin") or user.get("is_owner"))
        except SlackApiError as error:
            # Not knowing means not an admin; people can still do what owners may do.
            log.warning("users.info failed for %s: %s", user_id, error.response.get("error"))
            return False
        with self._lock:
            self._admins[user_id] = (admin, now)
        return admin
