"""Deliver the outbox to Slack: after each change, and by a sweeper for retries.

Slack's 429 answers carry Retry-After; the message waits that long and is
tried again. Other failures back off and retry; nothing is dropped silently.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from okrbot.store import outbox
from okrbot.store.db import Database
from okrbot.store.types import utcnow

log = logging.getLogger("okrbot.delivery")

MAX_ATTEMPTS = 8
# Errors that will not heal by waiting: the channel is gone or the bot is not in it.
PERMANENT = {"channel_not_found", "is_archived", "not_in_channel", "invalid_blocks", "msg_too_long", "user_not_found"}


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(600, 5 * 2 ** max(0, attempts - 1)))


class Deliverer:
    def __init__(self, db: Database, client: WebClient):
        self.db = db
        self.client = client

    def deliver(self, ids: Sequence[int] | None = None, *, limit: int = 50) -> int:
        """Send due messages (only `ids` when given); returns how many were sent."""
        if ids is not None and not ids:
            return 0
        with self.db.session_scope() as session:
            claimed = outbox.claim_due(session, utcnow(), limit=limit, ids=ids)
            messages = [(message.id, message.method, dict(message.payload), message.attempts) for message in claimed]
        sent = 0
        for message_id, method, payload, attempts in messages:
            sent += self._send(message_id, method, payload, attempts)
        return sent

    def _send(self, message_id: int, method: str, payload: dict, attempts: int) -> int:
        try:
            response = self.client.api_call(method, json=payload)
        except SlackApiError as error:
            self._failed(message_id, error, attempts)
            return 0
        except Exception as error:  # noqa: BLE001 - network trouble: keep the message, retry later
            self._retry(message_id, f"{error.__class__.__name__}", attempts, backoff(attempts))
            return 0
        with self.db.session_scope() as session:
            outbox.mark_sent(session, message_id, ts=response.get("ts"), now=utcnow())
        return 1

    def _failed(self, message_id: int, error: SlackApiError, attempts: int) -> None:
        response = error.response
        code = response.get("error", "") if hasattr(response, "get") else ""
        if response.status_code == 429:
            wait = int(response.headers.get("Retry-After", response.headers.get("retry-after", "1")) or 1)
            self._retry(message_id, "ratelimited", attempts, timedelta(seconds=wait), count=False)
            return
        give_up = code in PERMANENT or attempts >= MAX_ATTEMPTS
        if give_up:
            log.warning("giving up on outbound message %s: %s", message_id, code or response.status_code)
        self._retry(message_id, code or str(response.status_code), attempts, backoff(attempts), give_up=give_up)

    def _retry(self, message_id: int, error: str, attempts: int, wait: timedelta, *, give_up: bool = False, count: bool = True) -> None:
        with self.db.session_scope() as session:
            outbox.mark_retry(session, message_id, error=error, retry_at=utcnow() + wait, give_up=give_up, refund=not count)
