from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.harness import RunningBot, running_bot
from tests.fakes.slack_api import SlackDouble
from tests.fakes.slack_client import SignedSlackClient


@pytest.fixture
def slack() -> Iterator[SlackDouble]:
    with SlackDouble() as double:
        yield double


@pytest.fixture
def served(slack: SlackDouble, database_url: str) -> Iterator[tuple[RunningBot, SignedSlackClient]]:
    with running_bot(slack, database_url) as pair:
        yield pair


@pytest.fixture
def bot(served) -> RunningBot:
    return served[0]


@pytest.fixture
def client(served) -> SignedSlackClient:
    return served[1]
