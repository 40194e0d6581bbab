r"""People's text as it will display: nothing in it may be invisible or reorder what follows.

Removed: control characters (NUL, escapes, bells; line breaks and tabs stay where lines are
allowed), lone surrogates (no database stores them the same way), and every character that
Unicode says renders as nothing (Default_Ignorable_Code_Point) or that steers the layout
(bidirectional embeddings, overrides and isolates, U+202A–U+202E, U+2066–U+2069, the
direction marks U+200E, U+200F, U+061C), zero-width spaces and joiners (U+200B–U+200D,
U+2060, U+FEFF), soft hyphens, Hangul fillers, tag characters. A "Trojan Source" title
(`Fix login \u202edesab-nekot\u202c` shows as "Fix login token-based") then reads in Slack
as it is stored, and `@\u200bchannel` is plain `@channel`, nothing hidden in it.

Kept, because emoji need them and they hide nothing: variation selectors (U+FE0F makes ❤
red), a zero-width joiner between two emoji (👩 ZWJ 💻 is one technologist), and the tag characters of a flag
sequence (🏴 + tags + U+E007F, e.g. the flag of Scotland).
"""

from __future__ import annotations

import re
import unicodedata

ZWJ = "\u200d"
BLACK_FLAG = "\U0001f3f4"
CANCEL_TAG = "\U000e007f"

# Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt) without the variation
# selectors, plus the other format characters (Cf) that show nothing: the interlinear
# annotation and Egyptian hieroglyph layout controls. The Cf characters left are the
# prepended concatenation marks (U+0600–U+0605, U+06DD, …), which are visible signs.
_INVISIBLE = (
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f"
    "\u3164\ufeff\uffa0\ufff0-\ufffb\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U00013430-\U0001343f\U000e0000-\U000e00ff\U000e01f0-\U000e0fff"
)
_CONTROL = "\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff"  # Cc but \t and \n, and surrogates
_REMOVED = re.compile(f"[{_CONTROL}\t\n{_INVISIBLE}]")
_REMOVED_KEEPING_LINES = re.compile(f"[{_CONTROL}{_INVISIBLE}]")
# A flag's tag sequence: the black flag, tag letters, then CANCEL TAG.
_FLAG_TAGS = re.compile(f"{BLACK_FLAG}[\U000e0020-\U000e007e]+{CANCEL_TAG}")
_EMOJI_MODIFIERS = "\ufe0f\U0001f3fb\U0001f3fc\U0001f3fd\U0001f3fe\U0001f3ff"


def clean_text(text: str, *, lines: bool = False) -> str:
    """`text` without control characters and without what displays as nothing or reorders
    the rest (see the module's docstring); line breaks and tabs stay when `lines`."""
    removed = _REMOVED_KEEPING_LINES if lines else _REMOVED
    if not removed.search(text):
        return text  # the common case: one scan in C, nothing copied
    flags = {match.start(): match.end() for match in _FLAG_TAGS.finditer(text)}
    kept: list[str] = []
    position = 0
    for found in removed.finditer(text):
        start = found.start()
        if start < position:
            continue  # inside a flag sequence already kept
        kept.append(text[position:start])
        position = found.end()
        char = found.group()
        if char == ZWJ and _joins_emoji(text, start):
            kept.append(char)
        elif "\U000e0020" <= char <= CANCEL_TAG and start - 1 in flags:
            end = flags[start - 1]
            kept.append(text[start:end])
            position = end
    kept.append(text[position:])
    return "".join(kept)


def _joins_emoji(text: str, at: int) -> bool:
    """A zero-width joiner between two emoji (skin tones and U+FE0F after the first)."""
    before = at - 1
    while before >= 0 and text[before] in _EMOJI_MODIFIERS:
        before -= 1
    after = at + 1
    return before >= 0 and after < len(text) and _is_emoji(text[before]) and _is_emoji(text[after])


def _is_emoji(char: str) -> bool:
    return unicodedata.category(char) == "So"
