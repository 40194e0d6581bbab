"""A Slack Web API double: a real HTTP server on loopback that records every call.

The bot under test points ``SLACK_API_URL`` at ``SlackDouble.api_url``; slack_sdk's
``WebClient(base_url=...)`` then POSTs ``<api_url><method>`` here exactly as it would
to slack.com. Answers follow the shapes documented on docs.slack.dev, and faults
(429 with Retry-After, 5xx, latency, per-channel rate limits) can be injected.
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
import itertools
import json
import math
import threading
import time
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import yaml

if TYPE_CHECKING:
    from tests.fakes.socket_mode import SocketModeDouble

# Arguments that Slack accepts as JSON-encoded strings in form bodies.
JSON_FIELDS = ("blocks", "view", "attachments", "metadata", "files")

Payload = dict[str, Any] | Callable[["Call"], dict[str, Any]]


@dataclass
class Call:
    """One request the double received (refused ones included, see ``status``)."""

    method: str
    args: dict[str, Any]
    headers: dict[str, str]
    at: float  # time.monotonic() when the request arrived; compare calls with each other
    token: str | None = None
    path: str = ""
    status: int = 200
    response: dict[str, Any] | None = None

    @property
    def delivered(self) -> bool:
        """True when Slack would have acted on it: a 2xx answer with ok=true."""
        return 200 <= self.status < 300 and bool(self.response and self.response.get("ok"))


@dataclass
class _Fault:
    status: int
    retry_after: int
    remaining: int
    error: str


@dataclass
class _Install:
    team_id: str | None
    team: str
    enterprise_id: str | None
    enterprise: str
    org_wide: bool
    bot_user_id: str
    bot_id: str
    rotating: bool
    token: str = ""
    refresh_token: str = ""


# Slack's published example answer of oauth.v2.access (source in tests/fixtures/SOURCES.md).
OAUTH_EXAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "slack_oauth_v2_access.json"


@dataclass
class _Answer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class SlackDouble:
    """Fake slack.com. Use as a context manager; every wait it offers is bounded."""

    def __init__(
        self,
        *,
        team_id: str = "T1",
        team: str = "OKR Test",
        domain: str = "okrbot-test",
        bot_user_id: str = "UBOT",
        bot_id: str = "BBOT",
        app_id: str = "A1",
        socket_mode: bool = False,
    ) -> None:
        self.team_id, self.team, self.domain = team_id, team, domain
        self.bot_user_id, self.bot_id, self.app_id = bot_user_id, bot_id, app_id
        # Reentrant, so a wait_for predicate may itself query the double.
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._stop = threading.Event()  # cuts injected delays short on shutdown
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._seq = itertools.count(1)  # never reset: ts and ids stay unique
        self._last_ts_micros = 0
        self._owns_socket_mode = socket_mode
        self.socket_mode: SocketModeDouble | None = None
        if socket_mode:
            from tests.fakes.socket_mode import SocketModeDouble

            self.socket_mode = SocketModeDouble(app_id=app_id)
        self._clear_state()

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> SlackDouble:
        handler = type("_Handler", (_Handler,), {"double": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        # Daemon request threads: a stuck client can never block shutdown.
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="slack-double", daemon=True
        )
        self._thread.start()
        if self.socket_mode is not None and self._owns_socket_mode:
            self.socket_mode.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self.socket_mode is not None and self._owns_socket_mode:
            self.socket_mode.stop()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> SlackDouble:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "SlackDouble is not running"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    def response_url(self, name: str = "default") -> str:
        """A response_url on this server; POSTs to it are recorded as method 'response_url'."""
        return f"{self.base_url}/response/{name}"

    def attach_socket_mode(self, double: SocketModeDouble) -> None:
        """Make apps.connections.open hand out ``double``'s ws:// URL (caller runs it)."""
        self.socket_mode = double
        self._owns_socket_mode = False

    # ------------------------------------------------------------------ configuration

    def set_user(self, user_id: str, **fields: Any) -> None:
        """Add or change a workspace member (users.info / users.list), e.g. is_admin=True."""
        with self._lock:
            self._users.setdefault(user_id, {}).update(fields)

    def set_people(self, members: list[dict[str, Any]]) -> None:
        """Whole users.list member objects (published shapes, tests/fixtures), answered
        by users.list in pages and by users.info, before anyone added with set_user."""
        with self._lock:
            self._people = {str(member["id"]): member for member in members}

    def set_channel(self, channel_id: str, **fields: Any) -> None:
        """Override conversations.info fields for a channel (name, is_private, ...)."""
        with self._lock:
            self._channels.setdefault(channel_id, {}).update(fields)

    def set_members(self, channel_id: str, members: list[str]) -> None:
        """Members returned by conversations.members (default: none)."""
        with self._lock:
            self._members[channel_id] = list(members)

    def set_reactions(self, channel: str, ts: str, reactions: dict[str, list[str]]) -> None:
        """Reactions reactions.get reports on a message: {"white_check_mark": ["U1"]}."""
        with self._lock:
            self._reactions[(channel, ts)] = {k: list(v) for k, v in reactions.items()}

    def set_response(self, method: str, payload: Payload | None) -> None:
        """Answer ``method`` with ``payload`` (a dict, or a function of the Call); None restores."""
        with self._lock:
            if payload is None:
                self._overrides.pop(method, None)
            else:
                self._overrides[method] = payload

    def set_scopes(self, scopes: list[str] | None) -> None:
        """The bot scopes the token was granted, sent like Slack in the X-OAuth-Scopes header
        of every Web API answer; None restores manifest.yml's."""
        with self._lock:
            self._scopes = list(scopes) if scopes is not None else manifest_scopes()

    # ------------------------------------------------------------------ OAuth installs

    def add_install(
        self,
        code: str,
        team_id: str | None,
        *,
        team: str = "",
        enterprise_id: str | None = None,
        enterprise: str = "",
        org_wide: bool = False,
        bot_user_id: str = "UBOT",
        rotating: bool = False,
    ) -> str:
        """Slack's side of one install: oauth.v2.access swaps ``code`` for a new bot token of
        this workspace (or of the whole Enterprise Grid organisation when ``org_wide``), which
        auth.test then recognises. With ``rotating`` the token expires in 12 hours and comes
        with a refresh token (token rotation). Returns the token it will hand out."""
        with self._lock:
            install = _Install(team_id=None if org_wide else team_id, team=team, enterprise_id=enterprise_id, enterprise=enterprise,
                               org_wide=org_wide, bot_user_id=bot_user_id, bot_id=f"B{bot_user_id[1:]}", rotating=rotating)
            install.token = self._new_token(install)
            self._codes[code] = install
            return install.token

    def revoke(self, token: str) -> None:
        """The token stops working (an uninstall): calls with it answer token_revoked."""
        with self._lock:
            self._revoked.add(token)

    def token_of(self, team_id: str) -> str | None:
        """The newest token handed out for a workspace."""
        with self._lock:
            found = [t for t, i in self._tokens.items() if i.team_id == team_id]
            return found[-1] if found else None

    def _new_token(self, install: _Install) -> str:
        token = f"xoxb-{install.team_id or install.enterprise_id}-{next(self._seq)}"
        if install.rotating:
            token = f"xoxe.{token}"
            install.refresh_token = f"xoxe-1-{next(self._seq)}"
            self._refresh[install.refresh_token] = install
        self._tokens[token] = install
        return token

    def _oauth_access(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        """oauth.v2.access: Slack's published example (tests/fixtures/slack_oauth_v2_access.json)
        with this install's values; a refresh_token grant hands out the next rotating token."""
        if args.get("grant_type") == "refresh_token":
            install = self._refresh.pop(str(args.get("refresh_token")), None)
            if install is None:
                return {"ok": False, "error": "invalid_refresh_token"}
            install.token = self._new_token(install)
        else:
            install = self._codes.pop(str(args.get("code")), None)
            if install is None:
                return {"ok": False, "error": "invalid_code"}
        answer = json.loads(OAUTH_EXAMPLE.read_text(encoding="utf-8"))
        answer.update(access_token=install.token, bot_user_id=install.bot_user_id, app_id=self.app_id, scope=",".join(self._scopes),
                      is_enterprise_install=install.org_wide)
        answer["team"] = None if install.org_wide else {"id": install.team_id, "name": install.team}
        answer["enterprise"] = {"id": install.enterprise_id, "name": install.enterprise} if install.enterprise_id else None
        answer["authed_user"] = {"id": "UINSTALLER"}  # a bot-only install asks for no user token
        if install.rotating:
            answer.update(refresh_token=install.refresh_token, expires_in=43200)
        if args.get("grant_type") == "refresh_token":
            answer["token_type"] = "bot"
        return answer

    # ------------------------------------------------------------------ fault injection

    def fail(
        self, method: str, status: int = 429, retry_after: int = 1, times: int = 1, error: str | None = None
    ) -> None:
        """The next ``times`` calls of ``method`` answer ``status`` ({"ok": false, "error": ...})."""
        error = error or ("ratelimited" if status == 429 else "internal_error")
        with self._lock:
            self._faults[method].append(_Fault(status, retry_after, times, error))

    def rate_limit_every(self, n: int, method: str | None = None, retry_after: int = 1) -> None:
        """Answer 429 to every n-th call (of ``method``, or of any method)."""
        if n < 1:
            raise ValueError("n must be >= 1")
        with self._lock:
            self._every = (n, method, retry_after)
            self._every_count = 0

    def delay(self, method: str, seconds: float) -> None:
        """Sleep ``seconds`` before answering each call of ``method`` (0 removes the delay)."""
        with self._lock:
            if seconds > 0:
                self._delays[method] = seconds
            else:
                self._delays.pop(method, None)

    def answer_late(self, method: str, seconds: float) -> None:
        """Act on each call of ``method`` at once but answer only ``seconds`` later (0 removes it):
        a client that gives up waiting never learns that Slack did what it asked."""
        with self._lock:
            if seconds > 0:
                self._late[method] = seconds
            else:
                self._late.pop(method, None)

    def hang_up(self, method: str, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` are acted on, then the connection is closed
        with no answer at all (the client sees a connection reset / remote disconnect)."""
        with self._lock:
            self._hangups[method] += times

    def enforce_channel_rate(self, per_second: float | None = 1.0, workspace_per_minute: int | None = None) -> None:
        """Refuse chat.postMessage with 429 beyond Slack's per-channel rate or a workspace budget.

        Only delivered messages use up the budget; Retry-After says when the next one fits.
        """
        with self._lock:
            self._channel_rate = per_second
            self._workspace_rate = workspace_per_minute

    # ------------------------------------------------------------------ queries

    def calls(self, method: str | None = None) -> list[Call]:
        with self._lock:
            return [c for c in self._calls if method is None or c.method == method]

    def delivered(self, method: str | None = None) -> list[Call]:
        """Calls that were answered 2xx with ok=true (refused and failed ones left out)."""
        return [c for c in self.calls(method) if c.delivered]

    def refused(self, method: str | None = None) -> list[Call]:
        return [c for c in self.calls(method) if not 200 <= c.status < 300]

    def add_message(self, channel: str, text: str, *, user: str = "UPEOPLE") -> str:
        """A message someone else posts in `channel` (not a call the bot made); its ts."""
        with self._lock:
            ts = self._next_ts()
            self._messages[(self._dm_id(channel), ts)] = {"type": "message", "user": user, "team": self.team_id, "ts": ts, "text": text}
        return ts

    def responses(self, name: str | None = None) -> list[Call]:
        """POSTs to response URLs, optionally only those made to ``response_url(name)``."""
        return [c for c in self.calls("response_url") if name is None or c.path == f"/response/{name}"]

    def messages(self, channel: str | None = None) -> list[dict[str, Any]]:
        """The messages Slack now holds (posted, as last updated, not deleted), oldest first;
        only ``channel``'s when given (a user id means the DM with that user)."""
        with self._lock:
            where = None if channel is None else self._dm_id(channel)
            found = [dict(m, channel=c) for (c, _ts), m in self._messages.items() if where is None or c == where]
        return sorted(found, key=lambda m: float(m["ts"]))

    def last(self, method: str | None = None) -> Call:
        found = self.calls(method)
        if not found:
            raise AssertionError(f"no {method or 'Slack'} call recorded; recorded: {self.describe()}")
        return found[-1]

    def wait_for(
        self,
        method: str,
        count: int = 1,
        timeout: float = 5.0,
        predicate: Callable[[Call], bool] | None = None,
        *,
        delivered: bool = False,
    ) -> list[Call]:
        """Block until ``count`` matching calls were recorded; return all matching calls."""
        deadline = time.monotonic() + timeout

        def matching() -> list[Call]:
            return [
                c
                for c in self._calls
                if c.method == method and (not delivered or c.delivered) and (predicate is None or predicate(c))
            ]

        with self._changed:
            while len(found := matching()) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"waited {timeout}s for {count} {method} call(s), got {len(found)}; "
                        f"recorded: {self._describe_locked()}"
                    )
                self._changed.wait(remaining)
            return found

    def wait_in_progress(self, method: str, timeout: float = 5.0) -> None:
        """Block until a call of ``method`` has arrived and is not answered yet (see ``delay``)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self._in_progress[method] < 1:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"no {method} call in progress within {timeout}s")
                self._changed.wait(remaining)

    def describe(self) -> str:
        """A one-line-per-call summary, used in assertion messages."""
        with self._lock:
            return self._describe_locked()

    def reset(self) -> None:
        """Forget calls, faults, rates, delays, overrides, users and channels."""
        with self._lock:
            self._clear_state()

    # ------------------------------------------------------------------ internals

    def _clear_state(self) -> None:
        self._calls: list[Call] = []
        self._faults: dict[str, deque[_Fault]] = defaultdict(deque)
        self._every: tuple[int, str | None, int] | None = None
        self._every_count = 0
        self._delays: dict[str, float] = {}
        self._late: dict[str, float] = {}  # method -> seconds between acting and answering
        self._hangups: Counter[str] = Counter()  # method -> calls to act on and then not answer
        self._in_progress: Counter[str] = Counter()  # calls received, not answered yet
        self._channel_rate: float | None = None
        self._workspace_rate: int | None = None
        self._posted_at: dict[str, float] = {}  # channel -> last delivered chat.postMessage
        self._posted_window: deque[float] = deque()  # delivered chat.postMessage, last 60 s
        self._overrides: dict[str, Payload] = {}
        self._users: dict[str, dict[str, Any]] = {}
        self._people: dict[str, dict[str, Any]] = {}
        self._channels: dict[str, dict[str, Any]] = {}
        self._members: dict[str, list[str]] = {}
        self._reactions: dict[tuple[str, str], dict[str, list[str]]] = {}
        self._messages: dict[tuple[str, str], dict[str, Any]] = {}
        self._home_views: dict[str, str] = {}  # user -> view id, App Home keeps its id
        self._scopes: list[str] = manifest_scopes()
        # OAuth installs (add_install): code -> install; token -> install; refresh token -> install.
        self._codes: dict[str, _Install] = {}
        self._tokens: dict[str, _Install] = {}
        self._refresh: dict[str, _Install] = {}
        self._revoked: set[str] = set()

    def _describe_locked(self) -> str:
        if not self._calls:
            return "(nothing)"
        lines = []
        for c in self._calls:
            summary = {k: v for k, v in c.args.items() if k in ("channel", "text", "user", "users", "ts", "view_id")}
            lines.append(f"\n  {c.method} [{c.status}] {json.dumps(summary, default=str)[:200]}")
        return "".join(lines)

    def _handle(self, method: str, args: dict[str, Any], headers: dict[str, str], path: str) -> _Answer:
        """Decide the answer for one request and record it (called on a server thread)."""
        token = _token(args, headers)
        call = Call(method=method, args=args, headers=headers, at=time.monotonic(), token=token, path=path)
        with self._lock:
            pause = self._delays.get(method, 0.0)
            self._in_progress[method] += 1
            self._changed.notify_all()
        try:
            if pause:
                self._stop.wait(pause)
            with self._lock:
                answer = self._refusal(call) or self._answer(call)
                call.status, call.response = answer.status, answer.body
                self._calls.append(call)
                self._changed.notify_all()
                late = self._late.get(method, 0.0)
                if self._hangups[method] > 0:
                    self._hangups[method] -= 1
                    answer = _HANG_UP
            if late:
                self._stop.wait(late)
        finally:
            with self._lock:
                self._in_progress[method] -= 1
                self._changed.notify_all()
        return answer

    def _refusal(self, call: Call) -> _Answer | None:
        if call.token in self._revoked:
            return _Answer(200, {"ok": False, "error": "token_revoked"})
        faults = self._faults.get(call.method)
        if faults:
            fault = faults[0]
            fault.remaining -= 1
            if fault.remaining <= 0:
                faults.popleft()
            return _error(fault.status, fault.error, fault.retry_after)
        if self._every is not None:
            n, method, retry_after = self._every
            if method is None or method == call.method:
                self._every_count += 1
                if self._every_count % n == 0:
                    return _error(429, "ratelimited", retry_after)
        if call.method == "chat.postMessage" and (self._channel_rate or self._workspace_rate):
            return self._rate_check(self._dm_id(str(call.args.get("channel", ""))), call.at)
        return None

    def _rate_check(self, channel: str, now: float) -> _Answer | None:
        wait = 0.0
        if self._channel_rate and channel in self._posted_at:
            wait = max(wait, self._posted_at[channel] + 1.0 / self._channel_rate - now)
        if self._workspace_rate:
            while self._posted_window and self._posted_window[0] <= now - 60:
                self._posted_window.popleft()
            if len(self._posted_window) >= self._workspace_rate:
                wait = max(wait, self._posted_window[0] + 60 - now)
        if wait > 0:
            # Retry-After is whole seconds; round up so honouring it always succeeds.
            return _error(429, "ratelimited", max(1, math.ceil(wait)))
        self._posted_at[channel] = now
        self._posted_window.append(now)
        return None

    def _answer(self, call: Call) -> _Answer:
        override = self._overrides.get(call.method)
        if override is not None:
            return _Answer(200, override(call) if callable(override) else dict(override))
        handler = _METHODS.get(call.method)
        if handler is None:
            return _Answer(200, {"ok": False, "error": "unknown_method"})
        return _Answer(200, handler(self, call.args, call))

    def _next_ts(self) -> str:
        # Like Slack: the wall-clock time of posting, unique and increasing (code may
        # compare a message's ts with when it was written, e.g. conversations.history's oldest).
        next(self._seq)
        micros = max(self._last_ts_micros + 1, int(time.time() * 1_000_000))
        self._last_ts_micros = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._seq):08d}"

    @staticmethod
    def _dm_id(channel: str) -> str:
        # Posting to a user id lands in the DM with that user.
        return f"D{channel}" if channel[:1] in ("U", "W") else channel

    def _user(self, user_id: str) -> dict[str, Any]:
        if user_id in self._people and user_id not in self._users:
            return self._people[user_id]
        fields = self._users.get(user_id, {})
        real_name = fields.get("real_name", f"User {user_id}")
        user = {
            "id": user_id,
            "team_id": self.team_id,
            "name": user_id.lower(),
            "real_name": real_name,
            "deleted": False,
            "tz": "UTC",
            "tz_label": "Coordinated Universal Time",
            "tz_offset": 0,
            "is_admin": False,
            "is_owner": False,
            "is_primary_owner": False,
            "is_bot": user_id == self.bot_user_id,
            "is_app_user": False,
            "profile": {
                "real_name": real_name,
                "display_name": fields.get("name", user_id.lower()),
                "team": self.team_id,
            },
        }
        user.update(fields)
        return user

    def _message(self, args: dict[str, Any], ts: str) -> dict[str, Any]:
        message = {
            "type": "message",
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "team": self.team_id,
            "ts": ts,
            "text": args.get("text", ""),
        }
        for key in ("blocks", "attachments", "thread_ts", "metadata", "reply_broadcast"):
            if key in args:
                message[key] = args[key]
        return message

    def _view(self, args: dict[str, Any], view_id: str) -> dict[str, Any]:
        view = args.get("view")
        view = dict(view) if isinstance(view, dict) else {}
        return {
            "id": view_id,
            "team_id": self.team_id,
            "type": view.get("type", "modal"),
            "blocks": view.get("blocks", []),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": {"values": {}},
            "hash": f"{next(self._seq)}.{view_id}",
            "title": view.get("title"),
            "close": view.get("close"),
            "submit": view.get("submit"),
            "clear_on_close": view.get("clear_on_close", False),
            "notify_on_close": view.get("notify_on_close", False),
            "external_id": view.get("external_id", ""),
            "previous_view_id": None,
            "root_view_id": view_id,
            "app_id": self.app_id,
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }

    # Method handlers: (double, args, call) -> JSON body. Run under the lock.

    def _auth_test(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        install = self._tokens.get(call.token or "")
        if install is not None:
            return {
                "ok": True,
                "url": f"https://{(install.team_id or install.enterprise_id or '').lower()}.slack.com/",
                "team": install.team,
                "user": "okrbot",
                "team_id": install.team_id or install.enterprise_id,
                "user_id": install.bot_user_id,
                "bot_id": install.bot_id,
                "enterprise_id": install.enterprise_id,
                "is_enterprise_install": install.org_wide,
            }
        return {
            "ok": True,
            "url": f"https://{self.domain}.slack.com/",
            "team": self.team,
            "user": "okrbot",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _post_message(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        channel, ts = self._dm_id(str(args.get("channel", ""))), self._next_ts()
        message = self._message(args, ts)
        self._messages[(channel, ts)] = message
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _post_ephemeral(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        return {"ok": True, "message_ts": self._next_ts()}

    def _update(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        channel, ts = str(args.get("channel", "")), str(args.get("ts", ""))
        message = self._message(args, ts)
        self._messages[(channel, ts)] = message
        return {"ok": True, "channel": channel, "ts": ts, "text": message["text"], "message": message}

    def _delete(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        channel, ts = str(args.get("channel", "")), str(args.get("ts", ""))
        self._messages.pop((channel, ts), None)
        return {"ok": True, "channel": channel, "ts": ts}

    def _permalink(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        channel, ts = str(args.get("channel", "")), str(args.get("message_ts", ""))
        return {
            "ok": True,
            "channel": channel,
            "permalink": f"https://{self.domain}.slack.com/archives/{channel}/p{ts.replace('.', '')}",
        }

    def _conversations_open(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        users = str(args.get("users", "")).split(",")
        channel = args.get("channel") or "D" + "".join(u.strip() for u in users)
        return {"ok": True, "no_op": False, "already_open": False, "channel": {"id": channel}}

    def _conversations_info(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        channel_id = str(args.get("channel", ""))
        is_im = channel_id.startswith("D")
        info = {
            "id": channel_id,
            "name": channel_id.lower(),
            "is_channel": not is_im,
            "is_group": False,
            "is_im": is_im,
            "is_private": is_im,
            "is_archived": False,
            "is_member": True,
            "created": 1700000000,
            "context_team_id": self.team_id,
        }
        info.update(self._channels.get(channel_id, {}))
        return {"ok": True, "channel": info}

    def _history(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        """conversations.history / .replies over what this double was sent, newest first.

        History holds a channel's top-level messages (and thread replies sent with
        reply_broadcast); replies, a thread's parent and its replies. Like Slack,
        ``metadata`` is only returned with include_all_metadata.
        """
        channel = self._dm_id(str(args.get("channel", "")))
        oldest, latest = float(args.get("oldest") or 0), float(args.get("latest") or math.inf)
        thread = str(args.get("ts", "")) if call.method == "conversations.replies" else None
        with_metadata = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
        found = []
        for (where, ts), message in self._messages.items():
            if where != channel or not oldest < float(ts) <= latest:
                continue
            parent = message.get("thread_ts")
            if thread is not None:
                keep = ts == thread or parent == thread
            else:
                keep = parent is None or parent == ts or bool(message.get("reply_broadcast"))
            if keep:
                shown = dict(message)
                if not with_metadata:
                    shown.pop("metadata", None)
                found.append(shown)
        found.sort(key=lambda m: float(m["ts"]), reverse=thread is None)
        # Pages like Slack's: `limit` at a time, and a cursor for the next page while there is more.
        limit = int(args.get("limit") or 100)
        start = int(args.get("cursor") or 0)
        more = len(found) > start + limit
        return {"ok": True, "messages": found[start : start + limit], "has_more": more, "response_metadata": {"next_cursor": str(start + limit) if more else ""}}

    def _conversations_members(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        members = self._members.get(str(args.get("channel", "")), [])
        return {"ok": True, "members": list(members), "response_metadata": {"next_cursor": ""}}

    def _views(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        if call.method == "views.publish":
            user = str(args.get("user_id", ""))
            view_id = self._home_views.setdefault(user, self._next_id("V"))
        elif call.method == "views.update" and args.get("view_id"):
            view_id = str(args["view_id"])
        else:
            view_id = self._next_id("V")
        return {"ok": True, "view": self._view(args, view_id)}

    def _users_info(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        return {"ok": True, "user": self._user(str(args.get("user", "")))}

    def _users_list(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        """Cursor pagination as Slack documents it: `limit` a page (all without one), and
        `next_cursor` base64 of "user:<id of the next member>", empty on the last page."""
        ids = list(dict.fromkeys([*self._people, *self._users]))
        start = 0
        if args.get("cursor"):
            try:
                kind, _, user_id = base64.b64decode(str(args["cursor"])).decode().partition(":")
                start = ids.index(user_id) if kind == "user" else -1
            except (ValueError, UnicodeDecodeError):
                start = -1
            if start < 0:
                return {"ok": False, "error": "invalid_cursor"}
        limit = int(args.get("limit") or 0) or len(ids)
        page = ids[start : start + limit]
        rest = ids[start + limit :]
        cursor = base64.b64encode(f"user:{rest[0]}".encode()).decode() if rest else ""
        members = [self._user(u) for u in page]
        return {"ok": True, "members": members, "cache_ts": 1700000000, "response_metadata": {"next_cursor": cursor}}

    def _reactions_get(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        channel, ts = str(args.get("channel", "")), str(args.get("timestamp", ""))
        message = dict(self._messages.get((channel, ts)) or self._message({}, ts))
        reactions = self._reactions.get((channel, ts), {})
        if reactions:
            message["reactions"] = [{"name": n, "users": u, "count": len(u)} for n, u in reactions.items()]
        return {"ok": True, "type": "message", "channel": channel, "message": message}

    def _files_upload(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        channels = [c for c in str(args.get("channels", "")).split(",") if c]
        name = args.get("filename", "file")
        file = {"id": self._next_id("F"), "name": name, "title": args.get("title", name), "channels": channels}
        return {"ok": True, "file": file}

    def _upload_url(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        file_id = self._next_id("F")
        return {"ok": True, "upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}

    def _complete_upload(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        files = args.get("files") if isinstance(args.get("files"), list) else []
        return {"ok": True, "files": [{"id": f.get("id"), "title": f.get("title", "")} for f in files]}

    def _connections_open(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        if not (call.token or "").startswith("xapp-"):
            return {"ok": False, "error": "not_allowed_token_type"}
        if self.socket_mode is None:
            return {"ok": False, "error": "invalid_auth"}
        return {"ok": True, "url": self.socket_mode.connection_url()}

    def _plain_ok(self, args: dict[str, Any], call: Call) -> dict[str, Any]:
        return {"ok": True}


_METHODS: dict[str, Callable[[SlackDouble, dict[str, Any], Call], dict[str, Any]]] = {
    "auth.test": SlackDouble._auth_test,
    "oauth.v2.access": SlackDouble._oauth_access,
    "chat.postMessage": SlackDouble._post_message,
    "chat.postEphemeral": SlackDouble._post_ephemeral,
    "chat.update": SlackDouble._update,
    "chat.delete": SlackDouble._delete,
    "chat.getPermalink": SlackDouble._permalink,
    "conversations.open": SlackDouble._conversations_open,
    "conversations.info": SlackDouble._conversations_info,
    "conversations.members": SlackDouble._conversations_members,
    "conversations.history": SlackDouble._history,
    "conversations.replies": SlackDouble._history,
    "views.open": SlackDouble._views,
    "views.update": SlackDouble._views,
    "views.push": SlackDouble._views,
    "views.publish": SlackDouble._views,
    "users.info": SlackDouble._users_info,
    "users.list": SlackDouble._users_list,
    "reactions.get": SlackDouble._reactions_get,
    "files.upload": SlackDouble._files_upload,
    "files.getUploadURLExternal": SlackDouble._upload_url,
    "files.completeUploadExternal": SlackDouble._complete_upload,
    "apps.connections.open": SlackDouble._connections_open,
    # Uploads to upload_url and response_url posts answer like Slack's hooks do.
    "file_upload": SlackDouble._plain_ok,
    "response_url": SlackDouble._plain_ok,
}


# Not sent: the handler closes the connection instead (see SlackDouble.hang_up).
_HANG_UP = _Answer(0, {})


def manifest_scopes() -> list[str]:
    """The bot scopes manifest.yml asks for: what a token from a correct install has."""
    manifest = yaml.safe_load((Path(__file__).resolve().parents[2] / "manifest.yml").read_text(encoding="utf-8"))
    return list(manifest["oauth_config"]["scopes"]["bot"])


def _error(status: int, error: str, retry_after: int) -> _Answer:
    headers = {"Retry-After": str(retry_after)} if status == 429 else {}
    return _Answer(status, {"ok": False, "error": error}, headers)


def _token(args: dict[str, Any], headers: dict[str, str]) -> str | None:
    for name, value in headers.items():
        if name.lower() == "authorization" and value.startswith("Bearer "):
            return value[len("Bearer ") :]
    token = args.get("token")
    return token if isinstance(token, str) else None


def _parse_body(content_type: str, body: bytes) -> dict[str, Any]:
    kind = content_type.split(";")[0].strip().lower()
    if not body:
        return {}
    if kind == "application/json":
        parsed = json.loads(body)
        return parsed if isinstance(parsed, dict) else {"_body": parsed}
    if kind == "multipart/form-data":
        return _parse_multipart(content_type, body)
    if kind == "application/x-www-form-urlencoded":
        return _flatten(parse_qs(body.decode("utf-8"), keep_blank_values=True))
    return {"_body": body}


def _parse_multipart(content_type: str, body: bytes) -> dict[str, Any]:
    raw = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode() + body
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(raw)
    args: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        data = part.get_payload(decode=True) or b""
        # File parts stay bytes; plain fields become text like in a form body.
        args[name] = data if part.get_filename() else data.decode("utf-8")
    return args


def _flatten(values: dict[str, list[str]]) -> dict[str, Any]:
    return {k: v[0] if len(v) == 1 else v for k, v in values.items()}


def _decode_json_fields(args: dict[str, Any]) -> dict[str, Any]:
    for key in JSON_FIELDS:
        value = args.get(key)
        if isinstance(value, str) and value[:1] in ("[", "{"):
            try:
                args[key] = json.loads(value)
            except json.JSONDecodeError:
                pass  # keep what the client sent; the test can assert on it
    return args


class _Handler(BaseHTTPRequestHandler):
    double: SlackDouble
    # HTTP/1.1 as Slack speaks it: a client may keep its connection for the next call
    # (okrbot does for response_urls). An idle one is dropped after `timeout` seconds, so
    # no keep-alive thread outlives a test by long.
    protocol_version = "HTTP/1.1"
    timeout = 10
    # Headers and body go out as two writes: without TCP_NODELAY the body of an answer on a
    # kept connection waits for the client's delayed ACK (~40 ms), which Slack's servers don't do.
    disable_nagle_algorithm = True

    def do_POST(self) -> None:
        self._dispatch()

    def do_GET(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        args = _flatten(parse_qs(url.query, keep_blank_values=True))
        if url.path.startswith("/upload/"):
            # files.getUploadURLExternal's upload_url receives the raw file content.
            method = "file_upload"
            args.update(file_id=url.path[len("/upload/") :], content=body)
        elif url.path.startswith(("/api/", "/response/")):
            method = url.path[len("/api/") :] if url.path.startswith("/api/") else "response_url"
            try:
                args.update(_parse_body(self.headers.get("Content-Type", ""), body))
            except (ValueError, UnicodeDecodeError) as exc:
                self._send(_Answer(400, {"ok": False, "error": "invalid_form_data", "detail": str(exc)}))
                return
            args = _decode_json_fields(args)
        else:
            self._send(_Answer(404, {"ok": False, "error": "not_found"}))
            return
        answer = self.double._handle(method, args, dict(self.headers.items()), url.path)
        if method != "response_url":
            with self.double._lock:
                answer.headers.setdefault("X-OAuth-Scopes", ",".join(self.double._scopes))
        self._send(answer)

    def _send(self, answer: _Answer) -> None:
        if answer is _HANG_UP:
            self.close_connection = True
            return
        payload = json.dumps(answer.body).encode()
        self.send_response(answer.status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in answer.headers.items():
            self.send_header(name, value)
        try:
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the caller went away (a test killed it mid-call); the call is recorded all the same

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep pytest output clean; calls are inspectable via SlackDouble.calls()
