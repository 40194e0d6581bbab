"""`/okr serves <text>`, and the mention question "does <text> serve a KR?" (SPEC §6)."""

from __future__ import annotations

from okrbot.domain import commands as cmd
from okrbot.services import serves as serves_service
from okrbot.slack.commands.context import CommandContext
from okrbot.slack.reply import Reply
from okrbot.slack.views.serves import serves_blocks, serves_text


def serves(ctx: CommandContext, command: cmd.Serves) -> Reply:
    # In a channel the answer may be posted for all to read (a mention is answered in
    # its thread), so private objectives stay out there; in a DM or the shell they may show.
    in_channel = ctx.actor.channel_id is not None and not ctx.actor.in_dm
    answer = serves_service.serves(ctx.session, ctx.actor, command.text, shown_to_channel=in_channel)
    return Reply(text=serves_text(answer), blocks=serves_blocks(answer))
