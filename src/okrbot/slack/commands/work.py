"""Handlers for work and check-ins: initiative add, link, unlink, done, reopen, checkin.

The announcement helpers here are shared by every surface that moves work
(commands, buttons, ✅ reactions, webhooks, review replies).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, select

from okrbot.domain import commands as cmd
from okrbot.domain.formatting import format_value
from okrbot.domain.ids import initiative_id, kr_id
from okrbot.domain.progress import format_percent
from okrbot.services import announce, checkins, work
from okrbot.services.work import KrMove, WorkOutcome
from okrbot.slack.commands.context import CommandContext
from okrbot.slack.mrkdwn import escape
from okrbot.slack.reply import Reply
from okrbot.slack.views.messages import (
    PRIVATE_WORK,
    announcement_text,
    initiative_card,
    initiative_card_text,
    moves_text,
    private_work_card,
    progress_announcement,
)
from okrbot.store import outbox
from okrbot.store.models import Initiative, KeyResult, Objective


def initiative_add(ctx: CommandContext, command: cmd.InitiativeAdd) -> Reply:
    outcome = work.create_initiative(
        ctx.session,
        ctx.actor,
        kr_number=command.kr,
        title=command.title,
        owner=ctx.user_id(command.owner),
        url=command.url,
        weight=command.weight,
    )
    return linked_reply(ctx, outcome)


def link(ctx: CommandContext, command: cmd.Link) -> Reply:
    outcome = work.link(ctx.session, ctx.actor, _tracked(ctx, command.work), command.kr, command.weight)
    if not outcome.changed:
        ident = initiative_id(outcome.initiative.number)
        return Reply.say(f"{ident} is already linked to {kr_id(command.kr)} with that weight; nothing changed.")
    return linked_reply(ctx, outcome)


def linked_reply(ctx: CommandContext, outcome: WorkOutcome) -> Reply:
    """Post the initiative card (with Mark done) where its team will see it, and confirm."""
    initiative, kr = outcome.initiative, outcome.kr
    objective = ctx.session.get(Objective, kr.objective_id)
    channel = _team_channel(objective) or ctx.actor.channel_id
    # Cards already posted (or still on their way) now list this KR too; a channel that has one gets no second.
    # Work that feeds only private KRs is private: no card in any channel.
    carded = refresh_cards(ctx, initiative)
    posted = bool(channel) and channel not in carded and work.is_public(ctx.session, initiative)
    if posted:
        post_initiative_card(ctx, initiative, channel)
    verb = "Created and linked" if outcome.created else "Linked"
    moved = f"\n{moves_text(outcome.moves)}" if outcome.moves else ""
    where = f" Posted it in <#{channel}> with a Mark done button." if posted and channel != ctx.actor.channel_id else ""
    _announce_link(ctx, outcome, "linked to")
    return Reply.say(
        f"{verb} *{initiative_id(initiative.number)}* {escape(initiative.title)} to *{kr_id(kr.number)}*.{where}{moved}"
    )


def post_initiative_card(ctx: CommandContext, initiative: Initiative, channel: str) -> None:
    krs = _kr_titles(ctx, initiative)
    ctx.post(
        channel,
        initiative_card(initiative.number, initiative.title, initiative.status, initiative.owner, initiative.url, krs),
        initiative_card_text(initiative.number, initiative.title),
        kind=outbox.CARD_KIND,
        initiative_id=initiative.id,
    )


def _kr_titles(ctx: CommandContext, initiative: Initiative) -> list[tuple[int, str | None]]:
    return work.linked_kr_titles(ctx.session, initiative.id)


def unlink(ctx: CommandContext, command: cmd.Unlink) -> Reply:
    outcome = work.unlink(ctx.session, ctx.actor, _tracked(ctx, command.work), command.kr)
    refresh_cards(ctx, outcome.initiative)  # its cards no longer list the KR
    _announce_link(ctx, outcome, "unlinked from")
    moved = f"\n{moves_text(outcome.moves)}" if outcome.moves else ""
    return Reply.say(f"Unlinked *{initiative_id(outcome.initiative.number)}* from *{kr_id(command.kr)}*.{moved}")


def _announce_link(ctx: CommandContext, outcome: WorkOutcome, verb: str) -> None:
    """A link or unlink that moved a milestone KR is announced like done work, with Undo."""
    if outcome.moves:
        initiative = outcome.initiative
        because = f"*{initiative_id(initiative.number)}* {escape(initiative.title)} was {verb} *{kr_id(outcome.kr.number)}*"
        announce_moves(ctx, outcome.moves, because, outcome.change.id)


def done(ctx: CommandContext, command: cmd.Done) -> Reply:
    return work_status_reply(ctx, work.mark_done(ctx.session, ctx.actor, _tracked(ctx, command.work)))


def reopen(ctx: CommandContext, command: cmd.Reopen) -> Reply:
    return work_status_reply(ctx, work.reopen(ctx.session, ctx.actor, _tracked(ctx, command.work)))


def _tracked(ctx: CommandContext, ref: cmd.WorkRef) -> cmd.WorkRef:
    return work.with_tracker_link(ref, ctx.settings.jira_site)


def set_work_status(ctx: CommandContext, number: int, status: str) -> Reply:
    """Done or reopen by initiative number (buttons)."""
    initiative = work.find_initiative(ctx.session, ctx.actor, cmd.WorkRef(initiative=number))
    return work_status_reply(ctx, work.set_status(ctx.session, ctx.actor, initiative, status))


def set_status_by_message(ctx: CommandContext, channel: str, ts: str, status: str) -> Reply | None:
    """A ✅ added to (or removed from) an initiative card; None when the message is not one."""
    found = outbox.initiative_for_message(ctx.session, ctx.actor.team_id, channel, ts)
    if found is None:
        return None
    initiative = work.require_seen(ctx.session, ctx.actor, ctx.session.get(Initiative, found))
    return work_status_reply(ctx, work.set_status(ctx.session, ctx.actor, initiative, status))


def refresh_cards(ctx: CommandContext, initiative: Initiative) -> set[str]:
    """Show the work as it is now (status, button, the KRs it serves) on every card about it:
    an update of each one posted, a new content for each one still in the outbox. Returns
    the channels that have one."""
    cards = outbox.cards(ctx.session, initiative.id)
    if not cards:
        return set()
    krs = _kr_titles(ctx, initiative)  # a private objective's KR comes without its title
    if not krs or any(title is not None for _, title in krs):  # public work (work.is_public)
        blocks = initiative_card(initiative.number, initiative.title, initiative.status, initiative.owner, initiative.url, krs)
        text = initiative_card_text(initiative.number, initiative.title)
    else:  # it now feeds only private KRs: the channel no longer sees what it is
        blocks, text = private_work_card(initiative.number), PRIVATE_WORK
    for _id, channel, ts in cards:
        if ts:
            ctx.post(channel, blocks, text, kind="card_update", update_ts=ts)
    unsent = [message_id for message_id, _channel, ts in cards if not ts]
    if unsent:
        outbox.revise_unsent(ctx.session, unsent, text=text, blocks=[block.to_dict() for block in blocks])
    return {channel for _id, channel, _ts in cards}


def work_status_reply(ctx: CommandContext, outcome: WorkOutcome) -> Reply:
    """Confirm a done/reopen and announce the moves in each affected team channel."""
    initiative = outcome.initiative
    ident = initiative_id(initiative.number)
    if not outcome.changed:
        state = "done" if initiative.status == work.DONE else "open"
        return Reply.say(f"*{ident}* is already {state}; nothing changed.")
    refresh_cards(ctx, initiative)
    verb = "marked done" if initiative.status == work.DONE else "reopened"
    because = f"*{ident}* {escape(initiative.title)} was {verb}"
    announced = announce_moves(ctx, outcome.moves, because, outcome.change.id)
    if not outcome.moves:
        return Reply.say(f"{because}. It feeds no milestone KR, so no progress moved.")
    where = ", ".join(f"<#{channel}>" for channel in announced if channel != ctx.actor.channel_id)
    moves = work.moves_seen_by(ctx.session, ctx.actor, outcome.moves)
    return Reply.say(f"{because}.\n{moves_text(moves)}" + (f"\nAnnounced in {where}." if where else ""))


def announce_moves(ctx: CommandContext, moves: Sequence[KrMove], because: str, change_id: int | None) -> list[str]:
    """Tell each team channel whose KRs moved, the way the channel chose (services/announce.py):
    a message, a reply in the objective's thread of the week, or a line of its daily digest.
    Returns the channels posted in now."""
    if not moves:
        return []
    objectives = _objectives(ctx, {move.objective_id for move in moves})
    by_channel: dict[str, list[KrMove]] = {}
    for move in moves:
        objective = objectives[move.objective_id]
        if objective.private:
            continue  # private OKRs are never shown in channels
        # With no team channel, the channel where it happened hears it; a DM already has the reply.
        channel = _team_channel(objective) or (None if ctx.actor.in_dm else ctx.actor.channel_id)
        if channel:
            by_channel.setdefault(channel, []).append(move)
    modes = announce.modes_of(ctx.session, ctx.actor.team_id, list(by_channel))
    posted = []
    for channel, channel_moves in by_channel.items():
        mode = modes[channel].mode
        if mode == announce.DAILY:
            text = announcement_text(channel_moves, because, ctx.actor.user_id)
            announce.hold(ctx.session, ctx.actor.team_id, channel, change_id, text, ctx.actor.now)
            continue
        # Keyed by its change, so a fixed or deleted check-in can update this message in place.
        key = announcement_key(change_id, channel) if change_id is not None else None
        if mode == announce.THREAD:
            _announce_in_threads(ctx, channel, channel_moves, because, change_id, key, objectives)
        else:
            blocks = progress_announcement(channel_moves, because, ctx.actor.user_id, change_id)
            ctx.post(channel, blocks, f"Progress moved: {plain_moves(channel_moves)}", kind="progress", dedupe_key=key)
        posted.append(channel)
    return posted


def _announce_in_threads(
    ctx: CommandContext,
    channel: str,
    moves: Sequence[KrMove],
    because: str,
    change_id: int | None,
    key: str | None,
    objectives: dict[int, Objective],
) -> None:
    """Thread mode: per objective, the week's first change opens its thread; later ones reply."""
    team_id = ctx.actor.team_id
    week = announce.week_of(ctx.actor.now, announce.team_tz(ctx.session, team_id, ctx.actor.tz))
    by_objective: dict[int, list[KrMove]] = {}
    for move in moves:
        by_objective.setdefault(move.objective_id, []).append(move)
    for index, (objective_id, objective_moves) in enumerate(sorted(by_objective.items(), key=lambda item: objectives[item[0]].number)):
        blocks = progress_announcement(objective_moves, because, ctx.actor.user_id, change_id)
        text = f"Progress moved: {plain_moves(objective_moves)}"
        part_key = key if index == 0 or key is None else f"{key}:O{objectives[objective_id].number}"
        parent = announce.thread_of(ctx.session, team_id, channel, objective_id, week)
        message_id = ctx.post(channel, blocks, text, kind="progress", dedupe_key=part_key, parent_id=parent)
        if parent is None:
            opened = announce.open_thread(ctx.session, team_id, channel, objective_id, week, message_id)
            if opened != message_id:  # another change opened it meanwhile: reply in that one
                outbox.reply_under(ctx.session, message_id, opened)


def _objectives(ctx: CommandContext, ids: set[int]) -> dict[int, Objective]:
    rows = ctx.session.exec(select(Objective).where(col(Objective.id).in_(list(ids)))).all()
    return {objective.id: objective for objective in rows}


def _team_channel(objective: Objective) -> str | None:
    return objective.team_channel if not objective.private else None


def announcement_key(change_id: int, channel: str) -> str:
    return f"{outbox.ANNOUNCEMENT_PREFIX}{change_id}:{channel}"


def plain_moves(moves: Sequence[KrMove]) -> str:
    return ", ".join(f"{kr_id(move.number)} {format_percent(move.before)} → {format_percent(move.after)}" for move in moves)


def checkin(ctx: CommandContext, command: cmd.Checkin) -> Reply:
    outcome = checkins.record_checkin(
        ctx.session, ctx.actor, command.kr, command.value, confidence=command.confidence, note=command.note
    )
    return checkin_reply(ctx, outcome)


def checkin_reply(ctx: CommandContext, outcome: checkins.CheckinOutcome) -> Reply:
    kr: KeyResult = outcome.kr
    value = escape(format_value(kr.current, kr.unit, kr.metric))  # the unit is people's text
    because = checkin_because(kr, value, outcome.checkin.note)
    announce_moves(ctx, outcome.moves, because, outcome.change.id)
    moved = f"\n{moves_text(outcome.moves)}" if outcome.moves else ""
    confidence = f", confidence {kr.confidence}/10" if outcome.checkin.confidence is not None else ""
    return Reply.say(f"Recorded *{kr_id(kr.number)}* = {value}{confidence}.{moved}")


def checkin_because(kr: KeyResult, value: str, note: str) -> str:
    """What a check-in announcement says moved the KR (value already escaped)."""
    because = f"Check-in on *{kr_id(kr.number)}*: {value}"
    if note:
        because += f" — “{escape(note)}”"
    return because
