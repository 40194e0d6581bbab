"""okrbot in OAuth mode (SLACK_CLIENT_ID / SLACK_CLIENT_SECRET, no SLACK_BOT_TOKEN), and a person
installing it into a workspace through /slack/install, Slack's consent page (the double's
oauth.v2.access) and /slack/oauth_redirect, as a browser does."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.e2e.harness import RunningBot, running_bot
from tests.fakes.slack_api import SlackDouble, manifest_scopes
from tests.fakes.slack_client import SignedSlackClient

CLIENT_ID = "1111111111.2222222222"
CLIENT_SECRET = "test-client-secret"
_codes = itertools.count(1)


@contextmanager
def oauth_bot(slack: SlackDouble, database_url: str, **overrides) -> Iterator[tuple[RunningBot, SignedSlackClient]]:
    with running_bot(slack, database_url, SLACK_BOT_TOKEN="", SLACK_CLIENT_ID=CLIENT_ID, SLACK_CLIENT_SECRET=CLIENT_SECRET, **overrides) as pair:
        yield pair


def install(bot: RunningBot, slack: SlackDouble, team_id: str | None, **install) -> str:
    """Install okrbot into `team_id` (or org-wide) the way a person does; returns its bot token."""
    code = f"code-{next(_codes)}"
    token = slack.add_install(code, team_id, team=f"Team {team_id}", **install)
    with httpx.Client(base_url=bot.url, timeout=10) as browser:
        start = browser.get("/slack/install")
        assert start.status_code == 302, start.text
        consent = urlsplit(start.headers["location"])
        asked = parse_qs(consent.query)
        assert (consent.netloc, consent.path) == ("slack.com", "/oauth/v2/authorize")
        assert asked["client_id"] == [CLIENT_ID]
        assert sorted(asked["scope"][0].split(",")) == sorted(manifest_scopes())
        # Slack sends the browser back with the code and the state; the state cookie is the browser's.
        cookie = start.headers["set-cookie"].split(";", 1)[0]
        back = browser.get("/slack/oauth_redirect", params={"code": code, "state": asked["state"][0]}, headers={"cookie": cookie})
    assert back.status_code == 200, back.text
    return token
