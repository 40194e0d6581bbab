"""`/okr status I-n|<url>`: the work, its status and owner, and what it serves."""

from __future__ import annotations

from slack_sdk.models.blocks import Block, ContextBlock, DividerBlock, HeaderBlock, MarkdownTextObject, SectionBlock

from okrbot.domain.ids import initiative_id, kr_id
from okrbot.services.work_status import WorkStatus
from okrbot.adapters.slack.mrkdwn import escape, link, truncate, user
from okrbot.adapters.slack.views.messages import STATUS_LABEL
from okrbot.adapters.slack.views.status import MAX_BLOCKS, SECTION_LIMIT, kr_buttons, kr_text, objective_text


def work_status_blocks(found: WorkStatus) -> list[Block]:
    work = found.initiative
    ident = initiative_id(work.number)
    name = link(work.url, work.title) if work.url else escape(work.title)
    blocks: list[Block] = [
        HeaderBlock(text=truncate(f"{ident} · {work.title}", 150)),
        SectionBlock(
            text=MarkdownTextObject(
                text=truncate(f"*{ident}* {name}\nOwner {user(work.owner)} · {STATUS_LABEL.get(work.status, work.status)}", SECTION_LIMIT)
            )
        ),
    ]
    if not found.objectives and not found.hidden:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"It serves no KR yet. Link it: `/okr link {ident} KR-n`")]))
        return blocks
    room = MAX_BLOCKS - len(blocks) - 1  # one left for the note at the end
    left_out = 0
    for objective in found.objectives:
        card: list[Block] = [DividerBlock(), SectionBlock(text=MarkdownTextObject(text=objective_text(objective)))]
        card += [SectionBlock(text=MarkdownTextObject(text=kr_text(kr)), accessory=kr_buttons(kr)) for kr in objective.krs]
        if len(card) > room:
            left_out += len(objective.krs)
            continue
        blocks += card
        room -= len(card)
    notes = []
    if left_out:
        notes.append(f"…and {left_out} more KRs; open one with `/okr status KR-n`.")
    if found.hidden:
        notes.append(f":lock: It also serves {found.hidden} KR{'s' if found.hidden > 1 else ''} of private objectives you can't see.")
    if notes:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=" ".join(notes))]))
    return blocks


def work_status_text(found: WorkStatus) -> str:
    served = ", ".join(kr_id(kr.number) for objective in found.objectives for kr in objective.krs) or "no KR"
    return f"{initiative_id(found.initiative.number)} {escape(found.initiative.title)} serves {served}"
