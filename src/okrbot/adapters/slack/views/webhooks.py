"""/okr webhooks as the admin sees it (ephemeral): per tool, the URL to paste, the secret,
and what to tick there."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import Block, ContextBlock, HeaderBlock, MarkdownTextObject, SectionBlock

from okrbot.services.webhook_setup import WebhookSetup
from okrbot.adapters.slack.mrkdwn import escape
from okrbot.adapters.slack.reply import Reply

# tool → (name, where its secret goes and what to tick)
_HOW = {
    "github": ("GitHub", "Repository → Settings → Webhooks → Add webhook. Content type `application/json` (the default form encoding works too); Secret as below; events: Issues, Pull requests, Milestones."),
    "gitlab": ("GitLab", "Project (or group) → Settings → Webhooks. Secret token as below; triggers: Issues events, Merge request events, Milestone events."),
    "jira": ("Jira", "Settings → System → WebHooks → Create a WebHook. Secret as below; events: Issue updated."),
    "linear": ("Linear", "Settings → API → Webhooks → New webhook; data change events: Issues, Projects. Linear makes its own signing secret: copy it from the webhook's page and type `/okr webhooks secret linear <it>`."),
    "work": ("Scripts (work)", 'POST {"initiative": "I-3" | "url": "…", "status": "done"} with header `X-Okrbot-Signature: sha256=<hex HMAC-SHA256 of the body>`.'),
    "metric": ("Metric feeds", 'POST {"kr": "KR-3", "value": 42, "at": "2026-12-01T10:00:00Z", "source": "dbt", "delivery": "run-81"}, signed like work.'),
}


def webhooks_reply(setup: Sequence[WebhookSetup], public_url: str) -> Reply:
    base = public_url.rstrip("/") if public_url else "https://<your okrbot address>"
    blocks: list[Block] = [HeaderBlock(text="Webhooks for this workspace")]
    lines = []
    for item in setup:
        name, how = _HOW[item.tool]
        new = " :arrows_counterclockwise: _new secret: paste it where the old one was_" if item.rotated else ""
        url = escape(f"{base}{item.path}")
        text = f"*{escape(name)}*{new}\nURL `{url}`\nSecret `{item.secret}`\n{escape(how)}"
        blocks.append(SectionBlock(text=MarkdownTextObject(text=text)))
        lines.append(f"{escape(name)}: {url} secret {item.secret}")
    note = "Only you see this. Deliveries to these URLs move only this workspace's work. `/okr webhooks rotate <tool>` gives a tool a new secret."
    if not public_url:
        note += " Set OKRBOT_PUBLIC_URL to show the full addresses."
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=escape(note))]))
    return Reply(text="\n".join(lines), blocks=blocks)
