"""Handlers for work and check-ins: initiative add, link, unlink, done, reopen, checkin.

The change is the services'; who hears of it is services/announcements.py; what is
said is worded here and in views/messages.py."""

from __future__ import annotations

from collections.abc import Sequence

from okrbot.domain import commands as cmd
from okrbot.domain.formatting import format_value
from okrbot.domain.ids import initiative_id, kr_id
from okrbot.services import announcements, checkins, work
from okrbot.services.work import KrMove, WorkOutcome
from okrbot.services.unit_of_work import UnitOfWork
from okrbot.adapters.slack.mrkdwn import escape
from okrbot.adapters.slack.reply import Reply
from okrbot.adapters.slack.views.messages import WORK_MESSAGES, moves_text
from okrbot.store import outbox
from okrbot.store.models import Initiative, KeyResult


def initiative_add(ctx: UnitOfWork, command: cmd.InitiativeAdd) -> Reply:
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


def link(ctx: UnitOfWork, command: cmd.Link) -> Reply:
    outcome = work.link(ctx.session, ctx.actor, _tracked(ctx, command.work), command.kr, command.weight)
    if not outcome.changed:
        ident = initiative_id(outcome.initiative.number)
        return Reply.say(f"{ident} is already linked to {kr_id(command.kr)} with that weight; nothing changed.")
    return linked_reply(ctx, outcome)


def linked_reply(ctx: UnitOfWork, outcome: WorkOutcome) -> Reply:
    """Post the initiative card (with Mark done) where its team will see it, and confirm."""
    initiative, kr = outcome.initiative, outcome.kr
    posted = announcements.show_linked_work(ctx, WORK_MESSAGES, initiative, kr)
    verb = "Created and linked" if outcome.created else "Linked"
    moved = f"\n{moves_text(outcome.moves)}" if outcome.moves else ""
    where = f" Posted it in <#{posted}> with a Mark done button." if posted and posted != ctx.actor.channel_id else ""
    _announce_link(ctx, outcome, "linked to")
    return Reply.say(
        f"{verb} *{initiative_id(initiative.number)}* {escape(initiative.title)} to *{kr_id(kr.number)}*.{where}{moved}"
    )


def unlink(ctx: UnitOfWork, command: cmd.Unlink) -> Reply:
    outcome = work.unlink(ctx.session, ctx.actor, _tracked(ctx, command.work), command.kr)
    refresh_cards(ctx, outcome.initiative)  # its cards no longer list the KR
    _announce_link(ctx, outcome, "unlinked from")
    moved = f"\n{moves_text(outcome.moves)}" if outcome.moves else ""
    return Reply.say(f"Unlinked *{initiative_id(outcome.initiative.number)}* from *{kr_id(command.kr)}*.{moved}")


def _announce_link(ctx: UnitOfWork, outcome: WorkOutcome, verb: str) -> None:
    """A link or unlink that moved a milestone KR is announced like done work, with Undo."""
    if outcome.moves:
        initiative = outcome.initiative
        because = f"*{initiative_id(initiative.number)}* {escape(initiative.title)} was {verb} *{kr_id(outcome.kr.number)}*"
        announce_moves(ctx, outcome.moves, because, outcome.change.id)


def done(ctx: UnitOfWork, command: cmd.Done) -> Reply:
    return work_status_reply(ctx, work.mark_done(ctx.session, ctx.actor, _tracked(ctx, command.work)))


def reopen(ctx: UnitOfWork, command: cmd.Reopen) -> Reply:
    return work_status_reply(ctx, work.reopen(ctx.session, ctx.actor, _tracked(ctx, command.work)))


def _tracked(ctx: UnitOfWork, ref: cmd.WorkRef) -> cmd.WorkRef:
    return work.with_tracker_link(ref, ctx.settings.jira_site)


def set_work_status(ctx: UnitOfWork, number: int, status: str) -> Reply:
    """Done or reopen by initiative number (buttons)."""
    initiative = work.find_initiative(ctx.session, ctx.actor, cmd.WorkRef(initiative=number))
    return work_status_reply(ctx, work.set_status(ctx.session, ctx.actor, initiative, status))


def set_status_by_message(ctx: UnitOfWork, channel: str, ts: str, status: str) -> Reply | None:
    """A ✅ added to (or removed from) an initiative card; None when the message is not one."""
    found = outbox.initiative_for_message(ctx.session, ctx.actor.team_id, channel, ts)
    if found is None:
        return None
    initiative = work.require_seen(ctx.session, ctx.actor, ctx.session.get(Initiative, found))
    return work_status_reply(ctx, work.set_status(ctx.session, ctx.actor, initiative, status))


def refresh_cards(ctx: UnitOfWork, initiative: Initiative) -> set[str]:
    return announcements.refresh_cards(ctx, WORK_MESSAGES, initiative)


def work_status_reply(ctx: UnitOfWork, outcome: WorkOutcome) -> Reply:
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
    kept = f"\n:lock: Its KRs in {', '.join(outcome.kept_in)} kept what they had at the close: that period is closed." if outcome.kept_in else ""
    return Reply.say(f"{because}.\n{moves_text(moves)}" + (f"\nAnnounced in {where}." if where else "") + kept)


def announce_moves(ctx: UnitOfWork, moves: Sequence[KrMove], because: str, change_id: int | None) -> list[str]:
    return announcements.announce_moves(ctx, WORK_MESSAGES, moves, because, change_id)


def checkin(ctx: UnitOfWork, command: cmd.Checkin) -> Reply:
    outcome = checkins.record_checkin(
        ctx.session, ctx.actor, command.kr, command.value, confidence=command.confidence, note=command.note
    )
    return checkin_reply(ctx, outcome)


def checkin_reply(ctx: UnitOfWork, outcome: checkins.CheckinOutcome) -> Reply:
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
