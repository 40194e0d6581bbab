"""A Slack Socket Mode double: a WebSocket server on loopback that speaks Slack's protocol.

Flow (docs.slack.dev, "Using Socket Mode"): the app calls apps.connections.open, connects
to the returned URL, receives {"type": "hello"}, then envelopes {"envelope_id", "type",
"payload", ...} which it acknowledges with {"envelope_id", "payload"?}. Slack asks for a
reconnect with {"type": "disconnect", "reason": "refresh_requested" | "warning" | ...}.
The server runs its own asyncio loop in a daemon thread; the public API is synchronous.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
import uuid
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

ENVELOPE_TYPES = ("slash_commands", "events_api", "interactive")


class SocketModeDouble:
    def __init__(self, *, app_id: str = "A1", ping_interval: float = 0.25) -> None:
        self.app_id = app_id
        # Slack pings its clients too. Frequent pings wake slack_sdk's builtin client from
        # its blocking 3 s recv, so its reconnects and close() finish in a fraction of that.
        self.ping_interval = ping_interval
        self._cond = threading.Condition()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._start_error: BaseException | None = None
        self._tickets = itertools.count(1)
        self._open: list[ServerConnection] = []  # newest last; envelopes go to the newest
        self._accepted = 0
        self._acks: dict[str, dict[str, Any]] = {}
        self.received: list[dict[str, Any]] = []  # every JSON message the app sent
        self.paths: list[str] = []  # request path of each accepted connection (ticket, app_id)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> SocketModeDouble:
        self._thread = threading.Thread(target=self._run, name="socket-mode-double", daemon=True)
        self._thread.start()
        if not self._ready.wait(5):
            raise RuntimeError("Socket Mode double did not start within 5s")
        if self._start_error is not None:
            raise RuntimeError("Socket Mode double failed to start") from self._start_error
        return self

    def stop(self) -> None:
        if self._loop is not None and self._server is not None and self._loop.is_running():
            self._loop.call_soon_threadsafe(self._server.close)
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._thread = None

    def __enter__(self) -> SocketModeDouble:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "SocketModeDouble is not running"
        port = self._server.sockets[0].getsockname()[1]
        return f"ws://127.0.0.1:{port}/link/"

    def connection_url(self) -> str:
        """A fresh URL like the one apps.connections.open returns (one ticket per call)."""
        return f"{self.url}?ticket={next(self._tickets)}&app_id={self.app_id}"

    # ------------------------------------------------------------------ driving the app

    @property
    def connections(self) -> int:
        """How many connections were accepted (and greeted with hello) in total."""
        with self._cond:
            return self._accepted

    def wait_connected(self, n: int = 1, timeout: float = 5.0) -> None:
        """Block until ``n`` connections were accepted in total."""
        self._wait(lambda: self._accepted >= n, timeout, lambda: f"{n} connection(s), got {self._accepted}")

    def send_envelope(
        self,
        type: str,
        payload: dict[str, Any],
        accepts_response_payload: bool = False,
        *,
        retry_attempt: int = 0,
        retry_reason: str = "",
        envelope_id: str | None = None,
        timeout: float = 5.0,
    ) -> str:
        """Send one envelope to the newest open connection; returns its envelope_id."""
        if type not in ENVELOPE_TYPES:
            raise ValueError(f"envelope type must be one of {ENVELOPE_TYPES}, not {type!r}")
        envelope_id = envelope_id or str(uuid.uuid4())
        envelope = {
            "envelope_id": envelope_id,
            "type": type,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
            "retry_attempt": retry_attempt,
            "retry_reason": retry_reason,
        }
        self._send(envelope, timeout)
        return envelope_id

    def wait_for_ack(self, envelope_id: str, timeout: float = 5.0) -> dict[str, Any]:
        """The app's acknowledgement ({"envelope_id", "payload"?}) for ``envelope_id``."""
        self._wait(
            lambda: envelope_id in self._acks,
            timeout,
            lambda: f"an ack of {envelope_id}; received: {json.dumps(self.received)[:500]}",
        )
        with self._cond:
            return self._acks[envelope_id]

    def disconnect(self, reason: str = "refresh_requested", close_after: float | None = 1.0) -> None:
        """Ask the app to reconnect, as Slack does before it retires a link.

        The app should open a new connection (apps.connections.open again); like Slack,
        the old link is closed ``close_after`` seconds later (None keeps it open).
        """
        conn = self._newest(timeout=5.0)
        message = {"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-double"}}
        self._call(conn.send(json.dumps(message)), 5.0)
        if close_after is not None:
            assert self._loop is not None
            self._loop.call_soon_threadsafe(
                self._loop.call_later, close_after, lambda: asyncio.ensure_future(conn.close(1000, reason))
            )

    def drop(self, abrupt: bool = False) -> None:
        """End the newest connection from Slack's side: a close frame (1001 going away), or
        with ``abrupt`` a bare TCP abort like a network failure. slack_sdk's builtin client
        reconnects from its session monitor, i.e. within SocketModeHandler's ping_interval
        (10 s by default) after a close frame, and later still after an abort.
        """
        conn = self._newest(timeout=5.0)
        assert self._loop is not None
        if abrupt:
            self._loop.call_soon_threadsafe(conn.transport.abort)
        else:
            self._call(conn.close(1001, "going away"), 5.0)

    # ------------------------------------------------------------------ internals

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        except BaseException as exc:  # reported to start() instead of dying silently
            self._start_error = exc
            self._ready.set()
        finally:
            loop.close()

    async def _serve(self) -> None:
        # close_timeout is short: slack_sdk's builtin client drops the socket on close
        # instead of answering the close frame, so there is nothing to wait for.
        async with serve(
            self._handler, "127.0.0.1", 0, ping_interval=self.ping_interval, close_timeout=1, compression=None
        ) as server:
            self._server = server
            self._ready.set()
            await server.wait_closed()

    async def _handler(self, conn: ServerConnection) -> None:
        hello = {
            "type": "hello",
            "num_connections": len(self._open) + 1,
            "debug_info": {"host": "applink-double", "build_number": 1, "approximate_connection_time": 18060},
            "connection_info": {"app_id": self.app_id},
        }
        await conn.send(json.dumps(hello))
        with self._cond:
            self._open.append(conn)
            self._accepted += 1
            self.paths.append(conn.request.path if conn.request else "")
            self._cond.notify_all()
        try:
            async for raw in conn:
                self._record(raw)
        except ConnectionClosed:
            pass  # the app went away; it reconnects through apps.connections.open
        finally:
            with self._cond:
                self._open.remove(conn)
                self._cond.notify_all()

    def _record(self, raw: str | bytes) -> None:
        try:
            message = json.loads(raw)
        except (TypeError, ValueError):
            message = {"_raw": raw if isinstance(raw, str) else raw.decode("utf-8", "replace")}
        with self._cond:
            self.received.append(message)
            if isinstance(message, dict) and "envelope_id" in message:
                self._acks[message["envelope_id"]] = message
            self._cond.notify_all()

    def _newest(self, timeout: float) -> ServerConnection:
        self._wait(lambda: bool(self._open), timeout, lambda: "an open Socket Mode connection")
        with self._cond:
            return self._open[-1]

    def _send(self, message: dict[str, Any], timeout: float) -> None:
        self._call(self._newest(timeout).send(json.dumps(message)), timeout)

    def _call(self, coro: Any, timeout: float) -> Any:
        assert self._loop is not None, "SocketModeDouble is not running"
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def _wait(self, ready: Any, timeout: float, what: Any) -> None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not ready():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"waited {timeout}s for {what()}")
                self._cond.wait(remaining)
