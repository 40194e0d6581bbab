"""Handlers for objectives and KRs: status, add, archive, history."""

from __future__ import annotations

from dataclasses import replace

from okrbot.domain import commands as cmd
from okrbot.domain.commands import Direction, Kind, Metric, StatusScope
from okrbot.domain.formatting import format_value
from okrbot.domain.ids import initiative_id, kr_id, objective_id
from okrbot.services import history as history_service
from okrbot.services import checkin_fix, okrs, periods, permissions, status_cache, team_channels
from okrbot.services.alignment import with_children
from okrbot.services.summaries import summarise
from okrbot.services.work import find_initiative, initiatives_of_krs, objective_of
from okrbot.services.work_status import work_status
from okrbot.services.unit_of_work import UnitOfWork
from okrbot.adapters.slack.mrkdwn import escape, user
from okrbot.adapters.slack.reply import Reply
from okrbot.adapters.slack.views import modals
from okrbot.adapters.slack.views.history import history_blocks
from okrbot.adapters.slack.views.work_status import work_status_blocks, work_status_text
from okrbot.adapters.slack.views.status import MOST_OBJECTIVES, kr_detail_blocks, objective_text, shows_full_cards, status_blocks


def status(ctx: UnitOfWork, command: cmd.Status) -> Reply:
    actor, session = ctx.actor, ctx.session
    period = okrs.period_or_current(command.period, actor)
    dated = periods.label(period, actor)  # FY2027-Q1 (1 Feb – 30 Apr 2026)
    scope = command.scope
    if scope is StatusScope.KR:
        return _kr_status(ctx, command.ref.number)
    if scope is StatusScope.WORK:
        found = work_status(session, actor, command.work)
        return Reply(text=work_status_text(found), blocks=work_status_blocks(found))
    if scope is StatusScope.OBJECTIVE:
        objective = okrs.get_objective(session, actor, command.ref.number)
        summaries = with_children(session, actor, summarise(session, [objective], actor))
        return Reply(text=f"{objective_id(objective.number)} {escape(objective.title)}", blocks=status_blocks(summaries, f"{objective_id(objective.number)} · {objective.period}", ""))
    if scope is StatusScope.DEFAULT:
        in_team_channel = actor.channel_id and team_channels.is_team_channel(session, actor.team_id, actor.channel_id)
        scope = StatusScope.CHANNEL if in_team_channel else StatusScope.ME
        channel = actor.channel_id if in_team_channel else None
    else:
        channel = ctx.channel_id(command.channel)

    owner: str | None = None
    if scope is StatusScope.ALL:
        condition = ()
        heading, empty = f"All OKRs · {dated}", f"No objectives in {period} yet. Start one: `/okr objective add \"Title\"`"
    elif scope is StatusScope.CHANNEL:
        condition = (okrs.in_channel(channel),)
        heading, empty = f"Team OKRs · {dated}", f"No objectives for <#{channel}> in {period}. Add one: `/okr objective add \"Title\" team <#{channel}>`"
    else:
        owner = actor.user_id if scope is StatusScope.ME else ctx.user_id(command.user)
        condition = (okrs.owned_by(owner),)
        mine = owner == actor.user_id
        heading = f"{'Your' if mine else 'Their'} OKRs · {dated}"
        empty = (
            f"You own no objective or KR in {period}. See everyone's with `/okr status all`."
            if mine
            else f"<@{owner}> owns no objective or KR in {period}."
        )
    # The same answer again while nothing it shows has changed (services/status_cache.py).
    key = status_cache.reader_key(session, actor, "status", scope.value, period, dated, channel, owner)
    cached = status_cache.answers.get(key, actor.now) if key is not None else None
    if cached is not None:
        return replace(cached, blocks=list(cached.blocks))  # its own reply; the rendered blocks are shared
    # Only what one message can show is loaded; the rest is counted.
    objectives, total = okrs.first_objectives_in_period(session, actor, period, *condition, limit=MOST_OBJECTIVES)
    summaries = summarise(session, objectives, actor)
    if shows_full_cards(summaries, total):  # compact lines name no aligned objectives: don't load them
        summaries = with_children(session, actor, summaries)
    reply = Reply(text=heading, blocks=status_blocks(summaries, heading, empty, total=total)).rendered()
    if key is not None:
        status_cache.answers.put(key, reply, status_cache.health_holds_until(summaries, actor))
    return reply


def _kr_status(ctx: UnitOfWork, number: int) -> Reply:
    kr = okrs.get_kr(ctx.session, ctx.actor, number)
    objective = objective_of(ctx.session, kr)
    summary = summarise(ctx.session, [objective], ctx.actor, include_archived_krs=True)[0]
    kr_summary = next(item for item in summary.krs if item.id == kr.id)
    linked = initiatives_of_krs(ctx.session, [kr.id]).get(kr.id, [])
    rows = [(initiative_id(work.number), work.title, work.status) for work, _weight in linked]
    return Reply(text=f"{kr_id(kr.number)} {escape(kr.title)}", blocks=kr_detail_blocks(summary, kr_summary, rows))


def objective_add(ctx: UnitOfWork, command: cmd.ObjectiveAdd) -> Reply:
    if command.title is None:
        period = okrs.period_or_current(None, ctx.actor)
        form = modals.objective_modal(owner=ctx.actor.user_id, period=period, channel=ctx.actor.channel_id)
        return Reply(text="Opening the new objective form…", modal=form)
    new = okrs.NewObjective(
        title=command.title,
        owner=ctx.user_id(command.owner),
        team_channel=ctx.channel_id(command.team),
        period=command.period,
        parent=command.parent,
        private=command.private,
    )
    return objective_created(ctx, okrs.create_objective(ctx.session, ctx.actor, new))


def objective_created(ctx: UnitOfWork, objective) -> Reply:
    """Confirm a new objective; a public one in a team channel is announced there."""
    summary = summarise(ctx.session, [objective], ctx.actor)[0]
    ident = objective_id(objective.number)
    next_step = f"Add a KR: `/okr kr add {ident} \"Title\" from 0 to 100`"
    text = f"Created {objective_text(summary)}\n{next_step}"
    if objective.team_channel and not objective.private:
        announcement = Reply.say(f":dart: New objective by {user(ctx.actor.user_id)}\n{objective_text(summary)}")
        if objective.team_channel == ctx.actor.channel_id:
            announcement.public = True
            return announcement
        ctx.post(objective.team_channel, announcement.blocks, f"New objective {ident}", kind="objective")
    return Reply.say(text)


def kr_add(ctx: UnitOfWork, command: cmd.KrAdd) -> Reply:
    new = okrs.NewKr(
        objective=command.objective,
        title=command.title,
        metric=command.metric,
        direction=command.direction,
        owner=ctx.user_id(command.owner),
        start=command.start,
        target=command.target,
        unit=command.unit,
        keep=command.keep,
        weight=command.weight if command.weight is not None else 1.0,
        commitment=command.commitment,
    )
    objective = okrs.get_objective(ctx.session, ctx.actor, command.objective)
    okrs.require_can_edit(ctx.actor, objective)
    kr = okrs.create_kr(ctx.session, ctx.actor, new)
    return Reply.say(f"Created *{kr_id(kr.number)}* {escape(kr.title)} on {objective_id(command.objective)}.\n{_kr_next_step(kr)}")


def _kr_next_step(kr) -> str:
    ident = kr_id(kr.number)
    if kr.metric == Metric.MILESTONE:
        return f"It moves as linked work is done: `/okr initiative add {ident} \"Title\"`"
    if kr.metric == Metric.BOOLEAN:
        return f"When it's true: `/okr checkin {ident} yes`"
    if kr.direction == Direction.MAINTAIN:
        return f"Record the level: `/okr checkin {ident} {format_value(kr.target, None, kr.metric)}`"
    return f"Record progress: `/okr checkin {ident} &lt;value&gt;` (now {escape(format_value(kr.current, kr.unit, kr.metric))})"


def archive(ctx: UnitOfWork, command: cmd.Archive) -> Reply:
    objective = okrs.archive_objective(ctx.session, ctx.actor, command.objective)
    return Reply.say(f"Archived *{objective_id(objective.number)}* {escape(objective.title)} and its KRs. Their history is kept.")


def edit(ctx: UnitOfWork, command: cmd.Edit) -> Reply:
    """Open the edit form, once we know the person may change the thing."""
    actor, session, number = ctx.actor, ctx.session, command.ref.number
    if command.ref.kind is Kind.OBJECTIVE:
        objective = okrs.get_objective(session, actor, number)
        okrs.require_can_edit(actor, objective)
        form = modals.objective_modal(owner=actor.user_id, period=objective.period, channel=actor.channel_id, existing=objective)
    elif command.ref.kind is Kind.KR:
        kr = okrs.get_kr(session, actor, number)
        objective = objective_of(session, kr)
        okrs.require_can_edit(actor, objective, kr)
        form = modals.kr_modal(objective=objective.number, owner=actor.user_id, channel=actor.channel_id, existing=kr)
    else:
        initiative = find_initiative(session, actor, cmd.WorkRef(initiative=number))
        permissions.require_work(session, actor, initiative)
        form = modals.initiative_modal(kr=None, owner=actor.user_id, channel=actor.channel_id, existing=initiative)
    return Reply(text=f"Opening the form for {command.ref}…", modal=form)


def history(ctx: UnitOfWork, command: cmd.History) -> Reply:
    kr = okrs.get_kr(ctx.session, ctx.actor, command.kr)
    entries = history_service.kr_history(ctx.session, kr, viewer=ctx.actor)
    editable = checkin_fix.fixable(ctx.session, ctx.actor, kr, [entry.checkin_id for entry in entries if entry.checkin_id and not entry.undone])
    return Reply(text=f"History of {kr_id(kr.number)}", blocks=history_blocks(kr, entries, editable))
