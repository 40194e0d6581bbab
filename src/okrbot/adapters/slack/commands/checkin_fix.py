"""`/okr checkin fix|delete KR-n` and the Edit / Delete buttons in history.

The channel message that announced the check-in is updated in place (chat.update),
never posted again.
"""

from __future__ import annotations

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

from okrbot.domain import commands as cmd
from okrbot.domain.formatting import format_value
from okrbot.domain.ids import kr_id
from okrbot.services import announce, checkin_fix
from okrbot.services.checkin_fix import FixOutcome
from okrbot.services.work import KrMove
from okrbot.services.unit_of_work import UnitOfWork
from okrbot.adapters.slack.commands.work import checkin_because
from okrbot.adapters.slack.views.messages import plain_moves
from okrbot.adapters.slack.mrkdwn import escape, truncate, user
from okrbot.adapters.slack.reply import Reply
from okrbot.adapters.slack.views.messages import RawBlock, moves_text, progress_announcement
from okrbot.store import outbox
from okrbot.store.models import CheckIn, KeyResult, OutboundMessage


def fix(ctx: UnitOfWork, command: cmd.CheckinFix) -> Reply:
    entry = command.entry
    checkin = checkin_fix.latest_checkin(ctx.session, ctx.actor, entry.kr)
    return fix_reply(ctx, checkin_fix.fix_checkin(ctx.session, ctx.actor, checkin, entry.value, confidence=entry.confidence, note=entry.note))


def delete(ctx: UnitOfWork, command: cmd.CheckinDelete) -> Reply:
    checkin = checkin_fix.latest_checkin(ctx.session, ctx.actor, command.kr)
    return delete_reply(ctx, checkin_fix.delete_checkin(ctx.session, ctx.actor, checkin))


def fix_reply(ctx: UnitOfWork, outcome: FixOutcome) -> Reply:
    kr, checkin = outcome.kr, outcome.checkin
    old, new = _value(outcome.old_value, kr), _value(checkin.value, kr)
    if outcome.announced is not None:
        because = checkin_because(kr, new, checkin.note) + f" _(corrected from {old} by {user(ctx.actor.user_id)})_"
        move = _announced_move(ctx, outcome)
        blocks = progress_announcement([move], because, outcome.announced.actor, outcome.announced.id)
        _update_announcements(ctx, outcome, blocks, f"Progress moved: {plain_moves([move])}")
    moved = f"\n{moves_text(outcome.moves)}" if outcome.moves else ""
    return Reply.say(f"Corrected your check-in of {_when(checkin)} on *{kr_id(kr.number)}*: {old} → *{new}*.{moved}")


def delete_reply(ctx: UnitOfWork, outcome: FixOutcome) -> Reply:
    kr, checkin = outcome.kr, outcome.checkin
    value = _value(checkin.value, kr)
    if outcome.announced is not None:
        text = f":wastebasket: ~Check-in on {kr_id(kr.number)}: {value}~ — deleted by {user(ctx.actor.user_id)}"
        blocks: list[Block] = [
            SectionBlock(text=MarkdownTextObject(text=truncate(text, 3000))),
            ContextBlock(elements=[MarkdownTextObject(text=f"See what is left with `/okr history {kr_id(kr.number)}`.")]),
        ]
        _update_announcements(ctx, outcome, blocks, f"Check-in on {kr_id(kr.number)} deleted")
    moved = f"\n{moves_text(outcome.moves)}" if outcome.moves else ""
    return Reply.say(f"Deleted the check-in of {_when(checkin)} on *{kr_id(kr.number)}* ({value}).{moved}")


def _announced_move(ctx: UnitOfWork, outcome: FixOutcome) -> KrMove:
    kr = outcome.kr
    before, after = checkin_fix.announced_progress(ctx.session, outcome.announced, kr)
    return KrMove(kr.id, kr.number, kr.title, kr.objective_id, before, after)


def _update_announcements(ctx: UnitOfWork, outcome: FixOutcome, blocks: list[Block], text: str) -> None:
    for message in outbox.announcements_of(ctx.session, ctx.actor.team_id, outcome.announced.id):
        if message.sent_ts:
            ctx.post(message.channel, blocks, text, kind="progress_update", update_ts=message.sent_ts)
        elif message.status == outbox.PENDING:  # not out yet: it goes out corrected
            message.payload = {**message.payload, "text": text, "blocks": [block.to_dict() for block in blocks]}
    ctx.session.flush()
    _revise_digests(ctx, outcome.announced.id, blocks[0].to_dict()["text"]["text"])


def _revise_digests(ctx: UnitOfWork, change_id: int, text: str) -> None:
    """A channel in daily mode: the digest to come says it corrected; one already posted is updated."""
    for message_id, old in announce.revise(ctx.session, ctx.actor.team_id, change_id, text):
        message = ctx.session.get(OutboundMessage, message_id)
        if message is None:
            continue
        blocks = [_revised(block, old, text) for block in message.payload.get("blocks", [])]
        if message.sent_ts:
            ctx.post(message.channel, [RawBlock(block) for block in blocks], message.payload.get("text", ""), kind="progress_update", update_ts=message.sent_ts)
        elif message.status == outbox.PENDING:
            message.payload = {**message.payload, "blocks": blocks}
    ctx.session.flush()


def _revised(block: dict, old: str, new: str) -> dict:
    if block.get("type") == "section" and (block.get("text") or {}).get("text") == old:
        return {**block, "text": {**block["text"], "text": new}}
    return block


def _value(value: float | None, kr: KeyResult) -> str:
    return "no change" if value is None else escape(format_value(value, kr.unit, kr.metric))


def _when(checkin: CheckIn) -> str:
    return checkin.at.strftime("%Y-%m-%d %H:%M UTC")
