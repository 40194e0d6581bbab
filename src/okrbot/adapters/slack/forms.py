"""Reading modal submissions: every field as text or a choice, every problem tied to its field."""

from __future__ import annotations

import re

from okrbot.domain.ids import parse_ref
from okrbot.domain.commands import Kind
from okrbot.adapters.slack.ids import INPUT_ACTION, Field
from okrbot.services.errors import Invalid

_NUMBER = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?%?$")


class FormErrors(Invalid):
    """Field-level problems, shown under each input by `response_action: errors`
    (an Invalid: the person's input, never logged as a failure of ours)."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


class Form:
    """The submitted state of a modal, read field by field, collecting problems."""

    def __init__(self, view: dict):
        self.values: dict = (view.get("state") or {}).get("values") or {}
        self.errors: dict[str, str] = {}

    def _element(self, field: Field) -> dict:
        block = self.values.get(field.value) or {}
        return block.get(INPUT_ACTION) or next(iter(block.values()), {}) if block else {}

    def text(self, field: Field, *, required: bool = False, label: str = "This") -> str | None:
        value = (self._element(field).get("value") or "").strip()
        if not value:
            if required:
                self.errors[field.value] = f"{label} is required."
            return None
        return value

    def user(self, field: Field) -> str | None:
        return self._element(field).get("selected_user")

    def conversation(self, field: Field) -> str | None:
        element = self._element(field)
        return element.get("selected_conversation") or element.get("selected_channel")

    def choice(self, field: Field) -> str | None:
        selected = self._element(field).get("selected_option")
        return selected.get("value") if selected else None

    def checked(self, field: Field) -> set[str]:
        return {option.get("value") for option in self._element(field).get("selected_options") or []}

    def number(self, field: Field, *, required: bool = False, label: str = "This") -> float | None:
        text = self.text(field, required=required, label=label)
        if text is None:
            return None
        if not _NUMBER.match(text) or text in ("+", "-", ".", "%"):
            self.errors[field.value] = f"“{text}” is not a number. Type digits, e.g. 42 or 99.5."
            return None
        return float(text.replace(",", "").rstrip("%"))

    def ref(self, field: Field, kind: Kind, example: str) -> int | None:
        """An id typed, or picked in a searchable menu (whose option values are ids)."""
        text = self.text(field) or self.choice(field)
        if text is None:
            return None
        ref = parse_ref(text)
        if ref is None or ref.kind is not kind:
            self.errors[field.value] = f"“{text}” is not an id like {example}."
            return None
        return ref.number

    def fail(self, field: Field, message: str) -> None:
        self.errors[field.value] = message

    def raise_if_errors(self) -> None:
        if self.errors:
            raise FormErrors(self.errors)


def errors_for(error: Exception, view: dict, default_field: Field) -> dict[str, str]:
    """A service's error as modal errors: under its field when this modal shows that field
    (Slack refuses errors for blocks it does not have)."""
    shown = {block.get("block_id") for block in view.get("blocks", []) if block.get("type") == "input"}
    field = getattr(error, "field", None)
    return {field if field in shown else default_field.value: str(error)}
