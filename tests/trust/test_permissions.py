"""Who may edit, archive, check in, link and mark done (issue 8), and what a refusal says.

Every role tries every action on the same workspace; an attempt that is allowed
is rolled back, so each role starts from the same data. Runs on SQLite and,
with OKRBOT_TEST_DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest
from sqlmodel import Session, func, select

from okrbot.config import Settings
from okrbot.domain.commands import Direction, Metric, WorkRef
from okrbot.services import checkins, okrs, work
from okrbot.services.context import Actor
from okrbot.services.errors import NotAllowed
from okrbot.services.undo import undo
from okrbot.adapters.slack.commands.runner import CommandRunner
from okrbot.store.db import Database
from okrbot.store.models import Change, CheckIn, Initiative, KrLink, Objective
from tests.conftest import NOW

TEAM_CHANNEL = "CTEAM"
# Roles: the objective's owner, the KRs' owner, the work's owner, a member of the team
# channel, someone else, the owner of a KR elsewhere (O-2), an okrbot admin, and a signed webhook.
ROLES = ["UOWN", "UKR", "UWORK", "UMATE", "UOUT", "UOTHER", "UADMIN", "webhook"]


def as_role(role: str) -> Actor:
    actor = Actor(team_id="T1", user_id=role, channel_id="C1", now=NOW, member_of=lambda channel: role == "UMATE" and channel == TEAM_CHANNEL)
    if role == "UADMIN":
        return replace(actor, is_admin=True)
    if role == "webhook":
        return replace(actor, user_id="webhook", source="webhook", system=True)
    return actor


@pytest.fixture
def workspace(db: Database) -> Database:
    """O-1 (UOWN, team #CTEAM) with KR-1 (milestone) and KR-2 (numeric), both owned by
    UKR; I-1 (UWORK) feeds KR-1; O-2 belongs to someone else entirely."""
    owner = as_role("UOWN")
    with db.session_scope() as session:
        o1 = okrs.create_objective(session, owner, okrs.NewObjective("Ship the platform", "UOWN", TEAM_CHANNEL))
        okrs.create_kr(session, owner, okrs.NewKr(o1.number, "Adopted by every squad", Metric.MILESTONE, Direction.INCREASE, "UKR"))
        okrs.create_kr(session, owner, okrs.NewKr(o1.number, "Build minutes", Metric.NUMERIC, Direction.DECREASE, "UKR", 45, 25))
        work.create_initiative(session, owner, kr_number=1, title="Build the pipeline", owner="UWORK")
        other = replace(owner, user_id="UOTHER")
        o2 = okrs.create_objective(session, other, okrs.NewObjective("Other team", "UOTHER", "COTHER"))
        okrs.create_kr(session, other, okrs.NewKr(o2.number, "Their KR", Metric.MILESTONE, Direction.INCREASE, "UOTHER"))
    return db


class _RollBack(Exception):
    pass


def attempt(db: Database, actor: Actor, action: Callable[[Session, Actor], object]) -> str | None:
    """None when the action is allowed (and then rolled back), else the refusal."""
    try:
        with db.session_scope() as session:
            action(session, actor)
            raise _RollBack
    except _RollBack:
        return None
    except NotAllowed as refusal:
        return str(refusal)


OBJECTIVE = {"UOWN", "UADMIN", "webhook"}
KR = {"UOWN", "UKR", "UMATE", "UADMIN", "webhook"}
WORK = {"UOWN", "UKR", "UWORK", "UMATE", "UADMIN", "webhook"}
LINK = WORK  # whoever may change the work and the KR's links (here the same people)


def _edit_objective(session: Session, actor: Actor) -> None:
    okrs.update_objective(session, actor, 1, okrs.NewObjective("Renamed", "UOWN", TEAM_CHANNEL))


def _edit_kr(session: Session, actor: Actor) -> None:
    okrs.update_kr(session, actor, 2, okrs.NewKr(1, "Renamed", Metric.NUMERIC, Direction.DECREASE, "UKR", 45, 20))


def _done_then_undo(session: Session, actor: Actor) -> None:
    outcome = work.mark_done(session, actor, WorkRef(initiative=1))
    undo(session, actor, outcome.change.id)


ACTIONS: dict[str, tuple[Callable[[Session, Actor], object], set[str], list[str]]] = {
    # name: (action, roles allowed, what the refusal names)
    "edit O-1": (_edit_objective, OBJECTIVE, ["<@UOWN> (owner)", "okrbot admin"]),
    "archive O-1": (lambda s, a: okrs.archive_objective(s, a, 1), OBJECTIVE, ["<@UOWN> (owner)", "can archive O-1"]),
    "check in KR-2": (lambda s, a: checkins.record_checkin(s, a, 2, 40), KR, ["<@UKR> (owner of KR-2)", "<@UOWN> (owner of O-1)", "members of <#CTEAM>"]),
    "edit KR-2": (_edit_kr, KR, ["<@UKR>", "<@UOWN>", "<#CTEAM>"]),
    "done I-1": (lambda s, a: work.mark_done(s, a, WorkRef(initiative=1)), WORK, ["<@UWORK> (owner)", "<@UKR> (owner of KR-1)", "members of <#CTEAM>", "can mark I-1 done"]),
    "done and undo I-1": (_done_then_undo, WORK, ["can mark I-1 done"]),
    "edit I-1": (lambda s, a: work.update_initiative(s, a, 1, title="Renamed", owner="UWORK", url=None, status="in_progress"), WORK, ["<@UWORK>", "can change I-1"]),
    # Linking existing work asks for the right to change the work first: it names who has it.
    "link I-1 to KR-2": (lambda s, a: work.link(s, a, WorkRef(initiative=1), 2), LINK, ["<@UWORK> (owner)", "<@UKR> (owner of KR-1)", "members of <#CTEAM>", "can link I-1 to KR-2"]),
    # Someone else's work to a KR of one's own (UOTHER owns KR-3): only those who may change I-1.
    "link I-1 to KR-3": (lambda s, a: work.link(s, a, WorkRef(initiative=1), 3), {"UWORK", "UADMIN", "webhook"}, ["<@UWORK> (owner", "can link I-1 to KR-3"]),
    "unlink I-1 from KR-1": (lambda s, a: work.unlink(s, a, WorkRef(initiative=1), 1), LINK, ["can unlink I-1 from KR-1"]),
    "add someone else's work to KR-2": (
        lambda s, a: work.create_initiative(s, a, kr_number=2, title="Theirs", owner="UNOBODY"),
        KR,
        ["<@UKR>", "can add work owned by someone else to KR-2"],
    ),
}


@pytest.mark.parametrize("name", ACTIONS)
def test_each_role_may_do_exactly_what_the_rules_say(workspace, name):
    action, allowed, named = ACTIONS[name]
    outcomes = {role: attempt(workspace, as_role(role), action) for role in ROLES}
    assert {role for role, refusal in outcomes.items() if refusal is None} == allowed, outcomes
    for role, refusal in outcomes.items():
        if refusal is not None:
            # A refusal says who can: the people by mention, the team channel, admins.
            assert refusal.startswith("Only ") and refusal.endswith(".") and "okrbot admin" in refusal, refusal
            for part in named:
                assert part in refusal, (role, refusal)


def test_anyone_may_link_their_own_work_to_a_kr_they_can_see(workspace):
    # The "does this serve a KR?" Link button: the asker's request becomes their work on the KR.
    for role in ROLES:
        assert attempt(workspace, as_role(role), lambda s, a: work.create_initiative(s, a, kr_number=2, title="Mine", owner=None)) is None
        assert attempt(workspace, as_role(role), lambda s, a: work.link(s, a, WorkRef(url="https://example.com/x/1"), 2)) is None


def test_a_refused_change_changes_nothing_and_the_reply_says_who_can(workspace):
    runner = CommandRunner(workspace, Settings(_env_file=None))

    def snapshot() -> tuple:
        with workspace.session_scope() as session:
            return (
                session.exec(select(func.count(Change.id))).one(),
                session.exec(select(func.count(CheckIn.id))).one(),
                session.exec(select(func.count(KrLink.id))).one(),
                [i.status for i in session.exec(select(Initiative)).all()],
                [o.status for o in session.exec(select(Objective)).all()],
            )

    before = snapshot()
    for text in ("done I-1", "checkin KR-2 30", "archive O-1", "unlink I-1 KR-1", "link I-1 KR-2", 'kr add O-1 "More" yes/no'):
        outcome = runner.run(text, as_role("UOUT"))
        assert outcome.reply.error and outcome.queued == [], text
        assert "Only <@" in outcome.reply.text and "okrbot admin" in outcome.reply.text, (text, outcome.reply.text)
    assert snapshot() == before


def test_a_refusal_never_names_the_people_of_a_private_objective(workspace):
    owner = as_role("UOWN")
    with workspace.session_scope() as session:
        secret = okrs.create_objective(session, replace(owner, user_id="USECRET"), okrs.NewObjective("Secret", "USECRET", "CSECRET", private=True))
        okrs.create_kr(session, replace(owner, user_id="USECRET"), okrs.NewKr(secret.number, "Hidden", Metric.MILESTONE, Direction.INCREASE, "UHIDDEN"))
        work.link(session, as_role("UADMIN"), WorkRef(initiative=1), 4)
    refusal = attempt(workspace, as_role("UOUT"), lambda s, a: work.mark_done(s, a, WorkRef(initiative=1)))
    assert refusal is not None and "<@UWORK>" in refusal and "<#CTEAM>" in refusal
    assert "UHIDDEN" not in refusal and "USECRET" not in refusal and "CSECRET" not in refusal
    # The private objective's own team may mark the work done.
    secret_mate = replace(as_role("UOUT"), member_of=lambda channel: channel == "CSECRET")
    assert attempt(workspace, secret_mate, lambda s, a: work.mark_done(s, a, WorkRef(initiative=1))) is None


# --------------------------------------------------------------------------- through Slack


def test_in_slack_the_team_is_the_channel_members_and_admins_are_slack_admins_or_configured(slack, database_url):
    from tests.e2e.conftest import Okr
    from tests.e2e.harness import running_bot

    slack.set_members("CTEAM", ["U1", "U2"])  # conversations.members of the team channel
    slack.set_user("UWSADMIN", is_admin=True)  # a Slack workspace admin
    with running_bot(slack, database_url, OKRBOT_ADMINS="UCONF, UOTHERADMIN") as (bot, client):
        okr = Okr(bot, client, slack)
        okr.ok('objective add "Ship" team <#CTEAM|platform>')
        okr.ok('kr add O-1 "Adopted" by initiatives')
        okr.ok('initiative add KR-1 "Build"')

        refused = okr("done I-1", user="U3")
        assert refused.problem and "Only <@U1> (owner), members of <#CTEAM> or an okrbot admin can mark I-1 done." in refused.text
        assert "0%" in okr.ok("status KR-1").text

        assert "100%" in okr.ok("done I-1", user="U2").text  # in the team channel
        assert okr.ok("reopen I-1", user="UWSADMIN")  # Slack says admin
        assert okr.ok("done I-1", user="UCONF")  # OKRBOT_ADMINS
        refused = okr("archive O-1", user="U2")  # a team member may not archive the objective
        assert refused.problem and "Only <@U1> (owner) or an okrbot admin can archive O-1." in refused.text
        assert okr.ok("archive O-1", user="UCONF")


def test_in_slack_owning_a_kr_is_not_enough_to_link_someone_elses_work_to_it(slack, database_url):
    """Issue 17: anyone who owned a KR could `/okr link I-n KR-theirs` any work by number,
    post its card in their own channel and then mark it done."""
    from tests.e2e.conftest import Okr
    from tests.e2e.harness import running_bot

    with running_bot(slack, database_url) as (bot, client):
        okr = Okr(bot, client, slack)
        okr.ok('objective add "Ship" team <#CTEAM|platform>', user="U1")
        okr.ok('kr add O-1 "Adopted" by initiatives', user="U1")
        okr.ok('initiative add KR-1 "Build the pipeline" owner <@UWORK|w>', user="U1")
        okr.ok('objective add "Theirs" team <#CTHEIRS|theirs>', user="UTHEM")
        okr.ok('kr add O-2 "Their KR" by initiatives', user="UTHEM")

        with bot.db.session_scope() as session:
            links_before = session.exec(select(func.count(KrLink.id))).one()
        refused = okr("link I-1 KR-2", user="UTHEM", channel="CTHEIRS")
        assert refused.problem
        assert "Only <@UWORK> (owner), <@U1> (owner of KR-1), members of <#CTEAM> or an okrbot admin can link I-1 to KR-2." in refused.text
        assert refused.posts() == [] and refused.of("chat.update") == []  # no card in their channel
        with bot.db.session_scope() as session:
            assert session.exec(select(func.count(KrLink.id))).one() == links_before
        # Still not theirs to mark done: they answer for no KR it feeds.
        assert okr("done I-1", user="UTHEM", channel="CTHEIRS").problem
        # The work's owner may bring it to their KR (they see KR-2, and it is their work).
        assert "Linked *I-1*" in okr.ok("link I-1 KR-2", user="UWORK").body["text"]
