"""Short ids people see and type: O-12, KR-34, I-56 (any case, hyphen optional)."""

from __future__ import annotations

import re

from okrbot.domain.commands import Kind, Ref

_REF = re.compile(r"^(kr|o|i)-?(\d{1,9})$", re.IGNORECASE | re.ASCII)


def parse_ref(text: str) -> Ref | None:
    """`kr34`, `KR-34`, `o-2`, `I7` → Ref; anything else → None."""
    found = _REF.match(text.strip())
    if not found:
        return None
    return Ref(Kind(found.group(1).upper()), int(found.group(2)))


def format_ref(kind: Kind, number: int) -> str:
    return f"{kind.value}-{number}"


def objective_id(number: int) -> str:
    return format_ref(Kind.OBJECTIVE, number)


def kr_id(number: int) -> str:
    return format_ref(Kind.KR, number)


def initiative_id(number: int) -> str:
    return format_ref(Kind.INITIATIVE, number)
