"""Answers on response_urls, over connections kept open between answers.

Every answer to a slash command is a POST to Slack's response_url host. slack_sdk's
WebhookClient opens a new connection for each one: a DNS look-up, a TCP and a TLS
handshake per answer, which is most of the time and the CPU of sending it. Here each
sending thread keeps one connection per host and reuses it while it is fresh.

A reused connection that the server closed while it sat idle is noticed before the
request is written (the socket reads as closed) and replaced; a failure after the
request was written is raised as it is, and the caller treats the answer as one whose
outcome is unknown (adapters/slack/delivery.py), exactly as with a new connection.
Behind an HTTP proxy (HTTPS_PROXY and the like, as slack_sdk reads them) answers go
through WebhookClient as before.
"""

from __future__ import annotations

import http.client
import json
import select
import ssl
import threading
import time
from urllib.parse import urlsplit

from slack_sdk.proxy_env_variable_loader import load_http_proxy_from_env
from slack_sdk.webhook import WebhookClient, WebhookResponse

# Reuse a connection only this long after its last answer: servers close idle ones
# (Slack's after about a minute), and one closed just as a request is written is an
# answer whose outcome we would not know.
FRESH_SECONDS = 20.0
HEADERS = {"Content-Type": "application/json;charset=utf-8", "User-Agent": "okrbot"}


class ResponseUrlPoster:
    def __init__(self, timeout: float, *, ssl_context: ssl.SSLContext | None = None) -> None:
        self.timeout = timeout
        self._ssl = ssl_context  # None: the system's default context, made once when first needed
        self._proxy = load_http_proxy_from_env()
        self._local = threading.local()  # .connections: {(scheme, host, port): (connection, last used)}

    def post(self, url: str, body: dict) -> WebhookResponse:
        if self._proxy:
            return WebhookClient(url, timeout=self.timeout, proxy=self._proxy, ssl=self._ssl).send_dict(body)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not a response_url: {url!r}")
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        key = (parts.scheme, parts.hostname, parts.port)
        connection = self._connection(key)
        try:
            connection.request("POST", target or "/", body=json.dumps(body).encode(), headers=HEADERS)
            answer = connection.getresponse()
            text = answer.read().decode(answer.headers.get_content_charset() or "utf-8")
        except BaseException:
            self._forget(key)
            raise
        if answer.will_close:
            self._forget(key)
        else:
            self._connections()[key] = (connection, time.monotonic())
        return WebhookResponse(url=url, status_code=answer.status, body=text, headers=answer.headers)  # type: ignore[arg-type]

    def close(self) -> None:
        """Close this thread's connections."""
        for key in list(self._connections()):
            self._forget(key)

    def _connections(self) -> dict:
        if not hasattr(self._local, "connections"):
            self._local.connections = {}
        return self._local.connections

    def _connection(self, key: tuple) -> http.client.HTTPConnection:
        kept = self._connections().get(key)
        if kept is not None:
            connection, used = kept
            if time.monotonic() - used < FRESH_SECONDS and _still_open(connection):
                return connection
            self._forget(key)
        scheme, host, port = key
        if scheme == "https":
            if self._ssl is None:
                self._ssl = ssl.create_default_context()
            return http.client.HTTPSConnection(host, port, timeout=self.timeout, context=self._ssl)
        return http.client.HTTPConnection(host, port, timeout=self.timeout)

    def _forget(self, key: tuple) -> None:
        kept = self._connections().pop(key, None)
        if kept is not None:
            kept[0].close()


def _still_open(connection: http.client.HTTPConnection) -> bool:
    """An idle connection has nothing to read; if it reads, the server closed it (or broke it)."""
    sock = connection.sock
    if sock is None:
        return False
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return False
    return not readable
