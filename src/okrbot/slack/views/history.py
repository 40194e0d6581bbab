"""`/okr history KR-n`: what happened to a KR, newest first."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import Block, ContextBlock, HeaderBlock, MarkdownTextObject, SectionBlock

from okrbot.domain.formatting import format_value
from okrbot.domain.ids import kr_id
from okrbot.domain.progress import format_percent
from okrbot.services.history import HistoryEntry
from okrbot.slack.mrkdwn import escape, truncate, user
from okrbot.store.models import KeyResult

ICONS = {"checkin": ":memo:", "done": ":white_check_mark:", "reopen": ":leftwards_arrow_with_hook:", "undo": ":rewind:", "link": ":link:", "unlink": ":scissors:"}
LINES_PER_SECTION = 10


def entry_line(kr: KeyResult, entry: HistoryEntry) -> str:
    when = entry.at.strftime("%Y-%m-%d %H:%M")
    icon = ICONS.get(entry.action, "•")
    if entry.action == "checkin":
        value = escape(format_value(entry.value, kr.unit, kr.metric)) if entry.value is not None else "no change"
        text = f"checked in *{value}*"
        if entry.confidence is not None:
            text += f", confidence {entry.confidence}/10"
        if entry.note:
            text += f" — “{escape(truncate(entry.note, 200))}”"
    else:
        text = escape(entry.summary)
        if entry.before is not None and entry.after is not None and entry.before != entry.after:
            text += f" ({format_percent(entry.before)} → {format_percent(entry.after)})"
    undone = " _(undone)_" if entry.undone else ""
    return f"{icon} {when} · {user(entry.actor)} {text}{undone} · via {entry.source}"


def history_blocks(kr: KeyResult, entries: Sequence[HistoryEntry]) -> list[Block]:
    blocks: list[Block] = [HeaderBlock(text=truncate(f"History of {kr_id(kr.number)} · {kr.title}", 150))]
    if not entries:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f"Nothing yet. Record a value: `/okr checkin {kr_id(kr.number)} &lt;value&gt;`")))
        return blocks
    lines = [entry_line(kr, entry) for entry in entries]
    for start in range(0, len(lines), LINES_PER_SECTION):
        chunk = "\n".join(lines[start : start + LINES_PER_SECTION])
        blocks.append(SectionBlock(text=MarkdownTextObject(text=truncate(chunk, 3000))))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"Times in UTC. Showing the latest {len(entries)} entries.")]))
    return blocks
