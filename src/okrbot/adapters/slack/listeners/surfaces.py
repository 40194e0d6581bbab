"""Showing a Reply on the surface a request came from."""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from okrbot.adapters.slack.reply import Reply

log = logging.getLogger("okrbot")


def respond_with(respond: Callable, reply: Reply) -> bool:
    """Answer through the request's response_url: ephemeral unless the channel should see it.
    False when Slack did not take it (an error status, no answer)."""
    try:
        answer = respond(
            text=reply.text,
            blocks=reply.block_dicts(),
            response_type="in_channel" if reply.public else "ephemeral",
            replace_original=False,
        )
    except Exception as error:  # noqa: BLE001 - a timeout or refused connection: the caller falls back
        log.warning("response_url failed: %s", error.__class__.__name__)
        return False
    status = getattr(answer, "status_code", 200)
    if status != 200:
        log.warning("response_url answered %s", status)
    return status == 200


def open_modal(client: WebClient, trigger_id: str | None, reply: Reply, respond: Callable | None) -> None:
    try:
        client.views_open(trigger_id=trigger_id, view=reply.modal)
    except SlackApiError as error:
        # The trigger lasts 3 seconds; if Slack was slow, say so instead of failing silently.
        log.warning("views.open failed: %s", error.response.get("error"))
        if respond is not None:
            respond_with(respond, Reply.problem("I couldn't open the form in time. Please try again."))


def show(reply: Reply, *, client: WebClient, respond: Callable | None, trigger_id: str | None = None) -> bool:
    """True when the reply reached the person (or a form was asked for)."""
    if reply.modal is not None:
        open_modal(client, trigger_id, reply, respond)
        return True
    if respond is not None:
        return respond_with(respond, reply)
    return False
