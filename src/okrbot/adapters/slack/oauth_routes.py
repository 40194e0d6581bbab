"""GET /slack/install and GET /slack/oauth_redirect (OAuth installs): bolt's OAuthFlow answers
both. The server runs them itself, not through the inbox: a browser waits on them, and their
only effect (the installation row) is one write that the flow makes at once."""

from __future__ import annotations

import logging

from slack_bolt import BoltRequest
from slack_bolt.adapter.starlette.handler import to_starlette_response
from slack_sdk.oauth.installation_store import Installation
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from okrbot.config import Settings
from okrbot.adapters.slack.installs import INSTALL_PATH, REDIRECT_PATH, oauth_flow
from okrbot.store import installations
from okrbot.store.db import Database

log = logging.getLogger("okrbot.installs")


def oauth_routes(settings: Settings, db: Database) -> list[Route]:
    def installed(installation: Installation) -> None:
        where = installation.team_id or f"the whole {installation.enterprise_id} organisation"
        log.info("okrbot installed in %s (enterprise %s) by %s", where, installation.enterprise_id or "none", installation.user_id)
        if installation.team_id and installation.enterprise_id:
            with db.session_scope() as session:
                installations.remember_enterprise(session, installation.team_id, installation.enterprise_id)

    flow = oauth_flow(settings, db, installed)

    def bolt_request(request: Request) -> BoltRequest:
        return BoltRequest(body="", query=request.url.query, headers=dict(request.headers))

    async def install(request: Request) -> Response:
        return to_starlette_response(await run_in_threadpool(flow.handle_installation, bolt_request(request)))

    async def redirect(request: Request) -> Response:
        return to_starlette_response(await run_in_threadpool(flow.handle_callback, bolt_request(request)))

    return [Route(INSTALL_PATH, install, methods=["GET"]), Route(REDIRECT_PATH, redirect, methods=["GET"])]
