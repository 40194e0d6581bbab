"""`/okr settings [fiscal-year starts <month>]`, `/okr grade`, `/okr close`, `/okr reopen-period`, `/okr carry`."""

from __future__ import annotations

from okrbot.domain import commands as cmd
from okrbot.services import carry as carry_service
from okrbot.services import grading, periods, scorecard, team_channels
from okrbot.services.unit_of_work import UnitOfWork
from okrbot.adapters.slack.reply import Reply
from okrbot.adapters.slack.views import grading as views
from okrbot.adapters.slack.views import scorecard as scorecard_views
from okrbot.adapters.slack.views.scorecard import SlackScorecardMessages


def settings(ctx: UnitOfWork, command: cmd.FiscalYear) -> Reply:
    if command.month is None:
        return views.fiscal_year_reply(periods.fiscal_year(ctx.actor))
    changed = periods.set_fiscal_year(ctx.session, ctx.actor, command.month)
    return views.fiscal_year_reply(changed, changed=changed.changed)


def grade(ctx: UnitOfWork, command: cmd.Grade) -> Reply:
    policy = grading.GradingPolicy.from_settings(ctx.settings)
    return views.graded_reply([grading.grade_kr(ctx.session, ctx.actor, command.kr, command.grade, command.note, policy)])


def close(ctx: UnitOfWork, command: cmd.ClosePeriod) -> Reply:
    closing, queued = grading.close_period(ctx.session, ctx.actor, command.period, SlackScorecardMessages())
    ctx.queued.extend(queued)  # the scorecards go out once this unit of work commits
    return views.closed_reply(closing)


def report_channel(ctx: UnitOfWork, command: cmd.ReportChannel) -> Reply:
    channel = scorecard.set_report_channel(ctx.session, ctx.actor, ctx.channel_id(command.channel))
    return Reply.say(f":white_check_mark: The company scorecard goes to <#{channel}> when a period closes.")


def report(ctx: UnitOfWork, command: cmd.Report) -> Reply:
    policy = grading.GradingPolicy.from_settings(ctx.settings)
    period = periods.resolve(command.period, ctx.actor) if command.period else scorecard.default_period(ctx.actor, policy.after)
    channel = ctx.channel_id(command.channel)
    if channel is None and ctx.actor.channel_id and team_channels.is_team_channel(ctx.session, ctx.actor.team_id, ctx.actor.channel_id):
        channel = ctx.actor.channel_id  # in a team's channel: that team's
    card = scorecard.team_scorecard(ctx.session, ctx.actor, period, channel)
    return scorecard_views.report_reply(card)


def reopen_period(ctx: UnitOfWork, command: cmd.ReopenPeriod) -> Reply:
    return views.reopened_reply(grading.reopen_period(ctx.session, ctx.actor, command.period))


def carry(ctx: UnitOfWork, command: cmd.Carry) -> Reply:
    return views.carried_reply(carry_service.carry(ctx.session, ctx.actor, command.objective, command.krs, command.period))
