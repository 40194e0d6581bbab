"""Deliver the outbox to Slack: after each change, and by a sweeper for retries.

Slack's 429 answers carry Retry-After: this process holds its sending for that
long and the message is tried again then; a 429 is not counted as a failed
attempt. Other failures back off and retry; nothing is dropped silently.

Exactly once, as far as Slack allows. chat.postMessage has no idempotency
key, so the only danger is a call whose outcome we never learned: the process
died between Slack accepting the message and our "sent" commit, or the
answer was lost (timeout, connection reset, 5xx). Such a row stays `posting`
(store/outbox.py). Every post carries Slack message `metadata` naming its
outbox row, and before a `posting` row is sent again it is looked for where it
would be: the channel's history (conversations.history), a thread's replies
(conversations.replies), or the DM with a user (conversations.open first). If
Slack has it, the row is marked sent with the ts found (so a ✅ on that card
still finds its initiative) and it is not posted twice. The look-up waits a few
client timeouts after the lost answer, so a request Slack is still working on
has landed before we look. If the history cannot be read (a scope missing, the
bot removed from the channel), the message is never posted blind: the look-up
is tried again with backoff, then the row is given up as `failed` with a
warning (docs/reliability.md says why). chat.update replaces a message, so
sending it again is safe; other methods without a history to look in (a
response_url post) are not sent again once their outcome is unknown.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler
from sqlmodel import Session

from okrbot.observability import metrics
from okrbot.adapters.slack.reply import RESPOND
from okrbot.adapters.slack.response_urls import ResponseUrlPoster
from okrbot.store import outbox
from okrbot.store.db import Database
from okrbot.store.types import utcnow

log = logging.getLogger("okrbot.delivery")

MAX_ATTEMPTS = 8
# Errors that will not heal by waiting: the channel is gone or the bot is not in it, or the
# message to update was deleted (an update never turns into a new post).
PERMANENT = {
    "channel_not_found",
    "is_archived",
    "not_in_channel",
    "invalid_blocks",
    "msg_too_long",
    "user_not_found",
    "message_not_found",
    "cant_update_message",
}
# Sending these again replaces what the first attempt may have done, never adds to it.
REPEATABLE = {"chat.update", "chat.delete"}
# A pass waits this long at most for Slack's Retry-After; past that it leaves the rest to a later pass.
MAX_INLINE_WAIT = 30.0
# How far back (and how many messages) to look for a message whose send we are unsure of.
HISTORY_LIMIT = 200
HISTORY_PAGES = 5
CLOCK_SKEW = timedelta(hours=1)
# After a lost answer, look only once Slack has had this many client timeouts more to finish
# the request: a look-up while it is still under way would miss the message and post it twice.
SETTLE_TIMEOUTS = 3
# The metadata that names an outbox row on the message Slack keeps (rows may bring their own).
METADATA_TYPE = "okrbot_outbox"
# How long a thread reply waits before it looks again for its parent's ts.
PARENT_WAIT = timedelta(seconds=5)


def sent_at_once(method: str, payload: dict) -> bool:
    """Whether a message may be queued already claimed by the process that sends it right
    after commit. A crash in between leaves it `posting`, as unsure as a lost answer: fine
    for an answer only its asker sees (sent again, privately), not for one the channel
    sees, which is never sent again once unsure (`_respond`)."""
    return method == RESPOND and payload.get("response_type") != "in_channel"


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(600, 5 * 2 ** max(0, attempts - 1)))


@dataclass(frozen=True)
class Outgoing:
    """What a sender needs of a claimed row, copied out of the session that claimed it."""

    id: int
    kind: str
    team_id: str
    dedupe_key: str | None
    method: str
    payload: dict
    attempts: int
    created_at: datetime
    unsure: bool  # an earlier attempt may have reached Slack
    parent_id: int | None = None  # a thread reply, sent once its parent has a ts


@dataclass(frozen=True)
class Sent:
    """A message Slack has: where it landed (a DM's D… id for a message sent to a user) and its ts."""

    id: int
    kind: str
    team_id: str
    dedupe_key: str | None
    channel: str | None
    ts: str | None


# Runs in the transaction that marks a message sent (e.g. a review nudge keeps its DM's ts).
SentHook = Callable[[Session, Sent], None]


class Deliverer:
    def __init__(
        self,
        db: Database,
        client: WebClient,
        *,
        lease: timedelta = outbox.LEASE,
        sleep: Callable[[float], None] = time.sleep,
        clients: Callable[[str], WebClient | None] | None = None,
    ):
        self.db = db
        self.client = client
        # Each message goes out with its workspace's token (adapters/slack/installs.py); None: not installed.
        self._clients = clients or (lambda _team_id: client)
        # slack_sdk resends a request once after a connection reset, blind: Slack may have
        # taken the first. The outbox decides about resends itself (it looks first).
        client.retry_handlers = [h for h in client.retry_handlers if not isinstance(h, ConnectionErrorRetryHandler)]
        self.lease = lease
        self._responses = ResponseUrlPoster(client.timeout, ssl_context=client.ssl)
        self.on_sent: list[SentHook] = []
        self._sleep = sleep
        self._lock = threading.Lock()
        self._resume_at = 0.0  # time.monotonic() before which Slack asked this process to wait

    def deliver(self, ids: Sequence[int] | None = None, *, claimed: Sequence[Any] = (), limit: int = 50) -> int:
        """Send due messages (only `ids` when given); returns how many were sent.

        Each message is claimed on its own just before it is sent, so a crash
        leaves at most the one message in flight unsure, and other processes
        can share the work message by message. `claimed` rows (of `ids`) were
        queued already claimed by this process (`sent_at_once`) and go straight out.
        """
        sent = 0
        for row in claimed:
            sent += self._send(_outgoing(row, unsure=False))
        if ids is not None:
            sent_already = {row.id for row in claimed}
            ids = [message_id for message_id in ids if message_id not in sent_already]
            if not ids:
                return sent
            limit = max(limit, len(ids))  # what a change queued goes out together (e.g. a cycle's nudges)
        return sent + self._pass(ids, limit)[0]

    def drain(self, *, batch: int = 200, max_seconds: float = 600.0) -> int:
        """The sweeper: send every due message, `batch` at a time, until none is left, Slack
        asks for a longer wait than a pass makes, or `max_seconds` (the next sweep goes on).

        One batch per sweep would cap sending at `batch` per sweep interval (200 per 15 s),
        below what Slack allows: a 5,000-owner review then took 1.5x its rate-limit floor."""
        deadline = time.monotonic() + max_seconds
        total = 0
        while time.monotonic() < deadline:
            sent, finished = self._pass(None, batch)
            total += sent
            if finished:
                return total
        return total

    def _pass(self, ids: Sequence[int] | None, limit: int) -> tuple[int, bool]:
        """(messages sent, whether this pass left nothing it could send now)."""
        with self.db.session_scope(read_only=True) as session:  # only a look: each claim below decides
            candidates = outbox.due(session, utcnow(), limit=limit, ids=ids)
        sent, held = 0, False
        for message_id, status, method in candidates:
            # Slack's Retry-After is about its Web API: answers on a response_url still go.
            if method != RESPOND and (held or not self._wait_for_slack()):
                held = True  # held by Slack for longer than a pass waits: a later sweep goes on
                continue
            with self.db.session_scope() as session:
                row = outbox.claim(session, message_id, status, utcnow(), lease=self.lease)
                outgoing = None if row is None else _outgoing(row, unsure=status == outbox.POSTING)
            if outgoing is not None:
                sent += self._send(outgoing)
        return sent, held or len(candidates) < limit

    # ------------------------------------------------------------------ sending

    def _send(self, message: Outgoing) -> int:
        if message.method == RESPOND:
            return self._respond(message)
        client = self._clients(message.team_id)
        if client is None:
            return self._not_installed(message)
        if message.parent_id is not None:
            threaded = self._under_parent(message)
            if threaded is None:
                return 0
            message = threaded
        if message.unsure:
            settled = self._settle_unsure(message, client)
            if settled is not None:
                return settled
        try:
            response = client.api_call(message.method, json=slack_payload(message))
        except SlackApiError as error:
            self._failed(message, error)
            return 0
        except Exception as error:  # noqa: BLE001 - no answer: it may have been posted; checked before the retry
            self._unsure(message, error)
            return 0
        self._sent(message, response.get("channel") or message.payload.get("channel"), response.get("ts"))
        return 1

    def _under_parent(self, message: Outgoing) -> Outgoing | None:
        """A reply in a thread needs its parent's ts: until Slack has the parent it waits
        (not counted as an attempt); a parent given up leaves the reply to go on its own."""
        with self.db.session_scope() as session:
            status, ts = outbox.thread_parent(session, message.parent_id)
            if status in (outbox.SENT, outbox.FAILED):
                payload = outbox.set_thread(session, message.id, ts if status == outbox.SENT else None)
                return replace(message, payload=payload, parent_id=None)
            outbox.mark_retry(session, message.id, error="waiting for its thread's first message", retry_at=utcnow() + PARENT_WAIT, refund=True)
        return None

    def _respond(self, message: Outgoing) -> int:
        """An answer on the request's response_url. Slack keeps no history of these to look
        in, so one that did not go through is sent the other way (privately where the
        person is) at once, unless the channel sees it and it may have been posted: a
        second public copy is worse than none."""
        payload = message.payload
        public = payload.get("response_type") == "in_channel"
        if message.unsure and public:
            return self._give_up_unsure(message)
        body = {key: payload[key] for key in ("text", "blocks", "response_type", "replace_original") if key in payload}
        try:
            response = self._responses.post(payload["url"], body)
        except Exception as error:  # noqa: BLE001 - no answer: it may have been posted
            if public:
                self._unsure(message, error)
                return 0
            return self._send_otherwise(message, error.__class__.__name__)
        if response.status_code == 200:
            # No ts, no channel: nothing for a hook to note, only that it went.
            with self.db.each_statement_commits() as connection:
                outbox.mark_sent(connection, message.id, ts=None, now=utcnow())
            metrics.messages_sent_total.labels(message.kind).inc()
            return 1
        if response.status_code == 429:
            wait = _retry_after(response)
            self._hold(wait)
            self._retry(message, "ratelimited", timedelta(seconds=wait), count=False)
            return 0
        if response.status_code >= 500 and public:
            self._unsure(message, RuntimeError(f"response_url answered {response.status_code}"))
            return 0
        # Refused, expired or used up (a response_url lasts 30 minutes, 5 answers).
        return self._send_otherwise(message, f"response_url {response.status_code}")

    def _send_otherwise(self, message: Outgoing, why: str) -> int:
        fallback = message.payload.get("fallback") or {}
        log.warning("outbound answer %s did not go through its response_url (%s); sending it with %s", message.id, why, fallback.get("method"))
        with self.db.session_scope() as session:
            if not fallback:
                outbox.mark_retry(session, message.id, error=why, retry_at=utcnow(), give_up=True)
                return 0
            payload = {"blocks": message.payload.get("blocks", []), **fallback["payload"]}  # the answer's blocks (ReplyTo.message)
            outbox.redirect(session, message.id, method=fallback["method"], channel=fallback["channel"], payload=payload, now=utcnow())
        return self._pass([message.id], 1)[0]

    def _not_installed(self, message: Outgoing) -> int:
        with self.db.session_scope() as session:
            outbox.drop_unsent(session, message.team_id, why="okrbot is not installed in this workspace", message_id=message.id)
        log.warning("dropped outbound message %s (%s) of workspace %s: okrbot is not installed there", message.id, message.kind, message.team_id)
        return 0

    def _give_up_unsure(self, message: Outgoing) -> int:
        log.warning("outbound answer %s may have been posted to the channel already; not posting it again", message.id)
        self._retry(message, "unsure: not reposted", timedelta(0), give_up=True)
        return 0

    def _sent(self, message: Outgoing, channel: str | None, ts: str | None, *, found: bool = False) -> None:
        catch_up = None
        with self.db.session_scope() as session:
            outbox.mark_sent(session, message.id, ts=ts, now=utcnow())
            if message.kind == outbox.CARD_KIND and channel and ts:
                catch_up = _catch_up_card(session, message, channel, ts, found=found)
            sent = Sent(message.id, message.kind, message.team_id, message.dedupe_key, channel, ts)
            for hook in self.on_sent:
                hook(session, sent)
        metrics.messages_sent_total.labels(message.kind).inc()
        if catch_up is not None:
            self._pass([catch_up], 1)  # an update: it never comes back here

    def _failed(self, message: Outgoing, error: SlackApiError) -> None:
        response = error.response
        code = response.get("error", "") if hasattr(response, "get") else ""
        if response.status_code == 429:
            wait = _retry_after(response)
            self._hold(wait)
            self._retry(message, "ratelimited", timedelta(seconds=wait), count=False)
            return
        if response.status_code >= 500:
            self._unsure(message, error)  # Slack may have posted it before failing
            return
        give_up = code in PERMANENT or message.attempts >= MAX_ATTEMPTS
        if give_up:
            log.warning("giving up on outbound message %s: %s", message.id, code or response.status_code)
        self._retry(message, code or str(response.status_code), backoff(message.attempts), give_up=give_up)

    def _retry(self, message: Outgoing, error: str, wait: timedelta, *, give_up: bool = False, count: bool = True) -> None:
        with self.db.session_scope() as session:
            outbox.mark_retry(session, message.id, error=error, retry_at=utcnow() + wait, give_up=give_up, refund=not count)

    def _unsure(self, message: Outgoing, error: Exception) -> None:
        if isinstance(error, SlackApiError) and error.response.status_code == 429:
            wait = _retry_after(error.response)
            self._hold(wait)
            delay, give_up = timedelta(seconds=wait), False
        else:
            delay, give_up = max(backoff(message.attempts), self._settle()), message.attempts >= MAX_ATTEMPTS
        if give_up:
            log.warning("giving up on outbound message %s: %s", message.id, error.__class__.__name__)
        with self.db.session_scope() as session:
            outbox.mark_unsure(session, message.id, error=_describe(error), retry_at=utcnow() + delay, give_up=give_up)

    # ------------------------------------------------------------------ rate limits

    def _hold(self, seconds: float) -> None:
        with self._lock:
            self._resume_at = max(self._resume_at, time.monotonic() + seconds)

    def _wait_for_slack(self) -> bool:
        """Honour the last Retry-After before the next call; False when it is too long to wait here."""
        with self._lock:
            wait = self._resume_at - time.monotonic()
        if wait <= 0:
            return True
        if wait > MAX_INLINE_WAIT:
            return False
        self._sleep(wait)
        return True

    # ------------------------------------------------------------------ was it posted?

    def _settle(self) -> timedelta:
        return timedelta(seconds=SETTLE_TIMEOUTS * float(self.client.timeout or 30))

    def _settle_unsure(self, message: Outgoing, client: WebClient) -> int | None:
        """An earlier attempt may have reached Slack: find out before sending again.
        None: Slack does not have it (or a resend is harmless), send it; else what `_send` returns."""
        if message.method in REPEATABLE:
            return None
        if message.method != "chat.postMessage":
            # No history to look in (e.g. a response_url answer): a resend could show it twice.
            self._abandon_unsure(message, "its outcome is unknown and Slack keeps nothing to look it up in")
            return 0
        try:
            found = self._find_posted(message, client)
        except SlackApiError as error:
            self._lookup_failed(message, error)
            return 0
        except Exception as error:  # noqa: BLE001 - can't tell yet: don't risk a double, ask again later
            self._unsure(message, error)
            return 0
        if found is None:
            return None
        log.info("outbound message %s was already in Slack; not posting it again", message.id)
        self._sent(message, *found, found=True)
        return 1

    def _lookup_failed(self, message: Outgoing, error: SlackApiError) -> None:
        """Slack would not show the history: ask again later, and never post blind."""
        response = error.response
        code = str(response.get("error", "") if hasattr(response, "get") else "") or str(response.status_code)
        if response.status_code == 429:
            # History has its own (small) rate limit: only this message waits, posting goes on.
            retry_at = utcnow() + timedelta(seconds=_retry_after(response))
            with self.db.session_scope() as session:
                outbox.mark_unsure(session, message.id, error=f"history {code}", retry_at=retry_at, refund=True)
            return
        if code in PERMANENT or message.attempts >= MAX_ATTEMPTS:
            self._abandon_unsure(message, f"its conversation's history cannot be read ({code})")
            return
        if code == "missing_scope":
            log.warning(
                "outbound message %s may or may not be in %s and the bot may not read its history "
                "(missing_scope): reinstall the app from manifest.yml; looking again later",
                message.id,
                message.payload.get("channel"),
            )
        retry_at = utcnow() + max(backoff(message.attempts), self._settle())
        with self.db.session_scope() as session:
            outbox.mark_unsure(session, message.id, error=f"history {code}", retry_at=retry_at)

    def _abandon_unsure(self, message: Outgoing, why: str) -> None:
        log.warning(
            "giving up on outbound message %s (%s to %s): Slack may have it, but %s; not sending it again, "
            "so it shows at most once",
            message.id,
            message.kind,
            message.payload.get("channel"),
            why,
        )
        with self.db.session_scope() as session:
            outbox.mark_unsure(session, message.id, error=why, retry_at=utcnow(), give_up=True)

    def _find_posted(self, message: Outgoing, client: WebClient) -> tuple[str, str] | None:
        """(channel, ts) of this message if Slack already has it; None if not.
        Raises when it can't be told (history refused, or too much of it)."""
        metadata = slack_payload(message).get("metadata")
        channel = str(message.payload.get("channel") or "")
        if not isinstance(metadata, dict) or not channel:
            return None
        if channel[:1] in ("U", "W"):
            # A message to a user id lands in the app's DM with them; history needs that DM's id.
            channel = client.conversations_open(users=channel)["channel"]["id"]
        # Slack's ts is its clock; allow for ours being ahead of it (and for a row stamped with
        # a time still to come, like a review step run for a later moment).
        oldest = f"{(min(message.created_at, utcnow()) - CLOCK_SKEW).timestamp():.6f}"
        thread_ts = message.payload.get("thread_ts")
        cursor = None
        for _page in range(HISTORY_PAGES):
            query = {"channel": channel, "oldest": oldest, "limit": HISTORY_LIMIT, "include_all_metadata": True, "cursor": cursor}
            if thread_ts:
                answer = client.conversations_replies(ts=thread_ts, **query)
            else:
                answer = client.conversations_history(**query)
            for posted in answer.get("messages") or []:
                if _same_metadata(posted.get("metadata"), metadata):
                    return channel, posted.get("ts")
            if not answer.get("has_more"):
                return None
            cursor = (answer.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                # More history than this page and no way to the next: not found is not "not posted".
                raise RuntimeError("history has more messages but no cursor to them")
        raise RuntimeError("too much history to tell whether the message was posted")  # retried later, never doubled


def outbox_metadata(message: Outgoing) -> dict:
    """Slack message metadata naming the outbox row, so a post whose outcome was lost can be
    found in the conversation. The same on every attempt: it is made of the row's own fields
    (its creation time keeps two databases' row 1 apart in one workspace)."""
    return {
        "event_type": METADATA_TYPE,
        "event_payload": {"outbox_id": message.id, "team": message.team_id, "queued_at": message.created_at.isoformat()},
    }


def slack_payload(message: Outgoing) -> dict:
    """What is sent for a row: every new post carries metadata naming it (rows that bring
    their own, like review DMs, keep theirs)."""
    if message.method != "chat.postMessage" or isinstance(message.payload.get("metadata"), dict):
        return message.payload
    return {**message.payload, "metadata": outbox_metadata(message)}


def _catch_up_card(session: Session, message: Outgoing, channel: str, ts: str, *, found: bool) -> int | None:
    """Queue an update of a card revised while it was on its way (the work was done, linked, …),
    so it shows what it should now; returns its id. A card found in Slack shows whatever its
    first attempt carried, so it is always updated."""
    current = outbox.payload_of(session, message.id)
    sent_as = message.payload
    if not found and (current.get("blocks"), current.get("text")) == (sent_as.get("blocks"), sent_as.get("text")):
        return None
    update = {"text": current.get("text", ""), "blocks": current.get("blocks", []), "ts": ts}
    queued = outbox.enqueue(session, team_id=message.team_id, kind="card_update", channel=channel, payload=update, now=utcnow(), method="chat.update")
    return queued.id


def _outgoing(row, *, unsure: bool) -> Outgoing:
    return Outgoing(
        id=row.id,
        kind=row.kind,
        team_id=row.team_id,
        dedupe_key=row.dedupe_key,
        method=row.method,
        payload=dict(row.payload),
        attempts=row.attempts,
        created_at=row.created_at,
        unsure=unsure,
        parent_id=row.parent_id,
    )


def _same_metadata(found: object, ours: dict) -> bool:
    return (
        isinstance(found, dict)
        and found.get("event_type") == ours.get("event_type")
        and found.get("event_payload") == ours.get("event_payload")
    )


def _retry_after(response) -> int:
    headers = response.headers or {}
    value = headers.get("Retry-After", headers.get("retry-after", "1"))
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return 1


def _describe(error: Exception) -> str:
    if isinstance(error, SlackApiError):
        return str(error.response.get("error") or error.response.status_code)
    return error.__class__.__name__
