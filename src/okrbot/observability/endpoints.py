"""The HTTP endpoints of operating okrbot: GET /readyz and GET /metrics."""

from __future__ import annotations

import asyncio
import hmac

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from okrbot.observability import metrics
from okrbot.observability.health import Readiness

# A probe that takes longer than this is an answer in itself.
PROBE_TIMEOUT_SECONDS = 5.0


def readyz(readiness: Readiness):
    async def endpoint(_request: Request) -> Response:
        try:
            checks = await asyncio.wait_for(run_in_threadpool(readiness.checks), PROBE_TIMEOUT_SECONDS)
        except asyncio.TimeoutError:
            return JSONResponse({"ready": False, "checks": {"database": f"no answer within {PROBE_TIMEOUT_SECONDS:.0f} s"}}, status_code=503)
        ready = all(check.ok for check in checks)
        body = {"ready": ready, "checks": {check.name: ("ok: " if check.ok else "failing: ") + check.detail for check in checks}}
        return JSONResponse(body, status_code=200 if ready else 503)

    return endpoint


def metrics_page(collector: metrics.ScrapeTimeCollector, token: str):
    expected = f"Bearer {token}".encode()

    async def endpoint(request: Request) -> Response:
        if token and not hmac.compare_digest(request.headers.get("authorization", "").encode(), expected):
            return Response("Send the scrape with Authorization: Bearer <OKRBOT_METRICS_TOKEN>.\n", status_code=401, media_type="text/plain")
        body = await run_in_threadpool(metrics.scrape, collector)
        return Response(body, media_type=metrics.CONTENT_TYPE)

    return endpoint
