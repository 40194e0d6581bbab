"""Who a typed `@name` means, among the people of a workspace.

Slack sends `<@U123>` when someone picks a name from its autocomplete, but plain
`@maria` when they type it out. Each person has three names (Slack's `name`,
`profile.display_name`, `profile.real_name`); a typed name means a person when:

1. it equals one of those names, ignoring case, accents and the separators
   people leave out or add (space . _ - '): `@maria.lopez`, `@MariaLopez` and
   `@maría_lopez` all mean "María López";
2. otherwise, and only when nobody matches that way, it equals the first word of
   a display or real name (or the profile's `first_name`): `@maria` means
   "Maria Lopez" when no one is called just "maria".

So a full name always wins over a first name, and two people who both match
at the same step are both returned: the caller asks which one.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

_SEPARATORS = re.compile(r"[\s._\-'’]+")


@dataclass(frozen=True)
class Person:
    """Someone who can own OKRs: active, and not a bot."""

    id: str
    name: str  # Slack's `name` (the old username)
    display_name: str = ""
    real_name: str = ""
    first_name: str = ""

    @property
    def label(self) -> str:
        """How to tell two people apart in a question: their real name, else any name."""
        return self.real_name or self.display_name or self.name


def name_key(text: str) -> str:
    """A name as compared: case folded, accents and separators gone, no leading @."""
    decomposed = unicodedata.normalize("NFKD", text.strip().lstrip("@"))
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _SEPARATORS.sub("", plain.casefold())


def _first_word(text: str) -> str:
    words = text.split()
    return name_key(words[0]) if words else ""


def people_named(typed: str, people: Iterable[Person]) -> list[Person]:
    """Everyone `typed` may mean (see the module's rules), ordered by label."""
    key = name_key(typed)
    if not key:
        return []
    people = list(people)
    found = [p for p in people if key in {name_key(p.name), name_key(p.display_name), name_key(p.real_name)}]
    if not found:
        found = [p for p in people if key in {_first_word(p.display_name), _first_word(p.real_name), name_key(p.first_name)}]
    unique = {person.id: person for person in found}
    return sorted(unique.values(), key=lambda person: (person.label.casefold(), person.id))
