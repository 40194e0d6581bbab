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


class PeopleIndex:
    """A workspace's people by the keys of their names, built once per read of the
    directory, so a lookup is two dictionary reads, not a pass over everyone."""

    def __init__(self, people: Iterable[Person] = ()):
        self._by_name: dict[str, dict[str, Person]] = {}
        self._by_first_name: dict[str, dict[str, Person]] = {}
        self.size = 0
        for person in people:
            self.size += 1
            for key in {name_key(person.name), name_key(person.display_name), name_key(person.real_name)} - {""}:
                self._by_name.setdefault(key, {})[person.id] = person
            for key in {_first_word(person.display_name), _first_word(person.real_name), name_key(person.first_name)} - {""}:
                self._by_first_name.setdefault(key, {})[person.id] = person

    def named(self, typed: str) -> list[Person]:
        """Everyone `typed` may mean (see the module's rules), ordered by label."""
        key = name_key(typed)
        found = self._by_name.get(key) or self._by_first_name.get(key) or {}
        return sorted(found.values(), key=lambda person: (person.label.casefold(), person.id))


def people_named(typed: str, people: Iterable[Person]) -> list[Person]:
    return PeopleIndex(people).named(typed)
