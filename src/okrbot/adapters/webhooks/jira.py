"""Jira Cloud and Data Center: an issue or epic whose status moves into the "Done"
status category is done; moved out of it, it is reopened.

Signed with the webhook's secret: `X-Hub-Signature: sha256=<hex HMAC-SHA256 of the body>`.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from okrbot.config import Settings
from okrbot.domain.urls import jira_browse_url
from okrbot.services.work import DONE, NOT_STARTED
from okrbot.adapters.webhooks.shape import Event, Ignored, Request, WorkMoved, actor, bad_signature, body_digest, hmac_hex, json_object, object_at, same, text_at

FIX = "Jira sends JSON; check that this URL is the webhook's URL in Jira (System → WebHooks)."


def verify(request: Request, secret: str, settings: Settings) -> None:
    if not same("sha256=" + hmac_hex(secret, request.body), request.header("x-hub-signature")):
        raise bad_signature("jira (the webhook's Secret in Jira)")


def parse(request: Request) -> Event:
    payload = json_object(request.body, FIX)
    if payload.get("webhookEvent") != "jira:issue_updated":
        return Ignored("event does not move work")
    changes = object_at(payload, "changelog").get("items")
    if not any(isinstance(item, dict) and item.get("field") == "status" for item in changes or []):
        return Ignored("the issue's status did not change")
    issue = object_at(payload, "issue")
    category = text_at(issue, "fields", "status", "statusCategory", "key")
    url = _browse_url(issue)
    if not category or url is None:
        return Ignored("the event names no issue status or link")
    user = object_at(payload, "user")
    name = user.get("displayName") or user.get("name") or ""
    return WorkMoved(
        status=DONE if category == "done" else NOT_STARTED,
        actor=actor("jira", name if isinstance(name, str) else ""),
        # The same on every retry of one delivery.
        delivery=request.header("x-atlassian-webhook-identifier") or body_digest(request.body),
        url=url,
    )


def _browse_url(issue: dict) -> str | None:
    """https://<site>[/context]/browse/KEY, from the issue's REST `self` link and its key."""
    key, rest = issue.get("key"), issue.get("self")
    if not isinstance(key, str) or not isinstance(rest, str) or "/rest/" not in rest:
        return None
    parts = urlsplit(rest)
    context = parts.path.split("/rest/", 1)[0]
    return jira_browse_url(urlunsplit((parts.scheme, parts.netloc, context, "", "")), key)
