"""Hostile input over real HTTP (issue 8), generated with hypothesis.

- /okr text, signed like Slack signs it: control characters, 40,000 characters,
  <!channel>, <!here>, <@U…>, <https://evil|bank>, *_~` formatting, SQL. Always
  HTTP 200; a refused command changes no row; and nothing the bot sent to Slack,
  then or later, holds a broadcast, a mention or a link that came from someone's text.
- Interactive payloads: malformed JSON, wrong shapes and types, missing fields,
  unknown action and callback ids, forms with no state, huge values: never a 5xx,
  and no row changes.
- Webhook bodies (/webhooks/github, /webhooks/work): garbage, wrong types, huge:
  400, 401 or 202, never a 5xx, and no row changes.

(Parsing alone is fuzzed in tests/domain/test_grammar.py and tests/test_shell.py.)
Runs on SQLite and, with OKRBOT_TEST_DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections import Counter, defaultdict
from urllib.parse import quote, urlencode

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from okrbot.adapters.slack.ids import Action, Callback, Field
from okrbot.store.models import metadata
from tests.e2e.conftest import Okr
from tests.e2e.harness import WEBHOOK_SECRET

FUZZ = settings(
    deadline=None,
    database=None,  # the same examples every run: a figure in docs/reliability.md is reproducible
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

HOSTILE = [
    "<!channel>", "<!here>", "<!everyone>", "<!subteam^S0123|admins>", "<@U0BADBAD>", "<@W1|boss>", "<#C0GENERAL|general>",
    "<https://evil.example/login|bank>", "<mailto:x@evil.example|support>", "https://evil.example/a|bank>",
    "https://x.example/<!channel>", "&lt;!channel&gt;", "*bold*", "_italic_", "~strike~", "`code`", "```block```", "> quote",
    "'; DROP TABLE objective; --", "\" OR 1=1 --", "KR-1' OR '1'='1", "\x00", "\x07\x08\x1b[31m", "\r\n", "\u202e\u2066",
    "\ud7ff\ufffd", "🎯" * 3, "O-999999999999999999999", "KR-0", "I--1", "%s%n%x", "${jndi:ldap://evil}", "{{7*7}}",
    "owner <@U" + "A" * 40 + ">", "team <#C" + "B" * 40 + "|x>", "u" * 60, "weight 1e308", "confidence 99",
]
hostile = st.sampled_from(HOSTILE)
words = st.lists(st.one_of(hostile, st.text(max_size=30)), max_size=6).map(" ".join)
huge = hostile.map(lambda piece: (piece * 40_000)[:40_000])
fragment = st.one_of(words, huge, st.text(max_size=200))
quote_free = words.map(lambda text: text.replace('"', "'").replace("“", "'").replace("”", "'"))  # keeps commands parseable

COMMANDS = [
    "{}", "status {}", "status KR-1 {}", "help {}", 'objective add "{}"', 'objective add "{}" team <#CTEAM|t> private',
    'kr add O-1 "{}" from 1 to 10', 'kr add O-1 "Title" from 1 to 10 {}', 'initiative add KR-1 "{}"',
    'initiative add KR-1 "Work" url {}', "link {} KR-1", "unlink {} KR-1", "done {}", "reopen {}",
    'checkin KR-2 5 "{}"', "checkin KR-2 {}", "serves {}", "gaps {}", "review {}", 'review schedule "{}"', "edit {}",
    "archive {}", "history {}",
]
# Reads that show what earlier examples stored, hostile titles and notes included.
READS = ["status all", "status KR-1", "status KR-2", "history KR-2", "gaps", "serves bank login channel"]
def commands_with(pieces):
    return st.builds(lambda template, piece: template.format(piece), st.sampled_from(COMMANDS), pieces)


# Half the cases are commands that parse, so hostile text is stored and shown again.
slash_text = st.one_of(commands_with(quote_free), commands_with(quote_free), commands_with(fragment), fragment, st.sampled_from(READS))

# A token Slack turns into a mention, a broadcast or a link: <…> with no space right after <.
SPECIAL = re.compile(r"<([^<>\s][^<>]*)>")


# What every request leaves behind without changing anyone's OKRs: the request itself, its
# key, and the answer queued for the person.
BOOKKEEPING = {"inbound_request", "processed_event"}


def rows(bot) -> dict[str, list]:
    """Every row of every table (ordered) but the bookkeeping, to tell whether anything changed."""
    found = {}
    with bot.db.engine.connect() as connection:
        for table in metadata.sorted_tables:
            if table.name in BOOKKEEPING:
                continue
            query = table.select().order_by(*table.primary_key.columns)
            if table.name == "outbound_message":
                query = query.where(table.c.kind != "answer")
            found[table.name] = [tuple(row) for row in connection.execute(query)]
    return found


def mrkdwn_texts(node):
    """Every mrkdwn text object's text in a message, a view or blocks."""
    if isinstance(node, dict):
        if node.get("type") == "mrkdwn" and isinstance(node.get("text"), str):
            yield node["text"]
        for value in node.values():
            if isinstance(value, (dict, list)):
                yield from mrkdwn_texts(value)
    elif isinstance(node, list):
        for item in node:
            yield from mrkdwn_texts(item)


def shown_texts(args: dict):
    """What Slack reads as mrkdwn in a call: the message's `text` (notifications) and its blocks."""
    if isinstance(args.get("text"), str):
        yield args["text"]
    yield from mrkdwn_texts(args)


def urls_of_work(bot) -> set[str]:
    with bot.db.engine.connect() as connection:
        return {row[0] for row in connection.execute(text("SELECT url FROM initiative WHERE url IS NOT NULL"))}


def assert_nothing_injected(bot, calls) -> None:
    """No broadcast, no mention and no link in what the bot sent, except the ones it makes
    itself: <@U…>/<#C…> for owners and channels people named, and links to stored work."""
    known = {quote(url.strip(), safe=":/?#[]@!$&'()*+,;=%~").replace("&", "&amp;") for url in urls_of_work(bot)}
    for call in calls:
        if call.method not in ("chat.postMessage", "chat.postEphemeral", "chat.update", "response_url", "views.open", "views.publish"):
            continue
        for shown in shown_texts(call.args):
            for token in SPECIAL.findall(shown):
                if re.fullmatch(r"@[UW][A-Z0-9]+|#[CGD][A-Z0-9]+", token):
                    continue  # a mention the bot wrote from an id (SPEC §3: users and channels by id)
                url = token.split("|", 1)[0]
                assert url in known, f"{call.method}: user text became Slack markup <{token}> in {shown[:300]!r}"


@settings(FUZZ, max_examples=400)
@given(command=slash_text)
@example(command="x" * 40_000)
@example(command='objective add "<!channel> <https://evil.example|bank> *now*"')
@example(command="link https://evil.example/a|bank> KR-1")
@example(command="link https://x.example/<!channel> KR-1")
@example(command='checkin KR-2 5 "<!here> \x00 \x1b[31m"')
@example(command="status all")
@example(command="'; DROP TABLE objective; --")
def test_any_slash_text_gets_200_changes_nothing_when_refused_and_injects_nothing(fuzz_bot, command):
    bot, slack, okr = fuzz_bot
    before, calls = rows(bot), len(slack.calls())
    answer = okr(command)  # asserts HTTP 200 and at most one answer
    if answer.problem:
        assert rows(bot) == before, f"/okr {command[:200]!r} was refused but changed data"
        # A clear reason, never the catch-all for a failure of ours.
        assert "Something went wrong" not in answer.text, f"/okr {command[:200]!r}: {answer.text[:300]}"
    assert_nothing_injected(bot, slack.calls()[calls:])
    TALLY["slash text"]["HTTP 200, refused, no row changed" if answer.problem else "HTTP 200, answered"] += 1


# --------------------------------------------------------------------------- interactive payloads


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40) | huge,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
ACTION_IDS = [action.value for action in Action] + ["unknown_action", "", "initiative_mark_done ", "DROP TABLE"]
CALLBACKS = [callback.value for callback in Callback] + ["unknown_modal", ""]
FIELDS = [field.value for field in Field]
user = st.one_of(st.just({"id": "UFUZZ", "team_id": "T1"}), json_values, st.fixed_dictionaries({}, optional={"id": json_values, "team_id": json_values}))
team = st.one_of(st.just({"id": "T1"}), json_values)
action = st.fixed_dictionaries(
    {"action_id": st.sampled_from(ACTION_IDS) | json_values},
    optional={"value": st.one_of(st.sampled_from(["I-1", "KR-1", "KR-2", "O-1", "1", '{"kr": 1, "text": "x"}']), json_values), "type": json_values, "block_id": json_values},
)
block_actions = st.fixed_dictionaries(
    {"type": st.just("block_actions")},
    optional={
        "user": user, "team": team, "actions": st.one_of(st.lists(action, max_size=2), json_values), "channel": json_values,
        "container": json_values, "message": json_values, "view": json_values, "trigger_id": json_values, "state": json_values,
    },
)
state_values = st.dictionaries(
    st.sampled_from(FIELDS) | st.text(max_size=10),
    st.dictionaries(st.just("value") | st.text(max_size=5), st.one_of(json_values, st.builds(lambda v: {"type": "plain_text_input", "value": v}, fragment))),
    max_size=6,
)
view = st.fixed_dictionaries(
    {"callback_id": st.sampled_from(CALLBACKS) | json_values},
    optional={
        "state": st.one_of(st.builds(lambda values: {"values": values}, state_values), json_values),
        "private_metadata": st.one_of(st.sampled_from(['{"number": 2}', '{"kr": 1}', '{"objective": 1}', "{not json", ""]), json_values),
        "id": json_values, "team_id": json_values, "type": json_values, "blocks": json_values,
    },
)
view_submission = st.fixed_dictionaries({"type": st.just("view_submission")}, optional={"user": user, "team": team, "view": view})
payloads = st.one_of(
    st.text(max_size=300),  # not JSON at all
    huge,
    json_values.map(json.dumps),
    block_actions.map(json.dumps),
    view_submission.map(json.dumps),
    st.builds(lambda body: json.dumps(body)[: max(1, len(json.dumps(body)) // 2)], block_actions),  # cut short
)


@settings(FUZZ, max_examples=300)
@given(payload=payloads)
@example(payload="{not json")
@example(payload="")
@example(payload='"a string"')
@example(payload="[1, 2]")
@example(payload=json.dumps({"type": "block_actions", "actions": [{"action_id": "initiative_mark_done", "value": "I-1"}]}))
@example(payload=json.dumps({"type": "view_submission", "user": {"id": "UFUZZ"}, "team": {"id": "T1"}, "view": {"callback_id": "checkin_modal"}}))
def test_any_interactive_payload_gets_no_5xx_and_changes_nothing(fuzz_bot, payload):
    bot, slack, okr = fuzz_bot
    before = rows(bot)
    response = okr.client.raw(urlencode({"payload": payload}).encode(), headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code < 500, (response.status_code, payload[:300])
    bot.settle()
    assert rows(bot) == before, payload[:300]
    TALLY["interactive payloads"][f"HTTP {response.status_code}"] += 1


@settings(FUZZ, max_examples=100)
@given(body=st.one_of(st.binary(max_size=300), huge.map(str.encode), json_values.map(lambda v: json.dumps(v).encode())))
@example(body=b"\xff\xfe\x00garbage")
def test_any_signed_body_sent_to_slack_events_gets_no_5xx_and_changes_nothing(fuzz_bot, body):
    bot, slack, okr = fuzz_bot
    before = rows(bot)
    for content_type in ("application/json", "application/x-www-form-urlencoded"):
        response = okr.client.raw(body, headers={"Content-Type": content_type})
        assert response.status_code < 500, (response.status_code, body[:200])
        TALLY["raw bodies to /slack/events"][f"HTTP {response.status_code}"] += 1
    bot.settle()
    assert rows(bot) == before


# --------------------------------------------------------------------------- webhooks


def _signed(body: bytes) -> str:
    return "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()


github_events = st.sampled_from(["issues", "pull_request", "push", "", "ping"]) | st.text(max_size=20)
github_bodies = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {"action": st.sampled_from(["closed", "reopened", "opened"]) | json_values},
        optional={
            "issue": st.one_of(json_values, st.fixed_dictionaries({"html_url": st.one_of(json_values, st.sampled_from(HOSTILE), huge)})),
            "pull_request": st.one_of(json_values, st.fixed_dictionaries({"html_url": json_values, "merged": json_values})),
            "sender": st.one_of(json_values, st.fixed_dictionaries({"login": json_values})),
        },
    ),
)
work_bodies = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {},
        optional={
            "initiative": st.one_of(json_values, st.sampled_from(["I-999", "KR-1", "I-0", "I--1"] + HOSTILE)),
            "url": st.one_of(json_values, st.sampled_from(HOSTILE), huge),
            "status": st.one_of(json_values, st.sampled_from(["done", "todo", "DONE", ""])),
            "team": json_values,
            "delivery": json_values,
        },
    ),
)


@settings(FUZZ, max_examples=300)
@given(
    target=st.sampled_from(["github", "work"]),
    github_event=github_events,
    github_body=github_bodies,
    work_body=work_bodies,
    raw=st.one_of(st.none(), st.binary(max_size=200)),
    signed=st.booleans(),
)
@example(target="github", github_event="issues", github_body={"action": "closed", "issue": "not an object"}, work_body={}, raw=None, signed=True)
@example(target="github", github_event="pull_request", github_body={"action": "closed", "pull_request": {"merged": True, "html_url": 7}}, work_body={}, raw=None, signed=True)
@example(target="work", github_event="", github_body={}, work_body={"initiative": ["I-1"], "status": {"x": 1}}, raw=None, signed=True)
def test_any_webhook_body_gets_400_401_or_202_and_changes_nothing(fuzz_bot, target, github_event, github_body, work_body, raw, signed):
    bot, slack, okr = fuzz_bot
    before = rows(bot)
    body = raw if raw is not None else json.dumps(github_body if target == "github" else work_body).encode()
    headers = {"Content-Type": "application/json", "X-GitHub-Event": github_event if target == "github" else ""}
    if signed:
        headers["X-Hub-Signature-256" if target == "github" else "X-Okrbot-Signature"] = _signed(body)
    response = httpx.post(f"{bot.url}/webhooks/{target}", content=body, headers={k: v for k, v in headers.items() if v.isprintable() and v.isascii()}, timeout=10)
    assert response.status_code in (400, 401, 202), (response.status_code, response.text[:200], body[:200])
    bot.settle()
    assert rows(bot) == before
    TALLY["webhook bodies"][f"HTTP {response.status_code}"] += 1


# --------------------------------------------------------------------------- the bot under fuzz

# Outcomes per test, printed at the end (`pytest -s`): the figures in docs/reliability.md.
TALLY: dict[str, Counter] = defaultdict(Counter)


@pytest.fixture(scope="module", autouse=True)
def _report_tally():
    yield
    for name, counts in TALLY.items():
        print(f"\n{name}: {sum(counts.values())} cases: " + ", ".join(f"{key} {n}" for key, n in sorted(counts.items())))


@pytest.fixture
def fuzz_bot(bot, client, slack):
    """A workspace where U1 (who types every fuzzed command) owns O-1 (#CTEAM) with
    KR-1 (milestone, fed by I-1 and a linked issue) and KR-2 (numeric)."""
    okr = Okr(bot, client, slack)
    okr.client = client
    okr.ok('objective add "Ship the platform" team <#CTEAM|platform>')
    okr.ok('kr add O-1 "Platform adopted" by initiatives')
    okr.ok('kr add O-1 "Build minutes" from 45 to 25')
    okr.ok('initiative add KR-1 "Build the pipeline"')
    okr.ok("link https://github.com/acme/app/issues/12 KR-1")
    return bot, slack, okr
