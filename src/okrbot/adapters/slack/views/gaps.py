"""`/okr gaps`: the hygiene report as Block Kit, one section per flag.

Every gap names the ids at fault, what is wrong and what to type. When the
full report would pass Slack's 50 blocks, each flag shrinks to its ids and
one example of the advice, so no flag is ever dropped.
"""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import Block, ContextBlock, HeaderBlock, MarkdownTextObject, SectionBlock

from okrbot.domain.hygiene import GAP_TITLES, Gap, GapFlag
from okrbot.services.gaps import GapReport
from okrbot.adapters.slack.mrkdwn import escape, truncate, user
from okrbot.adapters.slack.views.status import MAX_BLOCKS, SECTION_LIMIT

URGENT = ":warning: *urgent*"


def gaps_text(report: GapReport) -> str:
    """The notification line (and screen-reader fallback)."""
    if not report.gaps:
        return f"No OKR gaps in {report.period}"
    return f"OKR gaps · {report.period}: {_count(len(report.gaps), 'gap')}"


def gaps_blocks(report: GapReport) -> list[Block]:
    header: list[Block] = [HeaderBlock(text=f"OKR gaps · {report.period}")]
    if report.objectives == 0:
        return header + [_section(f"No objectives in {report.period} to check. Start one: `/okr objective add \"Title\"`")]
    looked_at = f"{_count(report.objectives, 'objective')} and {_count(report.krs, 'KR')}"
    if not report.gaps:
        return header + [_section(f":white_check_mark: No gaps in {report.period}: {looked_at} checked, all in good shape.")]
    urgent = sum(gap.urgent for gap in report.gaps)
    summary = f"{_count(len(report.gaps), 'gap')} in {looked_at}" + (f", {urgent} urgent" if urgent else "") + "."
    groups = _by_flag(report.gaps)
    header.append(ContextBlock(elements=[MarkdownTextObject(text=summary)]))
    full = header + [block for flag, gaps in groups for block in _full(flag, gaps)]
    if len(full) <= MAX_BLOCKS:
        return full
    note = ContextBlock(elements=[MarkdownTextObject(text="Too many to explain each one here: the ids, and what to do for the first.")])
    return header + [_compact(flag, gaps) for flag, gaps in groups] + [note]


def _by_flag(gaps: Sequence[Gap]) -> list[tuple[GapFlag, list[Gap]]]:
    groups: dict[GapFlag, list[Gap]] = {}
    for gap in gaps:
        groups.setdefault(gap.flag, []).append(gap)
    return [(flag, groups[flag]) for flag in GapFlag if flag in groups]


def _full(flag: GapFlag, gaps: Sequence[Gap]) -> list[Block]:
    """The flag's heading, then each gap: ids, problem, advice; split to fit 3000 characters."""
    sections, text = [], _heading(flag, gaps)
    for gap in gaps:
        urgent = f" {URGENT}" if gap.urgent else ""
        line = truncate(f"\n• {_ids(gap)}{urgent} — {_problem(gap)}\n    ↳ {escape(gap.advice)}", SECTION_LIMIT - 1)
        if len(text) + len(line) > SECTION_LIMIT:
            sections.append(text)
            text = line.lstrip("\n")
        else:
            text += line
    sections.append(text)
    return [_section(text) for text in sections]


def _compact(flag: GapFlag, gaps: Sequence[Gap]) -> Block:
    """The flag's ids (as many as fit, then how many more) and one example of the advice."""
    every_urgent = all(gap.urgent for gap in gaps)
    shown: list[str] = []
    room = SECTION_LIMIT - 400  # the heading, "…and N more" and the advice take the rest
    for gap in gaps:
        ident = truncate(_ids(gap), 500) + (" :warning:" if gap.urgent and not every_urgent else "")
        room -= len(ident) + 2
        if room < 0:
            break
        shown.append(ident)
    more = f" …and {len(gaps) - len(shown)} more" if len(shown) < len(gaps) else ""
    heading = _heading(flag, gaps) + (f" {URGENT}" if every_urgent else "")
    advice = truncate(f"For {_ids(gaps[0])}: {escape(gaps[0].advice)}", 300)
    return _section(f"{heading}\n{', '.join(shown)}{more}\n{advice}")


def _heading(flag: GapFlag, gaps: Sequence[Gap]) -> str:
    return f"*{GAP_TITLES[flag]}* ({len(gaps)})"


def _ids(gap: Gap) -> str:
    """KR-3 and O-2 in bold; owners ("@U123") as mentions."""
    return " ".join(user(ident[1:]) if ident.startswith("@") else f"*{ident}*" for ident in gap.ids)


def _problem(gap: Gap) -> str:
    """The problem, with the owner it names ("@U123 owns 6 objectives") as a mention."""
    problem = escape(gap.problem)
    for ident in gap.ids:
        if ident.startswith("@"):
            problem = problem.replace(ident, user(ident[1:]), 1)
    return problem


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=text))


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
