"""`/okr webhooks [rotate <tool> | secret <tool> <secret>]` (issue 14)."""

from __future__ import annotations

from okrbot.domain import commands as cmd
from okrbot.services.webhook_setup import webhook_setup
from okrbot.services.unit_of_work import UnitOfWork
from okrbot.adapters.slack.reply import Reply
from okrbot.adapters.slack.views.webhooks import webhooks_reply


def webhooks(ctx: UnitOfWork, command: cmd.Webhooks) -> Reply:
    setup = webhook_setup(ctx.session, ctx.actor, tool=command.tool, secret=command.secret)
    return webhooks_reply(setup, ctx.settings.public_url)
