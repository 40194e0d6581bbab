"""A workspace's periods: its fiscal year, reading period names with it, and
whether a period is closed (graded and frozen) or still open for changes."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

from sqlalchemy import update
from sqlmodel import Session, col, func, select

from okrbot.domain.periods import MONTHS, Period, current_period, parse_period
from okrbot.services.context import Actor
from okrbot.services.errors import Invalid, NotAllowed, quoted
from okrbot.store.models import Initiative, KeyResult, KrLink, Objective, OkrPeriod, Workspace
from okrbot.store.workspaces import ensure_workspace, held_workspace

NEXT = "next"  # the period after the current one, as typed: `/okr gaps next`, `/okr status next`
PERIOD_HINT = "Periods look like 2026-Q4, FY2027-Q1 (a fiscal quarter) or 2027 and FY2027 (a whole year)."
ADMINS = "an okrbot admin (a Slack workspace admin, or someone in OKRBOT_ADMINS)"


def fiscal_start(workspace: Workspace | None, default_month: int) -> int:
    """The month the workspace's fiscal year starts in: its own setting, else the default."""
    if workspace is not None and workspace.fiscal_year_start:
        return workspace.fiscal_year_start
    return default_month


def with_calendar(session: Session, actor: Actor, default_month: int, planning_lead_days: int | None = None) -> Actor:
    """The actor, reading period names with its workspace's fiscal year (one primary-key read),
    and drafting for coming periods from `planning_lead_days` before they start."""
    month = fiscal_start(held_workspace(session, actor.team_id), default_month)
    lead = actor.planning_lead if planning_lead_days is None else timedelta(days=planning_lead_days)
    return actor if (month, lead) == (actor.fiscal_start, actor.planning_lead) else replace(actor, fiscal_start=month, planning_lead=lead)


def resolve(text: str, actor: Actor) -> Period:
    period = parse_period(text, actor.fiscal_start)
    if period is None:
        raise Invalid(f"{quoted(text)} is not a period.", hint=PERIOD_HINT, field="period")
    return period


def current(actor: Actor) -> Period:
    return current_period(actor.now, actor.tz, actor.fiscal_start)


def label(name: str, actor: Actor) -> str:
    """`FY2027-Q1 (1 Feb – 30 Apr 2026)`, and `next quarter, drafts` for one not begun yet."""
    period = parse_period(name, actor.fiscal_start)
    if period is None:
        return name
    if period.start_at(actor.tz) > actor.now:
        kind = "year" if period.is_year else "quarter"
        ahead = "next" if period == (current(actor).next() if not period.is_year else current(actor).year_period().next()) else "a coming"
        return f"{period.labelled()} · {ahead} {kind}, drafts"
    return period.labelled()


def require_drafting_open(actor: Actor, name: str, doing: str = "draft OKRs for it", *, instead: str | None = None) -> None:
    """A period not begun yet takes drafts from `actor.planning_lead` before it starts (the
    planning note goes to team channels then too); earlier, say when, and what to type now."""
    period = parse_period(name, actor.fiscal_start)
    if period is None:
        return
    opens = period.start_at(actor.tz) - actor.planning_lead
    if actor.now >= opens:
        return
    days = actor.planning_lead.days
    raise Invalid(
        f"Drafting for {period.labelled()} opens on {opens.astimezone(actor.tz):%-d %b %Y}, {days} day{'s' if days != 1 else ''}"
        f" before it starts, so I can't {doing} yet.",
        hint=instead or f"For now, use this period: `period {current(actor)}` (or leave the period out); from then on `period {period}` drafts it.",
        field="period",
    )


# --------------------------------------------------------------------------- the fiscal year


@dataclass(frozen=True)
class FiscalYearView:
    month: int
    current: Period
    year: Period
    changed: bool = False

    @property
    def month_name(self) -> str:
        return MONTHS[self.month - 1].capitalize()


def fiscal_year(actor: Actor) -> FiscalYearView:
    now = current(actor)
    return FiscalYearView(month=actor.fiscal_start, current=now, year=now.year_period())


def set_fiscal_year(session: Session, actor: Actor, month: int) -> FiscalYearView:
    """`/okr settings fiscal-year starts <month>` (admins). Objectives already in fiscal
    periods (FY…) would move to other dates, so the start cannot change under them."""
    if not actor.is_admin:
        raise NotAllowed(f"Only {ADMINS} can set the fiscal year.")
    workspace = ensure_workspace(session, actor.team_id)
    if month != actor.fiscal_start:
        fiscal_objectives = session.exec(
            select(func.count()).where(Objective.team_id == actor.team_id, col(Objective.period).startswith("FY"))
        ).one()
        if fiscal_objectives:
            raise Invalid(
                f"{fiscal_objectives} objective{'s are' if fiscal_objectives != 1 else ' is'} in fiscal periods (FY…) whose dates"
                f" come from the fiscal year starting in {MONTHS[actor.fiscal_start - 1].capitalize()}; changing it would move them.",
                hint="Keep the fiscal year as it is, or move those objectives to calendar periods (like 2026-Q4) with `/okr edit O-n` first.",
            )
    workspace.fiscal_year_start = month
    session.flush()
    changed = month != actor.fiscal_start
    return replace(fiscal_year(replace(actor, fiscal_start=month)), changed=changed)


# --------------------------------------------------------------------------- open and closed


def closed_row(session: Session, team_id: str, name: str) -> OkrPeriod | None:
    return session.exec(
        select(OkrPeriod).where(OkrPeriod.team_id == team_id, OkrPeriod.name == name, col(OkrPeriod.closed_at).is_not(None))
    ).first()


def is_closed(session: Session, team_id: str, name: str) -> bool:
    return closed_row(session, team_id, name) is not None


def closed_names(session: Session, team_id: str) -> set[str]:
    return set(session.exec(select(OkrPeriod.name).where(OkrPeriod.team_id == team_id, col(OkrPeriod.closed_at).is_not(None))).all())


def require_open(session: Session, team_id: str, name: str, doing: str) -> None:
    """Closed periods are frozen: say so, and who can reopen them."""
    if is_closed(session, team_id, name):
        raise NotAllowed(
            f"{name} is closed, so I can't {doing}.",
            hint=f"{ADMINS[0].upper()}{ADMINS[1:]} can reopen it with `/okr reopen-period {name}`.",
        )


def freeze_work(session: Session, team_id: str, name: str, *, frozen: bool) -> None:
    """At close, each link of the period's KRs keeps whether its work was done then, so work
    done later (carried over, or finished late) moves no closed KR; at reopen they read live again."""
    krs = select(KeyResult.id).join(Objective, Objective.id == KeyResult.objective_id).where(Objective.team_id == team_id, Objective.period == name)
    done_now = select(Initiative.status == "done").where(Initiative.id == KrLink.initiative_id).scalar_subquery()
    session.execute(
        update(KrLink)
        .where(col(KrLink.kr_id).in_(krs))
        .values(done_at_close=done_now if frozen else None)
        .execution_options(synchronize_session=False)
    )
