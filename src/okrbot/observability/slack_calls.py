"""A WebClient that counts its Slack Web API calls by method and HTTP status."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web.slack_response import SlackResponse

from okrbot.observability import metrics


class CountingWebClient(WebClient):
    """Every method of WebClient goes through api_call, so counting here counts them all."""

    def api_call(self, api_method: str, **kwargs: Any) -> SlackResponse:
        try:
            response = super().api_call(api_method, **kwargs)
        except SlackApiError as error:
            metrics.slack_api_calls_total.labels(api_method, str(error.response.status_code)).inc()
            raise
        except Exception:
            metrics.slack_api_calls_total.labels(api_method, "no_answer").inc()
            raise
        metrics.slack_api_calls_total.labels(api_method, str(response.status_code)).inc()
        return response
