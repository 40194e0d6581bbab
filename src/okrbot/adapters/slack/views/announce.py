"""Quieter channels: the answer to `/okr channel announce` and the daily digest."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import time

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

from okrbot.services.announce import DAILY, DEFAULT_DIGEST_AT, THREAD, ChannelMode, HeldChange
from okrbot.adapters.slack.views.messages import undo_actions

# A digest message holds this many changes (two blocks each, under Slack's 50 blocks per message).
DIGEST_PART = 20


def describe_mode(mode: ChannelMode) -> str:
    if mode.mode == THREAD:
        return "one thread per objective per week: the first change of an objective in a week starts it, later ones reply in it"
    if mode.mode == DAILY:
        return f"a daily digest at {clock(mode.digest_at or DEFAULT_DIGEST_AT)} (workspace time zone)"
    return "every change, as it happens"


def mode_reply(mode: ChannelMode, *, changed: bool, posted_left: int = 0) -> str:
    if not changed:
        who = f" (chosen by <@{mode.set_by}>)" if mode.set_by else " (the default)"
        return (
            f"Progress in <#{mode.channel}> is announced: {describe_mode(mode)}{who}.\n"
            "Change it with `/okr channel announce every|thread|daily [17:00]`."
        )
    left = f" The {posted_left} change{'s' if posted_left != 1 else ''} held for the digest {'are' if posted_left != 1 else 'is'} posted now." if posted_left else ""
    return f"From now on progress in <#{mode.channel}> is announced: {describe_mode(mode)}.{left}"


def clock(at: time) -> str:
    return f"{at.hour:02d}:{at.minute:02d}"


def digest_parts(items: Sequence[HeldChange], undoable: set[int], *, final: bool = False) -> list[tuple[list[Block], str, list[int]]]:
    """The digest as one or more messages (blocks, text, the held changes it carries), each
    change with its Undo button while it can still be undone."""
    title = "Progress held for the digest" if final else "Daily progress digest"
    count = len(items)
    changes = f"{count} change{'s' if count != 1 else ''}"
    parts: list[tuple[list[Block], str, list[int]]] = []
    for start in range(0, count, DIGEST_PART):
        chunk = items[start : start + DIGEST_PART]
        heading = f":newspaper: *{title}* — {changes}"
        if count > DIGEST_PART:
            heading += f" ({start + 1}–{start + len(chunk)})"
        blocks: list[Block] = [ContextBlock(elements=[MarkdownTextObject(text=heading)])]
        for item in chunk:
            blocks.append(SectionBlock(text=MarkdownTextObject(text=item.text)))
            if item.change_id is not None and item.change_id in undoable:
                blocks.append(undo_actions(item.change_id))
        parts.append((blocks, f"{title}: {changes}", [item.id for item in chunk]))
    return parts
