"""One path for every tool's deliveries: find the workspace the URL is addressed to,
verify as the tool signs, parse into one shape, apply once per delivery id, announce."""

from __future__ import annotations

import logging
from types import ModuleType

from sqlalchemy.exc import OperationalError

from okrbot.config import Settings
from okrbot.domain.ids import kr_id
from okrbot.services import deliveries
from okrbot.services.readings import record_reading
from okrbot.services.errors import Invalid, NotAllowed, NotFound, OkrbotError
from okrbot.services.notifier import Answer, Notifier
from okrbot.services.unit_of_work import UnitOfWork
from okrbot.store.webhook_secrets import by_token
from okrbot.adapters.webhooks import github, gitlab, jira, linear, metric, work
from okrbot.adapters.webhooks.shape import Ignored, NumberMoved, Refused, Request, WorkMoved

log = logging.getLogger("okrbot.adapters.webhooks")

HttpAnswer = tuple[int, dict]

TOOLS: dict[str, ModuleType] = {"github": github, "gitlab": gitlab, "jira": jira, "linear": linear, "work": work, "metric": metric}


class WebhookReceiver:
    def __init__(self, settings: Settings, notifier: Notifier):
        self.settings = settings
        self.notifier = notifier

    def receive(self, tool: str, body: bytes, headers: dict[str, str], token: str = "") -> HttpAnswer:
        """A delivery to /webhooks/<tool> (the shared URL) or /webhooks/<tool>/<token> (a workspace's)."""
        vendor = TOOLS[tool]
        request = Request(body, {name.lower(): value for name, value in headers.items()})
        try:
            team, secret = self._addressee(tool, token)
            vendor.verify(request, secret, self.settings)
            event = vendor.parse(request)
            if isinstance(event, Ignored):
                return 202, {"ok": True, "ignored": event.reason}
            if isinstance(event, NumberMoved):
                return self._record_reading(event, team)
            return self._move_work(tool, event, team)
        except Refused as refused:
            # The sender's delivery log shows the answer; the operator's log shows it too.
            log.warning("%s webhook refused (%d): %s", tool, refused.status, refused.message)
            return refused.status, {"ok": False, "error": refused.message}
        except OperationalError:
            log.exception("%s webhook not applied: the database is not answering", tool)
            return 503, {"ok": False, "error": "Not saved: the database is not answering; try again."}

    def _addressee(self, tool: str, token: str) -> tuple[str | None, str]:
        """(workspace, secret): a workspace's own URL, or the shared one with OKRBOT_WEBHOOK_SECRET."""
        if token:
            with self.notifier.db.session_scope(read_only=True) as session:
                row = by_token(session, token)
                found = (row.team_id, row.secret) if row is not None and row.vendor == tool else None
            if found is None:
                raise Refused(404, f"No workspace has this {tool} webhook URL. Copy it again from `/okr webhooks` in Slack.")
            return found
        if not self.settings.webhook_secret:
            raise Refused(404, f"This shared URL is off. Use the workspace's own URL from `/okr webhooks`, or set OKRBOT_WEBHOOK_SECRET to turn /webhooks/{tool} on.")
        return None, self.settings.webhook_secret

    def _move_work(self, tool: str, event: WorkMoved, team: str | None) -> HttpAnswer:
        with self.notifier.db.session_scope(read_only=True) as session:
            targets = deliveries.work_targets(session, url=event.url, number=event.initiative, team=team or event.team)
        if not targets:
            return 202, {"ok": True, "ignored": "no initiative matches"}
        refused: list[OkrbotError] = []
        for team_id, number in targets:

            def apply(uow: UnitOfWork, number: int = number) -> Answer:
                try:
                    outcome = deliveries.set_work_status(uow.session, uow.actor, number, event.status)
                except OkrbotError as error:
                    refused.append(error)  # e.g. the work moves only KRs of a closed period
                    raise
                return self.notifier.work_moved(uow, outcome)

            key = f"{tool}:{event.delivery}:{team_id}:{number}" if event.delivery else None
            before = len(refused)
            outcome = self.notifier.runner.in_unit_of_work(self._actor(team_id, event.actor), apply, event_key=_short(key))
            if outcome.reply.error and len(refused) == before:
                return 503, {"ok": False, "error": "Not saved; try again."}
            self.notifier.deliver(outcome.queued)
        if len(refused) == len(targets):  # a refusal is an answer, not a failure to retry
            raise Refused(_status_of(refused[0]), str(refused[0]))
        return 200, {"ok": True, "initiatives": len(targets) - len(refused)}

    def _record_reading(self, event: NumberMoved, team: str | None) -> HttpAnswer:
        reading = event.reading
        with self.notifier.db.session_scope(read_only=True) as session:
            team_id = deliveries.metric_team(session, reading.kr, team or reading.team)
        if team_id is None:
            raise Refused(400, f'{kr_id(reading.kr)} is in several workspaces (or none): add "team": "T…", or use the workspace\'s own URL from `/okr webhooks`.')
        refused: list[OkrbotError] = []
        current: list[bool] = []

        def apply(uow: UnitOfWork) -> Answer:
            try:
                outcome = record_reading(uow.session, uow.actor, reading)
            except OkrbotError as error:
                refused.append(error)
                raise
            current.append(outcome.current)
            # A reading older than the newest goes into history only: nobody is told.
            return self.notifier.reading_recorded(uow, outcome) if outcome.current else _SILENT

        outcome = self.notifier.runner.in_unit_of_work(self._actor(team_id, reading.source), apply, event_key=_short(f"metric:{team_id}:{event.delivery}"))
        if refused:
            raise Refused(_status_of(refused[0]), str(refused[0]))
        if outcome.duplicate:
            return 200, {"ok": True, "duplicate": True}
        if outcome.reply.error:
            return 503, {"ok": False, "error": "Not saved; try again."}
        self.notifier.deliver(outcome.queued)
        return 200, {"ok": True, "kr": kr_id(reading.kr), "current": current[0]}

    def _actor(self, team_id: str, name: str):
        return self.notifier.system_actor(team_id, name[:32], source="webhook")


class _Silent:
    text, error, modal = "", False, None


_SILENT = _Silent()


def _status_of(error: OkrbotError) -> int:
    statuses: dict[type, int] = {NotFound: 404, NotAllowed: 403, Invalid: 422}
    return next((status for kind, status in statuses.items() if isinstance(error, kind)), 400)


def _short(key: str | None) -> str | None:
    """Event keys hold 200 characters; a long delivery id is cut, never refused."""
    return key[:200] if key else None

