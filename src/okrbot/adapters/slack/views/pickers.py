"""Searchable menus (external selects) for the KR or objective a form asks for."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import ExternalDataSelectElement, InputBlock, Option

from okrbot.services.pickers import Choice
from okrbot.adapters.slack.ids import Field, Picker
from okrbot.adapters.slack.mrkdwn import truncate

OPTION_TEXT_LIMIT = 75  # Slack's limit on an option's text


def picker(field: Field, kind: Picker, label: str, *, placeholder: str, initial: Choice | None = None, optional: bool = False, hint: str | None = None) -> InputBlock:
    element = ExternalDataSelectElement(
        action_id=kind.value,
        placeholder=placeholder,
        min_query_length=0,  # the menu lists the newest before anything is typed
        initial_option=option(initial) if initial else None,
    )
    return InputBlock(block_id=field.value, label=label, element=element, optional=optional, hint=hint)


def option(choice: Choice) -> Option:
    return Option(value=choice.ref, text=truncate(choice.label, OPTION_TEXT_LIMIT))


def options(choices: Sequence[Choice]) -> list[dict]:
    """The block_suggestion answer's options, as Slack wants them."""
    return [option(choice).to_dict() for choice in choices]
