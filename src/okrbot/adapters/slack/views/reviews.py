"""Review nudges as people see them: the DM, reminders, the note to objective
owners, the digest in team channels, and the answers in the DM's thread."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from okrbot.domain.commands import Metric
from okrbot.domain.ids import kr_id, objective_id
from okrbot.domain.nudge_prefs import DM_CAP, Holiday
from okrbot.domain.progress import format_percent
from okrbot.services.reviews import (
    Answer,
    CycleRun,
    CycleView,
    Digest,
    LateOwner,
    OwnedKrView,
    ReviewStatus,
)
from okrbot.services.nudge_prefs import CadenceSet
from okrbot.services.summaries import KrSummary
from okrbot.adapters.slack.ids import Action
from okrbot.adapters.slack.mrkdwn import escape, truncate, user
from okrbot.adapters.slack.reply import Reply
from okrbot.adapters.slack.views.status import HEALTH_EMOJI, health_label, kr_values, shown_value

MAX_KRS_SHOWN = 40  # keeps a DM under Slack's 50 blocks
SECTION_LIMIT = 3000


def when(moment: datetime, tz: ZoneInfo) -> str:
    """`Mon 7 Dec 2026, 10:00 CET` in the workspace's time zone."""
    local = moment.astimezone(tz)
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M} {local.tzname()}"


def kr_line(kr: KrSummary) -> str:
    """`*KR-34* Title — 35 days → 25 days · *50%* · on track`."""
    return (
        f"*{kr_id(kr.number)}* {escape(truncate(kr.title, 200))}\n"
        f"{_values(kr)} · *{format_percent(kr.progress)}* · {health_label(kr.health)}"
    )


def _values(kr: KrSummary) -> str:
    if kr.metric in (Metric.NUMERIC, Metric.PERCENTAGE) and kr.direction.value != "maintain":
        return f"{shown_value(kr.current, kr)} → {shown_value(kr.target, kr)}"
    return kr_values(kr)


def reply_examples(krs: Sequence[OwnedKrView]) -> str:
    """How to answer in the thread, with the owner's own KR numbers."""
    numbers = [item.kr.number for item in krs]
    first = kr_id(numbers[0]) if numbers else "KR-1"
    second = kr_id(numbers[1]) if len(numbers) > 1 else first
    return (
        f"Or reply in this thread: `42` · `{first} 42` · `{first}: 42, blocked on legal, 6/10` · `{second} done` "
        f"· several at once, one per line."
    )


class SlackReviewMessages:
    """The `Messages` the review service queues: payloads for chat.postMessage."""

    def nudge(self, owner: str, krs: Sequence[OwnedKrView], cycle: CycleView, nudge_id: int) -> dict:
        blocks: list[Block] = [
            HeaderBlock(text="Time for your OKR review"),
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"Where do your KRs stand? Review *{cycle.key}* ({cycle.period}) is open until {when(cycle.closes_at, cycle.tz)}."
                )
            ),
        ]
        blocks += _kr_sections(krs)
        blocks.append(_answer_buttons(nudge_id))
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=reply_examples(krs))]))
        names = ", ".join(kr_id(item.kr.number) for item in krs[:10])
        return {"text": f"Time for your OKR review: {names}", "blocks": _dicts(blocks)}

    def reminder(self, owner: str, krs: Sequence[OwnedKrView], cycle: CycleView, nudge_id: int, number: int) -> dict:
        names = ", ".join(f"*{kr_id(item.kr.number)}*" for item in krs[:MAX_KRS_SHOWN])
        text = (
            f":wave: Reminder: review *{cycle.key}* closes {when(cycle.closes_at, cycle.tz)}, and {names} "
            f"{'has' if len(krs) == 1 else 'have'} no check-in yet. Reply here with where things stand, "
            f"or press *No change*."
        )
        blocks: list[Block] = [
            SectionBlock(text=MarkdownTextObject(text=truncate(text, SECTION_LIMIT))),
            _answer_buttons(nudge_id),
            ContextBlock(elements=[MarkdownTextObject(text=reply_examples(krs).replace("Or reply in this thread", "Reply like"))]),
        ]
        return {"text": f"Reminder: review {cycle.key} is waiting for your check-in", "blocks": _dicts(blocks)}

    def escalation(self, objective_owner: str, late: LateOwner, cycle: CycleView) -> dict:
        lines = [
            f"• {kr_line(item.kr).replace(chr(10), ' — ')} · {objective_id(item.objective.number)} {escape(truncate(item.objective.title, 80))}"
            for item in late.krs[:MAX_KRS_SHOWN]
        ]
        reminded = f" after {late.reminders} reminder{'s' if late.reminders != 1 else ''}" if late.reminders else ""
        text = (
            f":bell: {user(late.owner)} hasn't answered review *{cycle.key}*{reminded}. "
            f"Their KRs on your objectives:\n" + "\n".join(lines)
        )
        blocks: list[Block] = [
            SectionBlock(text=MarkdownTextObject(text=truncate(text, SECTION_LIMIT))),
            ContextBlock(elements=[MarkdownTextObject(text="You own these objectives, so you hear about it. A word with them may help.")]),
        ]
        return {"text": f"{late.owner} hasn't answered review {cycle.key}", "blocks": _dicts(blocks)}

    def digest(self, digest: Digest) -> dict:
        blocks: list[Block] = [HeaderBlock(text=truncate(f"Review {digest.cycle.key} closed", 150))]
        checked = ", ".join(user(owner) for owner in digest.checked_in) or "nobody"
        summary = f"*Checked in:* {checked}"
        if digest.silent:
            summary += f"\n*No answer:* {', '.join(user(owner) for owner in digest.silent)}"
        blocks.append(SectionBlock(text=MarkdownTextObject(text=truncate(summary, SECTION_LIMIT))))
        if digest.moved:
            moved = "\n".join(
                f"• *{kr_id(m.kr.number)}* {escape(truncate(m.kr.title, 120))}: {format_percent(m.before)} → *{format_percent(m.after)}*"
                for m in digest.moved
            )
            blocks.append(SectionBlock(text=MarkdownTextObject(text=truncate(f"*What moved*\n{moved}", SECTION_LIMIT))))
        else:
            blocks.append(SectionBlock(text=MarkdownTextObject(text="*What moved*\nNo KR moved during this review.")))
        if digest.off_track:
            off = "\n".join(
                f"• {HEALTH_EMOJI[kr.health]} *{kr_id(kr.number)}* {escape(truncate(kr.title, 120))} — {format_percent(kr.progress)} · {user(kr.owner)}"
                for kr in digest.off_track
            )
            blocks.append(SectionBlock(text=MarkdownTextObject(text=truncate(f"*Off track*\n{off}", SECTION_LIMIT))))
        else:
            blocks.append(SectionBlock(text=MarkdownTextObject(text="*Off track*\nNothing is off track. :tada:")))
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"{digest.cycle.period} · `/okr status {'<#' + digest.channel + '>'}` shows the full picture.")]))
        return {"text": f"Review {digest.cycle.key} closed", "blocks": _dicts(blocks)}


def _kr_sections(krs: Sequence[OwnedKrView]) -> list[Block]:
    blocks: list[Block] = []
    for item in krs[:MAX_KRS_SHOWN]:
        text = f"{kr_line(item.kr)}\n_{objective_id(item.objective.number)} {escape(truncate(item.objective.title, 120))}_"
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(text=truncate(text, SECTION_LIMIT)),
                accessory=ButtonElement(text="Update", action_id=Action.CHECKIN_OPEN.value, value=kr_id(item.kr.number)),
            )
        )
    if len(krs) > MAX_KRS_SHOWN:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"…and {len(krs) - MAX_KRS_SHOWN} more: `/okr status me`")]))
    return blocks


def _answer_buttons(nudge_id: int) -> ActionsBlock:
    return ActionsBlock(
        block_id=f"review_{nudge_id}",
        elements=[ButtonElement(text="No change", action_id=Action.NO_CHANGE.value, value=str(nudge_id))],
    )


def _dicts(blocks: Sequence[Block]) -> list[dict]:
    return [block.to_dict() for block in blocks]


# --------------------------------------------------------------------------- answers in the thread


def answer_reply(answer: Answer) -> Reply:
    """What the bot says in the thread after a reply: each check-in, then any question."""
    parts: list[str] = []
    if answer.recorded:
        lines = []
        for recorded in answer.recorded:
            kr = recorded.kr
            what = f"now {_current(kr)}" if recorded.value_changed else "no change"
            extra = ""
            if recorded.confidence is not None:
                extra += f" · confidence {recorded.confidence}/10"
            if recorded.note:
                extra += f" · “{escape(truncate(recorded.note, 300))}”"
            lines.append(
                f"• *{kr_id(kr.number)}* {escape(truncate(kr.title, 120))}: {what} — *{format_percent(kr.progress)}* · "
                f"{health_label(kr.health)}{extra}"
            )
        parts.append(":white_check_mark: Checked in, thanks!\n" + "\n".join(lines))
    if answer.problems:
        parts.append(":warning: Not recorded:\n" + "\n".join(f"• {escape(problem)}" for problem in answer.problems))
    if answer.question:
        parts.append(f":thinking_face: {escape(answer.question)}")
    text = "\n\n".join(parts) or "Nothing to record."
    reply = Reply(text=truncate(text, 3000), blocks=[SectionBlock(text=MarkdownTextObject(text=truncate(text, SECTION_LIMIT)))])
    reply.error = not answer.recorded
    return reply


def no_change_reply(krs: Sequence[KrSummary]) -> Reply:
    if not krs:
        return Reply.say("Every KR of yours already has a check-in in this review. Nothing more to record.")
    names = ", ".join(f"*{kr_id(kr.number)}*" for kr in krs)
    return Reply.say(f":white_check_mark: Recorded *no change* on {names}. Thanks!")


def _current(kr: KrSummary) -> str:
    if kr.metric is Metric.BOOLEAN:
        return "done" if (kr.current or 0) >= 1 else "not yet"
    return shown_value(kr.current, kr)


# --------------------------------------------------------------------------- /okr review


def status_reply(status: ReviewStatus) -> Reply:
    zone = status.tz.key
    if not status.enabled:
        lines = [
            ":no_bell: Review nudges are *off*.",
            f'Turn them on with `/okr review schedule "{status.schedule.text()}"` (add `tz Area/City` to change the time zone).',
        ]
    else:
        lines = [f":calendar: Reviews run *{status.schedule.describe()}* ({zone})."]
        if status.next_run is not None:
            lines.append(f"Next review: {when(status.next_run, status.tz)}.")
        if status.catching_up:
            lines.append("A review that is due has not started yet; it starts within a minute.")
    if status.cycle is not None:
        cycle = status.cycle
        spared = f", {status.skipped} skipped (checked in recently)" if status.skipped else ""
        away = f", {status.paused} paused" if status.paused else ""
        lines.append(
            f"Latest review *{cycle.key}* ({cycle.period}): {status.nudged} owner{'s' if status.nudged != 1 else ''} nudged, "
            f"{status.delivered} DM{'s' if status.delivered != 1 else ''} delivered, {status.answered} answered{spared}{away}; "
            f"{'closes' if status.cycle_open else 'closed'} {when(cycle.closes_at, status.tz)}."
        )
    lines += _preference_lines(status)
    return Reply.say("\n".join(lines))


def _preference_lines(status: ReviewStatus) -> list[str]:
    lines = []
    if status.cadences:
        own = ", ".join(f"{objective_id(number)} {cadence}" for number, cadence in status.cadences)
        lines.append(f"Objectives with their own cadence: {own}.")
    if status.skip_days:
        lines.append(f"Owners whose KRs were all checked in within {status.skip_days} days are not nudged (`/okr settings review-skip-days`).")
    if status.holidays:
        lines.append(f"Holidays: {holidays_text(status.holidays)}.")
    if status.paused_until is not None:
        lines.append(f"You paused your review DMs until {status.paused_until.isoformat()} (`/okr review resume` ends it).")
    lines.append(f"Nobody gets more than {DM_CAP} review or grading DMs in 7 days; one more waits for its turn.")
    return lines


def holidays_text(holidays: Sequence[Holiday]) -> str:
    return ", ".join(f"`{holiday.text()}`" for holiday in holidays) or "none"


def cadence_reply(change: CadenceSet) -> Reply:
    rhythm = "the workspace's schedule" if change.cadence is None else f"its own cadence, *{change.cadence}*"
    return Reply.say(
        f":white_check_mark: *{change.objective}* {escape(truncate(change.title, 120))} is now reviewed on {rhythm}: "
        f"{change.schedule.describe()} ({change.tz.key}). Its KR owners get its review DM then."
    )


def pause_reply(until: date) -> Reply:
    return Reply.say(
        f":zzz: No review DMs for you before *{until.isoformat()}*. A review that starts meanwhile reaches you that day "
        "if it is still open. `/okr review resume` ends the pause now."
    )


def resume_reply(was_paused: bool) -> Reply:
    if not was_paused:
        return Reply.say("You had no pause; your review DMs come as scheduled.")
    return Reply.say(":bell: Welcome back: review DMs reach you again, starting with any review still open.")


def holidays_reply(holidays: Sequence[Holiday], *, changed: str | None = None) -> Reply:
    head = f":white_check_mark: {changed}\n" if changed else ""
    return Reply.say(
        f"{head}Workspace holidays: {holidays_text(holidays)}. A review falling on one starts on the next working day "
        "(Monday to Friday, not a holiday); reminders wait for it too."
    )


def skip_days_reply(days: int) -> Reply:
    if days == 0:
        return Reply.say(":white_check_mark: Every owner is nudged every review, however recently they checked in.")
    return Reply.say(f":white_check_mark: Owners whose KRs were all checked in within the last {days} days are not nudged that review.")


def schedule_reply(status: ReviewStatus) -> Reply:
    reply = status_reply(status)
    reply.text = ":white_check_mark: Review schedule saved.\n" + reply.text
    reply.blocks = [SectionBlock(text=MarkdownTextObject(text=reply.text))]
    return reply


def run_reply(run: CycleRun) -> Reply:
    owners = len(run.nudged)
    if owners == 0 and run.already == 0 and not (run.skipped or run.paused):
        return Reply.say(f"No active KRs in {run.period}, so there is nobody to nudge for review *{run.key}*.")
    plural = "s" if owners != 1 else ""
    if run.created:
        text = f":mega: Review *{run.key}* started: {owners} owner{plural} get a DM with their KRs."
    elif owners:
        text = f":mega: Review *{run.key}* was already running: {owners} more owner{plural} nudged; {run.already} had their DM already."
    else:
        text = f"Review *{run.key}* is already running and every owner has their DM ({run.already}). Nobody is nudged twice."
    if run.skipped:
        text += f"\n{len(run.skipped)} owner{'s' if len(run.skipped) != 1 else ''} not nudged: every KR checked in recently."
    if run.paused:
        text += f"\n{len(run.paused)} owner{'s' if len(run.paused) != 1 else ''} paused: nudged when the pause ends, if the review is still open."
    return Reply.say(text)
