"""The requests the benchmarks send, as Slack sends them (signed), and the answer each waits for.

    status_team     /okr status in the busiest team channel, by the owner of one of its objectives
    status_all      /okr status all, same person and channel
    done            /okr done I-n, every request a different open initiative (restored afterwards)
    checkin_modal   the check-in modal submitted (view_submission) by the KR's owner
    home            app_home_opened: okrbot publishes that person's App Home
    serves          /okr serves <a request in the organisation's own words>

Who asks is read from the organisation once (`Picks.read`), so every size is asked the
same kind of question. Concurrent clients are spread over different people where the
answer has to be told apart (App Home, check-ins).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from sqlalchemy import func, update
from sqlmodel import col, select

from bench.common import SECRET, TEAM
from okrbot.adapters.slack.ids import INPUT_ACTION, Field
from okrbot.adapters.slack.views.modals import checkin_modal
from okrbot.store.db import Database
from okrbot.store.models import Initiative, KeyResult, KrLink, Objective
from tests.fakes.slack_client import SignedSlackClient, app_home_opened

SERVES_TEXT = "Load test the search index before the holiday traffic"
NAMES = ("status_team", "status_all", "done", "checkin_modal", "home", "serves", "report")
DONE_POOL = 4000


@dataclass
class Person:
    user: str
    kr: int  # a numeric KR this person owns, for check-ins
    checkin_view: dict


@dataclass
class Picks:
    channel: str  # the team channel with the most objectives this quarter
    asker: str  # owns an objective there
    people: list[Person]  # KR owners, one per concurrent client
    open_work: list[int]  # initiative numbers not done, linked to this quarter's KRs
    members: dict[str, list[str]] = field(default_factory=dict)  # team channel -> its people
    period: str = ""  # the quarter the organisation was built for
    _done_lock: threading.Lock = field(default_factory=threading.Lock)
    _done_used: list[int] = field(default_factory=list)

    @classmethod
    def read(cls, url: str, period: str, *, people: int = 20) -> Picks:
        db = Database(url)
        try:
            with db.session_scope() as session:
                active = (Objective.team_id == TEAM, Objective.period == period, Objective.status == "active")
                channel = session.exec(
                    select(Objective.team_channel, func.count())
                    .where(*active, col(Objective.team_channel).is_not(None))
                    .group_by(Objective.team_channel)
                    .order_by(func.count().desc(), Objective.team_channel)
                ).first()[0]
                asker = session.exec(
                    select(Objective.owner).where(*active, Objective.team_channel == channel, Objective.private.is_(False)).order_by(Objective.number)
                ).first()
                krs = session.exec(
                    select(KeyResult)
                    .join(Objective, Objective.id == KeyResult.objective_id)
                    .where(*active, KeyResult.status == "active", col(KeyResult.metric).in_(("numeric", "percentage")))
                    .order_by(KeyResult.number)
                ).all()
                chosen: dict[str, KeyResult] = {}
                for kr in krs:
                    if kr.owner not in chosen:
                        chosen[kr.owner] = kr
                    if len(chosen) >= people:
                        break
                open_work = session.exec(
                    select(Initiative.number)
                    .where(Initiative.team_id == TEAM, Initiative.status != "done")
                    .where(
                        select(KrLink.id)
                        .join(KeyResult, KeyResult.id == KrLink.kr_id)
                        .join(Objective, Objective.id == KeyResult.objective_id)
                        # Work on milestone KRs in team channels: done moves progress and the channel is told.
                        .where(KrLink.initiative_id == Initiative.id, *active, KeyResult.metric == "milestone")
                        .where(col(Objective.team_channel).is_not(None))
                        .exists()
                    )
                    .order_by(Initiative.number)
                    .limit(DONE_POOL)
                ).all()
                persons = [
                    Person(owner, kr.number, checkin_modal(kr, channel=channel).to_dict()) for owner, kr in chosen.items()
                ]
                # A team channel's members: whoever owns its objectives or their KRs, and the asker
                # (who marks work done as a member of the teams it serves, like a team lead).
                members: dict[str, set[str]] = {}
                for team_channel, owner in session.exec(
                    select(Objective.team_channel, Objective.owner).where(*active, col(Objective.team_channel).is_not(None))
                ).all():
                    members.setdefault(team_channel, {asker}).add(owner)
                for team_channel, owner in session.exec(
                    select(Objective.team_channel, KeyResult.owner)
                    .join(KeyResult, KeyResult.objective_id == Objective.id)
                    .where(*active, col(Objective.team_channel).is_not(None))
                ).all():
                    members.setdefault(team_channel, {asker}).add(owner)
        finally:
            db.dispose()
        return cls(channel=channel, asker=asker, people=persons, open_work=list(open_work),
                   members={c: sorted(m) for c, m in members.items()}, period=period)

    def tell(self, slack) -> None:
        """Give the Slack double the team channels' members (conversations.members)."""
        for team_channel, people in self.members.items():
            slack.set_members(team_channel, people)

    def next_open_work(self) -> int:
        with self._done_lock:
            if not self.open_work:
                raise RuntimeError("no open initiative left to mark done; raise DONE_POOL or send fewer requests")
            number = self.open_work.pop(0)
            self._done_used.append(number)
            return number

    def restore(self, url: str) -> int:
        """Put the initiatives marked done back to their earlier status (progress is computed from them)."""
        with self._done_lock:
            used, self._done_used = self._done_used, []
        if not used:
            return 0
        db = Database(url)
        try:
            with db.session_scope() as session:
                session.execute(
                    update(Initiative)
                    .where(Initiative.team_id == TEAM, col(Initiative.number).in_(used))
                    .values(status="todo")
                    .execution_options(synchronize_session=False)
                )
        finally:
            db.dispose()
        self.open_work = sorted(set(self.open_work) | set(used))
        return len(used)


Send = Callable[[], httpx.Response]


class Requests:
    """Builds one request of a scenario for client `i`: (answer key, send)."""

    def __init__(self, client: SignedSlackClient, picks: Picks, response_url: Callable[[str], str]) -> None:
        self.client, self.picks, self.response_url = client, picks, response_url

    def make(self, name: str, i: int, seq: int) -> tuple[str | None, Send]:
        picks, client = self.picks, self.client
        person = picks.people[i % len(picks.people)]
        if name in ("status_team", "status_all", "done", "serves", "report"):
            if name == "status_team":
                text = "status"
            elif name == "report":
                text = f"report {picks.period}"  # the asker's team channel: that team's scorecard
            elif name == "status_all":
                text = "status all"
            elif name == "done":
                text = f"done I-{picks.next_open_work()}"
            else:
                text = f"serves {SERVES_TEXT}"
            key = f"{name}-{uuid.uuid4().hex[:12]}"
            url = self.response_url(key)
            return key, lambda: client.command(text, user_id=picks.asker, channel_id=picks.channel, team_id=TEAM, response_url=url)
        if name == "checkin_modal":
            state = {
                Field.VALUE.value: {INPUT_ACTION: {"type": "plain_text_input", "value": str(10 + seq % 50)}},
                Field.CONFIDENCE.value: {INPUT_ACTION: {"type": "static_select", "selected_option": {"text": {"type": "plain_text", "text": "7/10"}, "value": "7"}}},
                Field.NOTE.value: {INPUT_ACTION: {"type": "plain_text_input", "value": "benchmark check-in"}},
            }
            return f"ephemeral:{person.user}", lambda: client.view_submission(person.checkin_view, user_id=person.user, team_id=TEAM, state_values=state)
        if name == "home":
            return f"publish:{person.user}", lambda: client.event(app_home_opened(person.user), team_id=TEAM)
        raise ValueError(f"unknown scenario {name!r}; known: {', '.join(NAMES)}")


def new_client(base_url: str, response_url: Callable[[str], str]) -> SignedSlackClient:
    return SignedSlackClient(base_url.removesuffix("/slack/events"), SECRET, response_url_factory=response_url, timeout=60.0)
