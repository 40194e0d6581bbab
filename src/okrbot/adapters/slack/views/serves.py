"""The answer to "does this serve a KR?" in its tier: "Serves KR-n" when the matcher is
confident, "Might serve KR-n, KR-m" with why the evidence is weaker, or a plain "no KR"
with what to do instead. Each KR named has a Link button and a "Not this one" button."""

from __future__ import annotations

import json

from pydantic import BaseModel, ValidationError
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from okrbot.domain.ids import kr_id, objective_id
from okrbot.services.errors import Invalid
from okrbot.domain.serves_tiers import Tier
from okrbot.services.serves import KrFit, ServesAnswer
from okrbot.adapters.slack.ids import Action
from okrbot.adapters.slack.mrkdwn import escape, truncate
from okrbot.adapters.slack.reply import SECTION_LIMIT

BUTTON_VALUE_LIMIT = 2000  # Slack's limit on a button's value
QUOTED_LIMIT = 500  # the request as shown; the button keeps (nearly) all of it
TITLE_SHOWN = 300
REASON_SHOWN = 600


class LinkRequest(BaseModel):
    """What a suggestion's buttons carry back: the KR and the request (to link, or to
    record as not serving that KR)."""

    kr: int
    text: str


def link_value(kr: int, text: str) -> str:
    """The button value, JSON within Slack's 2,000 characters (a long request is cut)."""
    while True:
        value = json.dumps({"kr": kr, "text": text}, ensure_ascii=False, separators=(",", ":"))
        excess = len(value) - BUTTON_VALUE_LIMIT
        if excess <= 0:
            return value
        text = text[: len(text) - excess]  # escapes may take more than one character each: loop


def read_link_value(value: str | None) -> LinkRequest:
    try:
        return LinkRequest.model_validate_json(value or "")
    except ValidationError:
        raise Invalid("This Link button is out of date.", hint="Ask again: `/okr serves <what the work is>`.") from None


def serves_text(answer: ServesAnswer) -> str:
    """The notification line (and screen-reader fallback)."""
    if not answer.fits:
        return f"No KR in {answer.period} fits this request"
    best = answer.fits[0]
    more = f" (and {len(answer.fits) - 1} more)" if len(answer.fits) > 1 else ""
    verb = "It serves" if answer.tier is Tier.SERVES else "It might serve"
    return f"{verb} {kr_id(best.kr_number)} {escape(truncate(best.kr_title, 150))}{more}"  # mrkdwn too


def serves_blocks(answer: ServesAnswer) -> list[Block]:
    quoted = "\n".join(f"> {line}" for line in escape(truncate(answer.request, QUOTED_LIMIT)).splitlines() or [""])
    if not answer.fits:
        return [_section(f"*Does this serve a KR?*\n{quoted}\n\n{_no_kr(answer)}")]
    header = f":dart: *Does this serve a KR?*\n{quoted}"
    if answer.tier is Tier.MIGHT:
        header += "\n\nNo KR fits for sure; these *might* (the evidence is weaker):"
    blocks: list[Block] = [_section(header)]
    for rank, fit in enumerate(answer.fits):
        confident = answer.tier is Tier.SERVES and rank == 0
        blocks.extend(_suggestion(fit, answer.request, confident=confident, also=rank > 0 and answer.tier is Tier.SERVES))
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text="*Link* adds this request as an initiative on that KR; "
                    "*Not this one* stops suggesting that KR for these words."
                )
            ]
        )
    )
    return blocks


def _suggestion(fit: KrFit, request: str, *, confident: bool, also: bool) -> list[Block]:
    ident = kr_id(fit.kr_number)
    if confident:
        verdict, why = f"Serves *{ident}*", "Why"
    else:
        verdict = f"Might {'also ' if also else ''}serve *{ident}*"
        why = "Why only maybe"
    text = (
        f"{verdict} {escape(truncate(fit.kr_title, TITLE_SHOWN))}\n"
        f"Objective *{objective_id(fit.objective_number)}* {escape(truncate(fit.objective_title, TITLE_SHOWN))}\n"
        f"{why}: {escape(truncate(fit.reason, REASON_SHOWN))}"
    )
    value = link_value(fit.kr_number, request)
    buttons = [
        ButtonElement(text=f"Link to {ident}", action_id=Action.SERVES_LINK.value, value=value,
                      style="primary" if confident else None),
        ButtonElement(text="Not this one", action_id=Action.SERVES_REJECT.value, value=value),
    ]
    return [_section(text), ActionsBlock(block_id=f"serves_{fit.kr_number}", elements=buttons)]


def _no_kr(answer: ServesAnswer) -> str:
    if answer.krs_considered == 0:
        return (
            f"*No KR* — there are no KRs in {answer.period} yet. "
            "Create one: `/okr kr add O-n \"Title\" from 45 to 25`."
        )
    checked = f"{answer.krs_considered} KR" + ("s" if answer.krs_considered != 1 else "")
    return (
        f"*No KR* in {answer.period} fits this ({checked} checked).\n"
        "See them all with `/okr status all`; if this work matters, it may deserve a KR of its own: "
        "`/okr kr add O-n \"Title\" from 45 to 25`."
    )


def _section(text: str, **kwargs) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=truncate(text, SECTION_LIMIT)), **kwargs)
