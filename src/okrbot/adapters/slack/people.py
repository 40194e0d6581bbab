"""The people of each workspace, for names typed without Slack's autocomplete (`@maria`).

Read with users.list page by page (cursor pagination, PAGE_SIZE a page, at most
MOST_PAGES pages), kept per workspace in this process, read again after FRESH_SECONDS,
and on a name nobody has at most once every MISS_SECONDS (someone may have just joined).
Deactivated accounts, bots, workflow bots and Slackbot are left out.

users.list is a Tier 2 method (20+ calls a minute). A 429 is waited out when Slack asks
for a short pause; a longer one ends this read: the list read before answers (without
one, the person is told to pick the name from Slack's list), nothing is asked of Slack
until the pause is over, and the next read goes on from the page it stopped at.
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

PAGE_SIZE = 1000  # the most Slack's pagination allows: fewer calls to a Tier 2 method
MOST_PAGES = 20  # 20,000 people; a bigger workspace gets the first 20,000 (logged)
CURSOR_SECONDS = 600.0  # a read cut short goes on from its cursor this long, then starts again
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
    # A read cut short by a long 429: the pages so far and where to go on, for the next read.
    pending: list[dict] = field(default_factory=list)
    cursor: str | None = None
    pending_since: float | None = None
    pages: int = 0  # pages in pending, over every read it took
    quiet_until: float = 0.0  # Slack asked for a pause until then: no call before
    lock: threading.Lock = field(default_factory=threading.Lock)


class _SlackAway(Exception):
    """users.list did not answer this time; the reason is for the log."""


class WorkspacePeople:
    """services.people.PeopleDirectory over Slack's users.list, cached per workspace."""

    def __init__(
        self,
        client: WebClient,
        *,
        client_for: Callable[[str], WebClient] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        # With OAuth installs, `client_for` gives each workspace its own token.
        self.client_for = client_for or (lambda _team_id: client)
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
        """Read the whole list again (or go on with a read cut short); only a whole list
        answers, so a person on a page not read yet is never mistaken for nobody-else."""
        try:
            if now < known.quiet_until:
                raise _SlackAway("rate limited: waiting as Slack asked")
            known.tried_at = now
            self._read_pages(self.client_for(team_id), known, now)
        except _SlackAway as away:
            log.warning("users.list for %s: %s", team_id, away)
            if known.read_at is None:
                raise Invalid(
                    "I couldn't read this workspace's member list from Slack just now, so I can't tell who that is.",
                    hint="Type @ and pick the person from Slack's list, or try again in a minute.",
                    field="owner",
                ) from away
            return  # the list read before still answers
        known.people = PeopleIndex(p for member in known.pending if (p := person(member)) is not None)
        known.read_at = now
        known.pending, known.cursor, known.pending_since, known.pages = [], None, None, 0

    def _read_pages(self, client: WebClient, known: _Known, now: float) -> None:
        """Every page into known.pending, from known.cursor on; raises _SlackAway."""
        if known.pending_since is None or now - known.pending_since >= CURSOR_SECONDS:
            known.pending, known.cursor, known.pending_since, known.pages = [], None, now, 0  # a cursor is not kept for long
        waits = 0
        while known.pages < MOST_PAGES:
            try:
                answer = client.users_list(limit=PAGE_SIZE, cursor=known.cursor)
            except SlackApiError as error:
                pause = _retry_after(error)
                if pause is not None and pause <= LONGEST_WAIT and waits < MOST_WAITS:
                    waits += 1
                    self.sleep(pause)
                    continue  # the same page again
                if pause is not None:
                    known.quiet_until = self.clock() + pause  # go on from this page after the pause
                else:
                    known.pending_since = None  # e.g. invalid_cursor: start again next time
                raise _SlackAway(error.response.get("error") or error.response.status_code) from error
            except OSError as error:  # Slack not reachable, or too slow
                raise _SlackAway(repr(error)) from error
            known.pages += 1
            known.pending.extend(answer.get("members") or [])
            known.cursor = (answer.get("response_metadata") or {}).get("next_cursor") or None
            if not known.cursor:
                return
        log.warning("users.list: %d pages read, more left; names beyond them are not found", MOST_PAGES)


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
