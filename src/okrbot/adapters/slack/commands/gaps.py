"""`/okr gaps [period]`: the hygiene report (SPEC §7), for the person who asked."""

from __future__ import annotations

from okrbot.domain import commands as cmd
from okrbot.services.gaps import gap_report
from okrbot.services.unit_of_work import UnitOfWork
from okrbot.adapters.slack.reply import Reply
from okrbot.adapters.slack.views.gaps import gaps_blocks, gaps_text


def gaps(ctx: UnitOfWork, command: cmd.Gaps) -> Reply:
    report = gap_report(ctx.session, ctx.actor, command.period)
    return Reply(text=gaps_text(report), blocks=gaps_blocks(report))
