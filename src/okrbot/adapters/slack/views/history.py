"""`/okr history KR-n`: what happened to a KR, newest first."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from okrbot.domain.formatting import format_value
from okrbot.domain.ids import kr_id
from okrbot.domain.progress import format_percent
from okrbot.services.history import HistoryEntry
from okrbot.adapters.slack.ids import Action
from okrbot.adapters.slack.mrkdwn import escape, truncate, user
from okrbot.store.models import KeyResult

ICONS = {"checkin": ":memo:", "done": ":white_check_mark:", "reopen": ":leftwards_arrow_with_hook:", "undo": ":rewind:", "link": ":link:", "unlink": ":scissors:"}
LINES_PER_SECTION = 10
MOST_WITH_BUTTONS = 10  # check-ins shown with Edit and Delete (two blocks each, of Slack's 50)


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


def history_blocks(kr: KeyResult, entries: Sequence[HistoryEntry], editable: Collection[int] = ()) -> list[Block]:
    """`editable`: the check-ins (row ids) the viewer may still fix; they get Edit and Delete."""
    blocks: list[Block] = [HeaderBlock(text=truncate(f"History of {kr_id(kr.number)} · {kr.title}", 150))]
    if not entries:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f"Nothing yet. Record a value: `/okr checkin {kr_id(kr.number)} &lt;value&gt;`")))
        return blocks
    lines: list[str] = []
    with_buttons = 0
    for entry in entries:
        if entry.checkin_id in editable and with_buttons < MOST_WITH_BUTTONS:
            blocks += _lines(lines)
            lines = []
            blocks += _editable_entry(kr, entry)
            with_buttons += 1
        else:
            lines.append(entry_line(kr, entry))
    blocks += _lines(lines)
    blocks.append(ActionsBlock(block_id=f"kr_{kr.number}_history", elements=[ButtonElement(text="Chart", action_id=Action.CHART.value, value=kr_id(kr.number))]))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"Times in UTC. Showing the latest {len(entries)} entries.")]))
    return blocks


def _lines(lines: list[str]) -> list[Block]:
    return [
        SectionBlock(text=MarkdownTextObject(text=truncate("\n".join(lines[start : start + LINES_PER_SECTION]), 3000)))
        for start in range(0, len(lines), LINES_PER_SECTION)
    ]


def _editable_entry(kr: KeyResult, entry: HistoryEntry) -> list[Block]:
    value = str(entry.checkin_id)
    confirm = ConfirmObject(
        title="Delete this check-in?",
        text=f"{kr_id(kr.number)} goes back to where it was before it, and its announcement says it was deleted.",
        confirm="Delete",
        deny="Keep it",
        style="danger",
    )
    return [
        SectionBlock(text=MarkdownTextObject(text=truncate(entry_line(kr, entry), 3000))),
        ActionsBlock(
            block_id=f"checkin_{entry.checkin_id}",
            elements=[
                ButtonElement(text="Edit", action_id=Action.CHECKIN_EDIT_OPEN.value, value=value),
                ButtonElement(text="Delete", action_id=Action.CHECKIN_DELETE.value, value=value, style="danger", confirm=confirm),
            ],
        ),
    ]
