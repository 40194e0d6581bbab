"""Modals for creating and editing objectives, KRs and initiatives, checking in and linking.

Each input's block_id is a `Field` and its action_id is "value", so one
reader (`slack.forms`) can pull any field out of a submission. Modal state
that is not an input (which KR, which channel) round-trips in
`private_metadata` as a `ModalMeta`.
"""

from __future__ import annotations

from pydantic import BaseModel
from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    ContextBlock,
    ConversationSelectElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from okrbot.domain.formatting import format_value
from okrbot.domain.ids import initiative_id, kr_id, objective_id
from okrbot.services.pickers import Choice
from okrbot.adapters.slack.ids import INPUT_ACTION, Callback, Field, Picker
from okrbot.adapters.slack.mrkdwn import escape, truncate
from okrbot.adapters.slack.views.pickers import picker
from okrbot.store.models import CheckIn, Initiative, KeyResult, Objective

TITLE_LIMIT = 24  # Slack's limit on a modal title


class ModalMeta(BaseModel):
    """What a modal is about, carried through Slack in private_metadata (≤ 3000 chars)."""

    number: int | None = None  # the thing edited or checked in (O-n, KR-n or I-n)
    objective: int | None = None  # for a new KR
    kr: int | None = None  # for a new or linked initiative
    channel: str | None = None  # where the modal was opened, for replies
    checkin: int | None = None  # the check-in being fixed (its row id)


KR_KINDS = {
    "numeric": "A number, from → to",
    "percentage": "A percentage, from → to",
    "keep_above": "Keep at or above a level",
    "keep_below": "Keep at or below a level",
    "boolean": "Yes / no",
    "milestone": "Moves as linked work is done",
}
COMMITMENTS = {
    "committed": "Committed: expected to reach 100%",
    "aspirational": "Aspirational: 70% is success",
}
WORK_STATUSES = {"todo": "To do", "in_progress": "In progress", "done": "Done"}


def _text_input(
    field: Field,
    label: str,
    *,
    initial: str | None = None,
    optional: bool = False,
    placeholder: str | None = None,
    multiline: bool = False,
    max_length: int | None = 500,
    hint: str | None = None,
) -> InputBlock:
    element = PlainTextInputElement(
        action_id=INPUT_ACTION,
        initial_value=initial or None,
        placeholder=placeholder,
        multiline=multiline,
        max_length=max_length,
    )
    return InputBlock(block_id=field.value, label=label, element=element, optional=optional, hint=hint)


def _select(field: Field, label: str, choices: dict[str, str], *, initial: str | None = None, optional: bool = False) -> InputBlock:
    options = [Option(value=value, text=text) for value, text in choices.items()]
    chosen = next((option for option in options if option.value == initial), None)
    element = StaticSelectElement(action_id=INPUT_ACTION, options=options, initial_option=chosen)
    return InputBlock(block_id=field.value, label=label, element=element, optional=optional)


def _owner(initial_user: str | None, label: str = "Owner") -> InputBlock:
    return InputBlock(
        block_id=Field.OWNER.value, label=label, element=UserSelectElement(action_id=INPUT_ACTION, initial_user=initial_user)
    )


def _modal(callback: Callback, title: str, submit: str, blocks: list[Block], meta: ModalMeta) -> View:
    return View(
        type="modal",
        callback_id=callback.value,
        title=truncate(title, TITLE_LIMIT),
        submit=submit,
        close="Cancel",
        blocks=blocks,
        private_metadata=meta.model_dump_json(exclude_none=True),
    )


def objective_modal(*, owner: str, period: str, channel: str | None, existing: Objective | None = None, parent: int | None = None) -> View:
    team = existing.team_channel if existing else (channel if channel and channel[0] in "CG" else None)
    blocks: list[Block] = [
        _text_input(Field.TITLE, "Objective", initial=existing.title if existing else None, placeholder="Make onboarding effortless"),
        _owner(existing.owner if existing else owner),
        InputBlock(
            block_id=Field.TEAM.value,
            label="Team channel",
            optional=True,
            hint="Progress and new work are announced here.",
            element=ConversationSelectElement(
                action_id=INPUT_ACTION,
                initial_conversation=team,
                filter={"include": ["public", "private"], "exclude_bot_users": True},
            ),
        ),
        _text_input(Field.PERIOD, "Period", initial=existing.period if existing else period, placeholder="2026-Q4", max_length=16),
        picker(
            Field.PARENT,
            Picker.OBJECTIVE,
            "Aligns to (parent objective)",
            placeholder="Type O-3 or words of its title",
            initial=Choice(objective_id(parent), objective_id(parent)) if parent else None,
            optional=True,
        ),
        _text_input(
            Field.DESCRIPTION, "Why it matters", initial=existing.description if existing else None, optional=True, multiline=True, max_length=3000
        ),
        InputBlock(
            block_id=Field.PRIVATE.value,
            label="Visibility",
            optional=True,
            element=CheckboxesElement(
                action_id=INPUT_ACTION,
                options=[Option(value="private", text="Private: only the owner, KR owners and admins see it")],
                initial_options=[Option(value="private", text="Private: only the owner, KR owners and admins see it")]
                if existing and existing.private
                else None,
            ),
        ),
    ]
    title = f"Edit {objective_id(existing.number)}" if existing else "New objective"
    return _modal(Callback.OBJECTIVE_MODAL, title, "Save" if existing else "Create", blocks, ModalMeta(number=existing.number if existing else None, channel=channel))


def kr_kind(kr: KeyResult) -> str:
    if kr.direction == "maintain":
        return "keep_below" if kr.keep == "below" else "keep_above"
    return kr.metric


def kr_modal(*, objective: int, owner: str, channel: str | None, existing: KeyResult | None = None) -> View:
    def number(value: float | None) -> str | None:
        return None if value is None else f"{value:g}"

    blocks: list[Block] = [
        ContextBlock(elements=[MarkdownTextObject(text=f"Key result of *{objective_id(objective)}*")]),
        _text_input(Field.TITLE, "Key result", initial=existing.title if existing else None, placeholder="Cut time to first value from 45 to 25 days"),
        _owner(existing.owner if existing else owner),
        _select(Field.METRIC, "Measured as", KR_KINDS, initial=kr_kind(existing) if existing else "numeric"),
        _text_input(Field.START, "Start value", initial=number(existing.start) if existing else None, optional=True, placeholder="45", max_length=40, hint="For from → to KRs."),
        _text_input(Field.TARGET, "Target or level", initial=number(existing.target) if existing else None, optional=True, placeholder="25", max_length=40, hint="The target, or the level to keep."),
        _text_input(Field.UNIT, "Unit", initial=existing.unit if existing else None, optional=True, placeholder="days", max_length=32),
        _text_input(Field.WEIGHT, "Weight in the objective", initial=number(existing.weight) if existing else "1", optional=True, max_length=10),
        _select(Field.COMMITMENT, "Expectation", COMMITMENTS, initial=existing.commitment if existing else None, optional=True),
    ]
    title = f"Edit {kr_id(existing.number)}" if existing else "New key result"
    meta = ModalMeta(number=existing.number if existing else None, objective=objective, channel=channel)
    return _modal(Callback.KR_MODAL, title, "Save" if existing else "Create", blocks, meta)


def initiative_modal(*, kr: int | None, owner: str, channel: str | None, existing: Initiative | None = None) -> View:
    blocks: list[Block] = []
    if kr is not None:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"Work towards *{kr_id(kr)}*")]))
    blocks += [
        _text_input(Field.TITLE, "Initiative", initial=existing.title if existing else None, placeholder="Redesign the signup flow"),
        _owner(existing.owner if existing else owner),
        _text_input(Field.URL, "Link (issue, PR, epic)", initial=existing.url if existing else None, optional=True, placeholder="https://github.com/acme/app/issues/12", max_length=2000),
    ]
    if existing:
        blocks.append(_select(Field.STATUS, "Status", WORK_STATUSES, initial=existing.status))
    else:
        blocks.append(_text_input(Field.WEIGHT, "Weight on the KR", initial="1", optional=True, max_length=10))
    title = f"Edit {initiative_id(existing.number)}" if existing else "New initiative"
    meta = ModalMeta(number=existing.number if existing else None, kr=kr, channel=channel)
    return _modal(Callback.INITIATIVE_MODAL, title, "Save" if existing else "Create", blocks, meta)


def checkin_modal(kr: KeyResult, *, channel: str | None, fixing: CheckIn | None = None) -> View:
    """A new check-in; with `fixing`, the form that corrects that check-in, filled in."""
    confidence = {str(n): f"{n}/10" for n in range(10, -1, -1)}
    current = fixing.value if fixing is not None else kr.current
    if kr.metric == "boolean":
        value = _select(Field.VALUE, "Is it done?", {"yes": "Yes", "no": "No"}, initial="yes" if (current or 0) >= 1 else "no")
    else:
        now = format_value(kr.current, kr.unit, kr.metric)
        goal = format_value(kr.target, kr.unit, kr.metric)
        typed = format_value(fixing.value, None, kr.metric).rstrip("%") if fixing is not None and fixing.value is not None else None
        value = _text_input(
            Field.VALUE, "New value", initial=typed, optional=False, placeholder=f"now {now}, target {goal}", max_length=40, hint=f"Now {now}; target {goal}."
        )
    chosen = fixing.confidence if fixing is not None else kr.confidence
    blocks: list[Block] = [
        ContextBlock(elements=[MarkdownTextObject(text=f"*{kr_id(kr.number)}* {escape(truncate(kr.title, 2000))}")]),
        value,
        _select(Field.CONFIDENCE, "Confidence we'll hit it", confidence, initial=str(chosen) if chosen is not None else None, optional=True),
        _text_input(
            Field.NOTE, "Note", initial=fixing.note if fixing is not None else None, optional=True, multiline=True,
            placeholder="What changed, what's blocking", max_length=3000,
        ),
    ]
    if fixing is not None:
        when = fixing.at.strftime("%Y-%m-%d %H:%M")
        blocks.insert(1, ContextBlock(elements=[MarkdownTextObject(text=f"Correcting the check-in of {when} UTC by <@{fixing.author}>")]))
        meta = ModalMeta(number=kr.number, channel=channel, checkin=fixing.id)
        return _modal(Callback.CHECKIN_FIX_MODAL, "Fix check-in", "Save", blocks, meta)
    return _modal(Callback.CHECKIN_MODAL, f"Check in {kr_id(kr.number)}", "Check in", blocks, ModalMeta(number=kr.number, channel=channel))


def link_modal(kr: KeyResult, *, channel: str | None) -> View:
    blocks: list[Block] = [
        ContextBlock(elements=[MarkdownTextObject(text=f"Link work to *{kr_id(kr.number)}* {escape(truncate(kr.title, 2000))}")]),
        _text_input(Field.URL, "Initiative id or link", placeholder="I-12 or https://github.com/acme/app/issues/12", max_length=2000),
        _text_input(Field.WEIGHT, "Weight on the KR", initial="1", optional=True, max_length=10),
    ]
    return _modal(Callback.LINK_MODAL, f"Link to {kr_id(kr.number)}", "Link", blocks, ModalMeta(kr=kr.number, channel=channel))


def checkin_any_modal(*, channel: str | None) -> View:
    """The global shortcut "Check in on a KR": the KR is picked in the form."""
    confidence = {str(n): f"{n}/10" for n in range(10, -1, -1)}
    blocks: list[Block] = [
        picker(Field.KR, Picker.KR, "Key result", placeholder="Type KR-3 or words of its title"),
        _text_input(Field.VALUE, "New value", placeholder="42, or yes / no", max_length=40, hint="A number, or yes / no for a yes/no KR."),
        _select(Field.CONFIDENCE, "Confidence we'll hit it", confidence, optional=True),
        _text_input(Field.NOTE, "Note", optional=True, multiline=True, placeholder="What changed, what's blocking", max_length=3000),
    ]
    return _modal(Callback.CHECKIN_ANY_MODAL, "Check in on a KR", "Check in", blocks, ModalMeta(channel=channel))


def grade_modal(number: int, about: str, *, initial: str, channel: str | None) -> View:
    """A KR's grade and retro note; `about` (mrkdwn) says what is graded and what is suggested."""
    blocks: list[Block] = [
        ContextBlock(elements=[MarkdownTextObject(text=about)]),
        _text_input(Field.GRADE, "Grade, 0.0 to 1.0", initial=initial, max_length=10, hint="0.7–1.0 green, 0.4–0.6 yellow, below red."),
        _text_input(Field.NOTE, "Retro note", optional=True, multiline=True, placeholder="What worked, what didn't", max_length=3000),
    ]
    return _modal(Callback.GRADE_MODAL, f"Grade {kr_id(number)}", "Save grade", blocks, ModalMeta(number=number, channel=channel))
