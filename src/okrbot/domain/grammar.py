"""The /okr language: the text after `/okr` → one typed command (SPEC §3).

`parse(text)` returns a command from `domain.commands` or raises `CommandError`,
whose message is the ephemeral reply: what was wrong, quoting the word, and the
right usage. Nothing else ever escapes `parse`, whatever the text.

Reading rules, in one place:

- Words are separated by whitespace; keywords and ids are case-insensitive
  (`KR-34`, `kr34`). Titles and notes go in quotes: straight `"…"` `'…'` or
  typographic `“…”` `‘…’`, mixed within a family (`“Title"`). A quote closes
  at a matching mark followed by a space or the end, so `'Don't stop'` works.
- Users, channels and links arrive escaped by Slack (`<@U1|ana>`, `<#C1|growth>`,
  `<https://x.y|label>`) or raw (`@ana`, `#growth`, `https://x.y`). `&amp; &lt;
  &gt;` are unescaped in text. `<!here>`, `@channel` and friends are not people.
- Numbers: `45`, `-3`, `4.5`, `.5`, `1,200`, and `20%` (the `%` makes the
  metric a percentage). No exponents or k/M suffixes: what you see is the value.
- Aliases: `obj` = objective, `init` = initiative, `check-in` = checkin,
  `serve` = serves. `/okr` alone, or followed directly by a status target or a
  period (`/okr KR-3`, `/okr 2026-Q3`), means `/okr status …`.
- Also understood: the mention question "does <text> serve a KR?" → `Serves`.

The tokeniser and every pattern are linear in the input length, so a 40,000
character paste is answered as fast as a short command.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from enum import Enum
from functools import cache
from typing import Any, NoReturn
from zoneinfo import available_timezones

from okrbot.domain.commands import (
    Archive,
    ChannelRef,
    Carry,
    Chart,
    Checkin,
    CheckinDelete,
    CheckinFix,
    ClosePeriod,
    Commitment,
    Command,
    Direction,
    Done,
    Edit,
    FiscalYear,
    Gaps,
    Grade,
    Help,
    History,
    InitiativeAdd,
    Keep,
    Kind,
    KrAdd,
    Link,
    Metric,
    ObjectiveAdd,
    Ref,
    Reopen,
    ReopenPeriod,
    Report,
    ReportChannel,
    HolidayAction,
    Review,
    ReviewAction,
    ReviewCadence,
    ReviewHolidays,
    ReviewPause,
    ReviewResume,
    ReviewSkipDays,
    Serves,
    Status,
    StatusScope,
    Unlink,
    UserRef,
    WorkRef,
)
from okrbot.domain.commands import ANNOUNCE_MODES, WEBHOOK_TOOLS, ChannelAnnounce, Webhooks
from okrbot.domain.ids import parse_ref
from okrbot.domain.nudge_prefs import PreferenceError, parse_cadence, parse_holiday
from okrbot.domain.periods import MONTHS, month_number, parse_period, period_name
from okrbot.domain.schedule import ScheduleError, clock_of

__all__ = [
    "ALIASES",
    "COMMAND_WORDS",
    "HELP_TEXT",
    "USAGE",
    "CommandError",
    "format_usage",
    "parse",
    "usage_for",
]

# --- usage -----------------------------------------------------------------------

# Lines starting with "/okr" are syntax (shown as code); the others are short notes.
USAGE: dict[str, tuple[str, ...]] = {
    "status": (
        "/okr status [me|@user|#channel|O-n|KR-n|all] [period]",
        "/okr status I-n|<url>",
        "Alone, /okr shows your OKRs (a team channel's in a team channel);"
        " a target or period right after /okr means the same as with status."
        " With I-n or the link of linked work: that work and every KR it serves.",
    ),
    "help": ("/okr help [command]",),
    "objective": (
        '/okr objective add "Title" [owner @user] [team #channel] [period 2026-Q4] [parent O-n] [private]',
        "/okr objective add",
        "With no arguments it opens a form. Options come after the title, in any order. obj = objective.",
    ),
    "kr": (
        '/okr kr add O-n "Title" from 45 to 25 [unit] [owner @user]',
        '/okr kr add O-n "Title" yes/no [owner @user]',
        '/okr kr add O-n "Title" by initiatives [owner @user]',
        '/okr kr add O-n "Title" keep above 99.9 [unit]',
        '/okr kr add O-n "Title" keep below 200 [unit]',
        "Unit % (or from 20% to 40%) makes a percentage KR. Every kr add also takes"
        " [owner @user] [weight N]. Numbers: 45, -3, 4.5, 1,200, 20%.",
        "Add committed (expected to reach 1.0) or aspirational (0.7 is success) to say what the KR aims for.",
    ),
    "initiative": (
        '/okr initiative add KR-n "Title" [owner @user] [url https://…] [weight 2]',
        "init = initiative.",
    ),
    "link": ("/okr link I-n|<url> KR-n [weight 2]",),
    "unlink": ("/okr unlink I-n|<url> KR-n",),
    "done": ("/okr done I-n|<url>",),
    "reopen": ("/okr reopen I-n|<url>",),
    "checkin": (
        '/okr checkin KR-n <value> [confidence 7] ["note"]',
        "The value is a number, or yes/no for a yes/no KR. Confidence is 0 to 10"
        " (also conf 7 or 7/10). The note may go without quotes at the end. check-in = checkin.",
        '/okr checkin fix KR-n <value> [confidence 7] ["note"]',
        "/okr checkin delete KR-n",
        "fix and delete act on your latest check-in of that KR, while its period is open.",
    ),
    "serves": ("/okr serves <free text>", "serve = serves."),
    "gaps": ("/okr gaps [period]", "/okr gaps next", "next: the drafts for the coming period, with the planning checks too."),
    "review": (
        '/okr review now|status|off|schedule "<when>" [tz Area/City]',
        "The when may also go without quotes, as in: review schedule first Monday 10:00 tz Europe/Paris.",
        "/okr review cadence O-n weekly|every 2 weeks|monthly|default",
        "/okr review pause until 2027-01-05",
        "/okr review resume",
        "/okr review holidays [add|remove 2026-12-24..2027-01-01]",
        "cadence: how often that objective's KR owners are nudged (its owner or an admin; default: the workspace's schedule)."
        " pause: no review DMs for you before that day. holidays (admins add and remove): reviews falling on one"
        " move to the next working day. An owner whose KRs were all checked in recently is not nudged"
        " (/okr settings review-skip-days).",
    ),
    "edit": ("/okr edit O-n|KR-n|I-n",),
    "archive": ("/okr archive O-n",),
    "history": ("/okr history KR-n",),
    "chart": ("/okr chart KR-n|O-n", "A KR's check-ins against the expected pace, or an objective's KRs side by side, as a picture."),
    "settings": (
        "/okr settings fiscal-year starts <month>",
        "/okr settings report-channel #channel",
        "/okr settings review-skip-days <0-60>",
        "/okr settings",
        "Admins set the month the fiscal year starts in; periods are then named like FY2027-Q1"
        " (FY2027 is the fiscal year that ends in 2027). January means calendar quarters."
        " The report channel gets the company scorecard when a period closes."
        " review-skip-days: an owner whose KRs were all checked in within that many days is not nudged (default 5, 0: never skip).",
    ),
    "grade": (
        '/okr grade KR-n <0.0-1.0> ["note"]',
        "The end-of-period grade, 0.7 to 1.0 is green; the note says what worked and what didn't.",
    ),
    "close": ("/okr close <period>", "Admins only: grades what is ungraded with its suggested grade and freezes the period."),
    "reopen-period": ("/okr reopen-period <period>", "Admins only: edits and check-ins are accepted again."),
    "carry": (
        "/okr carry O-n [KR-a KR-b …] [to <period>]",
        "A new objective in the next period (or the one named) with the KRs listed, or the unfinished ones:"
        " same owner, team and alignment, starting where they ended; open work is linked again, check-ins stay behind.",
    ),
    "report": (
        "/okr report [period] [#channel]",
        "A period's scorecard: a team's (the channel's, or the one named), or every team's for admins.",
    ),
    "webhooks": (
        "/okr webhooks",
        "/okr webhooks rotate github|gitlab|jira|linear|work|metric",
        "/okr webhooks secret linear <the signing secret Linear shows>",
        "Admins only: this workspace's webhook URLs and secrets, shown only to you; rotate gives one tool a new"
        " secret; secret keeps the one a tool made itself (Linear makes its own).",
    ),
    "channel": (
        "/okr channel announce every|thread|daily [17:00]",
        "/okr channel announce",
        "Typed in a team channel: how its progress is announced. every: each change (the default);"
        " thread: one thread per objective per week; daily: one digest a day at the hour given"
        " (17:00 when none; workspace time zone). Admins and the owners of the channel's objectives"
        " may change it; alone it shows the channel's mode.",
    ),
}

COMMAND_WORDS: tuple[str, ...] = tuple(USAGE)
ALIASES: dict[str, str] = {"obj": "objective", "init": "initiative", "check-in": "checkin", "serve": "serves"}
_COMMANDS: dict[str, str] = {word: word for word in COMMAND_WORDS} | ALIASES


def format_usage(lines: Iterable[str]) -> str:
    """Usage lines as Slack mrkdwn: syntax as code, notes as plain text."""
    return "\n".join(f"`{line}`" if line.startswith("/okr") else line for line in lines)


def usage_for(word: str) -> str:
    """The usage of one command (any case, aliases too) as Slack text; HELP_TEXT for others."""
    canonical = _COMMANDS.get(word.strip().lower())
    return format_usage(USAGE[canonical]) if canonical else HELP_TEXT


HELP_TEXT: str = "\n".join(
    [
        "*okrbot* keeps your OKRs next to the work. Ids look like O-12, KR-34, I-56"
        " (any case, hyphen optional); titles go in quotes.",
        *(format_usage(lines) for lines in USAGE.values()),
    ]
)


def _syntax_lines(word: str) -> str:
    return "\n".join(USAGE[word])


def _overview() -> str:
    """The first syntax line of every command, for input that names none."""
    return "\n".join(lines[0] for lines in USAGE.values())


class CommandError(Exception):
    """Text that is not a valid command. str() is the ephemeral reply."""

    def __init__(self, problem: str, usage: str, suggestion: str | None = None) -> None:
        super().__init__(problem, usage, suggestion)
        self.problem = problem
        self.usage = usage
        self.suggestion = suggestion

    def __str__(self) -> str:
        head = f"{self.problem} {self.suggestion}" if self.suggestion else self.problem
        lines = self.usage.splitlines()
        label = "Usage: " if len(lines) == 1 else "Usage:\n"
        return f"{head}\n{label}{format_usage(lines)}"


# --- tokens ------------------------------------------------------------------------


class _Kind(Enum):
    WORD = "word"
    QUOTED = "quoted"
    USER = "user"
    CHANNEL = "channel"
    LINK = "link"
    SPECIAL = "special"  # <!here>, @channel: a mention that is not a person


@dataclass(frozen=True)
class _Token:
    kind: _Kind
    text: str  # readable: quotes removed, entities unescaped, mentions as @name
    start: int  # span in the source, so free text keeps the user's own wording
    end: int
    user: UserRef | None = None
    channel: ChannelRef | None = None
    url: str | None = None

    @property
    def word(self) -> str | None:
        """The lower-cased keyword; None for anything but a plain word."""
        return self.text.lower() if self.kind is _Kind.WORD else None

    @property
    def shown(self) -> str:
        return f'"{self.text}"' if self.kind is _Kind.QUOTED else self.text


class _Malformed(Exception):
    """A quote that never closes; parse() adds the usage."""


_SPACE = re.compile(r"\s*")
_WORD = re.compile(r"\S+")
# Every part stops at "<", so a scan that fails never runs past the next escape.
_ESCAPE = re.compile(r"<([@#!]?)([^<>|\s]+)(?:\|([^<>]*))?>")
_ENTITY = re.compile(r"&(amp|lt|gt);")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">"}
_URL = re.compile(r"https?://\S+", re.IGNORECASE)
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")
_CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{2,}")
_SPECIAL_NAMES = frozenset({"here", "channel", "everyone"})
_DOUBLE = "\"“”„"
_SINGLE = "'‘’‚"
_QUOTES = _DOUBLE + _SINGLE
_CLOSER = {family: re.compile(f"[{family}](?=\\s|\\Z)") for family in (_DOUBLE, _SINGLE)}


def _unescape(text: str) -> str:
    if "&" not in text:
        return text
    return _ENTITY.sub(lambda found: _ENTITIES[found.group(1)], text)


def _render_escape(found: re.Match[str]) -> str:
    sigil, target, label = found.groups()
    if sigil in ("@", "#"):
        return sigil + (label or target)
    if sigil == "!":
        return label or f"@{target.split('^')[0]}"
    if ":" in target:  # a link such as <https://x.y|label> or <mailto:…>
        return _unescape(target)
    return found.group(0)  # not a Slack escape: keep what was typed


def _plain(text: str) -> str:
    """Free text as a person reads it: escapes rendered, entities unescaped."""
    return _unescape(_ESCAPE.sub(_render_escape, text))


def _looks_like_id(name: str, pattern: re.Pattern[str]) -> bool:
    # Slack ids always carry digits; this keeps @WALDO a name.
    return bool(pattern.fullmatch(name)) and any(char.isdigit() for char in name)


class _NextCloser:
    """Finds the next closing quote of one family. The last answer is reused, so
    a text full of unclosed quotes is still scanned once (linear time)."""

    def __init__(self, text: str, pattern: re.Pattern[str]) -> None:
        self._text = text
        self._pattern = pattern
        self._searched_from: int | None = None
        self._found = -1

    def after(self, pos: int) -> int:
        cached = self._searched_from
        if cached is not None and cached <= pos and (self._found == -1 or pos <= self._found):
            return self._found
        found = self._pattern.search(self._text, pos)
        self._searched_from, self._found = pos, found.start() if found else -1
        return self._found


def _tokenize(text: str) -> list[_Token]:
    closers = {family: _NextCloser(text, pattern) for family, pattern in _CLOSER.items()}
    tokens: list[_Token] = []
    pos = _SPACE.match(text).end()
    while pos < len(text):
        token = _escape_at(text, pos) or _quoted_at(text, pos, closers) or _word_at(text, pos)
        tokens.append(token)
        pos = _SPACE.match(text, token.end).end()
    return tokens


def _escape_at(text: str, pos: int) -> _Token | None:
    found = _ESCAPE.match(text, pos) if text[pos] == "<" else None
    if found is None:
        return None
    sigil, target, label = found.groups()
    span = (found.start(), found.end())
    if sigil == "@":
        return _Token(_Kind.USER, f"@{label or target}", *span, user=UserRef(id=target))
    if sigil == "#":
        return _Token(_Kind.CHANNEL, f"#{label or target}", *span, channel=ChannelRef(id=target))
    if sigil == "!":
        return _Token(_Kind.SPECIAL, _render_escape(found), *span)
    url = _unescape(target)
    if _URL.fullmatch(url):
        return _Token(_Kind.LINK, url, *span, url=url)
    return None


def _quoted_at(text: str, pos: int, closers: dict[str, _NextCloser]) -> _Token | None:
    if text[pos] not in _QUOTES:
        return None
    family = _DOUBLE if text[pos] in _DOUBLE else _SINGLE
    close = closers[family].after(pos + 1)
    if close == -1:
        if family == _SINGLE:
            return None  # an apostrophe ('90s), not a quote: read it as a word
        words = text[pos + 1 :].split()
        after = f" before {_code(words[0])}" if words else ""
        raise _Malformed(f"The quote{after} is never closed; end the text with another quote.")
    return _Token(_Kind.QUOTED, _plain(text[pos + 1 : close]), pos, close + 1)


def _word_at(text: str, pos: int) -> _Token:
    found = _WORD.match(text, pos)
    raw, end = found.group(), found.end()
    word = _unescape(raw)
    if word[0] not in "@#hH":  # the common case: a plain word
        return _Token(_Kind.WORD, word, pos, end)
    name = word[1:]
    if word[0] == "@" and name:
        if name.lower() in _SPECIAL_NAMES:
            return _Token(_Kind.SPECIAL, word, pos, end)
        user = UserRef(id=name) if _looks_like_id(name, _USER_ID) else UserRef(name=name)
        return _Token(_Kind.USER, word, pos, end, user=user)
    if word[0] == "#" and name:
        channel = ChannelRef(id=name) if _looks_like_id(name, _CHANNEL_ID) else ChannelRef(name=name)
        return _Token(_Kind.CHANNEL, word, pos, end, channel=channel)
    if _URL.fullmatch(word):
        return _Token(_Kind.LINK, word, pos, end, url=word)
    return _Token(_Kind.WORD, word, pos, end)


# --- values ------------------------------------------------------------------------

_NUMBER = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|[+-]?\.\d+", re.ASCII)
_NUMERIC_ISH = re.compile(r"[+-]?[\d.,]+(?:/\d+)?%?", re.ASCII)
_CONFIDENCE = re.compile(r"(\d{1,3})(?:/10)?", re.ASCII)
_OUT_OF_TEN = re.compile(r"\d{1,3}/10", re.ASCII)
_KIND_NAMES = {
    Kind.OBJECTIVE: ("an objective", "O-3"),
    Kind.KR: ("a key result", "KR-3"),
    Kind.INITIATIVE: ("an initiative", "I-3"),
}
_TRUE = frozenset({"yes", "true", "done"})
_FALSE = frozenset({"no", "false"})
_PERCENT_UNITS = frozenset({"%", "percent", "pct"})


def _code(text: str) -> str:
    """`text` for a reply: one short line, without backticks that would end the code."""
    flat = " ".join(text.split()).replace("`", "'")
    return f"`{flat[:39]}…`" if len(flat) > 40 else f"`{flat}`"


def _number(token: _Token | None) -> tuple[float, bool] | None:
    """(value, had a % sign) for a plain number word; None for anything else."""
    if token is None or token.kind is not _Kind.WORD:
        return None
    text = token.text
    percent = text.endswith("%")
    digits = text[:-1] if percent else text
    if not _NUMBER.fullmatch(digits):
        return None
    value = float(digits.replace(",", ""))
    return (value, percent) if math.isfinite(value) else None


def _ref(token: _Token | None) -> Ref | None:
    # ASCII only: parse_ref's case-folding lets "K" (Kelvin sign) through and then fails.
    if token is None or token.kind is not _Kind.WORD or not token.text.isascii():
        return None
    return parse_ref(token.text)


def _period(text: str) -> str | None:
    period = parse_period(text) if text.isascii() else None
    return period_name(text) if period and period.year >= 1000 else None


def _closest(word: str | None, candidates: Iterable[str]) -> str | None:
    if not word or len(word) > 40:
        return None
    found = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return found[0] if found else None


@cache
def _timezones() -> dict[str, str]:
    """IANA names by lower-cased name; read once, the zone database does not change."""
    return {name.lower(): name for name in available_timezones()}


# --- the reader -----------------------------------------------------------------------


class _Reader:
    """Walks the tokens of one command; every failure carries that command's usage."""

    def __init__(self, command: str, tokens: list[_Token], source: str, pos: int = 1) -> None:
        self.command = command
        self.tokens = tokens
        self.source = source
        self.pos = pos

    def peek(self, ahead: int = 0) -> _Token | None:
        index = self.pos + ahead
        return self.tokens[index] if index < len(self.tokens) else None

    def take(self) -> _Token | None:
        token = self.peek()
        if token is not None:
            self.pos += 1
        return token

    def at_end(self) -> bool:
        return self.pos >= len(self.tokens)

    def fail(self, problem: str, suggestion: str | None = None) -> NoReturn:
        raise CommandError(problem, _syntax_lines(self.command), suggestion)

    def take_word(self, *words: str) -> str | None:
        token = self.peek()
        if token is not None and token.word in words:
            self.pos += 1
            return token.word
        return None

    def finish(self) -> None:
        token = self.peek()
        if token is not None:
            self.fail(f"I don't understand {_code(token.shown)} here.")

    def unexpected(self, token: _Token, keywords: Iterable[str]) -> NoReturn:
        """An unknown word where options go: suggest the option it most likely meant."""
        keywords = list(keywords)
        by_kind = {_Kind.USER: "owner", _Kind.CHANNEL: "team", _Kind.LINK: "url"}
        suggestion = None
        if by_kind.get(token.kind) in keywords:
            suggestion = f"Did you mean {_code(f'{by_kind[token.kind]} {token.text}')}?"
        elif "period" in keywords and _period(token.text):
            suggestion = f"Did you mean {_code(f'period {token.text}')}?"
        elif close := _closest(token.word, keywords):
            suggestion = f"Did you mean {_code(close)}?"
        self.fail(f"I don't understand {_code(token.shown)} here.", suggestion)

    def expect_sub(self, sub: str) -> None:
        token = self.take()
        if token is None:
            self.fail(f"{_code(self.command)} needs {_code(sub)} after it.")
        if token.word != sub:
            hint = f"Did you mean {_code(f'/okr {self.command} {sub}')}?"
            self.fail(f"I don't know {_code(f'{self.command} {token.shown}')}.", hint)

    def expect_ref(self, role: str, *kinds: Kind, also: str = "") -> Ref:
        """An id of one of `kinds`; a wrong kind is named (`O-3` is an objective)."""
        if len(kinds) == 1:
            wanted = f"{_KIND_NAMES[kinds[0]][0]} id like {_KIND_NAMES[kinds[0]][1]}{also}"
        else:
            wanted = "an id like " + ", ".join(_KIND_NAMES[kind][1] for kind in kinds)
        token = self.take()
        if token is None:
            self.fail(f"{role} needs {wanted}.")
        ref = _ref(token)
        if ref is None:
            self.fail(f"{role} needs {wanted}, not {_code(token.shown)}.")
        if ref.kind not in kinds:
            self.fail(f"{role} needs {wanted}; {_code(token.text)} is {_KIND_NAMES[ref.kind][0]}.")
        return ref

    def expect_title(self, role: str) -> str:
        token = self.take()
        if token is None:
            self.fail(f'{role} needs a title in quotes, like "Grow revenue".')
        if token.kind is not _Kind.QUOTED:
            self.fail(f"{role} needs a title in quotes; found {_code(token.shown)} instead.")
        title = " ".join(token.text.split())
        if not title:
            self.fail(f"The title of {role} is empty.")
        return title

    def expect_number(self, role: str) -> tuple[float, bool]:
        token = self.take()
        found = _number(token)
        if token is None:
            self.fail(f"{role} needs a number.")
        if found is None:
            self.fail(f"{role} needs a number; {_code(token.shown)} is not one.")
        return found

    def take_period(self) -> str | None:
        """A period in one word (2026-Q4) or two (Q4 2026)."""
        first, second = self.peek(), self.peek(1)
        if first is None or first.kind is not _Kind.WORD:
            return None
        if second is not None and second.kind is _Kind.WORD and len(first.text) <= 6:
            # Two words first: `FY2027 Q1` is one quarter, not the year FY2027 and a stray word.
            if period := _period(f"{first.text} {second.text}"):
                self.pos += 2
                return period
        if period := _period(first.text):
            self.pos += 1
            return period
        return None

    def span_text(self, first: int, last: int) -> str:
        """The source between two tokens, rendered: free text keeps its own wording."""
        if first >= last:
            return ""
        tokens = self.tokens[first:last]
        if len(tokens) == 1 and tokens[0].kind is _Kind.QUOTED:
            return tokens[0].text.strip()
        return _plain(self.source[tokens[0].start : tokens[-1].end]).strip()


# --- options -------------------------------------------------------------------------

_OptionReader = Callable[[_Reader, _Token], Any]


@dataclass(frozen=True)
class _Option:
    slot: str  # the command field it fills; two keywords may share one (from/keep)
    read: _OptionReader


def _read_options(reader: _Reader, options: dict[str, _Option]) -> dict[str, Any]:
    """Keyword options in any order, each at most once."""
    found: dict[str, Any] = {}
    while (token := reader.take()) is not None:
        option = options.get(token.word or "")
        if option is None:
            reader.unexpected(token, options)
        if option.slot == "measure" and "measure" in found:
            reader.fail(
                f"{_code(token.text)} measures the KR a second time;"
                " use only one of from … to, yes/no, by initiatives or keep above/below."
            )
        if option.slot in found:
            reader.fail(f"{_code(token.text)} is given twice.")
        found[option.slot] = option.read(reader, token)
    return found


def _user_value(reader: _Reader, key: _Token) -> UserRef:
    token = reader.take()
    if token is not None and token.kind is _Kind.USER:
        return token.user
    if token is not None and token.kind is _Kind.SPECIAL:
        reader.fail(f"{_code(token.text)} is not a person; name someone, like @ana.")
    found = f", not {_code(token.shown)}" if token else ""
    reader.fail(f"{_code(key.text)} needs a person, like @ana{found}.")


def _channel_value(reader: _Reader, key: _Token) -> ChannelRef:
    token = reader.take()
    if token is not None and token.kind is _Kind.CHANNEL:
        return token.channel
    found = f", not {_code(token.shown)}" if token else ""
    reader.fail(f"{_code(key.text)} needs a channel, like #growth{found}.")


def _period_value(reader: _Reader, key: _Token) -> str:
    period = reader.take_period()
    if period is None:
        token = reader.peek()
        found = f", not {_code(token.shown)}" if token else ""
        reader.fail(f"{_code(key.text)} needs a period, like 2026-Q4{found}.")
    return period


def _parent_value(reader: _Reader, key: _Token) -> int:
    return reader.expect_ref(_code(key.text), Kind.OBJECTIVE).number


def _url_value(reader: _Reader, key: _Token) -> str:
    token = reader.take()
    if token is not None and token.kind is _Kind.LINK:
        return token.url
    found = f", not {_code(token.shown)}" if token else ""
    reader.fail(f"{_code(key.text)} needs a link, like https://github.com/acme/app/issues/12{found}.")


def _weight_value(reader: _Reader, key: _Token) -> float:
    value = reader.peek()
    weight, percent = reader.expect_number(_code(key.text))
    if percent or weight <= 0:
        reader.fail(f"The weight must be above 0, like {_code('weight 2')}; not {_code(value.text)}.")
    return weight


def _flag(reader: _Reader, key: _Token) -> bool:
    return True


_OWNER = _Option("owner", _user_value)
_WEIGHT = _Option("weight", _weight_value)


# --- commands ------------------------------------------------------------------------


def _status(reader: _Reader) -> Status:
    period: str | None = None
    target: dict[str, Any] | None = None
    while (token := reader.peek()) is not None:
        if (found := reader.take_period()) is not None:
            period = _only_once(reader, period, found, token)
        elif token.word == "next" and reader.take():
            period = _only_once(reader, period, "next", token)  # the coming period's drafts
        else:
            target = _only_once(reader, target, _status_target(reader), token)
    if period is not None and target and target["scope"] is StatusScope.WORK:
        reader.fail(f"The status of {target['work']} is shown as it is now; leave out {_code(period)}.")
    return Status(period=period, **(target or {}))


def _only_once(reader: _Reader, earlier: Any, value: Any, token: _Token) -> Any:
    if earlier is not None:
        reader.fail(f"{_code(token.shown)} is one too many; give at most one target and one period.")
    return value


def _status_target(reader: _Reader) -> dict[str, Any]:
    token = reader.take()
    if token.word in ("me", "all"):
        return {"scope": StatusScope(token.word)}
    if token.kind is _Kind.USER:
        return {"scope": StatusScope.USER, "user": token.user}
    if token.kind is _Kind.CHANNEL:
        return {"scope": StatusScope.CHANNEL, "channel": token.channel}
    if token.kind is _Kind.SPECIAL:
        reader.fail(f"{_code(token.text)} is not a person; name someone, like @ana.")
    if token.kind is _Kind.LINK:
        return {"scope": StatusScope.WORK, "work": WorkRef(url=token.url)}
    ref = _ref(token)
    if ref is not None and ref.kind is Kind.INITIATIVE:
        return {"scope": StatusScope.WORK, "work": WorkRef(initiative=ref.number)}
    if ref is not None:
        scope = StatusScope.OBJECTIVE if ref.kind is Kind.OBJECTIVE else StatusScope.KR
        return {"scope": scope, "ref": ref}
    reader.unexpected(token, ["me", "all"])


def _is_status_start(token: _Token, reader: _Reader) -> bool:
    """`/okr KR-3`, `/okr @ana`, `/okr 2026-Q3`: a target or period needs no `status`."""
    plain_target = token.word in ("me", "all") or _ref(token) is not None
    return token.kind in (_Kind.USER, _Kind.CHANNEL) or plain_target or reader.take_period() is not None


def _help(reader: _Reader) -> Help:
    token = reader.take()
    if token is None:
        return Help()
    topic = _COMMANDS.get(token.word or "")
    if topic is None:
        close = _closest(token.word, _COMMANDS)
        hint = f"Did you mean {_code(f'/okr help {_COMMANDS[close]}')}?" if close else None
        reader.fail(f"There is no help for {_code(token.shown)}.", hint)
    if topic in ("objective", "kr", "initiative"):
        reader.take_word("add")  # "help kr add" reads naturally
    return Help(topic)


_OBJECTIVE_OPTIONS = {
    "owner": _OWNER,
    "team": _Option("team", _channel_value),
    "period": _Option("period", _period_value),
    "parent": _Option("parent", _parent_value),
    "private": _Option("private", _flag),
}


def _objective(reader: _Reader) -> ObjectiveAdd:
    reader.expect_sub("add")
    if reader.at_end():
        return ObjectiveAdd()  # no arguments: the create modal
    title = reader.expect_title(_code("objective add"))
    return ObjectiveAdd(title=title, **_read_options(reader, _OBJECTIVE_OPTIONS))


def _unit(reader: _Reader, percent: bool) -> str | None:
    """The optional one-word (or quoted) unit after a number; % wins and must agree."""
    token = reader.peek()
    unit = None
    is_word = token is not None and token.kind in (_Kind.WORD, _Kind.QUOTED)
    if is_word and token.word not in _KR_OPTIONS and _number(token) is None:
        reader.take()
        unit = " ".join(token.text.split()) or None
        unit = "%" if unit and unit.lower() in _PERCENT_UNITS else unit
    if percent and unit not in (None, "%"):
        reader.fail(f"The numbers are percentages, so the unit cannot be {_code(token.shown)}.")
    return "%" if percent else unit


def _from_to(reader: _Reader, key: _Token) -> dict[str, Any]:
    start_token = reader.peek()
    start, start_percent = reader.expect_number(_code(key.text))
    if not reader.take_word("to"):
        after = reader.peek()
        found = f"; found {_code(after.shown)}" if after else ""
        said = _code(f"{key.text} {start_token.text}")
        reader.fail(f"{said} needs {_code('to')} and a target, like {_code('from 45 to 25')}{found}.")
    target, target_percent = reader.expect_number(_code("to"))
    if target == start:
        reader.fail(
            f"The KR starts and ends at {_code(start_token.text)}, so there is nothing to move.",
            f"To hold a level, use {_code(f'keep above {start_token.text}')}.",
        )
    unit = _unit(reader, start_percent or target_percent)
    return {
        "metric": Metric.PERCENTAGE if unit == "%" else Metric.NUMERIC,
        "direction": Direction.DECREASE if target < start else Direction.INCREASE,
        "start": start,
        "target": target,
        "unit": unit,
    }


def _keep(reader: _Reader, key: _Token) -> dict[str, Any]:
    side = reader.take_word("above", "below")
    if side is None:
        token = reader.peek()
        close = _closest(token.word if token else None, ["above", "below"])
        hint = f"Did you mean {_code(f'keep {close}')}?" if close else None
        found = f", not {_code(token.shown)}" if token else ""
        reader.fail(f"{_code(key.text)} needs {_code('above')} or {_code('below')}{found}.", hint)
    threshold, percent = reader.expect_number(_code(f"keep {side}"))
    unit = _unit(reader, percent)
    return {
        "metric": Metric.PERCENTAGE if unit == "%" else Metric.NUMERIC,
        "direction": Direction.MAINTAIN,
        "keep": Keep(side),
        "target": threshold,
        "unit": unit,
    }


def _yes_no(reader: _Reader, key: _Token) -> dict[str, Any]:
    return {"metric": Metric.BOOLEAN, "direction": Direction.INCREASE, "start": 0.0, "target": 1.0}


def _by_initiatives(reader: _Reader, key: _Token) -> dict[str, Any]:
    if not reader.take_word("initiatives", "initiative"):
        token = reader.peek()
        found = f", not {_code(token.shown)}" if token else ""
        reader.fail(f"{_code(key.text)} needs {_code('initiatives')}, as in `by initiatives`{found}.")
    # Progress comes from linked initiatives only, so there is no start or target.
    return {"metric": Metric.MILESTONE, "direction": Direction.INCREASE}


_MEASURE_WORDS = {"from": _from_to, "keep": _keep, "by": _by_initiatives}
_MEASURE_WORDS |= {word: _yes_no for word in ("yes/no", "yes-no", "yesno", "boolean")}
_KR_OPTIONS = {word: _Option("measure", read) for word, read in _MEASURE_WORDS.items()}
_KR_OPTIONS |= {"owner": _OWNER, "weight": _WEIGHT}
_KR_OPTIONS |= {word.value: _Option("commitment", lambda reader, key: Commitment(key.word)) for word in Commitment}


def _kr(reader: _Reader) -> KrAdd:
    reader.expect_sub("add")
    objective = reader.expect_ref(_code("kr add"), Kind.OBJECTIVE).number
    title = reader.expect_title(_code("kr add"))
    options = _read_options(reader, _KR_OPTIONS)
    measure = options.pop("measure", None)
    if measure is None:
        reader.fail(
            "Say how the KR is measured: from 45 to 25, yes/no, by initiatives, or keep above 99.9."
        )
    return KrAdd(objective=objective, title=title, **measure, **options)


def _initiative(reader: _Reader) -> InitiativeAdd:
    reader.expect_sub("add")
    kr = reader.expect_ref(_code("initiative add"), Kind.KR).number
    title = reader.expect_title(_code("initiative add"))
    options = {"owner": _OWNER, "url": _Option("url", _url_value), "weight": _WEIGHT}
    return InitiativeAdd(kr=kr, title=title, **_read_options(reader, options))


# A Jira issue key (PAY-12); O-, KR- and I- ids are read as okrbot's own first.
_ISSUE_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_]*-[1-9][0-9]*")


def _work(reader: _Reader) -> WorkRef:
    """I-n, the URL of the work item, or a Jira key."""
    token = reader.peek()
    ref = _ref(token)
    if ref is not None and ref.kind is Kind.KR and reader.command in ("done", "reopen"):
        answer = "yes" if reader.command == "done" else "no"
        reader.fail(
            f"{_code(reader.command)} is for initiatives; {_code(token.text)} is a key result.",
            f"For a yes/no KR, use {_code(f'/okr checkin {ref} {answer}')}.",
        )
    if token is not None and token.kind is _Kind.LINK:
        reader.take()
        return WorkRef(url=token.url)
    if token is not None and token.kind is _Kind.WORD and ref is None and _ISSUE_KEY.fullmatch(token.text):
        reader.take()
        return WorkRef(issue_key=token.text.upper())
    ref = reader.expect_ref(_code(reader.command), Kind.INITIATIVE, also=", a link or a Jira key")
    return WorkRef(initiative=ref.number)


def _link(reader: _Reader) -> Link:
    work = _work(reader)
    kr = reader.expect_ref(_code("link"), Kind.KR).number
    return Link(work=work, kr=kr, **_read_options(reader, {"weight": _WEIGHT}))


def _unlink(reader: _Reader) -> Unlink:
    work = _work(reader)
    return Unlink(work=work, kr=reader.expect_ref(_code("unlink"), Kind.KR).number)


def _done(reader: _Reader) -> Done:
    return Done(_work(reader))


def _reopen(reader: _Reader) -> Reopen:
    return Reopen(_work(reader))


def _checkin_value(reader: _Reader) -> float | bool:
    token = reader.take()
    if token is None:
        reader.fail("`checkin` needs a value after the KR: a number, or yes/no.")
    if token.word in _TRUE or token.word in _FALSE:
        return token.word in _TRUE
    found = _number(token)
    if found is None:
        reader.fail(f"{_code(token.shown)} is not a value; give a number, or yes/no for a yes/no KR.")
    return found[0]


def _confidence_number(reader: _Reader, token: _Token) -> int:
    found = _CONFIDENCE.fullmatch(token.text) if token.kind is _Kind.WORD else None
    if found is None or int(found.group(1)) > 10:
        reader.fail(f"Confidence is a whole number from 0 to 10, not {_code(token.shown)}.")
    return int(found.group(1))


def _confidence_at(reader: _Reader, index: int, limit: int, *, leading: bool) -> tuple[int, int] | None:
    """(confidence, tokens used) for `confidence 7`, `conf 7` or `7/10` at index, before limit.

    A non-number after `confidence` is note text ("low confidence overall"), but
    `confidence` right after the value with nothing after it is a mistake."""
    token = reader.tokens[index]
    if token.kind is _Kind.WORD and _OUT_OF_TEN.fullmatch(token.text):
        return _confidence_number(reader, token), 1
    if token.word not in ("confidence", "conf"):
        return None
    value = reader.tokens[index + 1] if index + 1 < limit else None
    if value is None and leading:
        reader.fail(f"{_code(token.text)} needs a number from 0 to 10.")
    if value is None or value.kind is not _Kind.WORD or not _NUMERIC_ISH.fullmatch(value.text):
        return None
    return _confidence_number(reader, value), 2


def _checkin(reader: _Reader) -> Checkin | CheckinFix | CheckinDelete:
    token = reader.peek()
    if token is not None and token.word == "delete":
        reader.take()
        return CheckinDelete(reader.expect_ref(_code("checkin delete"), Kind.KR).number)
    if token is not None and token.word == "fix":
        reader.take()
        return CheckinFix(_checkin_entry(reader, _code("checkin fix")))
    return _checkin_entry(reader, _code("checkin"))


def _checkin_entry(reader: _Reader, role: str) -> Checkin:
    kr = reader.expect_ref(role, Kind.KR).number
    value = _checkin_value(reader)
    confidence: int | None = None
    first, last = reader.pos, len(reader.tokens)
    # Confidence may come right after the value or at the very end; the note is between.
    while first < last and (found := _confidence_at(reader, first, last, leading=True)):
        confidence = _one_confidence(reader, confidence, found[0], reader.tokens[first])
        first += found[1]
    while first < last and (found := _trailing_confidence(reader, first, last)):
        confidence = _one_confidence(reader, confidence, found[0], reader.tokens[last - found[1]])
        last -= found[1]
    reader.pos = len(reader.tokens)
    return Checkin(kr=kr, value=value, confidence=confidence, note=reader.span_text(first, last) or None)


def _trailing_confidence(reader: _Reader, first: int, last: int) -> tuple[int, int] | None:
    for used in (1, 2):
        if last - used >= first:
            found = _confidence_at(reader, last - used, last, leading=False)
            if found is not None and found[1] == used:
                return found
    return None


def _one_confidence(reader: _Reader, earlier: int | None, value: int, token: _Token) -> int:
    if earlier is not None:
        reader.fail(f"Confidence is given twice (again at {_code(token.text)}).")
    return value


def _gaps(reader: _Reader) -> Gaps:
    if reader.at_end():
        return Gaps()
    if reader.take_word("next"):
        return Gaps("next")  # the coming period's drafts
    period = reader.take_period()
    if period is None:
        reader.fail(f"{_code('gaps')} takes a period, like 2026-Q4, not {_code(reader.peek().shown)}.")
    return Gaps(period)


_PREFERENCE_ACTIONS = ("cadence", "pause", "resume", "holidays")
_REVIEW_ACTIONS = [action.value for action in ReviewAction] + list(_PREFERENCE_ACTIONS)
_REVIEW_WORDS = "now, status, off, schedule, cadence, pause, resume or holidays"
_TZ_WORDS = ("tz", "timezone")


def _review(reader: _Reader) -> Review | ReviewCadence | ReviewPause | ReviewResume | ReviewHolidays:
    token = reader.take()
    if token is None:
        reader.fail(f"`review` needs one of {_REVIEW_WORDS}.")
    word = "holidays" if token.word in ("holiday", "holidays") else token.word
    if word not in _REVIEW_ACTIONS:
        close = _closest(token.word, _REVIEW_ACTIONS)
        hint = f"Did you mean {_code(f'review {close}')}?" if close else None
        reader.fail(f"`review` needs one of {_REVIEW_WORDS}, not {_code(token.shown)}.", hint)
    if word in _PREFERENCE_ACTIONS:
        return _REVIEW_PREFERENCES[word](reader)
    action = ReviewAction(token.word)
    if action is not ReviewAction.SCHEDULE:
        return Review(action)
    return _schedule(reader)


def _schedule(reader: _Reader) -> Review:
    first, last = reader.pos, len(reader.tokens)
    quoted = reader.peek() is not None and reader.peek().kind is _Kind.QUOTED
    if quoted:
        last = first + 1  # "<when>" [tz X]: anything else is an error below
    elif last - first >= 2 and reader.tokens[last - 2].word in _TZ_WORDS:
        last -= 2  # unquoted: the words up to a final `tz X`
    when = reader.span_text(first, last)
    if not when:
        reader.fail('`review schedule` needs when, like `review schedule "first Monday 10:00"`.')
    reader.pos = last
    tz = None
    if (key := reader.take()) is not None:
        if key.word not in _TZ_WORDS:
            reader.unexpected(key, _TZ_WORDS)
        tz = _tz_value(reader, key)
    return Review(ReviewAction.SCHEDULE, when=when, tz=tz)


def _review_cadence(reader: _Reader) -> ReviewCadence:
    number = reader.expect_ref(_code("review cadence"), Kind.OBJECTIVE).number
    words = reader.span_text(reader.pos, len(reader.tokens))
    reader.pos = len(reader.tokens)
    if not words:
        reader.fail(f"{_code('review cadence')} needs how often after the objective, like {_code(f'review cadence O-{number} weekly')}.")
    try:
        return ReviewCadence(number, parse_cadence(words))
    except PreferenceError as error:
        reader.fail(f"{error}.", f"For example {_code(f'review cadence O-{number} every 2 weeks')}.")


def _review_pause(reader: _Reader) -> ReviewPause:
    reader.take_word("until", "till", "to")
    token = reader.take()
    example = _code("review pause until 2027-01-05")
    if token is None:
        reader.fail(f"{_code('review pause')} needs the day nudges start again, like {example}.")
    try:
        until = date.fromisoformat(token.text)
    except ValueError:
        reader.fail(f"{_code(token.shown)} is not a date; write it as YYYY-MM-DD, like {example}.")
    reader.finish()
    return ReviewPause(until)


def _review_resume(reader: _Reader) -> ReviewResume:
    reader.finish()
    return ReviewResume()


def _review_holidays(reader: _Reader) -> ReviewHolidays:
    if reader.at_end() or reader.take_word("list"):
        reader.finish()
        return ReviewHolidays()
    token = reader.take()
    actions = {"add": HolidayAction.ADD, "remove": HolidayAction.REMOVE, "delete": HolidayAction.REMOVE, "rm": HolidayAction.REMOVE}
    if token.word not in actions:
        close = _closest(token.word, ["add", "remove", "list"])
        hint = f"Did you mean {_code(f'review holidays {close}')}?" if close else None
        reader.fail(f"{_code('review holidays')} takes add, remove or nothing (to list them), not {_code(token.shown)}.", hint)
    action = actions[token.word]
    days = reader.span_text(reader.pos, len(reader.tokens))
    reader.pos = len(reader.tokens)
    example = _code(f"review holidays {action.value} 2026-12-24..2027-01-01")
    if not days:
        reader.fail(f"{_code(f'review holidays {action.value}')} needs a day or a range of days, like {example}.")
    try:
        holiday = parse_holiday(days)
    except PreferenceError as error:
        reader.fail(f"{error}.", f"For example `review holidays {action.value} 2026-12-24..2027-01-01`.")
    return ReviewHolidays(action, holiday.first, holiday.last)


_REVIEW_PREFERENCES: dict[str, Callable[[_Reader], Any]] = {
    "cadence": _review_cadence,
    "pause": _review_pause,
    "resume": _review_resume,
    "holidays": _review_holidays,
}


def _tz_value(reader: _Reader, key: _Token) -> str:
    token = reader.take()
    if token is None:
        reader.fail(f"{_code(key.text)} needs a time zone, like Europe/Paris.")
    zones = _timezones()
    name = zones.get(token.text.lower()) if token.kind is _Kind.WORD else None
    if name is None:
        close = _closest(token.text.lower(), zones)
        hint = f"Did you mean {_code(f'tz {zones[close]}')}?" if close else None
        reader.fail(f"{_code(token.shown)} is not a time zone I know; use an Area/City name.", hint)
    return name


def _edit(reader: _Reader) -> Edit:
    return Edit(reader.expect_ref(_code("edit"), Kind.OBJECTIVE, Kind.KR, Kind.INITIATIVE))


def _archive(reader: _Reader) -> Archive:
    return Archive(reader.expect_ref(_code("archive"), Kind.OBJECTIVE).number)


def _history(reader: _Reader) -> History:
    return History(reader.expect_ref(_code("history"), Kind.KR).number)


def _chart(reader: _Reader) -> Chart:
    return Chart(reader.expect_ref(_code("chart"), Kind.KR, Kind.OBJECTIVE))


def _settings(reader: _Reader) -> FiscalYear | ReportChannel | ReviewSkipDays:
    if reader.at_end():
        return FiscalYear()
    token = reader.take()
    if token.word in ("report-channel", "report"):
        reader.take_word("channel")
        return ReportChannel(_channel_value(reader, token))
    if token.word in ("review-skip-days", "skip-days"):
        return _skip_days(reader)
    if token.word not in ("fiscal-year", "fiscal", "fy"):
        reader.fail(
            f"{_code(token.shown)} is not a setting; there are {_code('fiscal-year')}, {_code('report-channel')} and {_code('review-skip-days')}."
        )
    if token.word == "fiscal":
        reader.take_word("year")
    reader.take_word("starts", "start")
    reader.take_word("in")
    month = reader.take()
    number = month_number(month.text) if month is not None and month.kind is _Kind.WORD else None
    if number is None:
        found = f", not {_code(month.shown)}" if month else ""
        hint = f"Did you mean {_code(f'fiscal-year starts {close}')}?" if (close := _closest(month.word if month else None, MONTHS)) else None
        reader.fail(f"The fiscal year needs the month it starts in, like {_code('february')}{found}.", hint)
    return FiscalYear(number)


def _skip_days(reader: _Reader) -> ReviewSkipDays:
    token = reader.peek()
    example = _code("settings review-skip-days 5")
    if token is None or not token.text.isdigit():
        found = f", not {_code(token.shown)}" if token else ""
        reader.fail(f"{_code('review-skip-days')} needs a whole number of days from 0 to 60{found}, like {example} (0: never skip).")
    reader.take()
    reader.take_word("days", "day")
    reader.finish()
    return ReviewSkipDays(int(token.text))


def _grade_value(reader: _Reader) -> float:
    token = reader.peek()
    if token is None:
        reader.fail("`grade` needs a grade from 0.0 to 1.0 after the KR, like `0.7`.")
    value, percent = reader.expect_number(_code("grade"))
    grade = value / 100 if percent else value
    if not 0.0 <= grade <= 1.0:
        reader.fail(f"A grade goes from 0.0 to 1.0 (or 0% to 100%), not {_code(token.text)}.")
    return grade


def _grade(reader: _Reader) -> Grade:
    kr = reader.expect_ref(_code("grade"), Kind.KR).number
    grade = _grade_value(reader)
    first = reader.pos
    reader.pos = len(reader.tokens)
    return Grade(kr=kr, grade=grade, note=reader.span_text(first, reader.pos) or None)


def _named_period(reader: _Reader) -> str:
    period = reader.take_period()
    if period is None:
        token = reader.peek()
        found = f", not {_code(token.shown)}" if token else ""
        reader.fail(f"{_code(reader.command)} needs a period, like 2026-Q4 or FY2027-Q1{found}.")
    return period


def _carry(reader: _Reader) -> Carry:
    objective = reader.expect_ref(_code("carry"), Kind.OBJECTIVE).number
    krs: list[int] = []
    while (token := reader.peek()) is not None and token.word != "to":
        number = reader.expect_ref(_code("carry"), Kind.KR, also=" or `to <period>`").number
        if number in krs:
            reader.fail(f"{_code(token.text)} is listed twice.")
        krs.append(number)
    period = None
    if reader.take_word("to"):
        period = _named_period(reader)
    return Carry(objective=objective, krs=tuple(krs), period=period)


def _report(reader: _Reader) -> Report:
    period = channel = None
    while (token := reader.peek()) is not None:
        if token.kind is _Kind.CHANNEL and channel is None:
            channel = reader.take().channel
        elif period is None and (found := reader.take_period()) is not None:
            period = found
        else:
            reader.fail(f"I don't understand {_code(token.shown)} here; give at most a period and a #channel.")
    return Report(period=period, channel=channel)


def _close(reader: _Reader) -> ClosePeriod:
    return ClosePeriod(_named_period(reader))


def _reopen_period(reader: _Reader) -> ReopenPeriod:
    return ReopenPeriod(_named_period(reader))


_SECRET_CHARS = re.compile(r"[!-~]{16,128}")  # printable ASCII, no spaces


def _webhooks(reader: _Reader) -> Webhooks:
    if reader.at_end():
        return Webhooks()
    action = reader.take()
    if action.word not in ("rotate", "secret"):
        close = _closest(action.word, ("rotate", "secret"))
        hint = f"Did you mean {_code(f'webhooks {close}')}?" if close else None
        reader.fail(f"{_code('webhooks')} takes nothing, {_code('rotate <tool>')} or {_code('secret <tool> <secret>')}, not {_code(action.shown)}.", hint)
    tool = reader.take()
    if tool is None or tool.word not in WEBHOOK_TOOLS:
        close = _closest(tool.word, WEBHOOK_TOOLS) if tool is not None else None
        hint = f"Did you mean {_code(f'webhooks {action.word} {close}')}?" if close else None
        reader.fail(f"{_code(f'webhooks {action.word}')} needs one of {', '.join(WEBHOOK_TOOLS)}.", hint)
    if action.word == "rotate":
        return Webhooks(tool=tool.word)
    secret = reader.take()
    if secret is None or not _SECRET_CHARS.fullmatch(secret.text):
        reader.fail(f"{_code(f'webhooks secret {tool.word}')} needs the secret the tool shows: 16 to 128 characters, no spaces.")
    return Webhooks(tool=tool.word, secret=secret.text)


def _channel_settings(reader: _Reader) -> ChannelAnnounce:
    reader.expect_sub("announce")
    if reader.at_end():
        return ChannelAnnounce()
    token = reader.take()
    if token.word not in ANNOUNCE_MODES:
        close = _closest(token.word, ANNOUNCE_MODES)
        hint = f"Did you mean {_code(f'channel announce {close}')}?" if close else None
        reader.fail(f"{_code('channel announce')} takes every, thread or daily, not {_code(token.shown)}.", hint)
    if token.word != "daily" or reader.at_end():
        return ChannelAnnounce(mode=token.word)
    reader.take_word("at")
    clock = reader.take()
    try:
        at = clock_of(clock.text) if clock is not None else None
    except ScheduleError as error:
        reader.fail(f"{error.problem}; give the digest's hour like {_code('17:00')} or {_code('9am')}.")
    return ChannelAnnounce(mode="daily", digest_at=at)


_PARSERS: dict[str, Callable[[_Reader], Command]] = {
    "status": _status,
    "help": _help,
    "objective": _objective,
    "kr": _kr,
    "initiative": _initiative,
    "link": _link,
    "unlink": _unlink,
    "done": _done,
    "reopen": _reopen,
    "checkin": _checkin,
    "gaps": _gaps,
    "review": _review,
    "edit": _edit,
    "archive": _archive,
    "history": _history,
    "chart": _chart,
    "settings": _settings,
    "grade": _grade,
    "close": _close,
    "reopen-period": _reopen_period,
    "carry": _carry,
    "report": _report,
    "webhooks": _webhooks,
    "channel": _channel_settings,
}


# --- serves and the question form -------------------------------------------------

_QUESTION_ENDINGS = tuple(
    tuple(ending.split())
    for ending in (
        "serve a kr",
        "serve any kr",
        "serve a key result",
        "serve any key result",
        "serve an okr",
        "serve any okr",
        "serve our krs",
        "serve our okrs",
    )
)


def _serves(rest: str) -> Serves:
    text = _plain(rest).strip()
    if not text:
        raise CommandError(
            "`serves` needs the work to check, like `/okr serves fix the signup emails`.",
            _syntax_lines("serves"),
        )
    return Serves(text)


def _question(words: list[str]) -> Serves | None:
    """The question form of serves, as asked in a mention or DM: "does <text> serve a KR?"."""
    if len(words) != 2 or words[0].lower() != "does":
        return None
    body = words[1].rstrip().rstrip("?").rstrip()
    for ending in _QUESTION_ENDINGS:
        parts = body.rsplit(None, len(ending))
        if len(parts) == len(ending) + 1 and tuple(part.lower() for part in parts[1:]) == ending:
            subject = _plain(parts[0]).strip()
            return Serves(subject) if subject else None
    return None


# --- entry point ---------------------------------------------------------------------


def parse(text: str) -> Command:
    """The text after `/okr` → a command, or CommandError with problem and usage."""
    head = text.split(None, 1)
    if not head:
        return Status()
    word = _COMMANDS.get(head[0].lower())
    if word == "serves":  # free text: read as typed, never tokenised
        return _serves(head[1] if len(head) == 2 else "")
    if word is None and (question := _question(head)):
        return question
    try:
        tokens = _tokenize(text)
    except _Malformed as malformed:
        raise CommandError(str(malformed), _syntax_lines(word) if word else _overview()) from None
    return _dispatch(tokens, text)


def _dispatch(tokens: list[_Token], text: str) -> Command:
    first = tokens[0]
    word = _COMMANDS.get(first.word or "")
    if word is None:
        if _is_status_start(first, _Reader("status", tokens, text, pos=0)):
            word, start = "status", 0
        else:
            raise _unknown_command(first)
    else:
        start = 1
    reader = _Reader(word, tokens, text, pos=start)
    command = _PARSERS[word](reader)
    reader.finish()
    return command


def _unknown_command(token: _Token) -> CommandError:
    problem = f"I don't know {_code(token.shown)}."
    close = _closest(token.word, _COMMANDS)
    if close is None:
        return CommandError(problem, _overview(), None)
    word = _COMMANDS[close]
    return CommandError(problem, _syntax_lines(word), f"Did you mean {_code(f'/okr {word}')}?")
