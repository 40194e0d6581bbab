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


# --------------------------------------------------------------------------- /okr as a person types it
# (test_commands, test_modals, test_buttons) Assert on what reached the Slack double.

import html as _html  # noqa: E402
import itertools as _itertools  # noqa: E402
from dataclasses import dataclass as _dataclass  # noqa: E402
from dataclasses import field as _field  # noqa: E402

import httpx as _httpx  # noqa: E402

from tests.e2e.blockkit import assert_valid_payloads  # noqa: E402
from tests.fakes.slack_api import Call  # noqa: E402

_answer_names = _itertools.count(1)


def block_text(blocks) -> str:
    """Every text a person would read in these blocks (and buttons), one per line."""
    found: list[str] = []

    def walk(node) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str) and node.get("type") in ("mrkdwn", "plain_text"):
                found.append(node["text"])
            for value in node.values():
                if isinstance(value, (dict, list)):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(blocks or [])
    return "\n".join(found)


def message_of(call: Call) -> dict:
    """The message a recorded chat.postMessage/chat.update left in the channel, as Slack
    puts it in a block_actions payload (ts, text, blocks)."""
    message = dict((call.response or {}).get("message") or {})
    message.setdefault("ts", (call.response or {}).get("ts") or call.args.get("ts"))
    message.setdefault("text", call.args.get("text", ""))
    message.setdefault("blocks", call.args.get("blocks", []))
    return message


def told(calls: list[Call], user: str) -> str:
    """What the bot told `user` privately in these calls (ephemeral notes and DMs), in order."""
    private = [
        c
        for c in calls
        if (c.method == "chat.postEphemeral" and c.args.get("user") == user)
        or (c.method == "chat.postMessage" and c.args.get("channel") == user)
    ]
    return "\n".join(f"{c.args.get('text', '')}\n{block_text(c.args.get('blocks'))}" for c in private)


def channel_of(call: Call) -> str:
    return str((call.response or {}).get("channel") or call.args.get("channel"))


@_dataclass
class Answer:
    """What one /okr command did, as Slack saw it."""

    http: _httpx.Response  # the bot's answer to Slack's POST (the ack)
    body: dict | None  # what the bot POSTed to the command's response_url
    calls: list[Call] = _field(default_factory=list)  # every Web API call it caused

    @property
    def text(self) -> str:
        """The reply as a person reads it: the text and every block's text (&lt; shown as <)."""
        if self.body is None:
            return ""
        return _html.unescape(f"{self.body.get('text', '')}\n{block_text(self.body.get('blocks'))}")

    @property
    def ephemeral(self) -> bool:
        return self.body is not None and self.body.get("response_type", "ephemeral") == "ephemeral"

    @property
    def public(self) -> bool:
        return self.body is not None and self.body.get("response_type") == "in_channel"

    @property
    def problem(self) -> bool:
        # Every refusal is a Reply.problem: ephemeral, starting with the warning sign.
        return self.body is not None and self.ephemeral and str(self.body.get("text", "")).startswith(":warning:")

    @property
    def view(self) -> dict | None:
        opened = self.of("views.open")
        return opened[-1].args["view"] if opened else None

    def of(self, method: str, channel: str | None = None) -> list[Call]:
        return [c for c in self.calls if c.method == method and (channel is None or c.args.get("channel") == channel)]

    def posts(self, channel: str | None = None) -> list[Call]:
        return self.of("chat.postMessage", channel)


class Okr:
    """Types `/okr …` into Slack and waits until the bot has finished with it."""

    def __init__(self, bot, client, slack):
        self.bot, self.client, self.slack = bot, client, slack

    def __call__(self, text: str, *, user: str = "U1", channel: str = "C1") -> Answer:
        name = f"answer-{next(_answer_names)}"
        before = len(self.slack.calls())
        http = self.client.command(text, user_id=user, channel_id=channel, response_url=self.slack.response_url(name))
        assert http.status_code == 200, f"/okr {text} -> HTTP {http.status_code}: {http.text}"
        self.bot.settle()
        calls = [c for c in self.slack.calls()[before:] if c.method != "users.info"]
        bodies = self.slack.responses(name)
        assert len(bodies) <= 1, f"/okr {text} answered {len(bodies)} times"
        return Answer(http, bodies[0].args if bodies else None, calls)

    def ok(self, text: str, **kwargs) -> Answer:
        """A command that must succeed: answered, and not with a problem."""
        answer = self(text, **kwargs)
        assert answer.body is not None or answer.view is not None, f"/okr {text}: no answer; {self.slack.describe()}"
        assert not answer.problem, f"/okr {text} failed: {answer.text}"
        return answer


@pytest.fixture
def okr(bot, client, slack) -> Okr:
    return Okr(bot, client, slack)


@pytest.fixture
def valid_blockkit(request, slack):
    """After the test: every message and view the bot sent is valid Block Kit within
    Slack's limits. Use with `pytestmark = pytest.mark.usefixtures("valid_blockkit")`."""
    yield
    bot = (request.node.funcargs or {}).get("bot")
    if bot is not None:
        bot.settle()  # work still running after the last ack (the server may be stopped by now)
    assert_valid_payloads(slack)
