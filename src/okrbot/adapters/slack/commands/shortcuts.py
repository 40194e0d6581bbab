"""The message shortcut "Does this serve a KR?": the `/okr serves` answer for a message,
whose Link buttons make the message's permalink the new initiative's link."""

from __future__ import annotations

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, SectionBlock

from okrbot.domain import commands as cmd
from okrbot.domain.grammar import CommandError, parse
from okrbot.services.serves import request_work
from okrbot.adapters.slack.commands import serves as serves_commands
from okrbot.services.unit_of_work import UnitOfWork
from okrbot.adapters.slack.ids import Action
from okrbot.adapters.slack.reply import Reply
from okrbot.adapters.slack.views.serves import link_value, read_link_value


def message_serves(ctx: UnitOfWork, text: str, permalink: str | None) -> Reply:
    try:
        command = parse(f"serves {text}")
    except CommandError:
        return Reply.problem("That message has no words I can match to a KR. Ask with `/okr serves &lt;what the work is&gt;`.")
    reply = serves_commands.serves(ctx, command if isinstance(command, cmd.Serves) else cmd.Serves(text))
    if permalink:
        link_to_message(reply.blocks, permalink)
    return reply


def link_to_message(blocks: list[Block], permalink: str) -> None:
    """Each Link button makes the work from the message's words, with its permalink as link
    (a link inside the message stays in the words, the permalink is what the work points to)."""
    for button in _buttons(blocks):
        if button.action_id != Action.SERVES_LINK.value:
            continue
        request = read_link_value(button.value)
        title, _ = request_work(request.text)
        button.value = link_value(request.kr, f"{title} {permalink}")


def _buttons(blocks: list[Block]) -> list[ButtonElement]:
    found: list[ButtonElement] = []
    for block in blocks:
        if isinstance(block, SectionBlock) and isinstance(block.accessory, ButtonElement):
            found.append(block.accessory)
        if isinstance(block, ActionsBlock):
            found += [element for element in block.elements if isinstance(element, ButtonElement)]
    return found
