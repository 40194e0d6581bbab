"""Scorecards in Slack: `/okr report`, a team channel's scorecard when a period closes,
and the company summary in the report channel."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import Block, ContextBlock, HeaderBlock, MarkdownTextObject, SectionBlock

from okrbot.domain.grading import Band
from okrbot.domain.ids import kr_id, objective_id
from okrbot.domain.progress import format_percent
from okrbot.services.scorecard import SHOWN, FirstOf, Scorecard, TeamScorecard
from okrbot.adapters.slack.mrkdwn import escape, truncate
from okrbot.adapters.slack.reply import Reply
from okrbot.adapters.slack.views.status import BAND_EMOJI, grade_line

SECTION_LIMIT = 3000
MOST_TEAMS = 20  # team sections in one message (the rest are counted)
MOST_NAMED = SHOWN  # objectives and KR ids named in one team's section


def distribution(bands: dict[Band, int], ungraded: int) -> str:
    """`🟢 3 · 🟡 2 · 🔴 1 · 2 not graded`."""
    parts = [f"{BAND_EMOJI[kind]} {bands.get(kind, 0)}" for kind in Band]
    if ungraded:
        parts.append(f"{ungraded} not graded")
    return " · ".join(parts)


def _named(krs: FirstOf) -> str:
    shown = ", ".join(f"*{kr_id(number)}*" for number in krs.items[:MOST_NAMED])
    return shown + (f" and {krs.total - min(len(krs.items), MOST_NAMED)} more" if krs.total > MOST_NAMED else "")


def _team_text(team: TeamScorecard) -> str:
    name = f"<#{team.channel}>" if team.channel else "No team"
    lines = [f"*{name}* · {distribution(team.bands, team.ungraded)}"]
    for objective in team.objectives.items[:MOST_NAMED]:
        grade = objective.grade
        score = grade_line(grade) if grade is not None else f"progress {format_percent(objective.progress)}"
        lines.append(f"• *{objective_id(objective.number)}* {escape(truncate(objective.title, 80))} — {score}")
    if team.objectives.total > MOST_NAMED:
        lines.append(f"• …and {team.objectives.total - MOST_NAMED} more objectives")
    if team.carried:
        more = f" and {team.carried.total - MOST_NAMED} more" if team.carried.total > MOST_NAMED else ""
        lines.append("Carried over: " + ", ".join(f"{objective_id(old)} → {objective_id(new)}" for old, new in team.carried.items[:MOST_NAMED]) + more)
    if team.no_work:
        lines.append(f"No work linked: {_named(team.no_work)}")
    if team.never_checked_in:
        lines.append(f"Never checked in: {_named(team.never_checked_in)}")
    return truncate("\n".join(lines), SECTION_LIMIT)


def _heading(card: Scorecard) -> str:
    state = "closed" if card.closed else "open"
    return truncate(f"Scorecard · {card.period.labelled()} · {state}", 150)


def _blocks(card: Scorecard, teams: Sequence[TeamScorecard]) -> list[Block]:
    blocks: list[Block] = [HeaderBlock(text=_heading(card))]
    if not teams:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f"No objectives in {card.period}.")))
        return blocks
    blocks += [SectionBlock(text=MarkdownTextObject(text=_team_text(team))) for team in teams[:MOST_TEAMS]]
    if len(teams) > MOST_TEAMS:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"…and {len(teams) - MOST_TEAMS} more teams: `/okr report {card.period} #channel` shows one.")]))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text="Grades are read against each KR's expectation: committed KRs aim for 1.0, the others for 0.7.")]))
    return blocks


def report_reply(card: Scorecard) -> Reply:
    reply = Reply.say(f"Scorecard · {card.period}")
    reply.blocks = _blocks(card, card.teams)
    return reply


class SlackScorecardMessages:
    """The `ScorecardMessages` the scorecard service queues: payloads for chat.postMessage."""

    def scorecard(self, card: Scorecard, team: TeamScorecard) -> dict:
        return {"text": f"Scorecard · {card.period}", "blocks": [block.to_dict() for block in _blocks(card, [team])]}

    def company_summary(self, card: Scorecard) -> dict:
        blocks: list[Block] = [
            HeaderBlock(text=truncate(f"Company scorecard · {card.period.labelled()}", 150)),
            SectionBlock(text=MarkdownTextObject(text=f"*All teams* · {distribution(card.bands, card.ungraded)}")),
        ]
        lines = [
            f"• {f'<#{team.channel}>' if team.channel else 'No team'}: {distribution(team.bands, team.ungraded)} · "
            f"{team.objectives.total} objective{'s' if team.objectives.total != 1 else ''}"
            + (f", {team.carried.total} carried over" if team.carried else "")
            for team in card.teams
        ]
        blocks.append(SectionBlock(text=MarkdownTextObject(text=truncate("\n".join(lines), SECTION_LIMIT))))
        return {"text": f"Company scorecard · {card.period}", "blocks": [block.to_dict() for block in blocks]}


