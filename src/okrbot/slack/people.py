"""The people of each workspace, for names typed without Slack's autocomplete (`@maria`).

Read with users.list page by page (cursor pagination, 200 a page as Slack recommends,
at most MOST_PAGES pages), kept per workspace in this process, read again after
FRESH_SECONDS, and on a name nobody has at most once every MISS_SECONDS (someone may
have just joined). Deactivated accounts, bots, workflow bots and Slackbot are left out.
A 429 is waited out when Slack asks for a short pause; otherwise the list read before
is used, and without one the person is told to pick the name from Slack's list.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from okrbot.domain.people import PeopleIndex, Person
from okrbot.services.errors import Invalid

log = logging.getLogger("okrbot.people")

PAGE_SIZE = 200
MOST_PAGES = 50  # 10,000 people; a bigger workspace gets the first 10,000 (logged)
FRESH_SECONDS = 3600.0
MISS_SECONDS = 60.0
LONGEST_WAIT = 5.0  # seconds of Retry-After worth waiting for inside a command
MOST_WAITS = 3  # rate-limit pauses in one read
SLACKBOT = "USLACKBOT"


def person(member: dict) -> Person | None:
    """A users.list member as someone who can own OKRs; None for who can't."""
    if member.get("deleted") or member.get("is_bot") or member.get("is_workflow_bot") or member.get("id") == SLACKBOT:
        return None
    profile = member.get("profile") or {}
    return Person(
        id=str(member.get("id", "")),
        name=str(member.get("name") or ""),
        display_name=str(profile.get("display_name") or ""),
        real_name=str(profile.get("real_name") or member.get("real_name") or ""),
        first_name=str(profile.get("first_name") or ""),
    )


@dataclass
class _Known:
    people: PeopleIndex = field(default_factory=PeopleIndex)
    read_at: float | None = None  # when the list was last read whole
    tried_at: float | None = None  # when a read was last started (kept even when it failed)
    lock: threading.Lock = field(default_factory=threading.Lock)


class WorkspacePeople:
    """services.people.PeopleDirectory over Slack's users.list, cached per workspace."""

    def __init__(self, client: WebClient, *, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        self.client = client
        self.clock = clock
        self.sleep = sleep
        self._known: dict[str, _Known] = {}
        self._lock = threading.Lock()

    def people_named(self, team_id: str, name: str) -> list[Person]:
        with self._lock:
            known = self._known.setdefault(team_id, _Known())
        with known.lock:  # one read of a workspace at a time; lookups meanwhile wait for it
            now = self.clock()
            if known.read_at is None or now - known.read_at >= FRESH_SECONDS:
                self._read(team_id, known, now)
            found = known.people.named(name)
            if not found and (known.tried_at is None or now - known.tried_at >= MISS_SECONDS):
                self._read(team_id, known, now)
                found = known.people.named(name)
            return found

    def _read(self, team_id: str, known: _Known, now: float) -> None:
        known.tried_at = now
        try:
            members = self._members()
        except (SlackApiError, OSError) as error:  # OSError: Slack not reachable, or too slow
            reason = error.response.get("error") if isinstance(error, SlackApiError) else repr(error)
            log.warning("users.list failed for %s: %s", team_id, reason)
            if known.read_at is None:
                raise Invalid(
                    "I couldn't read this workspace's member list from Slack just now, so I can't tell who that is.",
                    hint="Type @ and pick the person from Slack's list, or try again in a minute.",
                    field="owner",
                ) from error
            return  # the list read before still answers
        known.people = PeopleIndex(p for member in members if (p := person(member)) is not None)
        known.read_at = now

    def _members(self) -> list[dict]:
        members: list[dict] = []
        cursor: str | None = None
        waits = 0
        pages = 0
        while pages < MOST_PAGES:
            try:
                answer = self.client.users_list(limit=PAGE_SIZE, cursor=cursor)
            except SlackApiError as error:
                pause = _retry_after(error)
                if pause is None or pause > LONGEST_WAIT or waits >= MOST_WAITS:
                    raise
                waits += 1
                self.sleep(pause)
                continue  # the same page again
            pages += 1
            members.extend(answer.get("members") or [])
            cursor = (answer.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return members
        log.warning("users.list: more than %d people; names beyond them are not found", PAGE_SIZE * MOST_PAGES)
        return members


def _retry_after(error: SlackApiError) -> float | None:
    """Slack's pause for a 429, in seconds; None for any other failure."""
    response = error.response
    if response.status_code != 429:
        return None
    headers = {key.lower(): value for key, value in (response.headers or {}).items()}
    value = headers.get("retry-after")
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        return max(float(value), 0.0)
    except (TypeError, ValueError):
        return 1.0
