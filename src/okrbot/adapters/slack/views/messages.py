"""Messages the bot posts in channels: initiative cards, progress moves, confirmations."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from okrbot.domain.ids import initiative_id, kr_id
from okrbot.domain.progress import format_percent
from okrbot.services.announcements import Message
from okrbot.services.work import KrMove
from okrbot.store.models import Initiative
from okrbot.adapters.slack.ids import Action
from okrbot.adapters.slack.mrkdwn import escape, link, truncate, user

PRIVATE_KR = ":lock: a private KR"
STATUS_LABEL = {"todo": "to do", "in_progress": "in progress", "done": "done :white_check_mark:"}


def initiative_card(
    number: int, title: str, status: str, owner: str | None, url: str | None, krs: Sequence[tuple[int, str | None]]
) -> list[Block]:
    """The message a team reacts ✅ to; krs are (number, title) of the KRs it serves,
    title None for a KR of a private objective (the card is read in a channel)."""
    name = link(url, title) if url else escape(title)
    serves = ", ".join(f"*{kr_id(n)}* {escape(truncate(t, 80))}" if t is not None else PRIVATE_KR for n, t in krs) or "no KR yet"
    text = truncate(
        f"*{initiative_id(number)}* {name}\nServes {serves}\nOwner {user(owner)} · {STATUS_LABEL.get(status, status)}",
        3000,
    )
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=text))]
    button = (
        ButtonElement(text="Reopen", action_id=Action.REOPEN.value, value=initiative_id(number))
        if status == "done"
        else ButtonElement(text="Mark done", action_id=Action.MARK_DONE.value, value=initiative_id(number), style="primary")
    )
    blocks.append(ActionsBlock(block_id=f"work_{number}", elements=[button]))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text="React with :white_check_mark: when it's done.")]))
    return blocks


PRIVATE_WORK = ":lock: Private work"


def private_work_card(number: int) -> list[Block]:
    """A card whose work now feeds only private KRs: what it is and its button are gone."""
    text = f"{PRIVATE_WORK}: *{initiative_id(number)}* now serves only private OKRs, so it is no longer shown here."
    return [SectionBlock(text=MarkdownTextObject(text=text))]


def initiative_card_text(number: int, title: str) -> str:
    return f"{initiative_id(number)} {escape(title)}"  # the fallback text is mrkdwn too


def moves_text(moves: Sequence[KrMove]) -> str:
    return "\n".join(
        f"• {PRIVATE_KR if move.private else f'*{kr_id(move.number)}* ' + escape(truncate(move.title, 120))}: "
        f"{format_percent(move.before)} → *{format_percent(move.after)}*"
        for move in moves
    )


def progress_announcement(moves: Sequence[KrMove], because: str, actor: str, change_id: int | None, undoable: bool = True) -> list[Block]:
    """Which KRs moved from what to what, because of what, by whom; with Undo."""
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=announcement_text(moves, because, actor)))]
    if undoable and change_id is not None:
        blocks.append(undo_actions(change_id))
    return blocks


def announcement_text(moves: Sequence[KrMove], because: str, actor: str) -> str:
    return truncate(f":chart_with_upwards_trend: {because} — by {user(actor)}\n{moves_text(moves)}", 3000)


def undo_actions(change_id: int) -> ActionsBlock:
    """The Undo button of one change; its block id lets Undo replace just this one."""
    return ActionsBlock(
        block_id=undo_block_id(change_id),
        elements=[ButtonElement(text="Undo", action_id=Action.UNDO.value, value=str(change_id))],
    )


class RawBlock:
    """A block already in Slack's JSON shape (as a message came back to us), passed through unchanged."""

    def __init__(self, data: dict):
        self.data = data

    def to_dict(self) -> dict:
        return self.data


def undo_block_id(change_id: int | str) -> str:
    return f"change_{change_id}"


def plain_moves(moves: Sequence[KrMove]) -> str:
    return ", ".join(f"{kr_id(move.number)} {format_percent(move.before)} → {format_percent(move.after)}" for move in moves)


class SlackWorkMessages:
    """Cards and announcements in Block Kit (services/announcements.py decides where they go)."""

    def card(self, initiative: Initiative, krs: Sequence[tuple[int, str | None]]) -> Message:
        blocks = initiative_card(initiative.number, initiative.title, initiative.status, initiative.owner, initiative.url, krs)
        return Message(blocks, initiative_card_text(initiative.number, initiative.title))

    def private_card(self, initiative: Initiative) -> Message:
        return Message(private_work_card(initiative.number), PRIVATE_WORK)

    def progress(self, moves: Sequence[KrMove], because: str, actor: str, change_id: int | None) -> Message:
        return Message(progress_announcement(moves, because, actor, change_id), f"Progress moved: {plain_moves(moves)}")

    def digest_line(self, moves: Sequence[KrMove], because: str, actor: str) -> str:
        return announcement_text(moves, because, actor)


WORK_MESSAGES = SlackWorkMessages()
