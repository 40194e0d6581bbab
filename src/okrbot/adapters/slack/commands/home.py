"""Publishing the App Home for one person."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError

from okrbot.services.home import home_data
from okrbot.services.periods import with_calendar
from okrbot.adapters.slack.views.home import home_view

log = logging.getLogger("okrbot")


def publish_home(bot, team_id: str, user_id: str) -> None:
    actor = bot.actor(team_id, user_id)
    with bot.db.session_scope(read_only=True) as session:
        actor = with_calendar(session, actor, bot.settings.fiscal_start_month, bot.settings.planning_lead_days)
        view = home_view(home_data(session, actor))
    try:
        bot.client_for(team_id).views_publish(user_id=user_id, view=view)
    except SlackApiError as error:
        log.warning("views.publish failed for %s: %s", user_id, error.response.get("error"))
