"""Which request a unit of work belongs to, so that running a request twice changes nothing.

A worker runs each request from the inbox (store/inbox.py) inside `handling(key)`.
Every unit of work the request opens claims a key derived from it, in the same
transaction as its change (CommandRunner.in_unit_of_work): `key/1` for the first
unit, `key/2`, `key/3`… for the next ones, in the order the request's code opens
them (a unit given a key of its own, such as an event's, keeps that one). A worker that runs the request again after a crash finds those keys
taken and changes nothing a second time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

KEY_LENGTH = 200  # ProcessedEvent.key


@dataclass
class _Request:
    key: str
    units: int = field(default=0)


_current: ContextVar[_Request | None] = ContextVar("okrbot_request", default=None)


@contextmanager
def handling(key: str) -> Iterator[None]:
    token = _current.set(_Request(key))
    try:
        yield
    finally:
        _current.reset(token)


def next_unit_key() -> str | None:
    """The key the next unit of work of the current request claims; None outside a request."""
    request = _current.get()
    if request is None:
        return None
    request.units += 1
    return bounded(f"{request.key}/{request.units}")


def bounded(key: str) -> str:
    """Keys longer than the column are shortened to a digest that stays unique."""
    if len(key) <= KEY_LENGTH:
        return key
    return key[:120] + "~" + hashlib.sha256(key.encode()).hexdigest()
