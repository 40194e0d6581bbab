"""`/okr gaps`."""

from __future__ import annotations

from okrbot.domain import commands as cmd
from okrbot.services.errors import Unavailable
from okrbot.slack.commands.context import CommandContext
from okrbot.slack.reply import Reply


def gaps(ctx: CommandContext, command: cmd.Gaps) -> Reply:
    raise Unavailable("`/okr gaps` is not available yet in this version of okrbot.")
