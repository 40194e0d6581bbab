"""Status cards: objectives and KRs with progress bars, health and owners."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from okrbot.domain.commands import Commitment, Direction, Keep, Metric
from okrbot.domain.grading import Band, band, format_grade
from okrbot.domain.formatting import format_value
from okrbot.domain.ids import kr_id, objective_id
from okrbot.domain.progress import Health, format_percent, progress_bar
from okrbot.services.summaries import KrSummary, ObjectiveSummary
from okrbot.adapters.slack.ids import Action
from okrbot.adapters.slack.mrkdwn import escape, truncate, user

MAX_BLOCKS = 50
SECTION_LIMIT = 3000
MOST_ALIGNED = 5  # aligned objectives named on a parent's card
MOST_OBJECTIVES = MAX_BLOCKS - 2  # a status message shows at most this many: a header, the objectives, a note

HEALTH_EMOJI = {
    Health.ON_TRACK: ":large_green_circle:",
    Health.AT_RISK: ":large_yellow_circle:",
    Health.OFF_TRACK: ":red_circle:",
    Health.NO_DATA: ":white_circle:",
}


def health_label(health: Health) -> str:
    return f"{HEALTH_EMOJI[health]} {health.value}"


def progress_line(progress: float, health: Health) -> str:
    shown = format_percent(progress) if progress <= 1 else f"{format_percent(progress)} (target passed)"
    return f"`{progress_bar(progress)}` *{shown}* · {health_label(health)}"


def shown_value(value: float | None, kr) -> str:
    """A value with the KR's unit, which people typed: escaped for mrkdwn."""
    return escape(format_value(value, kr.unit, kr.metric))


def kr_values(kr: KrSummary) -> str:
    """`35 days → 25 days (from 45 days)` or, for other metrics, what they measure."""
    if kr.metric is Metric.MILESTONE:
        return f"{kr.initiatives_done} of {kr.initiatives_total} initiatives done"
    if kr.metric is Metric.BOOLEAN:
        return "done" if (kr.current or 0) >= 1 else "not yet"
    if kr.direction is Direction.MAINTAIN:
        side = "at or below" if kr.keep is Keep.BELOW else "at or above"
        return f"{shown_value(kr.current, kr)} (keep {side} {shown_value(kr.target, kr)})"
    current, target, start = shown_value(kr.current, kr), shown_value(kr.target, kr), shown_value(kr.start, kr)
    return f"{current} → {target} (from {start})"


def kr_text(kr: KrSummary) -> str:
    confidence = f" · confidence {kr.confidence}/10" if kr.confidence is not None else ""
    commitment = f" · {kr.commitment.value}" if kr.commitment else ""
    graded = f"\n{grade_line(kr.grade, kr.commitment, suggested=kr.grade_source == 'suggested')}" if kr.grade is not None else ""
    return truncate(
        f"*{kr_id(kr.number)}* {escape(kr.title)}\n{kr_values(kr)} · {user(kr.owner)}{confidence}{commitment}\n"
        f"{progress_line(kr.progress, kr.health)}{graded}",
        SECTION_LIMIT,
    )


BAND_EMOJI = {Band.GREEN: ":large_green_circle:", Band.YELLOW: ":large_yellow_circle:", Band.RED: ":red_circle:"}


def grade_line(grade: float, commitment: Commitment | None = None, *, suggested: bool = False) -> str:
    """`Grade *0.7* :large_green_circle:` read against what the KR aims for."""
    against = " (committed: 1.0 expected)" if commitment is Commitment.COMMITTED else ""
    marked = " · suggested grade, given at close" if suggested else ""
    return f"Grade *{format_grade(grade)}* {BAND_EMOJI[band(grade, commitment)]}{against}{marked}"


def objective_text(objective: ObjectiveSummary) -> str:
    where = f" · <#{objective.team_channel}>" if objective.team_channel else ""
    private = " · :lock: private" if objective.private else ""
    parent = f" · aligns to {objective_id(objective.parent_number)}" if objective.parent_number else ""
    grade = objective.grade
    graded = f" · {grade_line(grade)}" if grade is not None else ""
    lineage = f" · carried from {objective_id(objective.carried_from)}" if objective.carried_from else ""
    lineage += f" · carried to {objective_id(objective.carried_to)}" if objective.carried_to else ""
    return truncate(
        f"*{objective_id(objective.number)} {escape(objective.title)}*\n"
        f"{user(objective.owner)}{where}{private}{parent} · {objective.period}{lineage}\n"
        f"{progress_line(objective.progress, objective.health)}{graded}",
        SECTION_LIMIT,
    )


def kr_buttons(kr: KrSummary) -> ButtonElement:
    if kr.metric is Metric.MILESTONE:
        return ButtonElement(text="Link work", action_id=Action.LINK_OPEN.value, value=kr_id(kr.number))
    return ButtonElement(text="Check in", action_id=Action.CHECKIN_OPEN.value, value=kr_id(kr.number))


def objective_button(objective: ObjectiveSummary) -> ButtonElement:
    return ButtonElement(text="Add KR", action_id=Action.KR_NEW_OPEN.value, value=objective_id(objective.number))


def status_blocks(objectives: Sequence[ObjectiveSummary], heading: str, empty_hint: str, *, total: int | None = None) -> list[Block]:
    """Full cards when they fit in one message, compact lines when not, never over Slack's 50 blocks.

    `total`: how many objectives there are when only the first ones were loaded."""
    header: list[Block] = [HeaderBlock(text=truncate(heading, 150))]
    if not objectives:
        return header + [SectionBlock(text=MarkdownTextObject(text=empty_hint))]
    total = max(total or 0, len(objectives))
    if shows_full_cards(objectives, total):
        return header + [block for objective in objectives for block in _objective_card(objective)]
    return header + _compact(objectives, room=MAX_BLOCKS - len(header), total=total)


def shows_full_cards(objectives: Sequence[ObjectiveSummary], total: int | None = None) -> bool:
    """Whether status_blocks shows full cards (which name aligned objectives) or compact lines (which do not)."""
    if total is not None and total > len(objectives):
        return False
    return 1 + sum(_card_size(objective) for objective in objectives) <= MAX_BLOCKS


def _card_size(objective: ObjectiveSummary) -> int:
    """Blocks in _objective_card: the objective, a KR each (or a hint), a divider."""
    return 2 + max(len(objective.krs), 1)


def aligned_text(objective: ObjectiveSummary) -> str:
    """`Aligned: *O-4* Grow EU 40%, :lock: a private objective 20%` (the first few)."""
    if not objective.children:
        return ""
    shown = [
        f"*{objective_id(child.number)}* {escape(truncate(child.title or '', 60))} {format_percent(child.progress)}"
        if child.number is not None
        else f":lock: a private objective {format_percent(child.progress)}"
        for child in objective.children[:MOST_ALIGNED]
    ]
    more = len(objective.children) - len(shown)
    return "↳ Aligned: " + ", ".join(shown) + (f" and {more} more" if more else "")


def _objective_card(objective: ObjectiveSummary) -> list[Block]:
    text = objective_text(objective)
    if objective.children:
        text = truncate(f"{text}\n{aligned_text(objective)}", SECTION_LIMIT)
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=text), accessory=objective_button(objective))]
    for kr in objective.krs:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=kr_text(kr)), accessory=kr_buttons(kr)))
    if not objective.krs:
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text=f"No KRs yet. Add one: `/okr kr add {objective_id(objective.number)} \"Title\" from 0 to 100`"
                    )
                ]
            )
        )
    blocks.append(DividerBlock())
    return blocks


def _compact(objectives: Sequence[ObjectiveSummary], room: int, total: int) -> list[Block]:
    """One section per objective with its KRs as lines; the rest summarised."""
    shown = objectives[: room - 1]
    blocks: list[Block] = []
    for objective in shown:
        lines = [objective_text(objective)]
        for kr in objective.krs:
            lines.append(
                f"• *{kr_id(kr.number)}* {escape(truncate(kr.title, 80))} — {format_percent(kr.progress)} "
                f"{HEALTH_EMOJI[kr.health]}"
            )
        blocks.append(SectionBlock(text=MarkdownTextObject(text=truncate("\n".join(lines), SECTION_LIMIT))))
    hidden = total - len(shown)
    note = "Open one with `/okr status O-n`."
    if hidden:
        note = f"…and {hidden} more objectives. Narrow it with `/okr status #channel`, `/okr status @user` or `/okr status O-n`."
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=note)]))
    return blocks


def kr_detail_blocks(objective: ObjectiveSummary, kr: KrSummary, initiatives: Sequence[tuple[str, str, str]]) -> list[Block]:
    """One KR with its objective and linked work: (id, title, status) triples."""
    blocks: list[Block] = [
        HeaderBlock(text=truncate(f"{kr_id(kr.number)} · {kr.title}", 150)),
        SectionBlock(text=MarkdownTextObject(text=kr_text(kr)), accessory=kr_buttons(kr)),
        ContextBlock(elements=[MarkdownTextObject(text=f"Objective: {objective_text(objective).splitlines()[0]}")]),
    ]
    if initiatives:
        lines = [f"{'✅' if status == 'done' else '◻️'} *{ident}* {escape(title)}" for ident, title, status in initiatives]
        blocks.append(SectionBlock(text=MarkdownTextObject(text=truncate("*Linked work*\n" + "\n".join(lines), SECTION_LIMIT))))
    else:
        blocks.append(
            ContextBlock(
                elements=[MarkdownTextObject(text=f"No linked work yet: `/okr initiative add {kr_id(kr.number)} \"Title\"`")]
            )
        )
    ident = kr_id(kr.number)
    blocks.append(
        ActionsBlock(
            block_id=f"kr_{kr.number}_actions",
            elements=[
                ButtonElement(text="Add initiative", action_id=Action.INITIATIVE_NEW_OPEN.value, value=ident),
                ButtonElement(text="Edit", action_id=Action.EDIT_OPEN.value, value=ident),
                ButtonElement(text="Chart", action_id=Action.CHART.value, value=ident),
            ],
        )
    )
    return blocks
