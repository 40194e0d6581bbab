"""POST /webhooks/github and /webhooks/work: work marked done outside Slack (SPEC §8).

Both are HMAC-signed with OKRBOT_WEBHOOK_SECRET. Unknown work is answered
202 and ignored; a delivery replayed any number of times moves progress once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging

from sqlalchemy.exc import OperationalError
from sqlmodel import select

from okrbot.config import Settings
from okrbot.domain.ids import parse_ref
from okrbot.domain.commands import Kind
from okrbot.domain.urls import is_url, url_key
from okrbot.services import work
from okrbot.slack.bot import SlackBot
from okrbot.slack.commands.context import CommandContext
from okrbot.slack.commands.work import work_status_reply
from okrbot.slack.reply import Reply
from okrbot.store.models import Initiative

log = logging.getLogger("okrbot.webhooks")

Answer = tuple[int, dict]


def signature_ok(secret: str, body: bytes, header: str | None) -> bool:
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header.removeprefix("sha256="))


def github_status(event: str, payload: dict) -> tuple[str | None, str | None]:
    """(url, new status) for the GitHub events that move work; (None, None) for the rest
    (a body of the wrong shape included: it moves nothing)."""
    action = payload.get("action")
    issue = _object(payload, "issue")
    # An issue closed as "not planned" or as a duplicate was not done: it moves nothing.
    # (Older payloads carry no state_reason; a close then means done.)
    if event == "issues" and action == "closed" and issue.get("state_reason") in (None, "completed"):
        return _url(issue), work.DONE
    if event == "issues" and action == "reopened":
        return _url(issue), work.NOT_STARTED
    pull = _object(payload, "pull_request")
    if event == "pull_request" and action == "closed" and pull.get("merged") is True:
        return _url(pull), work.DONE
    if event == "pull_request" and action == "reopened":
        return _url(pull), work.NOT_STARTED
    return None, None


def _object(payload: dict, name: str) -> dict:
    value = payload.get(name)
    return value if isinstance(value, dict) else {}


def _url(item: dict) -> str | None:
    url = item.get("html_url")
    return url if isinstance(url, str) and is_url(url) else None


class WebhookReceiver:
    def __init__(self, settings: Settings, bot: SlackBot):
        self.settings = settings
        self.bot = bot

    def _verify(self, body: bytes, header: str | None) -> Answer | None:
        if not self.settings.webhook_secret:
            return 404, {"ok": False, "error": "Webhooks are off. Set OKRBOT_WEBHOOK_SECRET to turn them on."}
        if not signature_ok(self.settings.webhook_secret, body, header):
            return 401, {"ok": False, "error": "Bad or missing signature."}
        return None

    def github(self, body: bytes, headers: dict[str, str]) -> Answer:
        refused = self._verify(body, headers.get("x-hub-signature-256"))
        if refused:
            return refused
        payload = _json(body)
        if payload is None:
            return 400, {"ok": False, "error": "The body is not a JSON object."}
        url, status = github_status(headers.get("x-github-event", ""), payload)
        if not url:
            return 202, {"ok": True, "ignored": "event does not move work"}
        login = _object(payload, "sender").get("login")
        sender = login if isinstance(login, str) and login else "github"
        delivery = headers.get("x-github-delivery") or hashlib.sha256(body).hexdigest()
        return self._apply(url=url, number=None, status=status, actor=f"github:{sender}", key=f"github:{delivery}", team=None)

    def work(self, body: bytes, headers: dict[str, str]) -> Answer:
        refused = self._verify(body, headers.get("x-okrbot-signature"))
        if refused:
            return refused
        payload = _json(body)
        if payload is None:
            return 400, {"ok": False, "error": "The body is not a JSON object."}
        status = {"done": work.DONE, "todo": work.NOT_STARTED, "reopened": work.NOT_STARTED, "open": work.NOT_STARTED}.get(str(payload.get("status", "done")))
        if status is None:
            return 400, {"ok": False, "error": 'status must be "done" or "todo".'}
        number = None
        if payload.get("initiative") is not None:
            ref = parse_ref(str(payload["initiative"]))
            if ref is None or ref.kind is not Kind.INITIATIVE:
                return 400, {"ok": False, "error": 'initiative must look like "I-3".'}
            number = ref.number
        elif not isinstance(payload.get("url"), str):
            return 400, {"ok": False, "error": 'Send {"initiative": "I-3"} or {"url": "https://…"} with "status".'}
        # Only an explicit delivery id makes a body a one-off: the same {"status": "done"}
        # must still work after a reopen. Without one, done-when-done is a no-op anyway.
        delivery = payload.get("delivery") or payload.get("id")
        key = f"work:{delivery}" if isinstance(delivery, (str, int)) and str(delivery) else None
        team = payload.get("team") if isinstance(payload.get("team"), str) else None
        return self._apply(url=payload.get("url"), number=number, status=status, actor="webhook", key=key, team=team)

    def _apply(self, *, url: str | None, number: int | None, status: str, actor: str, key: str | None, team: str | None) -> Answer:
        try:
            targets = self._targets(url, number, team)
        except OperationalError:
            log.exception("webhook not applied: the database is not answering")
            return 503, {"ok": False, "error": "Not saved: the database is not answering; try again."}
        if not targets:
            return 202, {"ok": True, "ignored": "no initiative matches"}
        for team_id, initiative_number in targets:
            who = self.bot.actor_without_lookup(team_id, actor[:32], source="webhook")

            def apply(ctx: CommandContext, initiative_number: int = initiative_number) -> Reply:
                initiative = work.find_initiative(ctx.session, ctx.actor, work.WorkRef(initiative=initiative_number))
                return work_status_reply(ctx, work.set_status(ctx.session, ctx.actor, initiative, status))

            event_key = f"{key}:{team_id}:{initiative_number}" if key else None
            outcome = self.bot.runner.in_unit_of_work(who, apply, event_key=event_key)
            if outcome.reply.error:
                return 503, {"ok": False, "error": "Not saved; try again."}
            self.bot.deliver(outcome.queued)
        return 200, {"ok": True, "initiatives": len(targets)}

    def _targets(self, url: str | None, number: int | None, team: str | None) -> list[tuple[str, int]]:
        """(team, I-n) of the matching initiatives: by number in one workspace, or by URL."""
        with self.bot.db.session_scope() as session:
            query = select(Initiative.team_id, Initiative.number)
            if number is not None:
                query = query.where(Initiative.number == number)
            else:
                query = query.where(Initiative.url_key == url_key(url or ""))
            if team:
                query = query.where(Initiative.team_id == team)
            rows = session.exec(query.order_by(Initiative.team_id, Initiative.number)).all()
        if number is not None and not team and len({team_id for team_id, _ in rows}) > 1:
            return []  # I-3 exists in several workspaces: without "team" it is ambiguous
        return [(team_id, n) for team_id, n in rows]


def _json(body: bytes) -> dict | None:
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return payload if isinstance(payload, dict) else None
