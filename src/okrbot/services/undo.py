"""Undo: restore the exact state before a done, reopen, check-in, link or unlink."""

from __future__ import annotations

from sqlmodel import Session, select

from okrbot.services.checkins import undo_checkin
from okrbot.services.context import Actor
from okrbot.services.errors import Invalid
from okrbot.services.work import KrMove, change_gone, undo_link, undo_status
from okrbot.store.models import Change


def undo(session: Session, actor: Actor, change_pk: int) -> tuple[Change, list[KrMove]]:
    change = session.exec(select(Change).where(Change.team_id == actor.team_id, Change.id == change_pk)).first()
    if change is None:
        raise change_gone()
    if change.undone_at is not None:
        raise Invalid("That change was already undone.")
    if change.action in ("done", "reopen"):
        return undo_status(session, actor, change)
    if change.action == "checkin":
        return undo_checkin(session, actor, change)
    if change.action in ("link", "unlink"):
        return undo_link(session, actor, change)
    raise Invalid(f"A {change.action} can't be undone with this button.", hint="See what happened with `/okr history KR-n`.")
