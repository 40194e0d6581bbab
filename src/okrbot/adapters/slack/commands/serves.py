"""`/okr serves <text>`, and the mention question "does <text> serve a KR?" (SPEC §6)."""

from __future__ import annotations

from okrbot.domain import commands as cmd
from okrbot.services import serves as serves_service
from okrbot.services.embedding_model import encoder_for
from okrbot.services.unit_of_work import UnitOfWork
from okrbot.adapters.slack.reply import Reply
from okrbot.adapters.slack.views.serves import serves_blocks, serves_text


def serves(ctx: UnitOfWork, command: cmd.Serves) -> Reply:
    # A mention answered in a channel thread is read by the whole channel (the runner
    # sets the audience), so no private objective is named there. `/okr serves` is
    # answered to the asker alone, wherever they type it: they see what `/okr status`
    # shows them, private objectives they may see included.
    in_thread = ctx.actor.audience is not None
    answer = serves_service.serves(
        ctx.session, ctx.actor, command.text, shown_to_channel=in_thread, encoder=encoder_for(ctx.settings),
        snapshots=serves_service.index_snapshots(ctx.settings))
    return Reply(text=serves_text(answer), blocks=serves_blocks(answer))
