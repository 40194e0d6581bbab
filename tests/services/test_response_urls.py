"""Answers on response_urls reuse one connection per host; one the server closed while
idle is replaced before the answer is written, so no answer is lost or sent twice."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from okrbot.adapters.slack.response_urls import ResponseUrlPoster


class _Hooks(BaseHTTPRequestHandler):
    """Slack's response_url host: HTTP/1.1, dropping connections idle for `timeout` seconds."""

    protocol_version = "HTTP/1.1"
    timeout = 0.3
    received: list[bytes]
    connections: list[int]

    def setup(self) -> None:
        super().setup()
        self.connections.append(self.client_address[1])

    def do_POST(self) -> None:
        self.received.append(self.rfile.read(int(self.headers["Content-Length"])))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *_args) -> None:
        pass


@pytest.fixture
def hooks() -> Iterator[type[_Hooks]]:
    handler = type("Hooks", (_Hooks,), {"received": [], "connections": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    handler.url = f"http://127.0.0.1:{server.server_port}/commands/T1/1/abc"  # type: ignore[attr-defined]
    yield handler
    server.shutdown()
    server.server_close()


def test_answers_in_a_row_share_one_connection(hooks):
    poster = ResponseUrlPoster(timeout=5)
    answers = [poster.post(hooks.url, {"text": f"answer {n}"}) for n in range(3)]
    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert [body for body in hooks.received] == [b'{"text": "answer 0"}', b'{"text": "answer 1"}', b'{"text": "answer 2"}']
    assert len(hooks.connections) == 1
    poster.close()


def test_a_connection_the_server_dropped_while_idle_is_replaced_and_the_answer_sent_once(hooks):
    poster = ResponseUrlPoster(timeout=5)
    assert poster.post(hooks.url, {"text": "first"}).status_code == 200
    time.sleep(hooks.timeout * 3)  # the server drops the idle connection
    assert poster.post(hooks.url, {"text": "second"}).status_code == 200
    assert hooks.received == [b'{"text": "first"}', b'{"text": "second"}']
    assert len(hooks.connections) == 2
    poster.close()
