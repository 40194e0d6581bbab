"""GitLab (gitlab.com and self-managed): issues closed/reopened, merge requests merged,
milestones closed. GitLab sends the webhook's secret token as is in `X-Gitlab-Token`."""

from __future__ import annotations

from okrbot.config import Settings
from okrbot.domain.urls import is_url
from okrbot.services.work import DONE, NOT_STARTED
from okrbot.adapters.webhooks.shape import Event, Ignored, Request, WorkMoved, actor, bad_signature, body_digest, json_object, object_at, same, text_at

FIX = "GitLab sends JSON; check that this URL is the webhook's URL in GitLab (Settings → Webhooks)."

_STATUS = {
    ("issue", "close"): DONE,
    ("issue", "reopen"): NOT_STARTED,
    ("merge_request", "merge"): DONE,
    ("merge_request", "reopen"): NOT_STARTED,
    ("milestone", "close"): DONE,
    ("milestone", "reopen"): NOT_STARTED,
}


def verify(request: Request, secret: str, settings: Settings) -> None:
    if not same(secret, request.header("x-gitlab-token")):
        raise bad_signature("gitlab (GitLab's Secret token field)")


def parse(request: Request) -> Event:
    payload = json_object(request.body, FIX)
    kind = payload.get("object_kind")
    attributes = object_at(payload, "object_attributes")
    # Issues and merge requests carry their action in object_attributes, milestones at the top.
    action = attributes.get("action") if kind in ("issue", "merge_request") else payload.get("action")
    status = _STATUS.get((kind, action))
    if status is None:
        if kind == "merge_request" and action == "close":
            return Ignored("a merge request closed without merging is not done")
        return Ignored("event does not move work")
    url = _milestone_url(payload, attributes) if kind == "milestone" else attributes.get("url")
    if not isinstance(url, str) or not is_url(url):
        return Ignored("the event names no work URL")
    return WorkMoved(
        status=status,
        actor=actor("gitlab", text_at(payload, "user", "username")),
        # Idempotency-Key stays the same when GitLab resends a delivery.
        delivery=request.header("idempotency-key") or request.header("x-gitlab-event-uuid") or body_digest(request.body),
        url=url,
    )


def _milestone_url(payload: dict, attributes: dict) -> str | None:
    """A milestone payload carries no URL of its own: its project's (or group's) page + iid."""
    iid = attributes.get("iid")
    owner = text_at(payload, "project", "web_url") or text_at(payload, "group", "web_url")
    return f"{owner.rstrip('/')}/-/milestones/{iid}" if owner and isinstance(iid, int) else None
