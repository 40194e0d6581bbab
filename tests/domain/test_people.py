"""Who a typed @name means (domain/people.py): full names first, then first names."""

from __future__ import annotations

import pytest

from okrbot.domain.people import Person, name_key, people_named

MARIA_LOPEZ = Person("U1", "maria.lopez", display_name="Maria L", real_name="María López")
MARIA_CHEN = Person("U2", "mchen", real_name="Maria Chen", first_name="Maria")
MARIA = Person("U3", "maria", display_name="", real_name="Maria Sanz")
EGON = Person("U4", "spengler", display_name="spengler", real_name="Egon Spengler")
GLINDA = Person("U5", "glinda", display_name="Glinda the Fairly Good", real_name="Glinda Southgood", first_name="Glinda")
JO = Person("U6", "jo", display_name="Jo", real_name="")
EVERYONE = [MARIA_LOPEZ, MARIA_CHEN, EGON, GLINDA, JO]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("spengler", [EGON]),  # Slack's name
        ("SPENGLER", [EGON]),  # any case
        ("@spengler", [EGON]),  # with the @ still on it
        ("glinda_southgood", [GLINDA]),  # the real name in one word
        ("GlindaTheFairlyGood", [GLINDA]),  # the display name in one word
        ("maria.lopez", [MARIA_LOPEZ]),
        ("marialopez", [MARIA_LOPEZ]),  # accents and separators do not count
        ("maría-lópez", [MARIA_LOPEZ]),
        ("egon", [EGON]),  # a first name only one person has
        ("maria", [MARIA_CHEN, MARIA_LOPEZ]),  # a first name two people have: both, by name
        ("jo", [JO]),
        ("chen", []),  # a last name alone is not enough
        ("mar", []),  # nor the start of a name
        ("", []),
        ("@", []),
    ],
)
def test_people_named(typed, expected):
    assert people_named(typed, EVERYONE) == expected


def test_a_full_name_wins_over_first_names():
    # Someone whose name is exactly "maria" is meant, not everyone called Maria something.
    assert people_named("maria", [*EVERYONE, MARIA]) == [MARIA]


def test_two_people_with_the_same_full_name_are_both_returned():
    twin = Person("U9", "spengler2", display_name="spengler", real_name="Janine Spengler")
    assert people_named("spengler", [EGON, twin]) == [EGON, twin]


def test_one_person_matching_several_ways_is_returned_once():
    assert people_named("jo", [JO, JO]) == [JO]


@pytest.mark.parametrize(
    ("text", "key"),
    [("María López", "marialopez"), ("@Jo", "jo"), ("o'brien", "obrien"), ("ÅSA_Öberg", "asaoberg")],
)
def test_name_key(text, key):
    assert name_key(text) == key
