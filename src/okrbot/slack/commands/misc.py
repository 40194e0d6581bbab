"""Handlers for help, and for the capabilities that have their own modules."""

from __future__ import annotations

from okrbot.domain import commands as cmd
from okrbot.domain.grammar import HELP_TEXT, usage_for
from okrbot.services.errors import Unavailable
from okrbot.slack.commands.context import CommandContext
from okrbot.slack.reply import Reply


def help_(ctx: CommandContext, command: cmd.Help) -> Reply:
    if command.topic:
        return Reply.say(usage_for(command.topic))
    return Reply.say(HELP_TEXT)


def serves(ctx: CommandContext, command: cmd.Serves) -> Reply:
    raise Unavailable("`/okr serves` is not available yet in this version of okrbot.")


def gaps(ctx: CommandContext, command: cmd.Gaps) -> Reply:
    raise Unavailable("`/okr gaps` is not available yet in this version of okrbot.")


def review(ctx: CommandContext, command: cmd.Review) -> Reply:
    raise Unavailable("`/okr review` is not available yet in this version of okrbot.")
