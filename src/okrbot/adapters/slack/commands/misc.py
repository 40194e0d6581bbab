"""`/okr help`."""

from __future__ import annotations

from okrbot.domain import commands as cmd
from okrbot.domain.grammar import HELP_TEXT, usage_for
from okrbot.services import periods
from okrbot.services.context import Actor
from okrbot.services.unit_of_work import UnitOfWork
from okrbot.adapters.slack.mrkdwn import escape
from okrbot.adapters.slack.reply import Reply


def help_(ctx: UnitOfWork, command: cmd.Help) -> Reply:
    # Usage lines contain <url>: escaped, Slack shows them as typed instead of as a broken link.
    text = escape(usage_for(command.topic) if command.topic else HELP_TEXT)
    if command.topic in (None, "status", "objective", "settings", "close", "gaps"):
        text += "\n" + periods_text(ctx.actor)
    return Reply.say(text)


def periods_text(actor: Actor) -> str:
    """The periods people type, with their dates: `This quarter: FY2027-Q1 (1 Feb – 30 Apr 2026) …`."""
    now = periods.current(actor)
    return f"Periods: this quarter is {now.labelled()}, the next {now.next().labelled()}; the year is {now.year_period().labelled()}."
