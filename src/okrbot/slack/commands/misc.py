"""`/okr help`."""

from __future__ import annotations

from okrbot.domain import commands as cmd
from okrbot.domain.grammar import HELP_TEXT, usage_for
from okrbot.slack.commands.context import CommandContext
from okrbot.slack.mrkdwn import escape
from okrbot.slack.reply import Reply


def help_(ctx: CommandContext, command: cmd.Help) -> Reply:
    # Usage lines contain <url>: escaped, Slack shows them as typed instead of as a broken link.
    return Reply.say(escape(usage_for(command.topic) if command.topic else HELP_TEXT))
