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
from okrbot.services import reviews, serves
from okrbot.services.errors import NotFound
from okrbot.services.context import Actor
from okrbot.services.home import home_data
from okrbot.adapters.slack.commands.runner import CommandRunner
from okrbot.adapters.slack.views.home import home_view
from okrbot.adapters.slack.views.reviews import SlackReviewMessages
from okrbot.store.db import Database
from okrbot.store.models import OutboundMessage, ReviewCycle, ServesFeedback
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
    # `/okr serves` in a channel answers the asker alone, like `/okr status` there: a team
    # member sees the team's private KR in its own channel and anywhere else.
    for channel in (PRIVATE_TEAM, "C1"):
        assert "KR-1" in run(org, question, person("UD", channel=channel))
        assert SECRET in run(org, "status KR-1", person("UD", channel=channel))
        assert "KR-1" not in answer(org, question, person("UE", channel=channel))


def test_not_this_one_on_a_private_kr_is_refused_to_whoever_may_not_see_it(org):
    with pytest.raises(NotFound), org.session_scope() as session:
        serves.reject(session, OUTSIDER, 1, "the paperwork to close the deal")
    with org.session_scope() as session:
        assert serves.reject(session, person("UD"), 1, "the paperwork to close the deal")
        assert [row.user_id for row in session.exec(select(ServesFeedback)).all()] == ["UD"]


def test_a_serves_question_answered_in_a_channel_thread_names_no_private_kr(org):
    question = "does the paperwork to close the deal serve a KR?"
    assert "KR-1" in run(org, "serves the paperwork to close the deal", person("UD"))  # the asker alone: named
    for channel in (PRIVATE_TEAM, "CPUBLIC"):
        runner(org).run_in_thread(question, person("UD", channel=channel), channel=channel, thread_ts="1.000002", event_key=f"ev:serves:{channel}")
        posted = [payload for _, where, payload in outbox_text(org) if where == channel]
        assert SECRET not in posted[-1] and "KR-1" not in posted[-1]


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


# --------------------------------------------------------------------------- private work (issue 17)
#
# Work that feeds only private KRs is as private as they are. Each row below is one surface
# tried over signed HTTP against the Slack double by five people: someone else, the owner
# of a KR elsewhere (who could link any I-n before), the work's owner, a member of the
# private objective's team channel and an admin. Refused: no row changes, and no Slack call
# the attempt caused (answers, posts, ephemerals, DMs, forms) holds a word of the work's
# title; someone who may not see the work is answered exactly as for a number nobody used.

from collections.abc import Callable  # noqa: E402

from sqlalchemy import text  # noqa: E402

from okrbot.adapters.slack.ids import Action, Field  # noqa: E402
from okrbot.store.models import Change, Initiative  # noqa: E402
from tests.e2e.conftest import Okr, block_text  # noqa: E402
from tests.e2e.harness import running_bot  # noqa: E402
from tests.e2e.test_modals import fill  # noqa: E402
from tests.e2e.test_webhooks import work_hook  # noqa: E402
from tests.fakes.slack_client import dm_message, reaction_added  # noqa: E402

PEOPLE = {"someone else": "UE", "KR owner elsewhere": "UA", "work owner": "UW", "team member": "UD", "admin": "UADMIN"}
SEES_THE_WORK = {"UW", "UD", "UADMIN"}
WORK_URL = "https://example.com/initech/1"
DOMAIN_TABLES = ("objective", "key_result", "initiative", "kr_link", "change", "change_kr", "checkin")


class PrivateWork:
    """A running bot with: O-1 public (UA, #CPUB) and its KR-1 (UA); O-2 private (UB,
    #CSECRET: UB and UD) and its KR-2 (UB). I-1 (UW, with a URL) and I-2 (UW, done) feed
    only KR-2. I-3 (UW) was public on KR-1 (its card is in #CPUB, its done and reopen are
    in KR-1's history) and now feeds only KR-2."""

    def __init__(self, bot, client, slack):
        self.bot, self.client, self.slack = bot, client, slack
        self.okr = Okr(bot, client, slack)
        slack.set_members(PRIVATE_TEAM, ["UB", "UD"])
        slack.set_members(PUBLIC_TEAM, ["UA"])
        ok = self.okr.ok
        ok(f'objective add "Grow the public business" team <#{PUBLIC_TEAM}|pub>', user="UA")
        ok('kr add O-1 "Public revenue up" by initiatives', user="UA")
        ok(f'objective add "Secret merger with {SECRET}" team <#{PRIVATE_TEAM}|secret> private', user="UB")
        ok(f'kr add O-2 "Close the {SECRET} deal" by initiatives', user="UB")
        ok(f'initiative add KR-2 "{SECRET} due diligence" owner <@UW|w> url {WORK_URL}', user="UB")
        ok(f'initiative add KR-2 "{SECRET} term sheet" owner <@UW|w>', user="UB")
        ok("done I-2", user="UB")
        ok(f'initiative add KR-1 "{SECRET} press plan" owner <@UW|w>', user="UADMIN", channel=PUBLIC_TEAM)
        ok("done I-3", user="UADMIN")
        ok("reopen I-3", user="UADMIN")
        ok("link I-3 KR-2", user="UADMIN")
        ok("unlink I-3 KR-1", user="UADMIN")
        (card,) = [c for c in slack.calls("chat.postMessage") if c.args.get("channel") == PUBLIC_TEAM and str(c.args.get("text", "")).startswith("I-3 ")]
        self.card_ts = card.response["ts"]
        with bot.db.session_scope() as session:
            i2 = session.exec(select(Initiative).where(Initiative.number == 2)).one()
            self.done_i2 = session.exec(select(Change.id).where(Change.initiative_id == i2.id, Change.action == "done")).one()
        self.edit_view = self.okr.ok("edit I-1", user="UADMIN").view

    def rows(self) -> dict[str, list]:
        with self.bot.db.engine.connect() as connection:
            return {table: [tuple(row) for row in connection.execute(text(f"SELECT * FROM {table} ORDER BY id"))] for table in DOMAIN_TABLES}

    def sent_since(self, start: int) -> str:
        """Every Slack call since `start` (answers to response URLs included), as JSON."""
        return "\n".join(json.dumps(call.args, ensure_ascii=False) for call in self.slack.calls()[start:])

    def told(self, start: int, user: str) -> str:
        """What `user` was told since `start`: answers, ephemerals, DMs, thread replies, forms."""
        shown = []
        for call in self.slack.calls()[start:]:
            if call.method in ("response_url", "chat.postEphemeral", "chat.postMessage", "views.open", "chat.update"):
                shown.append(f"{call.args.get('text', '')}\n{block_text(call.args.get('blocks') or (call.args.get('view') or {}).get('blocks'))}")
        return "\n".join(shown)

    # ---- the surfaces; each returns what the person was told (or the form's field errors)

    def command(self, words: str) -> Callable[[str], str]:
        def act(user: str) -> str:
            answer = self.okr(words, user=user)
            view = answer.view
            return answer.text + (json.dumps(view, ensure_ascii=False) if view else "")

        return act

    def button(self, action: Action, value: Callable[[], str]) -> Callable[[str], str]:
        def act(user: str) -> str:
            start = len(self.slack.calls())
            assert self.client.block_action(action.value, value(), user_id=user, channel_id="C1").status_code == 200
            self.bot.settle()
            return self.told(start, user)

        return act

    def edit_form(self, user: str) -> str:
        """The admin's edit form for I-1, submitted by `user` (a form is Slack's to hand out)."""
        view = self.edit_view
        response = self.client.view_submission(view, state_values=fill(view, **{Field.TITLE.value: "Renamed"}), user_id=user)
        self.bot.settle()
        return response.text

    def link_form(self, user: str) -> str:
        """`user` presses Link on KR-1 (public) and types I-1 in the form."""
        start = len(self.slack.calls("views.open"))
        self.client.block_action(Action.LINK_OPEN.value, "KR-1", user_id=user, channel_id="C1")
        self.bot.settle()
        view = self.slack.calls("views.open")[start].args["view"]
        response = self.client.view_submission(view, state_values=fill(view, **{Field.URL.value: "I-1"}), user_id=user)
        self.bot.settle()
        return response.text

    def reaction(self, user: str) -> str:
        start = len(self.slack.calls())
        assert self.client.event(reaction_added("white_check_mark", user, PUBLIC_TEAM, self.card_ts)).status_code == 200
        self.bot.settle()
        return self.told(start, user)

    def direct_message(self, words: str) -> Callable[[str], str]:
        def act(user: str) -> str:
            start = len(self.slack.calls())
            assert self.client.event(dm_message(words, user)).status_code == 200
            self.bot.settle()
            return self.told(start, user)

        return act

    def mention(self, words: str, channel: str) -> Callable[[str], str]:
        def act(user: str) -> str:
            start = len(self.slack.calls())
            assert self.client.event(self.client.app_mention(words, user=user, channel=channel)).status_code == 200
            self.bot.settle()
            return self.told(start, user)

        return act


@pytest.fixture
def private_work(slack, database_url):
    with running_bot(slack, database_url, OKRBOT_ADMINS="UADMIN") as (bot, client):
        yield PrivateWork(bot, client, slack)


NOT_FOUND = "There is no initiative {}."
REFUSALS = ("Only <@", "There is no", "no longer exists", "won't show it")  # every refusal of a right says one
# row: (how to try it, who may, what the others are told: text with {} for the work's id,
# the id, and the same try on a number nobody used, whose answer must read the same).
ROWS: dict[str, tuple] = {
    "/okr link I-1 KR-1 (private work to one's own KR)": (lambda w: w.command("link I-1 KR-1"), {"UW", "UADMIN"}, "I-1", lambda w: w.command("link I-99 KR-1")),
    "/okr edit I-1 (the form shows the title)": (lambda w: w.command("edit I-1"), SEES_THE_WORK, "I-1", lambda w: w.command("edit I-99")),
    "/okr done I-1": (lambda w: w.command("done I-1"), SEES_THE_WORK, "I-1", lambda w: w.command("done I-99")),
    "/okr done <its URL>": (lambda w: w.command(f"done {WORK_URL}"), SEES_THE_WORK, WORK_URL, None),
    "/okr reopen I-2": (lambda w: w.command("reopen I-2"), SEES_THE_WORK, "I-2", lambda w: w.command("reopen I-99")),
    "Mark done button (I-1)": (lambda w: w.button(Action.MARK_DONE, lambda: "I-1"), SEES_THE_WORK, "I-1", lambda w: w.button(Action.MARK_DONE, lambda: "I-99")),
    "Reopen button (I-2)": (lambda w: w.button(Action.REOPEN, lambda: "I-2"), SEES_THE_WORK, "I-2", lambda w: w.button(Action.REOPEN, lambda: "I-99")),
    "Edit button (I-1)": (lambda w: w.button(Action.EDIT_OPEN, lambda: "I-1"), SEES_THE_WORK, "I-1", lambda w: w.button(Action.EDIT_OPEN, lambda: "I-99")),
    "Undo button (I-2's done)": (lambda w: w.button(Action.UNDO, lambda: str(w.done_i2)), SEES_THE_WORK, None, lambda w: w.button(Action.UNDO, lambda: "99999")),
    "edit form of I-1, submitted": (lambda w: w.edit_form, SEES_THE_WORK, "I-1", None),
    "Link form on KR-1 with I-1": (lambda w: w.link_form, {"UW", "UADMIN"}, "I-1", None),
    "✅ on I-3's old card": (lambda w: w.reaction, SEES_THE_WORK, "I-3", None),
    "DM: done I-1": (lambda w: w.direct_message("done I-1"), SEES_THE_WORK, "I-1", lambda w: w.direct_message("done I-99")),
    "mention in a public channel: done I-1": (lambda w: w.mention("done I-1", "C1"), set(), "I-1", None),
}


@pytest.mark.parametrize("row", ROWS)
def test_private_work_is_seen_and_changed_only_by_those_who_may_see_it(private_work, row):
    try_it, allowed, ident, try_nothing = ROWS[row]
    work = private_work
    act = try_it(work)
    # Those who may not do it first: each leaves every row as it was and hears no title.
    for role, user in PEOPLE.items():
        if user in allowed:
            continue
        before, start = work.rows(), len(work.slack.calls())
        told = act(user)
        assert work.rows() == before, (row, role)
        sent = work.sent_since(start) + told
        if user not in SEES_THE_WORK:
            assert SECRET not in sent, (row, role, sent)
            if try_nothing is not None:  # answered as for a number nobody used
                assert (told.replace(ident, "I-99") if ident else told) == try_nothing(work)(user), (row, role)
        assert told.strip(), (row, role, "nothing said")
    # Those who may: not refused (the second of them may hear "already done", never "Only …").
    for role, user in PEOPLE.items():
        if user in allowed:
            told = act(user)
            assert not any(refusal in told for refusal in REFUSALS) and '"errors"' not in told, (row, role, told)


def test_a_refusal_to_someone_who_may_not_see_the_work_says_it_does_not_exist(private_work):
    work = private_work
    for user in ("UE", "UA"):
        assert NOT_FOUND.format("I-1") in work.command("done I-1")(user)
        assert NOT_FOUND.format("I-3") in work.reaction(user)
        assert "That change no longer exists." in work.button(Action.UNDO, lambda: str(work.done_i2))(user)
        assert "There is no initiative I-1." in work.link_form(user)
    # The team member may change the work but not KR-1's links: told who can, still no title.
    refused = work.command("link I-1 KR-1")("UD")
    assert "Only <@UW> (owner of the work), <@UA> (owner of KR-1)" in refused and SECRET not in refused
    # In a public channel, those who may see it are told to ask privately.
    assert "I-1 is private, so I won't show it in this channel." in work.mention("done I-1", "C1")("UD")
    assert "33% → *66%*" in work.mention("done I-1", PRIVATE_TEAM)("UD")  # its own team's channel


def test_history_of_a_public_kr_names_private_work_only_to_those_who_may_see_it(private_work):
    work = private_work
    for role, user in PEOPLE.items():
        shown = work.command("history KR-1")(user)
        assert "I-3 linked to KR-1" in shown or ":lock: Private work linked" in shown, (role, shown)
        assert (SECRET in shown) == (user in SEES_THE_WORK), (role, shown)
        if user not in SEES_THE_WORK:
            assert ":lock: Private work marked done" in shown and ":lock: Private work reopened" in shown
            assert NOT_FOUND.format("").rstrip(" .") not in shown
            assert "There is no KR-2" in work.command("history KR-2")(user)


def test_the_old_card_of_work_that_became_private_no_longer_shows_it(private_work):
    work = private_work
    (update,) = [c for c in work.slack.calls("chat.update") if c.args.get("ts") == work.card_ts][-1:]
    shown = json.dumps(update.args, ensure_ascii=False)
    assert SECRET not in shown and ":lock: Private work" in shown and "Mark done" not in shown


def test_a_signed_webhook_still_moves_private_work_by_its_url(private_work):
    work = private_work
    assert work_hook(work.bot, {"url": WORK_URL, "status": "done"}).status_code == 200
    work.bot.settle()
    assert "✅ *I-1*" in work.command("status KR-2")("UB")
    with work.bot.db.session_scope() as session:
        assert session.exec(select(Initiative.status).where(Initiative.number == 1)).one() == "done"
