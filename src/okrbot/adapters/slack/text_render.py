"""Block Kit as plain text, for `okrbot shell` and for logs: what a person would read."""

from __future__ import annotations

import re
from collections.abc import Iterable

_USER = re.compile(r"<@([A-Z0-9a-z_.-]+)(?:\|[^>]*)?>")
_CHANNEL = re.compile(r"<#([A-Z0-9a-z_.-]+)(?:\|([^>]*))?>")
_LINK = re.compile(r"<(https?://[^|>]+)\|([^>]+)>")
_BARE_LINK = re.compile(r"<(https?://[^>]+)>")
_BOLD = re.compile(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])")
_CODE = re.compile(r"`([^`\n]+)`")
EMOJI = {
    ":large_green_circle:": "🟢",
    ":large_yellow_circle:": "🟡",
    ":red_circle:": "🔴",
    ":white_circle:": "⚪",
    ":white_check_mark:": "✅",
    ":warning:": "⚠️",
    ":dart:": "🎯",
    ":chart_with_upwards_trend:": "📈",
    ":lock:": "🔒",
    ":memo:": "📝",
    ":link:": "🔗",
    ":scissors:": "✂️",
    ":rewind:": "⏪",
    ":leftwards_arrow_with_hook:": "↩️",
}


def mrkdwn_to_text(text: str) -> str:
    text = _USER.sub(r"@\1", text)
    text = _CHANNEL.sub(lambda m: f"#{m.group(2) or m.group(1)}", text)
    text = _LINK.sub(r"\2 (\1)", text)
    text = _BARE_LINK.sub(r"\1", text)
    text = _BOLD.sub(r"\1", text)
    text = _CODE.sub(r"\1", text)
    for code, symbol in EMOJI.items():
        text = text.replace(code, symbol)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _text_of(obj: dict | None) -> str:
    return mrkdwn_to_text(obj.get("text", "")) if obj else ""


def blocks_to_text(blocks: Iterable[dict]) -> str:
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            lines += [_text_of(block.get("text")).upper(), ""]
        elif kind == "section":
            if block.get("text"):
                lines.append(_text_of(block["text"]))
            lines += [_text_of(field) for field in block.get("fields", [])]
            accessory = block.get("accessory")
            if accessory and accessory.get("type") == "button":
                lines.append(f"  [{_text_of(accessory.get('text'))}]")
        elif kind == "context":
            lines.append("  " + " ".join(_text_of(element) for element in block.get("elements", []) if "text" in element))
        elif kind == "actions":
            labels = [f"[{_text_of(element.get('text'))}]" for element in block.get("elements", []) if element.get("text")]
            lines.append("  " + " ".join(labels))
        elif kind == "divider":
            lines.append("─" * 40)
        elif kind == "input":
            lines.append(f"  {_text_of(block.get('label'))}: ____")
    return "\n".join(lines).rstrip()
