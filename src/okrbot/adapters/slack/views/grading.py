"""Grading and periods in Slack: the grading DM, the grade modal, and the replies to
`/okr grade`, `/okr close`, `/okr reopen-period` and `/okr settings`."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, ContextBlock, HeaderBlock, MarkdownTextObject, SectionBlock
from slack_sdk.models.views import View

from okrbot.domain.grading import format_grade
from okrbot.domain.ids import kr_id, objective_id
from okrbot.domain.progress import format_percent
from okrbot.services.carry import CarryOutcome
from okrbot.services.grading import Closing, Graded, GradingView, KrToGrade
from okrbot.services.periods import FiscalYearView
from okrbot.services.planning import PlanningNote
from okrbot.adapters.slack.ids import Action
from okrbot.adapters.slack.mrkdwn import escape, truncate
from okrbot.adapters.slack.reply import Reply
from okrbot.adapters.slack.views import modals
from okrbot.adapters.slack.views.reviews import when
from okrbot.adapters.slack.views.status import grade_line

SECTION_LIMIT = 3000
MOST_KRS = 40  # a DM stays under Slack's 50 blocks: header, intro, a section each, buttons, a note
MOST_CARRY_BUTTONS = 4  # with Accept, within an actions block's 25 elements and readable


def _suggestion_text(item: KrToGrade) -> str:
    kr = item.kr
    expectation = f" · {kr.commitment.value}" if kr.commitment else ""
    current = grade_line(kr.grade, kr.commitment) if kr.grade is not None else f"Suggested grade *{format_grade(item.suggested)}*"
    return truncate(
        f"*{kr_id(kr.number)}* {escape(kr.title)}\n"
        f"{objective_id(item.objective.number)} {escape(truncate(item.objective.title, 80))} · progress {format_percent(kr.progress)}{expectation}\n"
        f"{current}",
        SECTION_LIMIT,
    )


class SlackGradingMessages:
    """The `GradingMessages` (and `PlanningMessages`) the period services queue: payloads for chat.postMessage."""

    def planning(self, note: PlanningNote) -> dict:
        coming = note.coming
        carry = ", ".join(f"`/okr carry {objective_id(n)}`" for n in note.objectives[:3])
        text = (
            f":calendar: *{coming.labelled()}* starts {when(note.starts_at, note.tz)}, and <#{note.channel}> has no objective for it yet.\n"
            f"Draft one: `/okr objective add \"Title\" team <#{note.channel}> period {coming}`"
            + (f", or carry one over: {carry}" if carry else "")
            + f". `/okr gaps next` checks the drafts; they nudge nobody until {coming} begins."
        )
        blocks = [SectionBlock(text=MarkdownTextObject(text=truncate(text, SECTION_LIMIT)))]
        return {"text": f"Plan {coming}: no objective yet", "blocks": [block.to_dict() for block in blocks]}

    def grading_dm(self, view: GradingView) -> dict:
        shown = view.krs[:MOST_KRS]
        blocks: list[Block] = [
            HeaderBlock(text=truncate(f"Time to grade {view.period}", 150)),
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"{view.period.labelled()} ends {when(view.window.ends_at, view.tz)}. Grade each of your KRs from 0.0 to 1.0 "
                    f"(0.7–1.0 is green; committed KRs are expected to reach 1.0). Grading closes {when(view.window.closes_at, view.tz)}; "
                    "what is still ungraded then takes its suggested grade."
                )
            ),
        ]
        blocks += [
            SectionBlock(
                text=MarkdownTextObject(text=_suggestion_text(item)),
                accessory=ButtonElement(text="Grade…", action_id=Action.GRADE_OPEN.value, value=kr_id(item.kr.number)),
            )
            for item in shown
        ]
        # The objectives this owner also owns can be carried into the next period from here.
        owned = sorted({item.objective.number for item in view.krs if item.objective.owner == view.owner})
        carry = [
            ButtonElement(text=f"Carry {objective_id(number)} over", action_id=Action.GRADE_CARRY.value, value=objective_id(number))
            for number in owned[:MOST_CARRY_BUTTONS]
        ]
        blocks.append(
            ActionsBlock(
                block_id=f"grading_{view.dm_id}",
                elements=[ButtonElement(text="Accept suggested grades", action_id=Action.GRADE_ACCEPT.value, value=str(view.dm_id), style="primary"), *carry],
            )
        )
        first = kr_id(shown[0].kr.number) if shown else "KR-1"
        note = f"Or reply in this thread: `0.7 what worked, what didn't` · `{first} 0.7 note` · one line per KR. Late check-ins still count until grading closes."
        if len(view.krs) > len(shown):
            note += f" {len(view.krs) - len(shown)} more KRs: grade them with `/okr grade KR-n 0.7`."
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=note)]))
        names = ", ".join(kr_id(item.kr.number) for item in view.krs[:10])
        return {"text": f"Time to grade {view.period}: {names}", "blocks": [block.to_dict() for block in blocks]}


def grade_form(item: KrToGrade, *, channel: str | None) -> View:
    kr = item.kr
    initial = format_grade(kr.grade if kr.grade is not None else item.suggested)
    return modals.grade_modal(kr.number, _suggestion_text(item), initial=initial, channel=channel)


def graded_reply(graded: Sequence[Graded]) -> Reply:
    if not graded:
        return Reply.say("Every KR here already has a grade. Change one with `/okr grade KR-n 0.7`.")
    lines = [f"*{kr_id(item.number)}* {escape(truncate(item.title, 80))}: {grade_line(item.grade, item.commitment)}" for item in graded]
    notes = [f"> {escape(truncate(item.note, 200))}" for item in graded if item.note and len(graded) == 1]
    return Reply.say(":memo: Graded\n" + "\n".join(lines + notes))


def closed_reply(closing: Closing) -> Reply:
    suggested = closing.graded_by_suggestion
    return Reply.say(
        f":lock: *{closing.period}* is closed: {closing.graded_by_owners} KR grade{'s' if closing.graded_by_owners != 1 else ''} from owners, "
        f"{suggested} suggested grade{'s' if suggested != 1 else ''} given to the rest. Edits and check-ins in it are refused now; "
        f"`/okr reopen-period {closing.period}` opens it again.",
        public=False,
    )


def reopened_reply(period: str) -> Reply:
    return Reply.say(f":unlock: *{period}* is open again: edits, check-ins and grades are accepted. Close it with `/okr close {period}`.")


def fiscal_year_reply(view: FiscalYearView, *, changed: bool | None = None) -> Reply:
    head = {True: ":white_check_mark: Saved. ", False: "Nothing to change. ", None: ""}[changed]
    if view.month == 1:
        calendar = "The year follows the calendar: quarters are named like 2026-Q4, years like 2027."
    else:
        calendar = f"The fiscal year starts in {view.month_name}: quarters are named like {view.current}, years like {view.year}."
    return Reply.say(
        f"{head}{calendar}\nThis quarter: *{view.current.labelled()}*\nNext: {view.current.next().labelled()}\n"
        f"This year: {view.year.labelled()}\nChange it with `/okr settings fiscal-year starts <month>` (admins)."
    )


def carried_reply(outcome: CarryOutcome) -> Reply:
    source, target = objective_id(outcome.source.number), objective_id(outcome.target.number)
    if not outcome.carried:
        return Reply.say(f"Nothing new: {source} was carried to *{target}* ({outcome.target.period}) before, with those KRs.")
    made = "New objective" if outcome.created_objective else "Added to"
    lines = [f"{kr_id(old)} → *{kr_id(new)}*" for old, new in outcome.carried]
    already = f"\nCarried before: {', '.join(kr_id(n) for n in outcome.already)}." if outcome.already else ""
    work = f" {outcome.relinked} open initiative{'s' if outcome.relinked != 1 else ''} linked again." if outcome.relinked else ""
    return Reply.say(
        f":arrow_right: {made} *{target}* {escape(truncate(outcome.target.title, 120))} in {outcome.target.period}, carried from {source}.\n"
        f"{', '.join(lines)}: each starts where it ended; check-ins stay with {source}.{work}{already}"
    )
