"""Tests of the Slack doubles themselves: if these fail, every end-to-end test lies."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier

from tests.fakes.slack_api import SlackDouble
from tests.fakes.slack_client import SignedSlackClient, app_mention, dm_message, reaction_added
from tests.fakes.socket_mode import SocketModeDouble

SECRET = "test-signing-secret"
BLOCKS = [{"type": "section", "text": {"type": "mrkdwn", "text": "*KR-1* 40%"}}]


@pytest.fixture
def slack() -> Iterator[SlackDouble]:
    with SlackDouble() as double:
        yield double


@pytest.fixture
def web(slack: SlackDouble) -> WebClient:
    return WebClient(token="xoxb-test", base_url=slack.api_url)


def test_records_json_and_form_calls_with_decoded_blocks(slack: SlackDouble, web: WebClient) -> None:
    first = web.chat_postMessage(channel="C1", text="hi", blocks=BLOCKS)  # JSON body
    second = web.api_call(  # form body, blocks as a JSON string like older clients send
        "chat.postMessage",
        params={"channel": "C1", "text": "again", "thread_ts": first["ts"], "blocks": json.dumps(BLOCKS)},
    )
    dm = web.conversations_open(users="U7")

    assert float(second["ts"]) > float(first["ts"])
    assert second["message"]["thread_ts"] == first["ts"] and second["message"]["blocks"] == BLOCKS
    assert dm["channel"]["id"] == "DU7"
    posts = slack.calls("chat.postMessage")
    assert [c.args["blocks"] for c in posts] == [BLOCKS, BLOCKS]
    assert [c.token for c in posts] == ["xoxb-test", "xoxb-test"]
    assert slack.last("conversations.open").args == {"users": "U7"}
    with pytest.raises(SlackApiError, match="unknown_method"):
        web.api_call("no.suchMethod", params={"x": "1"})
    assert slack.last("no.suchMethod").response == {"ok": False, "error": "unknown_method"}


def test_users_views_and_overrides(slack: SlackDouble, web: WebClient) -> None:
    slack.set_user("U2", is_admin=True, real_name="Ana")
    user = web.users_info(user="U2")["user"]
    assert (user["id"], user["real_name"], user["tz"]) == ("U2", "Ana", "UTC")
    assert user["is_admin"] is True and user["is_owner"] is False
    view = {"type": "modal", "callback_id": "kr_add", "title": {"type": "plain_text", "text": "Add"}, "blocks": BLOCKS}
    opened = web.views_open(trigger_id="1.2.3", view=view)["view"]
    assert opened["id"].startswith("V") and opened["hash"] and opened["callback_id"] == "kr_add"
    assert slack.last("views.open").args["view"] == view
    home1 = web.views_publish(user_id="U2", view={"type": "home", "blocks": []})["view"]["id"]
    home2 = web.views_publish(user_id="U2", view={"type": "home", "blocks": []})["view"]["id"]
    assert home1 == home2
    slack.set_response("auth.test", lambda call: {"ok": True, "user_id": "UOTHER", "token_seen": call.token})
    assert web.auth_test()["token_seen"] == "xoxb-test"


def test_429_with_retry_after_reaches_the_web_client(slack: SlackDouble, web: WebClient) -> None:
    slack.fail("chat.postMessage", status=429, retry_after=7)
    with pytest.raises(SlackApiError) as raised:
        web.chat_postMessage(channel="C1", text="hi")
    assert raised.value.response.status_code == 429
    assert raised.value.response.headers["Retry-After"] == "7"
    assert raised.value.response["error"] == "ratelimited"
    web.chat_postMessage(channel="C1", text="hi")  # the fault was for one call only
    assert [c.status for c in slack.calls("chat.postMessage")] == [429, 200]
    assert len(slack.delivered("chat.postMessage")) == 1

    slack.fail("users.info", status=500, times=2)
    for _ in range(2):
        with pytest.raises(SlackApiError) as raised:
            web.users_info(user="U1")
        assert raised.value.response.status_code == 500
    assert web.users_info(user="U1")["ok"]


def test_rate_limit_every_nth_call(slack: SlackDouble, web: WebClient) -> None:
    slack.rate_limit_every(3, method="chat.update")
    for i in range(6):
        try:
            web.chat_update(channel="C1", ts="1.1", text=str(i))
        except SlackApiError as exc:
            assert exc.response.status_code == 429
    assert [c.status for c in slack.calls("chat.update")] == [200, 200, 429, 200, 200, 429]


def test_enforce_channel_rate(slack: SlackDouble, web: WebClient) -> None:
    slack.enforce_channel_rate(per_second=1.0, workspace_per_minute=3)
    web.chat_postMessage(channel="C1", text="a")
    with pytest.raises(SlackApiError) as raised:
        web.chat_postMessage(channel="C1", text="too soon for C1")
    assert raised.value.response.headers["Retry-After"] == "1"
    web.chat_postMessage(channel="C2", text="b")  # other channels are fine
    web.chat_postMessage(channel="U5", text="c")  # lands in DU5
    with pytest.raises(SlackApiError) as raised:
        web.chat_postMessage(channel="C4", text="over the workspace budget")
    assert 59 <= int(raised.value.response.headers["Retry-After"]) <= 60
    # Refused posts used no budget: exactly three were delivered.
    assert [c.args["text"] for c in slack.delivered("chat.postMessage")] == ["a", "b", "c"]

    slack.reset()
    slack.enforce_channel_rate(per_second=10.0)
    web.chat_postMessage(channel="C1", text="first")
    time.sleep(0.11)  # honouring the 100 ms interval is enough
    web.chat_postMessage(channel="C1", text="second")
    assert len(slack.delivered("chat.postMessage")) == 2


def test_response_url_delay_and_bounded_wait(slack: SlackDouble) -> None:
    url = slack.response_url("cmd")
    assert url.startswith("http://127.0.0.1:")
    assert httpx.post(url, json={"text": "done", "response_type": "ephemeral", "blocks": BLOCKS}).json() == {"ok": True}
    [reply] = slack.responses("cmd")
    assert reply.method == "response_url" and reply.args["blocks"] == BLOCKS

    slack.delay("auth.test", 0.3)
    threading.Thread(target=lambda: httpx.post(slack.api_url + "auth.test"), daemon=True).start()
    started = time.monotonic()
    assert slack.wait_for("auth.test", timeout=3)[0].response["user_id"] == "UBOT"
    assert time.monotonic() - started >= 0.25
    with pytest.raises(AssertionError, match=r"(?s)chat.postMessage.*recorded:.*response_url"):
        slack.wait_for("chat.postMessage", timeout=0.2)


# ---------------------------------------------------------------- SignedSlackClient


class _BoltHTTP:
    """A minimal HTTP front for a bolt App: what the real bot does, in 20 lines."""

    def __init__(self, app: App) -> None:
        self.requests: list[tuple[bytes, dict[str, str]]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = dict(self.headers.items())
                owner.requests.append((body, headers))
                resp = app.dispatch(BoltRequest(body=body.decode(), headers=headers))
                payload = (resp.body or "").encode()
                self.send_response(resp.status)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> _BoltHTTP:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def _bolt_app(slack: SlackDouble, seen: list[tuple[str, object]]) -> App:
    app = App(token="xoxb-test", signing_secret=SECRET, client=WebClient(token="xoxb-test", base_url=slack.api_url))

    @app.command("/okr")
    def on_command(ack, command) -> None:  # type: ignore[no-untyped-def]
        ack()
        seen.append(("command", command["text"]))

    @app.action("mark_done")
    def on_action(ack, body) -> None:  # type: ignore[no-untyped-def]
        ack()
        seen.append(("action", body["actions"][0]["value"]))

    @app.view("kr_add")
    def on_view(ack, view) -> None:  # type: ignore[no-untyped-def]
        ack()
        seen.append(("view", (view["private_metadata"], view["state"]["values"]["title"]["title_input"]["value"])))

    @app.event("app_mention")
    def on_mention(event) -> None:  # type: ignore[no-untyped-def]
        seen.append(("mention", event["text"]))

    @app.event("message")
    def on_message(event) -> None:  # type: ignore[no-untyped-def]
        seen.append(("dm", event.get("thread_ts")))

    @app.event("reaction_added")
    def on_reaction(event) -> None:  # type: ignore[no-untyped-def]
        seen.append(("reaction", event["reaction"]))

    return app


def test_signed_client_requests_verify_and_reach_bolt_listeners(slack: SlackDouble) -> None:
    seen: list[tuple[str, object]] = []
    app = _bolt_app(slack, seen)
    with _BoltHTTP(app) as bot, SignedSlackClient(bot.url, SECRET, response_url_factory=slack.response_url) as client:
        assert client.command("status me").status_code == 200
        assert client.block_action("mark_done", "I-3").status_code == 200
        view = {"type": "modal", "callback_id": "kr_add", "private_metadata": "O-1", "blocks": []}
        assert client.view_submission(view, state_values={"title": {"title_input": "Cut churn"}}).status_code == 200
        assert client.event(app_mention("does this serve a KR?")).status_code == 200
        assert client.event(dm_message("KR-1 42", thread_ts="1700000000.000100")).status_code == 200
        assert client.event(reaction_added("white_check_mark", ts="1700000000.000100")).status_code == 200
        challenge = client.url_verification("abc")
        assert challenge.status_code == 200 and "abc" in challenge.text

        verifier = SignatureVerifier(SECRET)
        for body, headers in bot.requests:
            assert verifier.is_valid_request(body, headers), headers
        command_form = bot.requests[0][0].decode()
        for field in ("token", "team_domain", "channel_name", "user_name", "api_app_id", "trigger_id"):
            assert f"{field}=" in command_form
        assert "is_enterprise_install=false" in command_form
        assert "response_url=http%3A%2F%2F127.0.0.1" in command_form

        # Negative cases: bolt answers 401 and the verifier agrees.
        assert client.command("x", signed=False).status_code == 401
        assert client.command("x", bad_signature=True).status_code == 401
        assert client.command("x", timestamp=int(time.time()) - 600).status_code == 401
        assert not verifier.is_valid_request(*bot.requests[-1])

        client.event(app_mention("again"), event_id="Ev1", retry_num=1, retry_reason="http_timeout")
        _, headers = bot.requests[-1]
        assert headers["X-Slack-Retry-Num"] == "1" and headers["X-Slack-Retry-Reason"] == "http_timeout"
        assert json.loads(bot.requests[-1][0])["event_id"] == client.last_event_id == "Ev1"

    deadline = time.monotonic() + 3  # event listeners run after the ack
    while len(seen) < 7 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert ("command", "status me") in seen and ("action", "I-3") in seen
    assert ("view", ("O-1", "Cut churn")) in seen
    assert ("mention", "<@UBOT> does this serve a KR?") in seen
    assert ("dm", "1700000000.000100") in seen and ("reaction", "white_check_mark") in seen


# ---------------------------------------------------------------- Socket Mode


def test_socket_mode_handshake_envelopes_and_reconnect() -> None:
    with SlackDouble(socket_mode=True) as slack:
        seen: list[str] = []
        app = App(token="xoxb-test", signing_secret=SECRET, client=WebClient(token="xoxb-test", base_url=slack.api_url))

        @app.command("/okr")
        def on_command(ack, command) -> None:  # type: ignore[no-untyped-def]
            ack(text=f"got {command['text']}")
            seen.append(command["text"])

        # ping_interval=1: the builtin client's session monitor notices a dropped link sooner.
        handler = SocketModeHandler(app, app_token="xapp-1-test", ping_interval=1)
        handler.connect()
        try:
            assert slack.socket_mode is not None
            sm = slack.socket_mode
            sm.wait_connected(1, timeout=5)
            payload = {"command": "/okr", "text": "help", "user_id": "U1", "channel_id": "C1", "team_id": "T1"}
            envelope_id = sm.send_envelope("slash_commands", payload, accepts_response_payload=True)
            ack = sm.wait_for_ack(envelope_id, timeout=5)
            assert ack == {"envelope_id": envelope_id, "payload": {"text": "got help"}}

            sm.disconnect("refresh_requested")
            sm.wait_connected(2, timeout=5)
            assert len(slack.calls("apps.connections.open")) == 2
            assert {c.token for c in slack.calls("apps.connections.open")} == {"xapp-1-test"}
            second = sm.send_envelope("slash_commands", {**payload, "text": "status"}, accepts_response_payload=True)
            assert sm.wait_for_ack(second, timeout=5)["payload"] == {"text": "got status"}
            assert seen == ["help", "status"]

            sm.drop()  # Slack closing the link with 1001: the app reconnects on its own
            sm.wait_connected(3, timeout=5)
            third = sm.send_envelope("slash_commands", {**payload, "text": "gaps"})
            assert sm.wait_for_ack(third, timeout=5)["payload"] == {"text": "got gaps"}
            assert len(slack.calls("apps.connections.open")) == 3
        finally:
            handler.close()


def test_connections_open_needs_an_app_token() -> None:
    with SocketModeDouble() as sm, SlackDouble() as slack:
        slack.attach_socket_mode(sm)
        web = WebClient(base_url=slack.api_url)
        with pytest.raises(SlackApiError):
            web.apps_connections_open(app_token="xoxb-not-an-app-token")
        url = web.apps_connections_open(app_token="xapp-1")["url"]
        assert url.startswith(sm.url + "?ticket=") and url.endswith("&app_id=A1")


def test_history_and_replies_return_what_was_posted_with_metadata_on_request(slack: SlackDouble, web: WebClient) -> None:
    metadata = {"event_type": "okrbot_review", "event_payload": {"key": "nudge:1:U7"}}
    parent = web.chat_postMessage(channel="U7", text="review", metadata=metadata)  # a DM by user id
    reply = web.chat_postMessage(channel=parent["channel"], text="thanks", thread_ts=parent["ts"])
    dm = web.conversations_open(users="U7")["channel"]["id"]
    assert dm == parent["channel"] == "DU7"
    history = web.conversations_history(channel=dm, include_all_metadata=True)["messages"]
    assert [m["ts"] for m in history] == [parent["ts"]]  # thread replies stay in the thread
    assert history[0]["metadata"] == metadata
    assert "metadata" not in web.conversations_history(channel=dm)["messages"][0]
    assert web.conversations_history(channel=dm, oldest=parent["ts"])["messages"] == []  # oldest is exclusive
    replies = web.conversations_replies(channel=dm, ts=parent["ts"])["messages"]
    assert [m["ts"] for m in replies] == [parent["ts"], reply["ts"]]
    assert float(parent["ts"]) == pytest.approx(time.time(), abs=60)  # ts is wall-clock time, as in Slack


def test_a_call_in_progress_can_be_awaited(slack: SlackDouble, web: WebClient) -> None:
    slack.delay("chat.postMessage", 0.5)
    sender = threading.Thread(target=web.chat_postMessage, kwargs={"channel": "C1", "text": "slow"})
    sender.start()
    slack.wait_in_progress("chat.postMessage", timeout=5)
    assert slack.calls("chat.postMessage") == []  # recorded only once answered
    sender.join(5)
    assert len(slack.delivered("chat.postMessage")) == 1
