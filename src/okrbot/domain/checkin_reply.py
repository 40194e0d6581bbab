"""Read an owner's plain reply to a review nudge into check-ins.

The caller passes the KRs the owner holds. What is clear becomes items; what
is not becomes a question that says exactly what to type. Nothing ambiguous
is guessed: a wrong check-in is worse than asking.

Answers per KR:
- numeric / percentage: a value (`42`, `42%`, `1,200`, `-3.5`, `4.2k`), or
  `done` (reached target: `done=True`, the caller applies the target).
- boolean: `yes` / `done` → value 1.0 and done=True; `no` → value 0.0.
- milestone: no value (it moves with its initiatives); only `same`, a note
  and a confidence.
- any KR: `same` / `no change` (no_change=True), `7/10` or `confidence 7`,
  and free text after the value as the note.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

VALUE_METRICS = frozenset({"numeric", "percentage"})
NOTHING_OWNED = "You don't own any active KRs right now, so there is nothing to check in."


@dataclass(frozen=True)
class OwnedKr:
    number: int  # the n in KR-n
    metric: str  # "numeric" | "percentage" | "boolean" | "milestone"
    title: str
    direction: str


@dataclass(frozen=True)
class ReplyItem:
    kr: int
    value: float | None = None
    done: bool = False
    no_change: bool = False
    note: str | None = None
    confidence: int | None = None


@dataclass(frozen=True)
class ReplyParse:
    items: tuple[ReplyItem, ...]
    question: str | None  # what to ask back when part of the reply was unclear or empty


# --- reading the words --------------------------------------------------------

_KR_REF = re.compile(r"(?<![\w-])kr\s*[-–]?\s*(\d+)\b", re.IGNORECASE)
_NUMBER = r"[-+]?[$€£]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|[-+]?[$€£]?\.\d+"
_VALUE = re.compile(rf"(?P<number>{_NUMBER})\s*(?P<suffix>k|%)?(?=$|[\s,;!?)]|\.(?:\s|$))", re.IGNORECASE)
_STATUS = re.compile(
    r"(?:(?P<no_change>no\s+changes?|unchanged|same(?:\s+as\s+(?:before|last\s+time))?"
    r"|nothing\s+new|no\s+progress)"
    r"|(?P<done>done|completed?|finished|achieved)"
    r"|(?P<yes>yes|yep|yeah|true)"
    r"|(?P<no>not\s+yet|nope|no|false))"
    r"(?!\w)",
    re.IGNORECASE,
)
_CONFIDENCE = re.compile(
    r"\b(?:confidence|conf)\b\s*[:=]?\s*(?P<said>[-+]?\d+(?:\.\d+)?)(?:\s*/\s*10)?(?![\d/])"
    r"|(?<![\w./-])(?P<out_of_ten>[-+]?\d+(?:\.\d+)?)\s*/\s*10(?![\d/])",
    re.IGNORECASE,
)
_LEAD_FILLER = re.compile(r"^(?:(?:is|at|now|currently)\b|[=:]|->|→)\s*", re.IGNORECASE)
_ANSWER_AHEAD = re.compile(rf"\s*(?:[:=]|{_VALUE.pattern}|{_STATUS.pattern})", re.IGNORECASE)
_JOINER_BEFORE = re.compile(r"(?:^|[,&+]|\band|\balso)\s*$", re.IGNORECASE)
_JOINER_TRAILING = re.compile(r"(?:\s*(?:[,&+]|\band\b|\balso\b))+\s*$", re.IGNORECASE)
_BULLET = re.compile(r"^(?:[-•*◦▪‣>]\s+|\d{1,2}[.)]\s+(?=kr))+", re.IGNORECASE)
_PIECE_BREAK = re.compile(r",(?!\d{3}(?!\d))")  # a comma, but not inside 1,200
_EDGE_DASH = re.compile(r"^[-–—]+\s+|\s+[-–—]+$")  # "KR-3 - 42", but not the sign of -3.5
_PLEASANTRIES = frozenset(
    "thanks thank you thx ty ok okay k cheers great cool sure will do got it np hi hello hey "
    "sounds good perfect nice lgtm noted alright all right 👍 🙏".split()
)


@dataclass(frozen=True)
class _Answer:
    kind: str  # "value" | "done" | "yes" | "no" | "no_change"
    text: str  # as typed, for messages
    value: float | None = None


@dataclass(frozen=True)
class _Entry:
    """One KR's part of a reply, read without knowing the owner's KRs."""

    kr: int | None
    answers: tuple[_Answer, ...] = ()
    confidences: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def says_something(self) -> bool:
        return bool(self.answers or self.confidences)

    @property
    def note(self) -> str | None:
        return "; ".join(self.notes) or None


def _lines(text: str) -> list[str]:
    text = text.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
    text = text.replace("\u2212", "-").replace("\u00a0", " ")
    text = re.sub(r"[*`]", "", text)  # Slack bold and code
    text = re.sub(r"(?<!\w)[_~]|[_~](?!\w)", "", text)  # Slack italic and strike, not snake_case
    lines = [_BULLET.sub("", line.strip()) for line in text.splitlines()]
    return [chunk.strip() for line in lines for chunk in line.split(";") if chunk.strip()]


def _split_entries(chunk: str) -> list[tuple[int | None, str]]:
    """Cut a line at each KR-n that opens an item; a KR-n inside a note stays in the note."""
    starts = [ref for ref in _KR_REF.finditer(chunk) if _opens_entry(chunk, ref)]
    lead = chunk[: starts[0].start()] if starts else chunk
    parts: list[tuple[int | None, str]] = [(None, _trim_joiner(lead))] if lead.strip() else []
    for i, ref in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(chunk)
        parts.append((int(ref.group(1)), _trim_joiner(chunk[ref.end() : end])))
    return parts


def _opens_entry(chunk: str, ref: re.Match[str]) -> bool:
    after_joiner = _JOINER_BEFORE.search(chunk[: ref.start()]) is not None
    return after_joiner or _ANSWER_AHEAD.match(chunk[ref.end() :]) is not None


def _trim_joiner(text: str) -> str:
    return _JOINER_TRAILING.sub("", text).strip()


def _read_entry(kr: int | None, body: str) -> _Entry:
    confidences = tuple(m.group("said") or m.group("out_of_ten") for m in _CONFIDENCE.finditer(body))
    body = _CONFIDENCE.sub(" ", body)
    answers: list[_Answer] = []
    notes: list[str] = []
    pieces = [_tidy(piece) for piece in _PIECE_BREAK.split(body)]
    for index, piece in enumerate(p for p in pieces if p):
        answer, rest = _leading_answer(_strip_lead(piece) if index == 0 else piece)
        # The first piece may carry the value then a note ("42 blocked on legal");
        # later pieces count as a value only when they are nothing else ("42, 45").
        if answer and (index == 0 or not rest):
            answers.append(answer)
            second, after_second = _leading_answer(rest)
            if second and not after_second:
                answers.append(second)
            elif rest:
                notes.append(rest)
        elif piece:
            notes.append(piece)
    return _Entry(kr, tuple(answers), confidences, (", ".join(notes),) if notes else ())


def _tidy(text: str) -> str:
    """Trim separators around a piece; a piece of bare punctuation ("!") says nothing."""
    text = _EDGE_DASH.sub("", text.strip(" \t,;").lstrip(":")).strip(" \t,;")  # keep :emoji:
    return text if re.search(r"\w", text) else ""


def _strip_lead(piece: str) -> str:
    while (found := _LEAD_FILLER.match(piece)) and found.end():
        piece = piece[found.end() :]
    return piece


def _leading_answer(piece: str) -> tuple[_Answer | None, str]:
    status = _STATUS.match(piece)
    if status:
        return _Answer(status.lastgroup or "", status.group()), _rest(piece, status.end())
    value = _VALUE.match(piece)
    if value:
        amount = _number(value.group("number"), value.group("suffix"))
        return _Answer("value", value.group().strip(), amount), _rest(piece, value.end())
    return None, piece


def _rest(piece: str, end: int) -> str:
    return _tidy(piece[end:].lstrip(". "))


def _number(text: str, suffix: str | None) -> float:
    amount = Decimal(re.sub(r"[$€£,]", "", text))  # Decimal keeps 4.2k at exactly 4200
    return float(amount * 1000 if suffix and suffix.lower() == "k" else amount)


def _is_pleasantry(text: str) -> bool:
    words = re.sub(r":[\w+-]+:|[^\w\s👍🙏]", " ", text.lower()).split()
    return all(word in _PLEASANTRIES for word in words)


def _entries(text: str) -> list[_Entry]:
    """Every item in the reply; bare lines after a KR item add to its note and confidence."""
    entries: list[_Entry] = []
    for chunk in _lines(text):
        for kr, body in _split_entries(chunk):
            entry = _read_entry(kr, body)
            if entry.kr is None and not entry.answers:
                if not entry.confidences and _is_pleasantry(entry.note or ""):
                    continue
                if entries and entries[-1].kr is not None:
                    entries[-1] = _continue(entries[-1], entry)
                    continue
            entries.append(entry)
    if any(entry.says_something for entry in entries):
        # A bare note before any item reads as a greeting or heading ("Update:").
        entries = [e for e in entries if e.kr is not None or e.says_something]
    return entries


def _continue(entry: _Entry, more: _Entry) -> _Entry:
    return replace(entry, confidences=entry.confidences + more.confidences, notes=entry.notes + more.notes)


# --- checking against the owner's KRs -----------------------------------------


class _Unclear(Exception):
    """A part of the reply that needs a question instead of an item."""


def parse_checkin_reply(text: str, owned: Sequence[OwnedKr]) -> ReplyParse:
    """Items for what is clear in `text`, and one question for the rest (or a hint if empty)."""
    if not owned:
        return ReplyParse((), NOTHING_OWNED)
    kr_by_number = {kr.number: kr for kr in owned}
    entries = _entries(text)
    questions: list[str] = []
    found: dict[int, tuple[ReplyItem, str]] = {}  # kr → (item, how it was said)
    conflicted: set[int] = set()
    mentioned = {entry.kr for entry in entries if entry.kr is not None}
    for entry in entries:
        try:
            items = _items(entry, owned, kr_by_number, mentioned)
        except _Unclear as unclear:
            questions.append(str(unclear))
            continue
        for item, said in items:
            _merge(found, conflicted, questions, item, said)
    items = tuple(item for kr, (item, _) in found.items() if kr not in conflicted)
    if not items and not questions:
        questions.append(_hint(owned, entries))
    return ReplyParse(items, "\n".join(questions) or None)


def _items(
    entry: _Entry, owned: Sequence[OwnedKr], kr_by_number: dict[int, OwnedKr], mentioned: set[int]
) -> list[tuple[ReplyItem, str]]:
    if entry.kr is not None:
        if entry.kr not in kr_by_number:
            raise _Unclear(
                f"You don't own KR-{entry.kr} — your KRs are {_kr_list(owned)}. "
                f"Reply like {_example(owned[0], _said(entry))}."
            )
        return [_item(entry, kr_by_number[entry.kr])]
    if not entry.says_something:
        raise _Unclear(_hint(owned, [entry]))
    if entry.answers and entry.answers[0].kind == "no_change" and len(entry.answers) == 1:
        return _no_change_for_rest(entry, owned, mentioned)
    kr = _only_candidate(entry, owned)
    return [_item(replace(entry, kr=kr.number), kr)]


def _item(entry: _Entry, kr: OwnedKr) -> tuple[ReplyItem, str]:
    name = f"KR-{kr.number}"
    confidence = _confidence(entry, name)
    if len(entry.answers) > 1:
        first, second = entry.answers[0].text, entry.answers[1].text
        raise _Unclear(_two_answers(name, first, second))
    if not entry.answers:
        if confidence is None:
            raise _Unclear(_ask_for_value(kr, entry.note))
        return ReplyItem(kr.number, note=entry.note, confidence=confidence), f"confidence {confidence}"
    answer = entry.answers[0]
    item = ReplyItem(kr.number, note=entry.note, confidence=confidence)
    return _answered(item, answer, kr), answer.text


def _answered(item: ReplyItem, answer: _Answer, kr: OwnedKr) -> ReplyItem:
    """`item` with the answer applied as this KR's metric reads it."""
    name = f"KR-{kr.number}"
    if answer.kind == "no_change":
        return replace(item, no_change=True)
    if kr.metric == "milestone":
        raise _Unclear(
            f"{name} moves when its initiatives are done, so it takes no value — mark work done with "
            f"`/okr done I-n`, or reply `{name} same` or `{name} 7/10`."
        )
    if kr.metric == "boolean":
        if answer.kind == "value":
            raise _Unclear(f"{name} is a yes/no KR, not a number — reply `{name} yes` or `{name} no`.")
        return replace(item, value=0.0) if answer.kind == "no" else replace(item, value=1.0, done=True)
    if answer.kind in ("yes", "no"):
        raise _Unclear(
            f"{name} takes a number, not “{answer.text}” — reply like {_example(kr)}, "
            f"or `{name} done` if it reached its target."
        )
    if answer.kind == "done":
        return replace(item, done=True)  # reached target; the caller knows the target
    return replace(item, value=answer.value)


def _confidence(entry: _Entry, name: str) -> int | None:
    if len(entry.confidences) > 1:
        said = " and ".join(entry.confidences)
        raise _Unclear(f"{name} got two confidences ({said}) — send one, like `{name} 7/10`.")
    if not entry.confidences:
        return None
    said = entry.confidences[0]
    if not re.fullmatch(r"\+?\d+", said) or not 0 <= int(said) <= 10:
        raise _Unclear(f"Confidence is a whole number from 0 to 10, not {said} — reply like `{name} 7/10`.")
    return int(said)


def _only_candidate(entry: _Entry, owned: Sequence[OwnedKr]) -> OwnedKr:
    """The one KR a reply without KR-n can be about, or a question naming the choices."""
    said = _said(entry)
    kind = entry.answers[0].kind if entry.answers else "confidence"
    if kind == "value":
        candidates = [kr for kr in owned if kr.metric in VALUE_METRICS]
    elif kind in ("yes", "no"):
        candidates = [kr for kr in owned if kr.metric == "boolean"]
    elif kind == "done":
        candidates = [kr for kr in owned if kr.metric != "milestone"]
    else:
        candidates = list(owned)
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise _Unclear(f"None of your KRs takes “{said}” — reply like {_example(owned[0])}.")
    raise _Unclear(
        f"Which KR is {said} for? You own {_kr_list(candidates)} — "
        f"reply like {_example(candidates[0], said)}."
    )


def _no_change_for_rest(
    entry: _Entry, owned: Sequence[OwnedKr], mentioned: set[int]
) -> list[tuple[ReplyItem, str]]:
    """A bare "same" answers the nudge for every KR the reply does not name."""
    rest = [kr for kr in owned if kr.number not in mentioned]
    if entry.confidences and len(rest) > 1:
        confidence = entry.confidences[0]
        raise _Unclear(
            f"Which KR is confidence {confidence} for? You own {_kr_list(rest)} — "
            f"reply like `KR-{rest[0].number} same, {confidence}/10`."
        )
    return [_item(replace(entry, kr=kr.number), kr) for kr in rest]


def _merge(
    found: dict[int, tuple[ReplyItem, str]],
    conflicted: set[int],
    questions: list[str],
    item: ReplyItem,
    said: str,
) -> None:
    """Two lines about one KR combine, unless they disagree."""
    if item.kr in conflicted:
        return
    if item.kr not in found:
        found[item.kr] = (item, said)
        return
    earlier, earlier_said = found[item.kr]
    combined = _combine(earlier, item)
    if combined is None:
        conflicted.add(item.kr)
        questions.append(_two_answers(f"KR-{item.kr}", earlier_said, said))
    else:
        found[item.kr] = (combined, f"{earlier_said}, {said}")


def _combine(first: ReplyItem, second: ReplyItem) -> ReplyItem | None:
    def answer(item: ReplyItem) -> tuple[float | None, bool, bool] | None:
        said = (item.value, item.done, item.no_change)
        return None if said == (None, False, False) else said

    answers = list({a for a in (answer(first), answer(second)) if a is not None})
    confidences = list({c for c in (first.confidence, second.confidence) if c is not None})
    if len(answers) > 1 or len(confidences) > 1:
        return None
    value, done, no_change = answers[0] if answers else (None, False, False)
    notes = [n for n in (first.note, second.note) if n]
    confidence = confidences[0] if confidences else None
    return ReplyItem(first.kr, value, done, no_change, "; ".join(notes) or None, confidence)


# --- words back to the owner --------------------------------------------------


def _two_answers(name: str, first: str, second: str) -> str:
    return f"{name} got two answers ({first} and {second}) — send just one, like `{name} {second}`."


def _said(entry: _Entry) -> str:
    if entry.answers:
        return entry.answers[0].text
    if entry.confidences:
        return f"confidence {entry.confidences[0]}"
    return ""


def _kr_list(krs: Sequence[OwnedKr]) -> str:
    names = [f"KR-{n}" for n in sorted(kr.number for kr in krs)]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


_FITS = {
    "numeric": {"value", "done", "no_change"},
    "percentage": {"value", "done", "no_change"},
    "boolean": {"yes", "no", "done", "no_change"},
    "milestone": {"no_change"},
}
_DEFAULT_EXAMPLE = {"numeric": "42", "percentage": "42%", "boolean": "yes", "milestone": "same"}


def _example_text(kr: OwnedKr, said: str = "") -> str:
    """A reply that would work for this KR, reusing what the owner typed when it fits."""
    answer, rest = _leading_answer(said)
    fits = said.startswith("confidence") or (
        answer is not None and not rest and answer.kind in _FITS.get(kr.metric, set())
    )
    return f"KR-{kr.number} {said if fits else _DEFAULT_EXAMPLE.get(kr.metric, 'same')}"


def _example(kr: OwnedKr, said: str = "") -> str:
    return f"`{_example_text(kr, said)}`"


def _ask_for_value(kr: OwnedKr, note: str | None) -> str:
    name = f"KR-{kr.number}"
    tail = f", {note}" if note else ""
    if kr.metric == "boolean":
        return f"Is {name} done yet? Reply `{name} yes{tail}` or `{name} no{tail}`."
    if kr.metric == "milestone":
        return f"{name} moves with its initiatives — reply `{name} same{tail}`, or a confidence: `{name} 7/10`."
    example = _example_text(kr)
    return f"Where is {name} now? Reply like `{example}{tail}`, or `{name} same{tail}` if nothing moved."


def _hint(owned: Sequence[OwnedKr], entries: list[_Entry]) -> str:
    example = _example_text(owned[0])
    note = next((entry.note for entry in entries if entry.note), None)
    if note:
        same = f"KR-{owned[0].number} same"
        return f"I didn't find a value in that — reply like `{example}, {note}`, or `{same}, {note}`."
    return (
        f"To check in, reply here like `{example}`, `KR-{owned[0].number} same` "
        f"or `{example}, blocked on legal, 7/10` (the last part is your confidence)."
    )
