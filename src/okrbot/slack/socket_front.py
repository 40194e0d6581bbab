"""Socket Mode, the same way as HTTP: acknowledge over the WebSocket at once, hand the
payload to a worker (jobs/), and wait for the worker only when Slack reads the answer."""

from __future__ import annotations

import json
import logging

from slack_sdk import WebClient
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from okrbot.config import Settings
from okrbot.jobs import Answer, Route
from okrbot.jobs.dispatcher import Dispatcher
from okrbot.slack.routing import interaction_wants_answer

log = logging.getLogger("okrbot")

ANSWER_TIMEOUT = 30.0


class SocketModeFront:
    """apps.connections.open (at SLACK_API_URL, with SLACK_APP_TOKEN), then commands,
    events and interactivity over the WebSocket; the client reconnects by itself."""

    def __init__(self, settings: Settings, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher
        web = WebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url, timeout=settings.slack_timeout_seconds)
        self.client = SocketModeClient(app_token=settings.slack_app_token, web_client=web, logger=logging.getLogger("okrbot.socket"))
        self.client.socket_mode_request_listeners.append(self._receive)

    def connect(self) -> None:
        self.client.connect()
        log.info("Socket Mode connected")

    def close(self) -> None:
        self.client.close()

    def _receive(self, client: SocketModeClient, request: SocketModeRequest) -> None:
        payload = request.payload if isinstance(request.payload, dict) else {}
        headers = {}
        if request.retry_attempt is not None:  # as HTTP sends them, so retried events apply once
            headers["x-slack-retry-num"] = str(request.retry_attempt)
        if request.retry_reason is not None:
            headers["x-slack-retry-reason"] = request.retry_reason
        if not (request.type == "interactive" and interaction_wants_answer(payload)):
            client.send_socket_mode_response(SocketModeResponse(envelope_id=request.envelope_id))
            self.dispatcher.submit(Route.SOCKET, payload, headers=headers)
            return
        future = self.dispatcher.submit(Route.SOCKET, payload, headers=headers, answer_wanted=True)
        try:
            answer = future.result(ANSWER_TIMEOUT)
        except TimeoutError:
            answer = None
        client.send_socket_mode_response(SocketModeResponse(envelope_id=request.envelope_id, payload=_payload(answer)))


def _payload(answer: Answer | None) -> dict | None:
    """What the worker's bolt answered, as Socket Mode carries it."""
    if answer is None or answer.status != 200 or not answer.body:
        return None
    if answer.headers.get("content-type", "").startswith("application/json"):
        return json.loads(answer.body)
    return {"text": answer.body.decode("utf-8", errors="replace")}
