"""`/okr review now|status|off|schedule "<when>" [tz Area/City]` (SPEC §5)."""

from __future__ import annotations

from okrbot.domain import commands as cmd
from okrbot.services import reviews
from okrbot.adapters.slack.commands.context import CommandContext
from okrbot.adapters.slack.reply import Reply
from okrbot.adapters.slack.views import reviews as views


def review(ctx: CommandContext, command: cmd.Review) -> Reply:
    policy = reviews.ReviewPolicy.from_settings(ctx.settings)
    action = command.action
    if action is cmd.ReviewAction.STATUS:
        return views.status_reply(reviews.review_status(ctx.session, ctx.actor.team_id, ctx.actor.now, policy))
    if action is cmd.ReviewAction.OFF:
        return views.status_reply(reviews.turn_off(ctx.session, ctx.actor, policy))
    if action is cmd.ReviewAction.SCHEDULE:
        return views.schedule_reply(reviews.set_schedule(ctx.session, ctx.actor, command.when or "", command.tz, policy))
    run = reviews.run_now(ctx.session, ctx.actor, policy, views.SlackReviewMessages())
    ctx.queued.extend(run.queued)  # the DMs go out once this unit of work commits
    return views.run_reply(run)
