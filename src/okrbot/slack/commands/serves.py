"""`/okr serves`."""

from __future__ import annotations

from okrbot.domain import commands as cmd
from okrbot.services.errors import Unavailable
from okrbot.slack.commands.context import CommandContext
from okrbot.slack.reply import Reply


def serves(ctx: CommandContext, command: cmd.Serves) -> Reply:
    raise Unavailable("`/okr serves` is not available yet in this version of okrbot.")
