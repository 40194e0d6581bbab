"""A typed @name → one person's id, or a clear question: the step every command that
takes a person goes through. The workspace's people come from a `PeopleDirectory`
(in Slack: a cached users.list, adapters/slack/people.py); the rules are domain/people.py."""

from __future__ import annotations

from typing import Protocol

from okrbot.domain.people import Person
from okrbot.services.errors import Invalid, shown

MOST_LISTED = 10  # a question naming more people than this is no help: ask for more of the name
HOW_TO_NAME = "Type @ and pick them from Slack's list, or give their member ID, like `@U0123ABCD` (their profile → ⋮ → Copy member ID)."


class PeopleDirectory(Protocol):
    def people_named(self, team_id: str, name: str) -> list[Person]:
        """The active, human members of the workspace that `name` may mean."""
        ...


class NoDirectory:
    """Nobody to look up: every typed name is unknown."""

    def people_named(self, team_id: str, name: str) -> list[Person]:
        return []


def person_id(directory: PeopleDirectory, team_id: str, name: str, *, field: str = "owner") -> str:
    """The one person `@name` means; anyone else (nobody, or two people) is a question
    for the person who typed it, and the command changes nothing."""
    found = directory.people_named(team_id, name)
    typed = f"@{shown(name, 40)}"
    if len(found) == 1:
        return found[0].id
    if not found:
        raise Invalid(f"I don't know anyone called {typed} in this workspace.", hint=HOW_TO_NAME, field=field)
    listed = ", ".join(f"<@{person.id}> ({shown(person.label, 40)})" for person in found[:MOST_LISTED])
    more = f" and {len(found) - MOST_LISTED} more" if len(found) > MOST_LISTED else ""
    raise Invalid(
        f"{len(found)} people are called {typed}: {listed}{more}. I changed nothing.",
        hint="Say which one: type the command again with @ and pick them from Slack's list, or give more of the name.",
        field=field,
    )
