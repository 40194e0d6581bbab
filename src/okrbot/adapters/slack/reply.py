"""What a command answers: blocks for the person, and whether the channel sees it."""

from __future__ import annotations

from dataclasses import dataclass, field

from slack_sdk.models.blocks import Block, MarkdownTextObject, SectionBlock
from slack_sdk.models.views import View

from okrbot.adapters.slack.mrkdwn import truncate

SECTION_LIMIT = 3000


@dataclass(frozen=True)
class FileUpload:
    """A picture to upload after answering (files_upload_v2), where the person asked for it."""

    channel: str  # a conversation id; the person's user id means their DM with the bot
    filename: str
    title: str
    alt_text: str
    content: bytes
    comment: str = ""
    thread_ts: str | None = None


@dataclass
class Reply:
    text: str  # notification and screen-reader fallback
    blocks: list[Block] = field(default_factory=list)
    public: bool = False  # in_channel; ephemeral otherwise (SPEC §3)
    modal: View | None = None  # open this form instead (needs a trigger_id)
    error: bool = False
    upload: FileUpload | None = None

    @classmethod
    def say(cls, text: str, *, public: bool = False) -> Reply:
        shown = truncate(text, SECTION_LIMIT)  # Slack refuses longer section texts
        return cls(text=shown, blocks=[SectionBlock(text=MarkdownTextObject(text=shown))], public=public)

    @classmethod
    def problem(cls, text: str) -> Reply:
        reply = cls.say(f":warning: {text}")
        reply.error = True
        return reply

    def block_dicts(self) -> list[dict]:
        return [block.to_dict() for block in self.blocks]

    def rendered(self) -> Reply:
        """This reply with its blocks rendered once (to keep and send again, e.g. a cached
        status: rendering with slack_sdk's validators is most of a status answer's cost)."""
        return Reply(text=self.text, blocks=[RenderedBlock(block) for block in self.block_dicts()], public=self.public, error=self.error)


class RenderedBlock(Block):
    """A block already rendered to Slack's JSON (validated when it was rendered), sent as is.
    Shared by every reply made from one rendering: nobody may change the dict."""

    def __init__(self, rendered: dict) -> None:
        super().__init__(type=rendered.get("type"), block_id=rendered.get("block_id"))
        self._rendered = rendered

    def to_dict(self) -> dict:  # type: ignore[override]
        return self._rendered


RESPOND = "response_url"  # an outbox "method": a POST to the request's response_url


@dataclass(frozen=True)
class ReplyTo:
    """Where the answer to a request goes: its response_url when it has one, else
    privately where the person is (an ephemeral note in the channel, or a DM). The
    answer is queued in the outbox with the change it reports (CommandRunner), so it
    is sent once, even when the request is run again after a crash."""

    user: str
    channel: str | None = None
    response_url: str | None = None

    def message(self, reply: Reply) -> tuple[str, str, dict]:
        """(outbox method, channel, payload) of this reply."""
        blocks = reply.block_dicts()  # once: the answer and its fallback carry the same
        method, channel, payload = self._directly(reply, blocks)
        if not self.response_url:
            return method, channel, payload
        # The fallback, if the URL has expired, sends the answer's own blocks: kept once in
        # the row, not twice (a status answer's blocks are tens of kilobytes).
        without_blocks = {key: value for key, value in payload.items() if key != "blocks"}
        answer = {
            "url": self.response_url,
            "text": reply.text,
            "blocks": blocks,
            "response_type": "in_channel" if reply.public else "ephemeral",
            "replace_original": False,
            "fallback": {"method": method, "channel": channel, "payload": without_blocks},
        }
        return RESPOND, channel, answer

    def _directly(self, reply: Reply, blocks: list[dict]) -> tuple[str, str, dict]:
        content = {"text": reply.text, "blocks": blocks}
        if self.channel and not reply.public:
            return "chat.postEphemeral", self.channel, {**content, "user": self.user}
        return "chat.postMessage", self.channel or self.user, content
