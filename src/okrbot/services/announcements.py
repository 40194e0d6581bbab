"""Who hears about a change to work or progress, and where.

Every surface that moves work or records a check-in (commands, buttons, ✅ reactions,
forms, webhooks, review replies) tells people through here: the team channels whose
KRs moved get one announcement each (with Undo), and every card showing the work is
brought up to date. What the messages say is the notifier's (WorkMessages); where they
go, and what a channel may see, is decided here; how often a channel hears (every change,
a weekly thread per objective, a daily digest) is the channel's choice (announce.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlmodel import col, select

from okrbot.services import announce, work
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

    def digest_line(self, moves: Sequence[KrMove], because: str, actor: str) -> str:
        """One change as a line of a channel's daily digest."""
        ...


def announce_moves(uow: UnitOfWork, messages: WorkMessages, moves: Sequence[KrMove], because: str, change_id: int | None) -> list[str]:
    """Tell each team channel whose KRs moved, the way the channel chose (services/announce.py):
    a message, a reply in the objective's thread of the week, or a line of its daily digest.
    Returns the channels posted in now."""
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
    modes = announce.modes_of(uow.session, uow.actor.team_id, list(by_channel))
    posted = []
    for channel, channel_moves in by_channel.items():
        mode = modes[channel].mode
        if mode == announce.DAILY:
            line = messages.digest_line(channel_moves, because, uow.actor.user_id)
            announce.hold(uow.session, uow.actor.team_id, channel, change_id, line, uow.actor.now)
            continue
        # Keyed by its change, so a fixed or deleted check-in can update this message in place.
        key = announcement_key(change_id, channel) if change_id is not None else None
        if mode == announce.THREAD:
            _announce_in_threads(uow, messages, channel, channel_moves, because, change_id, key, objectives)
        else:
            message = messages.progress(channel_moves, because, uow.actor.user_id, change_id)
            uow.post(channel, message.blocks, message.text, kind="progress", dedupe_key=key)
        posted.append(channel)
    return posted


def _announce_in_threads(
    uow: UnitOfWork,
    messages: WorkMessages,
    channel: str,
    moves: Sequence[KrMove],
    because: str,
    change_id: int | None,
    key: str | None,
    objectives: dict[int, Objective],
) -> None:
    """Thread mode: per objective, the week's first change opens its thread; later ones reply."""
    team_id = uow.actor.team_id
    week = announce.week_of(uow.actor.now, announce.team_tz(uow.session, team_id, uow.actor.tz))
    by_objective: dict[int, list[KrMove]] = {}
    for move in moves:
        by_objective.setdefault(move.objective_id, []).append(move)
    for index, (objective_id, objective_moves) in enumerate(sorted(by_objective.items(), key=lambda item: objectives[item[0]].number)):
        message = messages.progress(objective_moves, because, uow.actor.user_id, change_id)
        part_key = key if index == 0 or key is None else f"{key}:O{objectives[objective_id].number}"
        parent = announce.thread_of(uow.session, team_id, channel, objective_id, week)
        message_id = uow.post(channel, message.blocks, message.text, kind="progress", dedupe_key=part_key, parent_id=parent)
        if parent is None:
            opened = announce.open_thread(uow.session, team_id, channel, objective_id, week, message_id)
            if opened != message_id:  # another change opened it meanwhile: reply in that one
                outbox.reply_under(uow.session, message_id, opened)


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
