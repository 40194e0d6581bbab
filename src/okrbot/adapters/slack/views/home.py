"""The App Home tab: the viewer's OKRs and what they owe, within Slack's 100 blocks."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from okrbot.domain.ids import initiative_id, kr_id
from okrbot.services.home import HomeData
from okrbot.adapters.slack.ids import Action
from okrbot.adapters.slack.mrkdwn import escape, truncate
from okrbot.adapters.slack.views.status import kr_buttons, kr_text, objective_button, objective_text

MAX_BLOCKS = 100


def home_view(data: HomeData) -> View:
    blocks: list[Block] = [
        HeaderBlock(text=f"Your OKRs · {data.period}"),
        ActionsBlock(
            block_id="home_actions",
            elements=[
                ButtonElement(text="New objective", action_id=Action.HOME_NEW_OBJECTIVE.value, style="primary"),
                ButtonElement(text="Refresh", action_id=Action.HOME_REFRESH.value),
            ],
        ),
    ]
    blocks += _owed(data)
    blocks.append(HeaderBlock(text="Objectives and KRs you own"))
    if not data.objectives:
        blocks.append(SectionBlock(text=MarkdownTextObject(text="You own no objective or KR this period. Start one with *New objective* or `/okr objective add \"Title\"`.")))
    more = ContextBlock(elements=[MarkdownTextObject(text="More in `/okr status me`.")])
    for objective in data.objectives:
        card: list[Block] = [SectionBlock(text=MarkdownTextObject(text=objective_text(objective)), accessory=objective_button(objective))]
        card += [SectionBlock(text=MarkdownTextObject(text=kr_text(kr)), accessory=kr_buttons(kr)) for kr in objective.krs]
        card.append(DividerBlock())
        if len(blocks) + len(card) > MAX_BLOCKS - 1:
            blocks.append(more)
            break
        blocks += card
    else:
        if data.more_objectives:
            blocks.append(more)
    return View(type="home", blocks=blocks)


def _owed(data: HomeData) -> list[Block]:
    if not data.checkins_due and not data.open_work:
        return [SectionBlock(text=MarkdownTextObject(text=":white_check_mark: You're up to date: nothing owed."))]
    blocks: list[Block] = [HeaderBlock(text="What you owe")]
    for kr in data.checkins_due[:10]:
        text = f":memo: Check in *{kr_id(kr.number)}* {escape(truncate(kr.title, 200))} — no check-in for 30 days"
        blocks.append(SectionBlock(text=MarkdownTextObject(text=text), accessory=kr_buttons(kr)))
    for work in data.open_work:
        text = f":hammer_and_wrench: *{initiative_id(work.number)}* {escape(truncate(work.title, 200))} is {work.status.replace('_', ' ')}"
        button = ButtonElement(text="Mark done", action_id=Action.MARK_DONE.value, value=initiative_id(work.number))
        blocks.append(SectionBlock(text=MarkdownTextObject(text=text), accessory=button))
    blocks.append(DividerBlock())
    return blocks
