"""GitHub: issues, pull requests and milestones, in either content type GitHub sends.

Signed with `X-Hub-Signature-256` (HMAC-SHA256 of the raw body); the older SHA-1
`X-Hub-Signature` only when the operator allows it (OKRBOT_GITHUB_ALLOW_SHA1).
"""

from __future__ import annotations

from urllib.parse import parse_qs

from okrbot.config import Settings
from okrbot.domain.urls import is_url
from okrbot.services.work import DONE, NOT_STARTED
from okrbot.adapters.webhooks.shape import Event, Ignored, Refused, Request, WorkMoved, actor, bad_signature, body_digest, hmac_hex, json_object, object_at, same

FORM = "application/x-www-form-urlencoded"
FIX = "On GitHub, open the webhook's settings, set Content type to application/json, and redeliver."


def verify(request: Request, secret: str, settings: Settings) -> None:
    sha256 = request.header("x-hub-signature-256")
    if sha256:
        if same("sha256=" + hmac_hex(secret, request.body), sha256):
            return
    elif settings.github_allow_sha1 and (sha1 := request.header("x-hub-signature")):
        if same("sha1=" + hmac_hex(secret, request.body, "sha1"), sha1):
            return
    raise bad_signature("github")


def parse(request: Request) -> Event:
    payload = _payload(request)
    event = request.header("x-github-event")
    if event == "ping":
        return Ignored("ping: the webhook reaches okrbot")
    status, item = _status(event, payload)
    url = item.get("html_url")
    if status is None or not isinstance(url, str) or not is_url(url):
        return Ignored("event does not move work")
    login = object_at(payload, "sender").get("login")
    return WorkMoved(
        status=status,
        actor=actor("github", login if isinstance(login, str) else ""),
        delivery=request.header("x-github-delivery") or body_digest(request.body),
        url=url,
    )


def _payload(request: Request) -> dict:
    """JSON, or GitHub's default form encoding: `payload=<url-encoded JSON>`."""
    if request.header("content-type").split(";")[0].strip().lower() != FORM:
        return json_object(request.body, FIX)
    try:
        fields = parse_qs(request.body.decode("utf-8"), strict_parsing=True)
    except (UnicodeDecodeError, ValueError):
        fields = {}
    if len(fields.get("payload", [])) != 1:
        raise Refused(400, f"A form-encoded GitHub delivery needs one `payload` field holding the JSON. {FIX}")
    return json_object(fields["payload"][0].encode(), FIX)


def _status(event: str, payload: dict) -> tuple[str | None, dict]:
    """The new status for the events that move work, and the item they are about."""
    action = payload.get("action")
    if event == "issues":
        issue = object_at(payload, "issue")
        # Closed as "not planned" or as a duplicate was not done (older payloads carry
        # no state_reason: a close then means done).
        if action == "closed" and issue.get("state_reason") in (None, "completed"):
            return DONE, issue
        if action == "reopened":
            return NOT_STARTED, issue
    if event == "pull_request":
        pull = object_at(payload, "pull_request")
        if action == "closed" and pull.get("merged") is True:
            return DONE, pull
        if action == "reopened":
            return NOT_STARTED, pull
    if event == "milestone":
        milestone = object_at(payload, "milestone")
        if action == "closed":
            return DONE, milestone
        if action == "opened":  # GitHub's name for a closed milestone opened again
            return NOT_STARTED, milestone
    return None, {}
