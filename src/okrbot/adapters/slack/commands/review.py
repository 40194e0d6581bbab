"""`/okr review now|status|off|schedule "<when>" [tz Area/City]` (SPEC §5), and the nudge
preferences: `review cadence|pause|resume|holidays`, `settings review-skip-days`."""

from __future__ import annotations

from okrbot.domain import commands as cmd
from okrbot.domain.nudge_prefs import Holiday
from okrbot.services import nudge_prefs, reviews
from okrbot.services.unit_of_work import UnitOfWork
from okrbot.adapters.slack.reply import Reply
from okrbot.adapters.slack.views import reviews as views


def review(ctx: UnitOfWork, command: cmd.Review) -> Reply:
    policy = reviews.ReviewPolicy.from_settings(ctx.settings)
    action = command.action
    if action is cmd.ReviewAction.STATUS:
        return views.status_reply(reviews.review_status(ctx.session, ctx.actor.team_id, ctx.actor.now, policy, viewer=ctx.actor.user_id))
    if action is cmd.ReviewAction.OFF:
        return views.status_reply(reviews.turn_off(ctx.session, ctx.actor, policy))
    if action is cmd.ReviewAction.SCHEDULE:
        return views.schedule_reply(reviews.set_schedule(ctx.session, ctx.actor, command.when or "", command.tz, policy))
    run = reviews.run_now(ctx.session, ctx.actor, policy, views.SlackReviewMessages())
    ctx.queued.extend(run.queued)  # the DMs go out once this unit of work commits
    return views.run_reply(run)


def cadence(ctx: UnitOfWork, command: cmd.ReviewCadence) -> Reply:
    policy = reviews.ReviewPolicy.from_settings(ctx.settings)
    workspace = ctx.session.get(reviews.Workspace, ctx.actor.team_id)
    schedule, tz = reviews.workspace_schedule(workspace), reviews.workspace_tz(workspace, policy.default_tz)
    return views.cadence_reply(nudge_prefs.set_cadence(ctx.session, ctx.actor, command.objective, command.cadence, schedule, tz))


def pause(ctx: UnitOfWork, command: cmd.ReviewPause) -> Reply:
    return views.pause_reply(nudge_prefs.pause(ctx.session, ctx.actor, command.until))


def resume(ctx: UnitOfWork, command: cmd.ReviewResume) -> Reply:
    return views.resume_reply(nudge_prefs.resume(ctx.session, ctx.actor))


def holidays(ctx: UnitOfWork, command: cmd.ReviewHolidays) -> Reply:
    if command.action is cmd.HolidayAction.LIST:
        return views.holidays_reply(nudge_prefs.holidays(ctx.session, ctx.actor.team_id))
    holiday = Holiday(command.first, command.last)
    if command.action is cmd.HolidayAction.ADD:
        return views.holidays_reply(nudge_prefs.add_holiday(ctx.session, ctx.actor, holiday), changed=f"Added `{holiday.text()}`.")
    return views.holidays_reply(nudge_prefs.remove_holiday(ctx.session, ctx.actor, holiday), changed=f"Removed `{holiday.text()}`.")


def skip_days(ctx: UnitOfWork, command: cmd.ReviewSkipDays) -> Reply:
    return views.skip_days_reply(nudge_prefs.set_skip_days(ctx.session, ctx.actor, command.days))
