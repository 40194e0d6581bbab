"""The pieces every listener needs: the command runner, the outbox deliverer, the directories.

It is also the Slack notifier (services/notifier.py): webhooks and scheduled jobs are
handed one and tell people through it, in Block Kit, by the outbox."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlmodel import Session

from okrbot.config import Settings
from okrbot.services.announce import Digest
from okrbot.services.checkins import CheckinOutcome
from okrbot.services.context import Actor
from okrbot.services.unit_of_work import UnitOfWork
from okrbot.services.work import WorkOutcome
from okrbot.adapters.slack.commands.announce import queue_digest
from okrbot.adapters.slack.commands.runner import CommandRunner
from okrbot.adapters.slack.commands.work import checkin_reply, work_status_reply
from okrbot.adapters.slack.delivery import Deliverer
from okrbot.adapters.slack.directory import Directory
from okrbot.adapters.slack.installs import TeamClients
from okrbot.adapters.slack.people import WorkspacePeople
from okrbot.adapters.slack.reply import FileUpload, Reply
from okrbot.adapters.slack.views.grading import SlackGradingMessages
from okrbot.adapters.slack.views.reviews import SlackReviewMessages
from okrbot.adapters.slack.views.scorecard import SlackScorecardMessages
from okrbot.store.db import Database
from okrbot.store.types import utcnow

log = logging.getLogger("okrbot")

# Slack's answers when the bot may not post in a channel: the picture goes to the person's DM.
NOT_POSTABLE = {"not_in_channel", "channel_not_found", "is_archived", "restricted_action"}

# Handles a DM message if it belongs to it (e.g. an answer to a review nudge); True when handled.
ThreadReplyHandler = Callable[["SlackBot", dict, dict], bool]


class SlackBot:
    def __init__(self, settings: Settings, db: Database, client: WebClient):
        self.settings = settings
        self.db = db
        self.client = client  # the template every workspace's client copies (adapters/slack/installs.py)
        self.clients = TeamClients(settings, db, client)
        # Who a typed @name means (users.list, cached), read with each workspace's own token.
        self.people = WorkspacePeople(client, client_for=lambda team_id: self.clients.for_team(team_id) or client)
        self.runner = CommandRunner(db, settings, people=self.people)
        self.deliverer = Deliverer(db, client, lease=timedelta(seconds=settings.outbox_lease_seconds), clients=self.clients.for_team)
        self.directory = Directory(self.clients.for_team, settings)
        self.thread_reply_handlers: list[ThreadReplyHandler] = []  # replies in a DM thread
        self.plain_dm_handlers: list[ThreadReplyHandler] = []  # DM messages that are no command
        self.review_messages = SlackReviewMessages()
        self.grading_messages = SlackGradingMessages()
        self.scorecard_messages = SlackScorecardMessages()
        self.clock: Callable[[], datetime] = utcnow  # when people act (tests set the moment)

    def actor(self, team_id: str, user_id: str, channel_id: str | None = None, *, source: str = "command") -> Actor:
        directory = self.directory
        return Actor(
            team_id=team_id,
            user_id=user_id,
            channel_id=channel_id,
            is_admin=directory.is_admin(team_id, user_id),
            source=source,
            tz=self.settings.tz,
            now=self.clock(),
            member_of=lambda channel: directory.is_member(team_id, user_id, channel),
        )

    def system_actor(self, team_id: str, name: str, *, source: str) -> Actor:
        """A signed webhook: not a Slack user (no directory lookup), trusted to move work."""
        return Actor(team_id=team_id, user_id=name, source=source, tz=self.settings.tz, now=self.clock(), system=True)

    def work_moved(self, uow: UnitOfWork, outcome: WorkOutcome) -> Reply:
        return work_status_reply(uow, outcome)

    def reading_recorded(self, uow: UnitOfWork, outcome: CheckinOutcome) -> Reply:
        return checkin_reply(uow, outcome)

    def queue_digest(self, session: Session, digest: Digest, now: datetime) -> list[int]:
        return queue_digest(session, digest, now)

    def deliver(self, ids: Sequence[int], *, claimed: Sequence[Any] = ()) -> None:
        """Send what a change queued (`claimed`: those of them it queued already claimed);
        if Slack is down the sweeper retries later."""
        try:
            self.deliverer.deliver(ids, claimed=claimed)
        except Exception:  # noqa: BLE001 - the messages stay queued
            log.exception("delivery failed; the outbox sweeper will retry")

    def on_thread_reply(self, body: dict, event: dict) -> bool:
        return any(handler(self, body, event) for handler in self.thread_reply_handlers)

    def on_plain_dm(self, body: dict, event: dict) -> bool:
        return any(handler(self, body, event) for handler in self.plain_dm_handlers)

    def client_for(self, team_id: str) -> WebClient:
        """The workspace's own client; in a request bolt has authorized, it is installed. (If it
        was uninstalled meanwhile, the template has no token and Slack refuses the call.)"""
        return self.clients.for_team(team_id) or self.client

    def installed_teams(self, team_ids: Sequence[str]) -> list[str]:
        """The workspaces scheduled jobs may act for now: an uninstalled one is skipped from
        the tick after its uninstall event, its data kept."""
        return [team_id for team_id in team_ids if self.clients.installed(team_id)]

    def post_now(self, team_id: str, channel: str, reply: Reply, thread_ts: str | None = None) -> None:
        """Best effort and not queued: for when not even the outbox can be written (the
        database is down), so the person still hears that nothing was saved."""
        try:
            self.client_for(team_id).chat_postMessage(channel=channel, thread_ts=thread_ts, text=reply.text, blocks=reply.block_dicts())
        except SlackApiError as error:
            log.warning("chat.postMessage failed: %s", error.response.get("error"))

    def post_ephemeral(self, team_id: str, channel: str, user: str, reply: Reply) -> None:
        """Best effort: an ephemeral note is only useful now, so it is not queued."""
        try:
            self.client_for(team_id).chat_postEphemeral(channel=channel, user=user, text=reply.text, blocks=reply.block_dicts())
        except SlackApiError as error:
            log.warning("chat.postEphemeral failed: %s", error.response.get("error"))

    def tell_privately(self, team_id: str, channel: str, user: str, reply: Reply) -> None:
        """An ephemeral note in the channel; a DM where the bot may not post (not a member)."""
        client = self.client_for(team_id)
        try:
            client.chat_postEphemeral(channel=channel, user=user, text=reply.text, blocks=reply.block_dicts())
            return
        except SlackApiError as error:
            if error.response.get("error") not in NOT_POSTABLE:
                log.warning("chat.postEphemeral failed: %s", error.response.get("error"))
                return
        try:
            client.chat_postMessage(channel=user, text=reply.text, blocks=reply.block_dicts())
        except SlackApiError as error:
            log.warning("DM failed: %s", error.response.get("error"))

    def confirm(self, actor: Actor, reply: Reply) -> None:
        """Tell the person what a form or button did: privately where they were, else in a DM.
        A public reply (e.g. a new objective made in its team channel) is for the channel."""
        if actor.channel_id and not reply.public:
            self.post_ephemeral(actor.team_id, actor.channel_id, actor.user_id, reply)
            return
        try:
            self.client_for(actor.team_id).chat_postMessage(channel=actor.channel_id or actor.user_id, text=reply.text, blocks=reply.block_dicts())
        except SlackApiError as error:
            log.warning("confirmation DM failed: %s", error.response.get("error"))

    def upload(self, actor: Actor, upload: FileUpload) -> None:
        """Upload a picture (files_upload_v2: files.getUploadURLExternal, the upload, then
        files.completeUploadExternal). Where the bot may not post, it goes to the person's DM."""
        channel = upload.channel
        try:
            if channel == actor.user_id:
                channel = self._dm(actor.team_id, actor.user_id)
            self._upload(actor.team_id, upload, channel, upload.thread_ts)
        except SlackApiError as error:
            reason = error.response.get("error")
            if reason in NOT_POSTABLE and channel != actor.user_id:
                try:
                    self._upload(actor.team_id, upload, self._dm(actor.team_id, actor.user_id), None)
                except SlackApiError as again:
                    log.warning("upload to the DM failed: %s", again.response.get("error"))
                    return
                note = "I'm not in that channel, so I sent the picture to you in a DM. Add me with `/invite @okrbot` to post charts there."
                self.post_ephemeral(actor.team_id, upload.channel, actor.user_id, Reply.say(note))
                return
            log.warning("upload failed: %s", reason)
            self.post_ephemeral(actor.team_id, actor.channel_id or actor.user_id, actor.user_id, Reply.problem("Slack did not take the picture; please try again."))

    def _upload(self, team_id: str, upload: FileUpload, channel: str, thread_ts: str | None) -> None:
        self.client_for(team_id).files_upload_v2(
            channel=channel,
            file=upload.content,
            filename=upload.filename,
            title=upload.title,
            alt_txt=upload.alt_text,
            initial_comment=upload.comment or None,
            thread_ts=thread_ts,
        )

    def _dm(self, team_id: str, user_id: str) -> str:
        return self.client_for(team_id).conversations_open(users=user_id)["channel"]["id"]
