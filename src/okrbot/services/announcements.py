"""Who hears about a change to work or progress, and where.

Every surface that moves work or records a check-in (commands, buttons, ✅ reactions,
forms, webhooks, review replies) tells people through here: the team channels whose
KRs moved get one announcement each (with Undo), and every card showing the work is
brought up to date. What the messages say is the notifier's (WorkMessages); where they
go, and what a channel may see, is decided here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlmodel import col, select

from okrbot.services import work
from okrbot.services.unit_of_work import UnitOfWork, block_dicts
from okrbot.services.work import KrMove
from okrbot.store import outbox
from okrbot.store.models import Initiative, KeyResult, Objective


@dataclass(frozen=True)
class Message:
    blocks: list  # Block Kit (dicts, or objects with to_dict)
    text: str  # notification and screen-reader fallback


class WorkMessages(Protocol):
    """How the notifier words cards and announcements."""

    def card(self, initiative: Initiative, krs: Sequence[tuple[int, str | None]]) -> Message: ...

    def private_card(self, initiative: Initiative) -> Message: ...

    def progress(self, moves: Sequence[KrMove], because: str, actor: str, change_id: int | None) -> Message: ...


def announce_moves(uow: UnitOfWork, messages: WorkMessages, moves: Sequence[KrMove], because: str, change_id: int | None) -> list[str]:
    """Post one message per team channel whose KRs moved; returns the channels."""
    if not moves:
        return []
    objectives = _objectives(uow, {move.objective_id for move in moves})
    by_channel: dict[str, list[KrMove]] = {}
    for move in moves:
        objective = objectives[move.objective_id]
        if objective.private:
            continue  # private OKRs are never shown in channels
        # With no team channel, the channel where it happened hears it; a DM already has the reply.
        channel = team_channel(objective) or (None if uow.actor.in_dm else uow.actor.channel_id)
        if channel:
            by_channel.setdefault(channel, []).append(move)
    for channel, channel_moves in by_channel.items():
        message = messages.progress(channel_moves, because, uow.actor.user_id, change_id)
        # Keyed by its change, so a fixed or deleted check-in can update this message in place.
        key = announcement_key(change_id, channel) if change_id is not None else None
        uow.post(channel, message.blocks, message.text, kind="progress", dedupe_key=key)
    return list(by_channel)


def refresh_cards(uow: UnitOfWork, messages: WorkMessages, initiative: Initiative) -> set[str]:
    """Show the work as it is now (status, button, the KRs it serves) on every card about it:
    an update of each one posted, a new content for each one still in the outbox. Returns
    the channels that have one."""
    cards = outbox.cards(uow.session, initiative.id)
    if not cards:
        return set()
    krs = work.linked_kr_titles(uow.session, initiative.id)  # a private objective's KR comes without its title
    if not krs or any(title is not None for _, title in krs):  # public work (work.is_public)
        message = messages.card(initiative, krs)
    else:  # it now feeds only private KRs: the channel no longer sees what it is
        message = messages.private_card(initiative)
    for _id, channel, ts in cards:
        if ts:
            uow.post(channel, message.blocks, message.text, kind="card_update", update_ts=ts)
    unsent = [message_id for message_id, _channel, ts in cards if not ts]
    if unsent:
        outbox.revise_unsent(uow.session, unsent, text=message.text, blocks=block_dicts(message.blocks))
    return {channel for _id, channel, _ts in cards}


def show_linked_work(uow: UnitOfWork, messages: WorkMessages, initiative: Initiative, kr: KeyResult) -> str | None:
    """Work just linked to `kr`: its cards list the KR too, and where its team will see it
    (the KR's team channel, else where it was linked) it gets a card with Mark done, unless
    a card is there already or the work is private. Returns the channel of a new card."""
    objective = uow.session.get(Objective, kr.objective_id)
    channel = team_channel(objective) or uow.actor.channel_id
    carded = refresh_cards(uow, messages, initiative)
    if not channel or channel in carded or not work.is_public(uow.session, initiative):
        return None
    post_card(uow, messages, initiative, channel)
    return channel


def post_card(uow: UnitOfWork, messages: WorkMessages, initiative: Initiative, channel: str) -> None:
    message = messages.card(initiative, work.linked_kr_titles(uow.session, initiative.id))
    uow.post(channel, message.blocks, message.text, kind=outbox.CARD_KIND, initiative_id=initiative.id)


def team_channel(objective: Objective) -> str | None:
    return objective.team_channel if not objective.private else None


def announcement_key(change_id: int, channel: str) -> str:
    return f"{outbox.ANNOUNCEMENT_PREFIX}{change_id}:{channel}"


def _objectives(uow: UnitOfWork, ids: set[int]) -> dict[int, Objective]:
    rows = uow.session.exec(select(Objective).where(col(Objective.id).in_(list(ids)))).all()
    return {objective.id: objective for objective in rows}
