"""Private objectives (issue 8): seen only by their owner, their KRs' owners, the
members of their team channel and admins; never in channels, digests, other
people's App Home, `/okr serves`, gaps or answers read in a channel. A public
parent shows an aligned private child's progress, not its title.

The private objective here is "Secret merger with Initech": no text anyone else
reads may contain "Initech". Runs on SQLite and, with OKRBOT_TEST_DATABASE_URL,
on PostgreSQL.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from sqlmodel import select

from okrbot.config import Settings
from okrbot.services import reviews
from okrbot.services.context import Actor
from okrbot.services.home import home_data
from okrbot.slack.commands.runner import CommandRunner
from okrbot.slack.views.home import home_view
from okrbot.slack.views.reviews import SlackReviewMessages
from okrbot.store.db import Database
from okrbot.store.models import OutboundMessage, ReviewCycle
from tests.conftest import NOW

SECRET = "Initech"
PRIVATE_TEAM = "CSECRET"
PUBLIC_TEAM = "CPUB"


def person(user: str, *, channel: str = "C1", admin: bool = False) -> Actor:
    """UD is in the private objective's team channel; nobody else is in any."""
    return Actor(
        team_id="T1", user_id=user, channel_id=channel, is_admin=admin, now=NOW,
        member_of=lambda team_channel: user == "UD" and team_channel == PRIVATE_TEAM,
    )


OUTSIDER = person("UE")
MAY_SEE = {"owner": person("UB"), "KR owner": person("UC"), "team member": person("UD"), "admin": person("UADMIN", admin=True)}


def runner(db: Database) -> CommandRunner:
    return CommandRunner(db, Settings(_env_file=None))


def run(db: Database, text: str, actor: Actor) -> str:
    outcome = runner(db).run(text, actor)
    assert not outcome.reply.error, f"/okr {text}: {outcome.reply.text}"
    return outcome.reply.text + "\n" + json.dumps(outcome.reply.block_dicts(), ensure_ascii=False)


def answer(db: Database, text: str, actor: Actor) -> str:
    """Everything the reply shows, refused or not."""
    outcome = runner(db).run(text, actor)
    return outcome.reply.text + "\n" + json.dumps(outcome.reply.block_dicts(), ensure_ascii=False)


def outbox_text(db: Database) -> list[tuple[str, str, str]]:
    with db.session_scope() as session:
        return [(m.kind, m.channel, json.dumps(m.payload, ensure_ascii=False)) for m in session.exec(select(OutboundMessage).order_by(OutboundMessage.id)).all()]


@pytest.fixture
def org(db: Database) -> Database:
    """O-1 public (UA, #CPUB) with KR-2; O-2 private (UB, #CSECRET, aligned to O-1) with
    KR-1 owned by UC; I-1 (UA) feeds both KRs, I-2 (UA) only the public one."""
    run(db, f'objective add "Grow the public business" team <#{PUBLIC_TEAM}|pub>', person("UA"))
    run(db, f'objective add "Secret merger with {SECRET}" team <#{PRIVATE_TEAM}|secret> parent O-1 private', person("UB"))
    run(db, f'kr add O-2 "Close the {SECRET} deal" by initiatives owner <@UC|c>', person("UB"))
    run(db, 'kr add O-1 "Public revenue up" by initiatives', person("UA"))
    run(db, 'initiative add KR-2 "Shared platform work"', person("UA"))
    run(db, 'initiative add KR-2 "Other platform work"', person("UA"))
    # Linking someone else's work needs the right to change it too (issue 17): an admin does.
    run(db, "link I-1 KR-1", person("UADMIN", admin=True))
    return db


READS = ["status all", "status O-2", "status KR-1", "history KR-1", "gaps", "status #CSECRET", "status <@UC|c>", "status O-1"]


@pytest.mark.parametrize("text", READS)
def test_someone_else_never_reads_a_private_objective(org, text):
    shown = answer(org, text, OUTSIDER)
    assert SECRET not in shown and "Secret merger" not in shown


@pytest.mark.parametrize("who", MAY_SEE)
def test_owner_kr_owner_team_members_and_admins_see_it(org, who):
    viewer = MAY_SEE[who]
    for text in ("status all", "status O-2", "status KR-1", "history KR-1"):
        assert SECRET in run(org, text, viewer), (who, text)
    assert "2 objectives and 2 KRs checked" in run(org, "gaps", viewer)


def test_gaps_of_someone_else_look_at_the_public_objective_only(org):
    assert "1 objective and 1 KR checked" in answer(org, "gaps", OUTSIDER)


def test_a_public_parent_rolls_up_a_private_child_without_its_title(org):
    run(org, "done I-1", person("UA"))  # KR-1 (private, 1 of 1 done) → 100%
    outsider = run(org, "status O-1", OUTSIDER)
    assert "↳ Aligned: :lock: a private objective 100%" in outsider and SECRET not in outsider
    member = run(org, "status O-1", person("UD"))
    assert f"↳ Aligned: *O-2* Secret merger with {SECRET} 100%" in member


def test_done_work_is_announced_only_for_public_krs_and_private_titles_stay_out(org):
    reply = run(org, "done I-1", person("UA"))  # UA owns the work, not the private objective
    assert ":lock: a private KR: 0% → *100%*" in reply and "*KR-2* Public revenue up: 0% → *50%*" in reply
    assert SECRET not in reply
    posts = outbox_text(org)
    assert [(kind, channel) for kind, channel, _ in posts if kind == "progress"] == [("progress", PUBLIC_TEAM)]
    for kind, channel, payload in posts:
        assert SECRET not in payload, (kind, channel)  # cards, card updates, announcements
    # The KR owner marking the same work done again sees their own KR's name.
    assert SECRET in run(org, "reopen I-1", person("UC"))


def test_serves_answers_leave_private_krs_to_those_who_may_see_them(org):
    question = f"serves paperwork to close the {SECRET} deal"
    assert "KR-1" not in answer(org, question, OUTSIDER) and "Secret merger" not in answer(org, question, OUTSIDER)
    assert "KR-1" in run(org, question, replace(person("UD"), channel_id="DUD"))  # asked in a DM
    assert "KR-1" not in answer(org, question, person("UD"))  # asked in a channel: others read it


def test_an_answer_read_in_a_channel_shows_only_what_that_channel_may_see(org):
    def in_thread(text: str, channel: str) -> tuple[str, str]:
        runner(org).run_in_thread(text, person("UB", channel=channel), channel=channel, thread_ts="1.000001", event_key=f"ev:{text}:{channel}")
        posted = [payload for _, where, payload in outbox_text(org) if where == channel]
        return posted[-1], channel

    # The owner mentions the bot in a public channel: the thread is read by everyone there.
    shown, _ = in_thread("status all", "CPUBLIC")
    assert SECRET not in shown and "Grow the public business" in shown
    shown, _ = in_thread("status O-2", "CPUBLIC")
    assert SECRET not in shown and "O-2 is private, so I won't show it in this channel" in shown
    # In the objective's own team channel everyone reading is on the team.
    shown, _ = in_thread("status all", PRIVATE_TEAM)
    assert SECRET in shown


def test_app_home_and_review_messages_show_private_okrs_to_their_owners_only(org):
    with org.session_scope() as session:
        outsider_home = json.dumps(home_view(home_data(session, OUTSIDER)).to_dict())
        kr_owner_home = json.dumps(home_view(home_data(session, person("UC"))).to_dict())
    assert SECRET not in outsider_home and SECRET in kr_owner_home

    policy = reviews.ReviewPolicy()
    with org.session_scope() as session:
        run_ = reviews.run_now(session, person("UADMIN", admin=True), policy, SlackReviewMessages())
    nudges = {channel: payload for kind, channel, payload in outbox_text(org) if kind == reviews.NUDGE_KIND}
    assert set(run_.nudged) == {"UA", "UC"} == set(nudges)
    assert SECRET in nudges["UC"] and SECRET not in nudges["UA"]  # each owner's own KRs only

    # The review closes: team channels get a digest; the private team's objective is not in any.
    with org.session_scope() as session:
        cycle = session.exec(select(ReviewCycle)).one()
        digests = reviews.digests(session, cycle, cycle.closes_at, policy.default_tz)
        messages = [SlackReviewMessages().digest(digest) for digest in digests]
    assert [digest.channel for digest in digests] == [PUBLIC_TEAM]
    assert all(SECRET not in json.dumps(message) for message in messages)


# --------------------------------------------------------------------------- through Slack


def test_through_slack_only_the_owners_and_the_team_channel_see_it(bot, client, slack, okr):
    slack.set_members(PRIVATE_TEAM, ["UB", "UD"])  # conversations.members: the private team
    okr.ok(f'objective add "Grow the public business" team <#{PUBLIC_TEAM}|pub>', user="UA")
    okr.ok(f'objective add "Secret merger with {SECRET}" team <#{PRIVATE_TEAM}|secret> parent O-1 private', user="UB")
    okr.ok(f'kr add O-2 "Close the {SECRET} deal" by initiatives owner <@UC|c>', user="UB")
    okr.ok('initiative add KR-1 "Due diligence"', user="UB", channel="C1")
    okr.ok("done I-1", user="UB")

    outsider = [okr("status all", user="UE"), okr("status KR-1", user="UE"), okr("history KR-1", user="UE"), okr("gaps", user="UE")]
    assert all(SECRET not in answer.text for answer in outsider)
    assert "There is no KR-1" in outsider[1].text
    assert SECRET in okr.ok("status KR-1", user="UD").text  # in the team channel
    assert "↳ Aligned: :lock: a private objective 100%" in okr.ok("status O-1", user="UE").text

    # The owner asks in a public channel: the whole channel reads the thread.
    mention = client.app_mention("status all", user="UB", channel="CPUBLIC")
    assert client.event(mention).status_code == 200
    bot.settle()
    (thread,) = [c for c in slack.calls("chat.postMessage") if c.args.get("thread_ts") == mention["ts"]]
    assert "Grow the public business" in json.dumps(thread.args) and SECRET not in json.dumps(thread.args)

    # App Home: the outsider's has nothing of it; the KR owner's has their KR.
    for user in ("UE", "UC"):
        assert client.event(client.app_home_opened(user)).status_code == 200
    bot.settle()
    homes = {c.args["user_id"]: json.dumps(c.args["view"]) for c in slack.calls("views.publish")}
    assert SECRET not in homes["UE"] and SECRET in homes["UC"]

    # Nothing posted in any channel names it; its work, which feeds only the private KR,
    # is as private as it is (issue 17): no card for it in C1, where it was created.
    for call in slack.calls("chat.postMessage") + slack.calls("chat.update"):
        assert SECRET not in json.dumps(call.args), call.args.get("channel")
        assert "Due diligence" not in json.dumps(call.args), call.args.get("channel")
