""""Does this serve a KR?" on a real database: which KRs come back and why, who may
see them, when the cached matcher is rebuilt, and the Link button's work.

The organisation (2026-Q4, NOW is in it):
  O-1 New users reach value in their first week   KR-1 activation (I-1 linked), KR-2 trial-to-paid
  O-2 Keep the customers we win                    KR-3 logo churn
  O-3 Run a reliable platform                      KR-4 API latency
  O-4 Acquire Initech  (private, owner U5)         KR-5 due diligence (owner U6), KR-6..KR-8 Initech churn
  O-5 Acquire Globex   (private, owner U7)         KR-9..KR-11 Globex churn
and rows that must never come back: another period, an archived objective, another workspace.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
import typer.testing
from sqlalchemy import event
from sqlmodel import select

from okrbot.cli import app as cli_app
from okrbot.config import Settings
from okrbot.domain.commands import Direction, Metric
from okrbot.services import okrs, serves, work
from okrbot.services.context import Actor
from okrbot.services.serves import KrFit, ServesAnswer, link_request, matcher_builds, request_work
from okrbot.adapters.slack.commands.runner import CommandRunner
from okrbot.adapters.slack.text_render import blocks_to_text
from okrbot.adapters.slack.views.serves import read_link_value, serves_blocks
from okrbot.store.db import Database
from okrbot.store.models import Initiative, KeyResult, KrLink, Workspace
from tests.conftest import NOW

PERIOD = "2026-Q4"
MILESTONE = (Metric.MILESTONE, Direction.INCREASE)

OBJECTIVES = [  # title, owner, private
    ("New users reach value in their first week", "U1", False),
    ("Keep the customers we win", "U2", False),
    ("Run a reliable platform", "U3", False),
    ("Acquire Initech", "U5", True),
    ("Acquire Globex", "U7", True),
]
KRS = [  # objective, title, owner
    (1, "Raise 7-day activation rate of new signups from 34% to 50%", "U1"),
    (1, "Increase trial-to-paid conversion from 8% to 12%", "U1"),
    (2, "Reduce monthly logo churn from 3% to 2%", "U2"),
    (3, "Cut p95 API latency from 800 ms to 300 ms", "U3"),
    (4, "Finish the Initech due diligence", "U6"),
    (4, "Keep churn of Initech customers under 5%", "U5"),
    (4, "Cut churn of Initech enterprise customers in half", "U5"),
    (4, "Reduce Initech customer cancellations to zero", "U5"),
    (5, "Keep churn of Globex customers under 5%", "U7"),
    (5, "Cut churn of Globex enterprise customers in half", "U7"),
    (5, "Reduce Globex customer cancellations to zero", "U7"),
]
OFF_TOPIC = "order new chairs for the kitchen"
EVAL_DATA = Path(__file__).resolve().parents[2] / "eval" / "serves"


def admin(actor: Actor) -> Actor:
    return replace(actor, is_admin=True)


def build_organisation(db: Database, actor: Actor) -> None:
    setup = replace(admin(actor), now=NOW - timedelta(days=2))
    with db.session_scope() as session:
        for title, owner, private in OBJECTIVES:
            okrs.create_objective(session, setup, okrs.NewObjective(title=title, owner=owner, period=PERIOD, private=private))
        for objective, title, owner in KRS:
            okrs.create_kr(session, setup, okrs.NewKr(objective, title, *MILESTONE, owner))
        work.create_initiative(session, setup, kr_number=1, title="Guided setup checklist on first login", owner="U1")
        # Never in an answer: another period, an archived objective, another workspace.
        drafting = replace(setup, planning_lead=timedelta(days=366))  # a workspace that drafts a year ahead
        later = okrs.create_objective(session, drafting, okrs.NewObjective(title="Finance", owner="U1", period="2027-Q1"))
        okrs.create_kr(session, setup, okrs.NewKr(later.number, "Cut invoice processing time to 3 days", *MILESTONE, "U1"))
        dropped = okrs.create_objective(session, setup, okrs.NewObjective(title="Warehouse", owner="U1", period=PERIOD))
        okrs.create_kr(session, setup, okrs.NewKr(dropped.number, "Raise invoice accuracy to 99%", *MILESTONE, "U1"))
        okrs.archive_objective(session, setup, dropped.number)
        elsewhere = replace(setup, team_id="T2")
        theirs = okrs.create_objective(session, elsewhere, okrs.NewObjective(title="Theirs", owner="U1", period=PERIOD))
        okrs.create_kr(session, elsewhere, okrs.NewKr(theirs.number, "Reduce invoice disputes", *MILESTONE, "U1"))


@pytest.fixture
def organisation(db: Database, actor: Actor) -> Database:
    build_organisation(db, actor)
    return db


def ask(db: Database, actor: Actor, text: str, *, shown_to_channel: bool = False) -> ServesAnswer:
    with db.session_scope() as session:
        return serves.serves(session, actor, text, shown_to_channel=shown_to_channel)


def kr_ids(answer: ServesAnswer) -> list[str]:
    return [f"KR-{fit.kr_number}" for fit in answer.fits]


# --- what comes back, and why ----------------------------------------------------------


def test_a_request_gets_its_kr_with_title_objective_and_the_words_that_matched(organisation, actor):
    answer = ask(organisation, actor, "speed up the slow API endpoints")

    assert answer.period == PERIOD
    best = answer.fits[0]
    assert (best.kr_number, best.kr_title) == (4, "Cut p95 API latency from 800 ms to 300 ms")
    assert (best.objective_number, best.objective_title) == (3, "Run a reliable platform")
    assert '"api"' in best.reason and 0 < best.score <= 1


def test_a_request_that_shares_no_word_with_the_title_is_explained_by_the_concept(organisation, actor):
    answer = ask(organisation, actor, "customers are cancelling their subscriptions")
    assert kr_ids(answer)[0] == "KR-3"
    assert 'related to "churn"' in answer.fits[0].reason


def test_linked_work_counts_as_evidence_and_is_named_in_the_reason(organisation, actor):
    answer = ask(organisation, actor, "a checklist on first login")
    assert kr_ids(answer) == ["KR-1"]
    assert 'linked work "Guided setup checklist on first login"' in answer.fits[0].reason


def test_an_off_topic_request_gets_no_kr(organisation, actor):
    answer = ask(organisation, actor, OFF_TOPIC)
    assert answer.fits == []
    assert answer.krs_considered == 4  # KR-1..KR-4: not the private, archived, later or other-workspace ones


def test_other_periods_archived_objectives_and_other_workspaces_never_answer(organisation, actor):
    for who in (actor, admin(actor)):
        answer = ask(organisation, who, "invoice processing accuracy and disputes")
        assert answer.fits == [], kr_ids(answer)


# --- private objectives ------------------------------------------------------------------


@pytest.mark.parametrize("viewer", ["U1", "U2"])
def test_a_private_objectives_krs_never_answer_someone_who_cannot_see_it(organisation, actor, viewer):
    who = replace(actor, user_id=viewer)
    assert kr_ids(ask(organisation, who, "Initech data room for the due diligence")) == []
    assert kr_ids(ask(organisation, who, "stop Initech customers from churning")) == ["KR-3"]


def test_private_krs_do_not_weaken_the_answers_of_people_who_cannot_see_them(organisation, actor):
    # Over all eleven KRs, three private churn KRs would make "customers" and "churn"
    # common words and KR-3 too weak a fit; U1's answer is as if they did not exist.
    answer = ask(organisation, actor, "customers are cancelling their subscriptions")
    assert kr_ids(answer) == ["KR-3"] and 'related to "churn"' in answer.fits[0].reason


@pytest.mark.parametrize("viewer", ["U5", "U6", "admin"])
def test_a_private_objectives_krs_answer_its_owner_its_kr_owners_and_admins(organisation, actor, viewer):
    who = admin(actor) if viewer == "admin" else replace(actor, user_id=viewer)
    answer = ask(organisation, who, "Initech data room for the due diligence")
    assert kr_ids(answer) == ["KR-5"]
    assert answer.fits[0].objective_title == "Acquire Initech"
    assert set(kr_ids(ask(organisation, who, "stop Initech customers from churning"))) == {"KR-6", "KR-7", "KR-8"}


def test_an_answer_shown_to_a_channel_holds_no_private_kr_whoever_asks(organisation, actor):
    for who in (replace(actor, user_id="U5"), admin(actor)):
        answer = ask(organisation, who, "Initech data room for the due diligence", shown_to_channel=True)
        assert kr_ids(answer) == [] and answer.krs_considered == 4


def test_someone_who_sees_one_private_objective_never_gets_another(organisation, actor):
    u5 = replace(actor, user_id="U5")  # owns O-4, not O-5
    # O-5's three Globex KRs fit best and are dropped; the next fits, O-4's, fill the answer.
    assert kr_ids(ask(organisation, u5, "Globex customers churn")) == ["KR-6", "KR-7"]
    assert kr_ids(ask(organisation, admin(actor), "Globex customers churn")) == ["KR-9", "KR-10", "KR-11"]


def test_making_an_objective_private_hides_its_krs_at_once_even_from_a_warm_cache(organisation, actor):
    assert kr_ids(ask(organisation, actor, "speed up the slow API endpoints")) == ["KR-4"]
    with organisation.session_scope() as session:
        objective = okrs.get_objective(session, admin(actor), 3)
        objective.private = True  # no edit time moves: visibility must not depend on the cache
    assert kr_ids(ask(organisation, replace(actor, user_id="U2"), "speed up the slow API endpoints")) == []
    assert kr_ids(ask(organisation, replace(actor, user_id="U3"), "speed up the slow API endpoints")) == ["KR-4"]


# --- the cached matcher ------------------------------------------------------------------


def test_the_matcher_is_built_once_and_reused_while_nothing_changes(organisation, actor):
    ask(organisation, actor, OFF_TOPIC)
    with organisation.session_scope() as session:
        built = matcher_builds(session)
    for text in ("speed up the slow API endpoints", "a checklist on first login", OFF_TOPIC):
        ask(organisation, actor, text)
    with organisation.session_scope() as session:
        assert matcher_builds(session) == built


def test_a_new_kr_is_found_by_the_next_question(organisation, actor):
    assert kr_ids(ask(organisation, actor, "warehouse pick accuracy")) == []
    with organisation.session_scope() as session:
        okrs.create_kr(session, admin(actor), okrs.NewKr(3, "Improve warehouse pick accuracy to 99.5%", *MILESTONE, "U3"))
    assert kr_ids(ask(organisation, actor, "warehouse pick accuracy")) == ["KR-14"]


def test_new_linked_work_is_evidence_for_the_next_question(organisation, actor):
    assert kr_ids(ask(organisation, actor, "Move our services to Kubernetes")) == []
    with organisation.session_scope() as session:
        work.create_initiative(session, admin(actor), kr_number=4, title="Migrate services to Kubernetes", owner="U3")
    answer = ask(organisation, actor, "Move our services to Kubernetes")
    assert kr_ids(answer) == ["KR-4"]
    assert 'linked work "Migrate services to Kubernetes"' in answer.fits[0].reason


def test_an_edited_title_and_an_archived_objective_change_the_next_answer(organisation, actor):
    assert kr_ids(ask(organisation, actor, "warehouse pick accuracy")) == []
    with organisation.session_scope() as session:
        kr = session.exec(select(KeyResult).where(KeyResult.team_id == "T1", KeyResult.number == 4)).one()
        kr.title, kr.updated_at = "Improve warehouse pick accuracy to 99.5%", NOW
    answer = ask(organisation, actor, "warehouse pick accuracy")
    assert kr_ids(answer) == ["KR-4"] and answer.fits[0].kr_title == "Improve warehouse pick accuracy to 99.5%"

    with organisation.session_scope() as session:
        okrs.archive_objective(session, admin(actor), 3)
    assert kr_ids(ask(organisation, actor, "warehouse pick accuracy")) == []


def test_matchers_rebuilt_from_the_cached_ones_answer_as_a_fresh_process_would(organisation, actor):
    """The owner's matcher reuses the member's analysis, and after a change both reuse the
    previous one's: the answers are those of matchers built from nothing."""
    owner = replace(actor, user_id="U5")  # may see O-4 (Initech): the matcher over all KRs
    questions = ["speed up the slow API endpoints", "Initech customers cancelling", "a checklist on first login",
                 "Move our services to Kubernetes", "customers leaving us", OFF_TOPIC]

    def answers() -> list[ServesAnswer]:
        return [ask(organisation, who, text) for who in (actor, owner) for text in questions]

    answers()
    with organisation.session_scope() as session:
        work.create_initiative(session, admin(actor), kr_number=4, title="Migrate services to Kubernetes", owner="U3")
        kr = session.exec(select(KeyResult).where(KeyResult.team_id == "T1", KeyResult.number == 3)).one()
        kr.title, kr.updated_at = "Reduce monthly logo churn of customers leaving us from 3% to 2%", NOW
    reused = answers()
    assert any(kr_ids(answer) == ["KR-4"] for answer in reused)  # the new linked work counts already
    serves._caches.clear()  # as a worker that starts now
    assert answers() == reused


@pytest.fixture
def count_statements(organisation):
    """The queries sent to the database (SQLite's BEGIN IMMEDIATE is not one)."""
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    event.listen(organisation.engine, "before_cursor_execute", count)
    yield statements
    event.remove(organisation.engine, "before_cursor_execute", count)


def test_done_work_and_check_ins_keep_the_index_and_the_matcher(organisation, actor, count_statements):
    runner = CommandRunner(organisation, Settings(_env_file=None), offline=True)
    later = admin(replace(actor, now=NOW + timedelta(minutes=5)))
    assert "KR-14" in runner.run('kr add O-1 "Sign 10 partners" from 0 to 10', later).reply.text
    assert kr_ids(ask(organisation, actor, "a checklist on first login")) == ["KR-1"]
    with organisation.session_scope() as session:
        built = matcher_builds(session)
    assert not runner.run("done I-1", later).reply.error
    assert not runner.run("checkin KR-14 3", later).reply.error
    count_statements.clear()

    assert kr_ids(ask(organisation, actor, "a checklist on first login")) == ["KR-1"]
    assert len(count_statements) == 3  # closed?, the revision and the private objectives: the evidence was not read again
    with organisation.session_scope() as session:
        assert matcher_builds(session) == built


def test_every_change_the_matcher_reads_moves_the_revision_and_nothing_else_does(organisation, actor):
    def revision() -> int:
        with organisation.session_scope() as session:
            return session.get(Workspace, "T1").okr_revision

    runner = CommandRunner(organisation, Settings(_env_file=None), offline=True)
    who = admin(replace(actor, now=NOW + timedelta(minutes=5)))
    moves = ['objective add "Grow the partner channel"', 'kr add O-1 "Sign 10 partners" from 0 to 10', 'initiative add KR-1 "Partner pilot"',
             "link I-1 KR-4", "unlink I-1 KR-4", "archive O-2"]
    stays = ["done I-1", "reopen I-1", "checkin KR-14 3", "status all", 'serves "a checklist on first login"']
    for line in moves:
        before = revision()
        assert not runner.run(line, who).reply.error, line
        assert revision() > before, line
    for line in stays:
        before = revision()
        assert not runner.run(line, who).reply.error, line
        assert revision() == before, line


def test_a_question_runs_a_fixed_number_of_queries(organisation, actor, count_statements):
    ask(organisation, actor, "speed up the slow API endpoints")
    cold = len(count_statements)
    count_statements.clear()
    with organisation.session_scope() as session:  # many more KRs and links: the same statements
        for n in range(40):
            kr = okrs.create_kr(session, admin(actor), okrs.NewKr(2, f"Retention cohort {n} above 80%", *MILESTONE, "U2"))
            for i in range(2):
                work.create_initiative(session, admin(actor), kr_number=kr.number, title=f"Cohort {n} work {i}", owner="U2")
    count_statements.clear()
    ask(organisation, actor, "speed up the slow API endpoints")
    assert cold == 6  # closed?, the revision, private objectives, KRs, linked work, "Not this one"s
    # After changes: the same and the journal, which names the KRs to read again.
    assert len(count_statements) == cold + 1
    count_statements.clear()
    ask(organisation, actor, "a checklist on first login")
    assert len(count_statements) == 3  # warm: closed?, the revision and private objectives only


# --- the Link button's work ----------------------------------------------------------


@pytest.mark.parametrize(
    ("request_text", "title", "url"),
    [
        ("Fix the signup emails", "Fix the signup emails", None),
        ("  Fix   the\nsignup emails ", "Fix the signup emails", None),
        ("Fix the signup emails https://github.com/acme/app/issues/12", "Fix the signup emails", "https://github.com/acme/app/issues/12"),
        ("https://github.com/acme/app/pull/7 — faster checkout", "faster checkout", "https://github.com/acme/app/pull/7"),
        ("see https://x.example/a/b.", "see", "https://x.example/a/b"),
        ("https://github.com/acme/app/issues/12", "acme/app#12", "https://github.com/acme/app/issues/12"),
    ],
)
def test_a_request_becomes_an_initiative_title_and_url(request_text, title, url):
    assert request_work(request_text) == (title, url)


def test_a_long_request_is_cut_to_a_title_that_fits():
    title, url = request_work("word " * 300)
    assert len(title) == okrs.TITLE_LIMIT and title.endswith("…") and url is None


def initiatives_of(db: Database, kr_number: int) -> list[tuple[int, str, str | None, str | None]]:
    with db.session_scope() as session:
        rows = session.exec(
            select(Initiative.number, Initiative.title, Initiative.url, Initiative.owner)
            .join(KrLink, KrLink.initiative_id == Initiative.id)
            .join(KeyResult, KeyResult.id == KrLink.kr_id)
            .where(KeyResult.team_id == "T1", KeyResult.number == kr_number)
            .order_by(Initiative.number)
        ).all()
    return [tuple(row) for row in rows]


def test_linking_a_request_creates_the_initiative_once(organisation, actor):
    text = "Speed up search https://github.com/acme/app/issues/12"
    with organisation.session_scope() as session:
        outcome = link_request(session, actor, 4, text)
        assert outcome.created and outcome.changed
    with organisation.session_scope() as session:
        again = link_request(session, actor, 4, text)  # a second click
        assert not again.changed
    assert initiatives_of(organisation, 4) == [(2, "Speed up search", "https://github.com/acme/app/issues/12", "U1")]
    # The same work linked to another KR is the same initiative, found by its URL.
    with organisation.session_scope() as session:
        link_request(session, actor, 3, text)
    assert initiatives_of(organisation, 3) == [(2, "Speed up search", "https://github.com/acme/app/issues/12", "U1")]
    # Without a link, the title tells a second click from new work.
    for _ in range(2):
        with organisation.session_scope() as session:
            link_request(session, replace(actor, user_id="U3"), 4, "Cache the slowest endpoints")
    assert initiatives_of(organisation, 4)[1:] == [(3, "Cache the slowest endpoints", None, "U3")]


def test_a_request_cannot_be_linked_to_a_kr_its_clicker_cannot_see(organisation, actor):
    runner = CommandRunner(organisation, Settings(_env_file=None), offline=True)
    outcome = runner.in_unit_of_work(actor, lambda ctx: link_request(ctx.session, ctx.actor, 5, "data room"))
    assert outcome.reply.error and "There is no KR-5" in outcome.reply.text
    assert initiatives_of(organisation, 5) == []


# --- the answer as Block Kit -------------------------------------------------------------


def answer_with(request: str, fits: int = 3) -> ServesAnswer:
    long = "Increase the number of weekly active teams that use the new reporting dashboards " * 6
    return ServesAnswer(
        request=request,
        period=PERIOD,
        krs_considered=5000,
        fits=[KrFit(n, long, n, long, 'matches "reporting"; like linked work "' + long + '"', 0.9) for n in range(1, fits + 1)],
    )


def test_the_answer_fits_slack_and_each_button_carries_its_kr_and_the_request():
    request = 'Make "exports" fast \\ ünïcödé 🚀 <&> ' * 150  # ~5,000 characters, much of it escaped in JSON
    blocks = [block.to_dict() for block in serves_blocks(answer_with(request))]

    assert len(blocks) <= 50
    assert all(len(block["text"]["text"]) <= 3000 for block in blocks if block["type"] == "section")
    buttons = [element for block in blocks if block["type"] == "actions" for element in block["elements"]]
    assert [button["text"]["text"] for button in buttons] == [
        "Link to KR-1", "Not this one", "Link to KR-2", "Not this one", "Link to KR-3", "Not this one"
    ]
    for position, button in enumerate(buttons):
        assert len(button["value"]) <= 2000
        carried = read_link_value(button["value"])
        assert carried.kr == position // 2 + 1 and request.startswith(carried.text) and len(carried.text) > 1000


def test_the_request_and_titles_cannot_inject_mentions_or_links():
    blocks = [block.to_dict() for block in serves_blocks(answer_with("<!channel> look <https://evil.example|here>", 1))]
    text = json.dumps([block["text"] for block in blocks if block["type"] == "section"])  # what Slack renders
    assert "<!channel>" not in text and "<https://evil" not in text and "&lt;!channel&gt;" in text


def test_no_kr_says_so_and_what_to_do_instead():
    text = blocks_to_text(block.to_dict() for block in serves_blocks(answer_with(OFF_TOPIC, 0)))
    assert "No KR in 2026-Q4 fits this (5000 KRs checked)" in text
    assert "/okr status all" in text and "/okr kr add" in text
    empty = replace(answer_with(OFF_TOPIC, 0), krs_considered=0)
    assert "no KRs in 2026-Q4 yet" in blocks_to_text(block.to_dict() for block in serves_blocks(empty))


# --- okrbot eval serves --------------------------------------------------------------------


def test_okrbot_eval_serves_prints_the_matcher_against_the_baseline():
    result = typer.testing.CliRunner().invoke(cli_app, ["eval", "serves", str(EVAL_DATA)])
    assert result.exit_code == 0, result.output
    assert "hit@1" in result.output and "Matcher" in result.output and "Bm25Matcher" in result.output
    missing = typer.testing.CliRunner().invoke(cli_app, ["eval", "serves", "no/such/dir"])
    assert missing.exit_code == 2
