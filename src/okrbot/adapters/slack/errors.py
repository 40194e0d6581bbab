"""The one error handler: typed errors become their message; anything else a reference id."""

from __future__ import annotations

import logging
import secrets

from sqlalchemy.exc import OperationalError

from okrbot.services.errors import OkrbotError
from okrbot.adapters.slack.reply import Reply

log = logging.getLogger("okrbot")


def reference_id() -> str:
    return secrets.token_hex(4)


def reply_for_error(error: Exception) -> Reply:
    if isinstance(error, OkrbotError):
        return Reply.problem(str(error))
    ref = reference_id()
    if isinstance(error, OperationalError):
        log.error("database unavailable (ref %s): %s", ref, error.__class__.__name__, exc_info=error)
        return Reply.problem(f"Not saved: the database is not answering. Try again in a minute. (ref `{ref}`)")
    log.error("unexpected error (ref %s)", ref, exc_info=error)
    return Reply.problem(f"Something went wrong and nothing was saved. Try again; if it keeps happening, tell your admin the reference `{ref}`.")
