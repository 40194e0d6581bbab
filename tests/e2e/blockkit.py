"""Block Kit checks for everything the bot sent to the Slack double.

Slack answers `invalid_blocks` (or silently drops a modal) for payloads that
break its rules, and the double accepts anything; so every e2e test that opts
in (the `valid_blockkit` fixture) ends by passing each recorded message and
view through slack_sdk's block and view models and Slack's documented limits.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from tests.fakes.slack_api import Call, SlackDouble

MESSAGE_METHODS = ("chat.postMessage", "chat.update", "chat.postEphemeral", "response_url")
VIEW_METHODS = ("views.open", "views.update", "views.push", "views.publish")

# Slack's limits (docs.slack.dev, Block Kit reference).
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SECTION_TEXT = 3000
MAX_SECTION_FIELD = 2000
MAX_SECTION_FIELDS = 10
MAX_HEADER_TEXT = 150
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_MODAL_TITLE = 24
MAX_MODAL_BUTTON = 24  # submit and close
MAX_PRIVATE_METADATA = 3000
MAX_CONTEXT_ELEMENTS = 10
MAX_ACTIONS_ELEMENTS = 25
MAX_OPTION_TEXT = 75
MAX_OPTIONS = 100
MAX_INPUT_LABEL = 2000
MAX_ID = 255  # block_id, action_id, callback_id
MAX_MESSAGE_TEXT = 40000

# In mrkdwn, <…> is a control sequence: a mention, a channel, a special mention or a link.
# Anything else in angle brackets (`<value>`) is shown broken or not at all: escape it as &lt;.
_CONTROL = re.compile(r"<([^<>]*)>")
_ENTITY = re.compile(r"^(@[UW][A-Z0-9]+|#[CG][A-Z0-9]+|![a-z]+(\^[^|]*)?|(https?|mailto|slack):[^|\s]+)(\|[^<>]*)?$")


class BlockKitError(AssertionError):
    pass


def assert_valid_payloads(slack: SlackDouble) -> int:
    """Check every message and view the bot sent; returns how many were checked."""
    problems: list[str] = []
    checked = 0
    for call in slack.calls():
        if call.method in MESSAGE_METHODS and "blocks" in call.args:
            checked += 1
            problems += [f"{_where(call)}: {p}" for p in message_problems(call.args)]
        elif call.method in VIEW_METHODS:
            checked += 1
            problems += [f"{_where(call)}: {p}" for p in view_problems(call.args.get("view"))]
    if problems:
        raise BlockKitError("invalid Block Kit sent to Slack:\n  " + "\n  ".join(problems))
    return checked


def message_problems(args: dict[str, Any]) -> list[str]:
    blocks = args.get("blocks")
    if isinstance(blocks, str):
        try:
            blocks = json.loads(blocks)
        except json.JSONDecodeError:
            return [f"blocks are not JSON: {blocks[:80]!r}"]
    if not isinstance(blocks, list):
        return [f"blocks must be a list, got {type(blocks).__name__}"]
    problems: list[str] = []
    if len(blocks) > MAX_MESSAGE_BLOCKS:
        problems.append(f"{len(blocks)} blocks in a message (max {MAX_MESSAGE_BLOCKS})")
    if blocks and not str(args.get("text") or "").strip():
        problems.append("blocks without a `text` fallback (notifications and screen readers need it)")
    if len(str(args.get("text") or "")) > MAX_MESSAGE_TEXT:
        problems.append(f"text is {len(args['text'])} characters (max {MAX_MESSAGE_TEXT})")
    problems += [f"fallback text: {p}" for p in mrkdwn_problems(str(args.get("text") or ""))]
    for index, block in enumerate(blocks):
        problems += [f"block {index}: {p}" for p in block_problems(block, in_view=False)]
    return problems


def view_problems(view: Any) -> list[str]:
    if isinstance(view, str):
        try:
            view = json.loads(view)
        except json.JSONDecodeError:
            return [f"view is not JSON: {view[:80]!r}"]
    if not isinstance(view, dict):
        return [f"view must be an object, got {type(view).__name__}"]
    problems: list[str] = []
    try:
        model = View(**view)
        model.validate_json()
        model.to_dict()  # validates every nested block, element and text object
    except (SlackObjectFormationError, TypeError, KeyError, AttributeError) as error:
        problems.append(f"slack_sdk rejects the view: {error}")
    blocks = view.get("blocks") or []
    kind = view.get("type")
    if kind not in ("modal", "home"):
        problems.append(f"view type {kind!r}")
    if not blocks:
        problems.append("a view needs at least one block")
    if len(blocks) > MAX_VIEW_BLOCKS:
        problems.append(f"{len(blocks)} blocks in a view (max {MAX_VIEW_BLOCKS})")
    metadata = view.get("private_metadata") or ""
    if len(metadata) > MAX_PRIVATE_METADATA:
        problems.append(f"private_metadata is {len(metadata)} characters (max {MAX_PRIVATE_METADATA})")
    if len(view.get("callback_id") or "") > MAX_ID:
        problems.append("callback_id too long")
    if kind == "modal":
        title = _text(view.get("title"))
        if not 1 <= len(title) <= MAX_MODAL_TITLE:
            problems.append(f"modal title {title!r} is {len(title)} characters (1 to {MAX_MODAL_TITLE})")
        for key in ("submit", "close"):
            label = _text(view.get(key))
            if len(label) > MAX_MODAL_BUTTON:
                problems.append(f"modal {key} {label!r} is over {MAX_MODAL_BUTTON} characters")
        if any(block.get("type") == "input" for block in blocks) and not view.get("submit"):
            problems.append("a modal with inputs needs a submit button")
    else:
        if view.get("submit") or view.get("close"):
            problems.append("a home view has no submit or close")
        if any(block.get("type") == "input" for block in blocks):
            problems.append("input blocks are for modals, not the home tab")
    block_ids = [block.get("block_id") for block in blocks if block.get("block_id")]
    if len(block_ids) != len(set(block_ids)):
        problems.append(f"duplicate block_id in a view: {sorted(block_ids)}")
    for index, block in enumerate(blocks):
        problems += [f"block {index}: {p}" for p in block_problems(block, in_view=True)]
    return problems


def block_problems(block: Any, *, in_view: bool) -> list[str]:
    """One block through slack_sdk (parse, validate, round-trip) and the explicit limits."""
    if not isinstance(block, dict):
        return [f"not an object: {block!r}"]
    kind = block.get("type")
    problems: list[str] = []
    try:
        model = Block.parse(block)
        if model is None:
            return [f"unknown block type {kind!r}"]
        model.validate_json()
        rendered = model.to_dict()  # validates nested elements and text objects too
    except (SlackObjectFormationError, TypeError, KeyError, AttributeError) as error:
        problems.append(f"slack_sdk rejects the {kind} block: {error}")
    else:
        lost = sorted(_lost_keys(block, rendered))
        if lost:
            # slack_sdk drops what it does not know; so does Slack, or it refuses the block.
            problems.append(f"{kind} block has fields Block Kit does not know: {', '.join(lost)}")
    if len(block.get("block_id") or "") > MAX_ID:
        problems.append("block_id over 255 characters")
    if kind == "section":
        text = _text(block.get("text"))
        if len(text) > MAX_SECTION_TEXT:
            problems.append(f"section text is {len(text)} characters (max {MAX_SECTION_TEXT})")
        fields = block.get("fields") or []
        if len(fields) > MAX_SECTION_FIELDS:
            problems.append(f"{len(fields)} section fields (max {MAX_SECTION_FIELDS})")
        problems += [f"section field is over {MAX_SECTION_FIELD}" for f in fields if len(_text(f)) > MAX_SECTION_FIELD]
        if not text and not fields:
            problems.append("a section needs text or fields")
    elif kind == "header":
        text = _text(block.get("text"))
        if not 1 <= len(text) <= MAX_HEADER_TEXT:
            problems.append(f"header text is {len(text)} characters (1 to {MAX_HEADER_TEXT})")
    elif kind == "context":
        count = len(block.get("elements") or [])
        if not 1 <= count <= MAX_CONTEXT_ELEMENTS:
            problems.append(f"{count} context elements (1 to {MAX_CONTEXT_ELEMENTS})")
    elif kind == "actions":
        count = len(block.get("elements") or [])
        if not 1 <= count <= MAX_ACTIONS_ELEMENTS:
            problems.append(f"{count} actions elements (1 to {MAX_ACTIONS_ELEMENTS})")
    elif kind == "input":
        if not in_view:
            problems.append("input blocks only work in modals")
        if len(_text(block.get("label"))) > MAX_INPUT_LABEL:
            problems.append("input label over 2000 characters")
    for element in _elements(block):
        problems += _element_problems(element)
    for text in mrkdwn_texts(block):
        problems += mrkdwn_problems(text)
    return problems


def mrkdwn_problems(text: str) -> list[str]:
    """Angle brackets that Slack would take for a broken link or mention."""
    return [
        f"mrkdwn has <{inner}>, which is not a mention or link; escape it as &lt;{inner}&gt;"
        for inner in _CONTROL.findall(text)
        if not _ENTITY.match(inner)
    ]


def mrkdwn_texts(node: Any) -> Iterator[str]:
    """Every mrkdwn text in these blocks: what Slack parses for mentions and links."""
    if isinstance(node, dict):
        if node.get("type") == "mrkdwn" and isinstance(node.get("text"), str):
            yield node["text"]
        for value in node.values():
            yield from mrkdwn_texts(value)
    elif isinstance(node, list):
        for item in node:
            yield from mrkdwn_texts(item)


def buttons(blocks: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Every button in these blocks (accessories and actions elements), in order."""
    return [e for block in blocks or [] for e in _elements(block) if e.get("type") == "button"]


def button(blocks: list[dict[str, Any]] | None, action_id: str) -> dict[str, Any]:
    """The first button with this action_id; fails the test when there is none."""
    for element in buttons(blocks):
        if element.get("action_id") == action_id:
            return element
    raise AssertionError(f"no {action_id} button; the buttons are {[e.get('action_id') for e in buttons(blocks)]}")


def has_button(blocks: list[dict[str, Any]] | None, action_id: str) -> bool:
    return any(element.get("action_id") == action_id for element in buttons(blocks))


def _element_problems(element: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    kind = element.get("type")
    for key in ("action_id",):
        if len(element.get(key) or "") > MAX_ID:
            problems.append(f"{kind} {key} over {MAX_ID} characters")
    if kind == "button":
        text = _text(element.get("text"))
        if not 1 <= len(text) <= MAX_BUTTON_TEXT:
            problems.append(f"button text {text!r} is {len(text)} characters (1 to {MAX_BUTTON_TEXT})")
        if len(element.get("value") or "") > MAX_BUTTON_VALUE:
            problems.append(f"button value over {MAX_BUTTON_VALUE} characters")
        if not element.get("action_id"):
            problems.append(f"button {text!r} has no action_id, so the bot could not tell which it was")
    if kind in ("static_select", "checkboxes", "radio_buttons", "overflow"):
        options = element.get("options") or []
        if not 1 <= len(options) <= MAX_OPTIONS:
            problems.append(f"{kind} has {len(options)} options (1 to {MAX_OPTIONS})")
        for option in options:
            if len(_text(option.get("text"))) > MAX_OPTION_TEXT:
                problems.append(f"{kind} option text over {MAX_OPTION_TEXT} characters")
        values = [option.get("value") for option in options]
        if len(values) != len(set(values)):
            problems.append(f"{kind} has duplicate option values")
    if kind == "plain_text_input":
        initial, limit = element.get("initial_value"), element.get("max_length")
        if initial is not None and limit is not None and len(initial) > limit:
            problems.append(f"initial_value is longer than the input's max_length {limit}")
    return problems


def _elements(block: dict[str, Any]) -> Iterator[dict[str, Any]]:
    if isinstance(block.get("accessory"), dict):
        yield block["accessory"]
    if isinstance(block.get("element"), dict):
        yield block["element"]
    if block.get("type") in ("actions", "context"):
        yield from (e for e in block.get("elements") or [] if isinstance(e, dict))


def _text(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("text") or "")
    return str(value or "")


def _lost_keys(sent: Any, rendered: Any, path: str = "") -> set[str]:
    """Keys of what was sent that slack_sdk's rendering does not have (unknown fields)."""
    lost: set[str] = set()
    if isinstance(sent, dict) and isinstance(rendered, dict):
        for key, value in sent.items():
            where = f"{path}.{key}" if path else key
            if key not in rendered:
                lost.add(where)
            else:
                lost |= _lost_keys(value, rendered[key], where)
    elif isinstance(sent, list) and isinstance(rendered, list):
        if len(sent) != len(rendered):
            lost.add(f"{path}[{len(rendered)}:]")  # items slack_sdk could not read
        for index, (a, b) in enumerate(zip(sent, rendered, strict=False)):
            lost |= _lost_keys(a, b, f"{path}[{index}]")
    return lost


def _where(call: Call) -> str:
    target = call.args.get("channel") or call.args.get("user_id") or call.path or ""
    return f"{call.method} {target}".strip()
