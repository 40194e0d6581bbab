"""`/okr serves <text>`, and the mention question "does <text> serve a KR?" (SPEC §6)."""

from __future__ import annotations

from okrbot.domain import commands as cmd
from okrbot.services import serves as serves_service
from okrbot.slack.commands.context import CommandContext
from okrbot.slack.reply import Reply
from okrbot.slack.views.serves import serves_blocks, serves_text


def serves(ctx: CommandContext, command: cmd.Serves) -> Reply:
    answer = serves_service.serves(ctx.session, ctx.actor, command.text)
    return Reply(text=serves_text(answer), blocks=serves_blocks(answer))
