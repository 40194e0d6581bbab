"""/okr webhooks: an admin sees the workspace's webhook URLs and secrets, and rotates them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from okrbot.services.context import Actor
from okrbot.services.errors import NotAllowed
from okrbot.store import webhook_secrets


@dataclass(frozen=True)
class WebhookSetup:
    tool: str
    path: str  # /webhooks/<tool>/<token>
    secret: str
    rotated: bool = False  # this one was given a new secret just now


def webhook_setup(session: Session, actor: Actor, *, tool: str | None = None, secret: str | None = None) -> list[WebhookSetup]:
    """The workspace's URLs and secrets; with `tool`, that tool's secret first changes to
    `secret` (a tool's own) or to a new random one."""
    if not actor.is_admin:
        # The secrets let anyone move this workspace's work and numbers.
        raise NotAllowed(
            "Only an okrbot admin (a Slack workspace admin, or someone in OKRBOT_ADMINS) can see or rotate the webhook secrets."
        )
    if actor.audience:
        raise NotAllowed("Webhook secrets are never posted where others read them.", hint="Type `/okr webhooks`: only you see its answer.")
    if tool is not None:
        webhook_secrets.rotate(session, actor.team_id, tool, actor.now, secret)
    return [
        WebhookSetup(tool=row.vendor, path=f"/webhooks/{row.vendor}/{row.token}", secret=row.secret, rotated=row.vendor == tool)
        for row in webhook_secrets.secrets_of(session, actor.team_id, actor.now)
    ]
