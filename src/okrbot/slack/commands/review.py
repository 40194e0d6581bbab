"""`/okr review`."""

from __future__ import annotations

from okrbot.domain import commands as cmd
from okrbot.services.errors import Unavailable
from okrbot.slack.commands.context import CommandContext
from okrbot.slack.reply import Reply


def review(ctx: CommandContext, command: cmd.Review) -> Reply:
    raise Unavailable("`/okr review` is not available yet in this version of okrbot.")
