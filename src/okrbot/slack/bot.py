"""The pieces every listener needs: the command runner, the outbox deliverer, the directory."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from okrbot.config import Settings
from okrbot.services.context import Actor
from okrbot.slack.commands.runner import CommandRunner
from okrbot.slack.delivery import Deliverer
from okrbot.slack.directory import Directory
from okrbot.slack.reply import FileUpload, Reply
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
        self.client = client
        self.runner = CommandRunner(db, settings)
        self.deliverer = Deliverer(db, client, lease=timedelta(seconds=settings.outbox_lease_seconds))
        self.directory = Directory(client, settings)
        self.thread_reply_handlers: list[ThreadReplyHandler] = []  # replies in a DM thread
        self.plain_dm_handlers: list[ThreadReplyHandler] = []  # DM messages that are no command
        self.clock: Callable[[], datetime] = utcnow  # when people act (tests set the moment)

    def actor(self, team_id: str, user_id: str, channel_id: str | None = None, *, source: str = "command") -> Actor:
        directory = self.directory
        return Actor(
            team_id=team_id,
            user_id=user_id,
            channel_id=channel_id,
            is_admin=directory.is_admin(user_id),
            source=source,
            tz=self.settings.tz,
            now=self.clock(),
            member_of=lambda channel: directory.is_member(user_id, channel),
        )

    def actor_without_lookup(self, team_id: str, user_id: str, *, source: str) -> Actor:
        """A signed webhook: not a Slack user (no directory lookup), trusted to move work."""
        return Actor(team_id=team_id, user_id=user_id, source=source, tz=self.settings.tz, now=self.clock(), system=True)

    def deliver(self, ids: Sequence[int]) -> None:
        """Send what a change queued; if Slack is down the sweeper retries later."""
        try:
            self.deliverer.deliver(ids)
        except Exception:  # noqa: BLE001 - the messages stay queued
            log.exception("delivery failed; the outbox sweeper will retry")

    def on_thread_reply(self, body: dict, event: dict) -> bool:
        return any(handler(self, body, event) for handler in self.thread_reply_handlers)

    def on_plain_dm(self, body: dict, event: dict) -> bool:
        return any(handler(self, body, event) for handler in self.plain_dm_handlers)

    def post_now(self, channel: str, reply: Reply, thread_ts: str | None = None) -> None:
        """Best effort and not queued: for when not even the outbox can be written (the
        database is down), so the person still hears that nothing was saved."""
        try:
            self.client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=reply.text, blocks=reply.block_dicts())
        except SlackApiError as error:
            log.warning("chat.postMessage failed: %s", error.response.get("error"))

    def post_ephemeral(self, channel: str, user: str, reply: Reply) -> None:
        """Best effort: an ephemeral note is only useful now, so it is not queued."""
        try:
            self.client.chat_postEphemeral(channel=channel, user=user, text=reply.text, blocks=reply.block_dicts())
        except SlackApiError as error:
            log.warning("chat.postEphemeral failed: %s", error.response.get("error"))

    def tell_privately(self, channel: str, user: str, reply: Reply) -> None:
        """An ephemeral note in the channel; a DM where the bot may not post (not a member)."""
        try:
            self.client.chat_postEphemeral(channel=channel, user=user, text=reply.text, blocks=reply.block_dicts())
            return
        except SlackApiError as error:
            if error.response.get("error") not in NOT_POSTABLE:
                log.warning("chat.postEphemeral failed: %s", error.response.get("error"))
                return
        try:
            self.client.chat_postMessage(channel=user, text=reply.text, blocks=reply.block_dicts())
        except SlackApiError as error:
            log.warning("DM failed: %s", error.response.get("error"))

    def confirm(self, actor: Actor, reply: Reply) -> None:
        """Tell the person what a form or button did: privately where they were, else in a DM.
        A public reply (e.g. a new objective made in its team channel) is for the channel."""
        if actor.channel_id and not reply.public:
            self.post_ephemeral(actor.channel_id, actor.user_id, reply)
            return
        try:
            self.client.chat_postMessage(channel=actor.channel_id or actor.user_id, text=reply.text, blocks=reply.block_dicts())
        except SlackApiError as error:
            log.warning("confirmation DM failed: %s", error.response.get("error"))

    def upload(self, actor: Actor, upload: FileUpload) -> None:
        """Upload a picture (files_upload_v2: files.getUploadURLExternal, the upload, then
        files.completeUploadExternal). Where the bot may not post, it goes to the person's DM."""
        channel = upload.channel
        try:
            if channel == actor.user_id:
                channel = self._dm(actor.user_id)
            self._upload(upload, channel, upload.thread_ts)
        except SlackApiError as error:
            reason = error.response.get("error")
            if reason in NOT_POSTABLE and channel != actor.user_id:
                try:
                    self._upload(upload, self._dm(actor.user_id), None)
                except SlackApiError as again:
                    log.warning("upload to the DM failed: %s", again.response.get("error"))
                    return
                note = "I'm not in that channel, so I sent the picture to you in a DM. Add me with `/invite @okrbot` to post charts there."
                self.post_ephemeral(upload.channel, actor.user_id, Reply.say(note))
                return
            log.warning("upload failed: %s", reason)
            self.post_ephemeral(actor.channel_id or actor.user_id, actor.user_id, Reply.problem("Slack did not take the picture; please try again."))

    def _upload(self, upload: FileUpload, channel: str, thread_ts: str | None) -> None:
        self.client.files_upload_v2(
            channel=channel,
            file=upload.content,
            filename=upload.filename,
            title=upload.title,
            alt_txt=upload.alt_text,
            initial_comment=upload.comment or None,
            thread_ts=thread_ts,
        )

    def _dm(self, user_id: str) -> str:
        return self.client.conversations_open(users=user_id)["channel"]["id"]
