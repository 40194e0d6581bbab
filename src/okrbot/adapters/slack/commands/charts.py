"""`/okr chart KR-n|O-n` and the Chart buttons: draw the picture and say where it goes.

A private objective's chart goes only to a channel that may see it (its team channel,
or a DM); asked anywhere else, it goes to the person's DM.
"""

from __future__ import annotations

from okrbot import charts
from okrbot.domain import commands as cmd
from okrbot.domain.commands import Kind
from okrbot.domain.ids import kr_id, objective_id
from okrbot.services import charts as chart_data
from okrbot.services import okrs
from okrbot.services.errors import Invalid
from okrbot.services.work import objective_of
from okrbot.services.unit_of_work import UnitOfWork
from okrbot.adapters.slack.mrkdwn import escape
from okrbot.adapters.slack.reply import FileUpload, Reply
from okrbot.store.models import Objective


def chart(ctx: UnitOfWork, command: cmd.Chart) -> Reply:
    return chart_reply(ctx, command.ref)


def chart_reply(ctx: UnitOfWork, ref: cmd.Ref, *, thread_ts: str | None = None) -> Reply:
    session, actor = ctx.session, ctx.actor
    if ref.kind not in (Kind.KR, Kind.OBJECTIVE):
        raise Invalid(f"Charts are drawn for KRs and objectives, not {ref}.", hint="Type `/okr chart KR-n` or `/okr chart O-n`.")
    if ref.kind is Kind.KR:
        kr = okrs.get_kr(session, actor, ref.number)
        objective = objective_of(session, kr)
        drawn = charts.kr_chart(chart_data.kr_trend(session, actor, kr))
        ident = kr_id(kr.number)
    else:
        objective = okrs.get_objective(session, actor, ref.number)
        drawn = charts.objective_chart(chart_data.objective_trends(session, actor, objective))
        ident = objective_id(objective.number)
    channel = chart_destination(actor.channel_id, actor.user_id, objective)
    redirected = channel != actor.channel_id
    upload = FileUpload(
        channel=channel,
        filename=f"{ident}.png",
        title=drawn.title,
        alt_text=drawn.alt_text,
        content=drawn.png,
        thread_ts=None if redirected else thread_ts,
    )
    if redirected and actor.channel_id:
        text = f":lock: {ident} is private, so I sent its chart to you in a DM instead of this channel."
    elif redirected:
        text = f":bar_chart: I sent the chart of *{ident}* to you in a DM."
    else:
        text = f":bar_chart: The chart of *{ident}* {escape(drawn.title.removeprefix(ident).strip())} follows."
    reply = Reply.say(text)
    reply.upload = upload
    return reply


def chart_destination(channel: str | None, user: str, objective: Objective) -> str:
    """Where the picture may go: the channel it was asked in, unless a private objective's
    chart would be seen there by people who may not see the objective."""
    if not channel:
        return user
    if not objective.private or channel.startswith("D") or channel == objective.team_channel:
        return channel
    return user
