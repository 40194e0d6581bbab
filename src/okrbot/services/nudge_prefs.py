"""Nudge preferences people set in chat: an objective's review cadence, their own pause,
the workspace's holidays and how recent a check-in spares an owner the nudge.
The decisions they feed are in domain/nudge_prefs.py; services/reviews.py applies them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from okrbot.domain.ids import objective_id
from okrbot.domain.nudge_prefs import DEFAULT_SKIP_DAYS, MAX_SKIP_DAYS, Holiday, cadence_schedule
from okrbot.domain.schedule import ReviewSchedule
from okrbot.services import permissions
from okrbot.services.context import Actor
from okrbot.services.errors import Invalid, NotAllowed
from okrbot.services.okrs import get_objective
from okrbot.store.models import ReviewHoliday, ReviewPause, Workspace
from okrbot.store.workspaces import ensure_workspace

_ADMINS = "an okrbot admin (a Slack workspace admin, or someone in OKRBOT_ADMINS)"


@dataclass(frozen=True)
class CadenceSet:
    objective: str  # "O-3"
    title: str
    cadence: str | None  # None: the workspace's
    schedule: ReviewSchedule
    tz: ZoneInfo


def set_cadence(session: Session, actor: Actor, number: int, cadence: str | None, workspace_schedule: ReviewSchedule, tz: ZoneInfo) -> CadenceSet:
    """`/okr review cadence O-n weekly|every 2 weeks|monthly|default`: the objective's owner or an admin."""
    objective = get_objective(session, actor, number)
    if not permissions.may_edit_objective(actor, objective):
        raise NotAllowed(
            f"Only {objective_id(number)}'s owner <@{objective.owner}> or an okrbot admin can change how often it is reviewed."
        )
    objective.review_cadence = cadence
    session.add(objective)
    session.flush()
    return CadenceSet(objective_id(number), objective.title, cadence, cadence_schedule(cadence, workspace_schedule), tz)


def pause(session: Session, actor: Actor, until: date) -> date:
    """`/okr review pause until <day>`: no review DMs for the actor before that day."""
    today = actor.now.astimezone(actor.tz).date()
    if until <= today:
        raise Invalid(
            f"{until.isoformat()} is not after today ({today.isoformat()}).",
            hint="Name the day nudges start again, like `/okr review pause until 2027-01-05`; `/okr review resume` ends a pause now.",
        )
    ensure_workspace(session, actor.team_id)
    row = session.get(ReviewPause, (actor.team_id, actor.user_id)) or ReviewPause(team_id=actor.team_id, user_id=actor.user_id)
    row.paused_until = until
    session.add(row)
    session.flush()
    return until


def resume(session: Session, actor: Actor) -> bool:
    """`/okr review resume`; False when there was no pause to end."""
    row = session.get(ReviewPause, (actor.team_id, actor.user_id))
    today = actor.now.astimezone(actor.tz).date()
    was_paused = row is not None and row.paused_until is not None and row.paused_until > today
    if row is not None:
        row.paused_until = None
        session.add(row)
        session.flush()
    return was_paused


def paused_until(session: Session, team_id: str) -> dict[str, date]:
    """Everyone's pause in the workspace (ended ones included; callers compare with the clock)."""
    rows = session.exec(select(ReviewPause.user_id, ReviewPause.paused_until).where(ReviewPause.team_id == team_id)).all()
    return {user: until for user, until in rows if until is not None}


def holidays(session: Session, team_id: str) -> list[Holiday]:
    rows = session.exec(
        select(ReviewHoliday).where(ReviewHoliday.team_id == team_id).order_by(ReviewHoliday.first_day, ReviewHoliday.last_day)
    ).all()
    return [Holiday(row.first_day, row.last_day) for row in rows]


def add_holiday(session: Session, actor: Actor, holiday: Holiday) -> list[Holiday]:
    _require_admin(actor, "add workspace holidays")
    ensure_workspace(session, actor.team_id)
    if holiday not in holidays(session, actor.team_id):
        session.add(ReviewHoliday(team_id=actor.team_id, first_day=holiday.first, last_day=holiday.last, added_by=actor.user_id))
        session.flush()
    return holidays(session, actor.team_id)


def remove_holiday(session: Session, actor: Actor, holiday: Holiday) -> list[Holiday]:
    _require_admin(actor, "remove workspace holidays")
    row = session.exec(
        select(ReviewHoliday).where(
            ReviewHoliday.team_id == actor.team_id, ReviewHoliday.first_day == holiday.first, ReviewHoliday.last_day == holiday.last
        )
    ).first()
    if row is None:
        listed = ", ".join(f"`{h.text()}`" for h in holidays(session, actor.team_id)) or "none"
        raise Invalid(f"There is no holiday `{holiday.text()}` (holidays: {listed}).", hint="Remove one exactly as `/okr review holidays` lists it.")
    session.delete(row)
    session.flush()
    return holidays(session, actor.team_id)


def skip_days(workspace: Workspace | None) -> int:
    if workspace is None or workspace.review_skip_days is None:
        return DEFAULT_SKIP_DAYS
    return workspace.review_skip_days


def set_skip_days(session: Session, actor: Actor, days: int) -> int:
    """`/okr settings review-skip-days N`: admins; 0 nudges everyone every review."""
    _require_admin(actor, "change when a recent check-in skips the nudge")
    if not 0 <= days <= MAX_SKIP_DAYS:
        raise Invalid(f"{days} days is not between 0 and {MAX_SKIP_DAYS}.", hint="For example `/okr settings review-skip-days 5`; 0 never skips.")
    workspace = ensure_workspace(session, actor.team_id)
    workspace.review_skip_days = days
    session.flush()
    return days


def _require_admin(actor: Actor, what: str) -> None:
    if not actor.is_admin:
        raise NotAllowed(f"Only {_ADMINS} can {what}.")
