"""`/okr settings [fiscal-year starts <month>]`, `/okr grade`, `/okr close`, `/okr reopen-period`, `/okr carry`."""

from __future__ import annotations

from okrbot.domain import commands as cmd
from okrbot.services import carry as carry_service
from okrbot.services import grading, periods
from okrbot.slack.commands.context import CommandContext
from okrbot.slack.reply import Reply
from okrbot.slack.views import grading as views


def settings(ctx: CommandContext, command: cmd.FiscalYear) -> Reply:
    if command.month is None:
        return views.fiscal_year_reply(periods.fiscal_year(ctx.actor))
    changed = periods.set_fiscal_year(ctx.session, ctx.actor, command.month)
    return views.fiscal_year_reply(changed, changed=changed.changed)


def grade(ctx: CommandContext, command: cmd.Grade) -> Reply:
    policy = grading.GradingPolicy.from_settings(ctx.settings)
    return views.graded_reply([grading.grade_kr(ctx.session, ctx.actor, command.kr, command.grade, command.note, policy)])


def close(ctx: CommandContext, command: cmd.ClosePeriod) -> Reply:
    return views.closed_reply(grading.close_period(ctx.session, ctx.actor, command.period))


def reopen_period(ctx: CommandContext, command: cmd.ReopenPeriod) -> Reply:
    return views.reopened_reply(grading.reopen_period(ctx.session, ctx.actor, command.period))


def carry(ctx: CommandContext, command: cmd.Carry) -> Reply:
    return views.carried_reply(carry_service.carry(ctx.session, ctx.actor, command.objective, command.krs, command.period))
