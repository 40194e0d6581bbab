"""Owners' plain replies to a review nudge: what becomes a check-in, and what becomes a question."""

from __future__ import annotations

import pytest

from okrbot.domain.checkin_reply import OwnedKr, ReplyItem, parse_checkin_reply


def numeric(number: int) -> OwnedKr:
    return OwnedKr(number, "numeric", f"Numeric KR {number}", "increase")


def percentage(number: int) -> OwnedKr:
    return OwnedKr(number, "percentage", f"Percentage KR {number}", "increase")


def boolean(number: int) -> OwnedKr:
    return OwnedKr(number, "boolean", f"Yes/no KR {number}", "increase")


def milestone(number: int) -> OwnedKr:
    return OwnedKr(number, "milestone", f"Milestone KR {number}", "increase")


ONE = (numeric(34),)
TWO = (numeric(3), numeric(4))
MIXED = (numeric(1), boolean(2), numeric(3), milestone(5), percentage(34), boolean(35))


def item(kr: int, value: float | None = None, **fields) -> ReplyItem:
    return ReplyItem(kr, value, **fields)


UNDERSTOOD = [
    # a bare value goes to the owner's only KR that takes a value
    ("42", ONE, [item(34, 42.0)]),
    ("42", (numeric(3), boolean(7), milestone(8)), [item(3, 42.0)]),
    ("  42  ", ONE, [item(34, 42.0)]),
    ("is at 42", ONE, [item(34, 42.0)]),
    ("42, blocked on legal", ONE, [item(34, 42.0, note="blocked on legal")]),
    # KR-n in any case, hyphen optional
    ("KR-34 42", MIXED, [item(34, 42.0)]),
    ("kr34 42", MIXED, [item(34, 42.0)]),
    ("Kr 34 42", MIXED, [item(34, 42.0)]),
    ("KR-34:42", MIXED, [item(34, 42.0)]),
    ("KR-34 = 42", MIXED, [item(34, 42.0)]),
    ("KR-34 - 42", MIXED, [item(34, 42.0)]),
    ("KR-34 is now 42.", MIXED, [item(34, 42.0)]),
    # values
    ("KR-34 42%", MIXED, [item(34, 42.0)]),
    ("KR-3 1,200", MIXED, [item(3, 1200.0)]),
    ("KR-3 1,234,567.5", MIXED, [item(3, 1234567.5)]),
    ("KR-3 -3.5", MIXED, [item(3, -3.5)]),
    ("KR-3 −3.5", MIXED, [item(3, -3.5)]),  # typographic minus
    ("KR-3 4.2k", MIXED, [item(3, 4200.0)]),
    ("KR-3 12K", MIXED, [item(3, 12000.0)]),
    ("KR-3 $1,200", MIXED, [item(3, 1200.0)]),
    ("KR-3 0", MIXED, [item(3, 0.0)]),
    # value, note, confidence
    ("KR-34: 42, blocked on legal, 6/10", MIXED, [item(34, 42.0, note="blocked on legal", confidence=6)]),
    ("KR-34 42 blocked on legal", MIXED, [item(34, 42.0, note="blocked on legal")]),
    ("KR-34 42 - blocked on legal", MIXED, [item(34, 42.0, note="blocked on legal")]),
    ("KR-34 42. Blocked on legal.", MIXED, [item(34, 42.0, note="Blocked on legal.")]),
    ("KR-34 42, 6/10, blocked on legal", MIXED, [item(34, 42.0, note="blocked on legal", confidence=6)]),
    ("KR-34 42 confidence 7", MIXED, [item(34, 42.0, confidence=7)]),
    ("KR-34 42, conf: 7", MIXED, [item(34, 42.0, confidence=7)]),
    ("KR-34 42, 10 / 10", MIXED, [item(34, 42.0, confidence=10)]),
    ("KR-34 42, 3 weeks behind plan", MIXED, [item(34, 42.0, note="3 weeks behind plan")]),
    ("KR-3 12, waiting on KR-4 to ship", TWO, [item(3, 12.0, note="waiting on KR-4 to ship")]),
    # confidence alone
    ("KR-3 7/10", MIXED, [item(3, confidence=7)]),
    ("confidence 7", ONE, [item(34, confidence=7)]),
    ("conf 7", ONE, [item(34, confidence=7)]),
    ("7/10", ONE, [item(34, confidence=7)]),
    ("KR-5 6/10", MIXED, [item(5, confidence=6)]),  # milestone KRs still take a confidence
    # done / yes / no
    ("KR-35 done", MIXED, [item(35, 1.0, done=True)]),
    ("KR-35 yes", MIXED, [item(35, 1.0, done=True)]),
    ("KR-35 Yes!", MIXED, [item(35, 1.0, done=True)]),
    ("KR-35 no", MIXED, [item(35, 0.0)]),
    ("KR-35 not yet, legal review on Friday", MIXED, [item(35, 0.0, note="legal review on Friday")]),
    ("KR-3 done", MIXED, [item(3, done=True)]),  # reached target: the caller applies it
    ("KR-3 completed", MIXED, [item(3, done=True)]),
    ("yes", (numeric(3), boolean(7)), [item(7, 1.0, done=True)]),
    ("done", (boolean(7), milestone(8)), [item(7, 1.0, done=True)]),
    # no change
    ("KR-3 no change", MIXED, [item(3, no_change=True)]),
    ("KR-3 same", MIXED, [item(3, no_change=True)]),
    ("KR-3 unchanged, waiting on legal", MIXED, [item(3, no_change=True, note="waiting on legal")]),
    ("KR-5 same", MIXED, [item(5, no_change=True)]),
    ("same", (*TWO, milestone(5)), [item(n, no_change=True) for n in (3, 4, 5)]),
    ("no change, 7/10", ONE, [item(34, no_change=True, confidence=7)]),
    ("KR-3 42\nsame for the rest", TWO, [item(3, 42.0), item(4, no_change=True, note="for the rest")]),
    # several KRs in one message
    (
        "KR-1 40; KR-2 done\nKR-3: 12, hiring slowed",
        MIXED,
        [item(1, 40.0), item(2, 1.0, done=True), item(3, 12.0, note="hiring slowed")],
    ),
    ("KR-1 40 and KR-3 done", MIXED, [item(1, 40.0), item(3, done=True)]),
    ("KR-1 40, KR-3 41", MIXED, [item(1, 40.0), item(3, 41.0)]),
    ("KR-1 40 & KR-3 41", MIXED, [item(1, 40.0), item(3, 41.0)]),
    ("KR-1 40 KR-3 41", MIXED, [item(1, 40.0), item(3, 41.0)]),
    ("KR-1 40, blocked on legal and hiring", MIXED, [item(1, 40.0, note="blocked on legal and hiring")]),
    ("KR-1 40\r\n\r\nKR-3 41\n", MIXED, [item(1, 40.0), item(3, 41.0)]),
    # lines after an item add to its note and confidence
    ("KR-3 12\nhiring slowed, back in May", MIXED, [item(3, 12.0, note="hiring slowed, back in May")]),
    ("KR-3 12\n6/10", MIXED, [item(3, 12.0, confidence=6)]),
    ("KR-3 12\nKR-3 6/10", MIXED, [item(3, 12.0, confidence=6)]),
    # Slack formatting noise
    ("*KR-34*: *42*", MIXED, [item(34, 42.0)]),
    ("_KR-34_ `42`", MIXED, [item(34, 42.0)]),
    ("- KR-1 40\n- KR-3 41", MIXED, [item(1, 40.0), item(3, 41.0)]),
    ("• KR-1 40\n• KR-3 41", MIXED, [item(1, 40.0), item(3, 41.0)]),
    ("* KR-1 40\n1. KR-3 41\n2) KR-35 yes", MIXED, [item(1, 40.0), item(3, 41.0), item(35, 1.0, done=True)]),
    ("&gt; KR-1 40, R&amp;D hiring", MIXED, [item(1, 40.0, note="R&D hiring")]),
    ("KR-1 40, fixing the snake_case names", MIXED, [item(1, 40.0, note="fixing the snake_case names")]),
    # greetings and headings around the items are not notes
    ("Hi!\nKR-1 40\nthanks :pray:", MIXED, [item(1, 40.0)]),
    ("Update:\nKR-1 40", MIXED, [item(1, 40.0)]),
]


@pytest.mark.parametrize(("text", "owned", "expected"), UNDERSTOOD)
def test_understood_replies_become_items_without_a_question(text, owned, expected) -> None:
    parsed = parse_checkin_reply(text, owned)
    assert parsed.items == tuple(expected)
    assert parsed.question is None


ASKED = [
    # a bare value with several KRs that take one: ask, never guess
    ("42", TWO, [], ["Which KR is 42 for? You own KR-3 and KR-4 — reply like `KR-3 42`."]),
    ("42", MIXED, [], ["Which KR is 42 for?", "KR-1, KR-3 and KR-34", "`KR-1 42`"]),
    ("42%", (boolean(2), percentage(3), percentage(4)), [], ["Which KR is 42% for?", "`KR-3 42%`"]),
    ("42", (boolean(7), milestone(8)), [], ["None of your KRs takes “42”", "`KR-7 yes`"]),
    ("done", TWO, [], ["Which KR is done for?", "`KR-3 done`"]),
    ("yes", (boolean(7), boolean(8)), [], ["Which KR is yes for?", "`KR-7 yes`"]),
    ("7/10", TWO, [], ["Which KR is confidence 7 for?", "KR-3 and KR-4"]),
    ("same, 7/10", TWO, [], ["Which KR is confidence 7 for?", "`KR-3 same, 7/10`"]),
    # a KR the owner doesn't own
    ("KR-9 42", TWO, [], ["You don't own KR-9 — your KRs are KR-3 and KR-4. Reply like `KR-3 42`."]),
    ("KR-9 42\nKR-3 41", TWO, [item(3, 41.0)], ["You don't own KR-9"]),
    # no value found
    ("KR-3 blocked on legal", TWO, [], ["Where is KR-3 now?", "`KR-3 42, blocked on legal`", "`KR-3 same"]),
    ("KR-3", TWO, [], ["Where is KR-3 now? Reply like `KR-3 42`"]),
    ("KR-35 waiting on legal", MIXED, [], ["Is KR-35 done yet? Reply `KR-35 yes, waiting on legal`"]),
    ("KR-5 waiting on design", MIXED, [], ["KR-5 moves with its initiatives", "`KR-5 same, waiting on"]),
    ("blocked on legal", TWO, [], ["I didn't find a value in that", "`KR-3 42, blocked on legal`"]),
    ("KR-3 42/100", TWO, [], ["Where is KR-3 now?"]),
    # two values for one KR: neither is kept
    ("KR-3 42 45", TWO, [], ["KR-3 got two answers (42 and 45) — send just one, like `KR-3 45`."]),
    ("KR-3 42, 45", TWO, [], ["KR-3 got two answers (42 and 45)"]),
    ("KR-3 42\nKR-3 45\nKR-4 1", TWO, [item(4, 1.0)], ["KR-3 got two answers (42 and 45)"]),
    ("KR-3 42; KR-3 done", TWO, [], ["KR-3 got two answers (42 and done)"]),
    ("42\n45", ONE, [], ["KR-34 got two answers (42 and 45)"]),
    ("KR-3 42, 7/10, 8/10", TWO, [], ["KR-3 got two confidences (7 and 8)"]),
    ("KR-3 42, 7/10\nKR-3 8/10", TWO, [], ["KR-3 got two answers"]),
    # the wrong kind of answer for the KR
    ("KR-3 yes", MIXED, [], ["KR-3 takes a number, not “yes” — reply like `KR-3 42`, or `KR-3 done`"]),
    ("KR-3 no", MIXED, [], ["KR-3 takes a number, not “no”"]),
    ("KR-35 42", MIXED, [], ["KR-35 is a yes/no KR, not a number — reply `KR-35 yes` or `KR-35 no`."]),
    ("KR-5 42", MIXED, [], ["KR-5 moves when its initiatives are done", "`/okr done I-n`"]),
    ("KR-5 done", MIXED, [], ["KR-5 moves when its initiatives are done"]),
    # confidence out of range
    ("KR-3 42, 11/10", MIXED, [], ["Confidence is a whole number from 0 to 10, not 11", "`KR-3 7/10`"]),
    ("KR-3 42, confidence -1", MIXED, [], ["not -1"]),
    ("KR-3 42, conf 7.5", MIXED, [], ["not 7.5"]),
    # the clear part is kept, the unclear part asked about
    ("KR-1 40\nKR-3 yes\nKR-35 no", MIXED, [item(1, 40.0), item(35, 0.0)], ["KR-3 takes a number"]),
]


@pytest.mark.parametrize(("text", "owned", "expected", "question_says"), ASKED)
def test_unclear_parts_become_a_question_and_no_guess(text, owned, expected, question_says) -> None:
    parsed = parse_checkin_reply(text, owned)
    assert parsed.items == tuple(expected)
    assert parsed.question is not None
    for words in question_says:
        assert words in parsed.question


CHIT_CHAT = ["", "   ", "thanks!", "ok", "Thank you :pray:", "👍", "ok, will do", "- \n• "]


@pytest.mark.parametrize("text", CHIT_CHAT)
def test_chit_chat_gets_a_short_hint(text: str) -> None:
    parsed = parse_checkin_reply(text, TWO)
    assert parsed.items == ()
    assert parsed.question is not None
    assert "`KR-3 42`" in parsed.question and "7/10" in parsed.question
    assert len(parsed.question) < 200


def test_the_hint_uses_an_example_that_fits_the_owners_kr() -> None:
    parsed = parse_checkin_reply("thanks", (boolean(7),))
    assert parsed.question is not None and "`KR-7 yes`" in parsed.question


@pytest.mark.parametrize("text", ["42", "KR-3 42", "thanks"])
def test_an_owner_without_krs_is_told_so(text: str) -> None:
    parsed = parse_checkin_reply(text, ())
    assert parsed.items == ()
    assert parsed.question == "You don't own any active KRs right now, so there is nothing to check in."
