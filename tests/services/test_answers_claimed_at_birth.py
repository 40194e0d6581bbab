"""A private answer on a response_url is queued already claimed by the worker that sends it
right after commit (one transaction fewer per answer). Nothing about it may be lost or
doubled: it goes out once; another sender leaves it alone while the claim holds; and
if the worker died before sending, it still goes out, once, when the claim runs out."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from slack_sdk import WebClient
from sqlalchemy import update
from sqlmodel import select

from okrbot.adapters.slack.delivery import Deliverer, sent_at_once
from okrbot.adapters.slack.reply import Reply, ReplyTo
from okrbot.store import outbox
from okrbot.store.models import OutboundMessage
from okrbot.store.types import utcnow
from okrbot.store.workspaces import ensure_workspace
from tests.fakes.slack_api import SlackDouble

TEAM = "T1"


@pytest.fixture
def slack() -> Iterator[SlackDouble]:
    with SlackDouble() as double:
        yield double


def queue_answer(db, slack: SlackDouble, *, public: bool = False, name: str = "asker") -> outbox.Queued:
    method, channel, payload = ReplyTo("U1", "C1", slack.response_url(name)).message(Reply(text="KR-1 is at 40%", public=public))
    with db.session_scope() as session:
        ensure_workspace(session, TEAM)
        claim = sent_at_once(method, payload)
        row = outbox.enqueue(session, team_id=TEAM, kind="answer", channel=channel, payload=payload, now=utcnow(), method=method, claimed_for=outbox.LEASE if claim else None)
    return row


def sender(db, slack: SlackDouble) -> Deliverer:
    return Deliverer(db, WebClient(token="xoxb-test", base_url=slack.api_url))


def status_of(db, message_id: int) -> str:
    with db.session_scope(read_only=True) as session:
        return session.exec(select(OutboundMessage.status).where(OutboundMessage.id == message_id)).one()


def test_only_an_answer_the_channel_cannot_see_is_queued_claimed(db, slack):
    private, public = queue_answer(db, slack), queue_answer(db, slack, public=True)
    assert (private.status, private.attempts) == (outbox.POSTING, 1)
    assert (public.status, public.attempts) == (outbox.PENDING, 0)  # a lost public answer is never sent again: claimed on its own, just before


def test_a_claimed_answer_goes_out_once_and_a_sweeper_leaves_it_alone(db, slack):
    row = queue_answer(db, slack)
    assert sender(db, slack).deliver(None) == 0  # the sweeper: claimed by the worker that queued it
    assert sender(db, slack).deliver([row.id], claimed=[row]) == 1
    assert sender(db, slack).deliver(None) == 0
    (answer,) = slack.responses("asker")
    assert answer.args["text"] == "KR-1 is at 40%" and answer.args["response_type"] == "ephemeral"
    assert status_of(db, row.id) == outbox.SENT


def test_an_answer_whose_worker_died_before_sending_goes_out_once_its_claim_runs_out(db, slack):
    row = queue_answer(db, slack)  # committed; the worker dies before it sends
    with db.session_scope() as session:  # the claim runs out
        session.execute(update(OutboundMessage).where(OutboundMessage.id == row.id).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    assert sender(db, slack).deliver(None) == 1
    assert sender(db, slack).deliver(None) == 0
    assert [call.args["text"] for call in slack.responses("asker")] == ["KR-1 is at 40%"]
    assert status_of(db, row.id) == outbox.SENT
