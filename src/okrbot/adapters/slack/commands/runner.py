"""The /okr language in Slack: which handler answers each command, and how answers
look (Block Kit) and travel (response_url, ephemeral, the outbox). The running itself
is services/command_runner.py."""

from __future__ import annotations

from collections.abc import Callable

from okrbot.config import Settings
from okrbot.domain import commands as cmd
from okrbot.services.command_runner import CommandRunner as Runner
from okrbot.services.people import NoDirectory, PeopleDirectory
from okrbot.services.unit_of_work import UnitOfWork
from okrbot.adapters.slack.commands import announce, charts, checkin_fix, gaps, misc, okrs, review, serves, webhooks, work
from okrbot.adapters.slack.commands import periods as periods_commands
from okrbot.adapters.slack.delivery import sent_at_once
from okrbot.adapters.slack.errors import reply_for_error
from okrbot.adapters.slack.mrkdwn import escape
from okrbot.adapters.slack.reply import Reply, ReplyTo
from okrbot.store.db import Database


Handler = Callable[[UnitOfWork, object], Reply]

HANDLERS: dict[type, Handler] = {
    cmd.Status: okrs.status,
    cmd.ObjectiveAdd: okrs.objective_add,
    cmd.KrAdd: okrs.kr_add,
    cmd.Archive: okrs.archive,
    cmd.Edit: okrs.edit,
    cmd.History: okrs.history,
    cmd.InitiativeAdd: work.initiative_add,
    cmd.Link: work.link,
    cmd.Unlink: work.unlink,
    cmd.Done: work.done,
    cmd.Reopen: work.reopen,
    cmd.Checkin: work.checkin,
    cmd.CheckinFix: checkin_fix.fix,
    cmd.CheckinDelete: checkin_fix.delete,
    cmd.Chart: charts.chart,
    cmd.Help: misc.help_,
    cmd.Serves: serves.serves,
    cmd.Gaps: gaps.gaps,
    cmd.Review: review.review,
    cmd.ReviewCadence: review.cadence,
    cmd.ReviewPause: review.pause,
    cmd.ReviewResume: review.resume,
    cmd.ReviewHolidays: review.holidays,
    cmd.ReviewSkipDays: review.skip_days,
    cmd.FiscalYear: periods_commands.settings,
    cmd.Grade: periods_commands.grade,
    cmd.ClosePeriod: periods_commands.close,
    cmd.ReopenPeriod: periods_commands.reopen_period,
    cmd.Carry: periods_commands.carry,
    cmd.ReportChannel: periods_commands.report_channel,
    cmd.Report: periods_commands.report,
    cmd.Webhooks: webhooks.webhooks,
    cmd.ChannelAnnounce: announce.channel_announce,
}


# Commands that only read: their unit of work takes no write lock (store/db.py).
READS = (cmd.Status, cmd.Help, cmd.Serves, cmd.Gaps, cmd.History, cmd.Chart)
READS += (cmd.Report,)


class SlackPresenter:
    """Answers as Block Kit: ephemeral or in the channel, by response_url or the outbox."""

    handlers = HANDLERS
    reads = READS

    def nothing(self) -> Reply:
        return Reply.say("")

    def problem(self, error: Exception) -> Reply:
        return reply_for_error(error)

    def misunderstood(self, error: Exception) -> Reply:
        return Reply.problem(escape(str(error)))

    def only_by_command(self, text: str) -> Reply:
        return Reply.say("That opens a form, which needs the slash command: type `/okr " + text + "`.")

    def queue_answer(self, uow: UnitOfWork, reply_to: ReplyTo, reply: Reply) -> None:
        method, channel, payload = reply_to.message(reply)
        uow.queue(method, channel, payload, kind="answer", claim=sent_at_once(method, payload))

    def post_answer(self, uow: UnitOfWork, channel: str, reply: Reply, thread_ts: str | None) -> None:
        uow.post(channel, reply.blocks, reply.text, kind="reply", thread_ts=thread_ts)


SLACK_PRESENTER = SlackPresenter()


class CommandRunner(Runner):
    """The /okr language answered in Block Kit."""

    def __init__(self, db: Database, settings: Settings, people: PeopleDirectory | None = None, offline: bool = False):
        super().__init__(db, settings, SLACK_PRESENTER, people or NoDirectory(), offline)
