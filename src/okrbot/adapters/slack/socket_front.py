"""Socket Mode, the same way as HTTP: write the payload to the inbox, acknowledge over
the WebSocket, and wait for the worker only when Slack reads the answer. A payload that
cannot be written is not acknowledged, so Slack sends it again."""

from __future__ import annotations

import json
import logging
import time

from slack_sdk import WebClient
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from okrbot.config import Settings
from okrbot.runtime.jobs import Answer, Route
from okrbot.runtime.jobs.dispatcher import Dispatcher
from okrbot.observability.requests import AckTimer
from okrbot.adapters.slack.routing import interaction_wants_answer, socket_key

log = logging.getLogger("okrbot")

ANSWER_TIMEOUT = 2.5  # Slack stops waiting after 3 s


class SocketModeFront:
    """apps.connections.open (at SLACK_API_URL, with SLACK_APP_TOKEN), then commands,
    events and interactivity over the WebSocket; the client reconnects by itself."""

    def __init__(self, settings: Settings, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher
        self.timer = AckTimer(metrics_on=settings.metrics)
        web = WebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url, timeout=settings.slack_timeout_seconds)
        self.client = SocketModeClient(app_token=settings.slack_app_token, web_client=web, logger=logging.getLogger("okrbot.socket"))
        self.client.socket_mode_request_listeners.append(self._receive)

    def connect(self) -> None:
        self.client.connect()
        log.info("Socket Mode connected")

    def close(self) -> None:
        self.client.close()

    def _receive(self, client: SocketModeClient, request: SocketModeRequest) -> None:
        received = time.perf_counter()
        payload = request.payload if isinstance(request.payload, dict) else {}
        headers = {}
        if request.retry_attempt is not None:  # as HTTP sends them, so retried events apply once
            headers["x-slack-retry-num"] = str(request.retry_attempt)
        if request.retry_reason is not None:
            headers["x-slack-retry-reason"] = request.retry_reason
        answer_wanted = request.type == "interactive" and interaction_wants_answer(payload)
        try:
            accepted = self.dispatcher.submit(
                Route.SOCKET, payload, key=socket_key(request.type, payload, request.envelope_id), headers=headers, answer_wanted=answer_wanted
            )
        except Exception:  # noqa: BLE001 - not on disk: no ack, and Slack sends it again
            log.exception("a Socket Mode request could not be written to the inbox; not acknowledged")
            return
        if not answer_wanted:
            client.send_socket_mode_response(self.timer.acked(Route.SOCKET, received, SocketModeResponse(envelope_id=request.envelope_id)))
            return
        answer = self.dispatcher.answer(accepted, ANSWER_TIMEOUT)
        client.send_socket_mode_response(self.timer.acked(Route.SOCKET, received, SocketModeResponse(envelope_id=request.envelope_id, payload=_payload(answer))))


def _payload(answer: Answer | None) -> dict | None:
    """What the worker's bolt answered, as Socket Mode carries it."""
    if answer is None or answer.status != 200 or not answer.body:
        return None
    if answer.headers.get("content-type", "").startswith("application/json"):
        return json.loads(answer.body)
    return {"text": answer.body.decode("utf-8", errors="replace")}
