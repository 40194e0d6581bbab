"""Browse from the work (issue 15): `/okr status I-n` and `/okr status <url>` over real HTTP."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.usefixtures("valid_blockkit")

ISSUE = "https://github.com/acme/app/issues/12"


@pytest.fixture
def linked_work(okr) -> None:
    """I-1 (an issue URL, owned by U2) serves KR-1 of O-1 and KR-3 of O-2; KR-2 of O-1 is not linked."""
    okr.ok('objective add "Grow activation" team <#C9|growth>')
    okr.ok('kr add O-1 "Cut time to value" from 45 to 25 days')
    okr.ok('kr add O-1 "Ship onboarding" by initiatives')
    okr.ok('objective add "Keep customers"')
    okr.ok('kr add O-2 "Churn" from 5 to 3 %')
    okr.ok(f'initiative add KR-1 "Fix signup emails" owner <@U2|bob> url {ISSUE}')
    okr.ok("link I-1 KR-3")
    okr.ok("checkin KR-1 35")


def test_status_of_work_by_id_shows_its_owner_status_and_every_kr_and_objective_it_serves(okr, linked_work):
    answer = okr.ok("status I-1")
    assert answer.ephemeral
    text = answer.text
    assert "I-1" in text and "Fix signup emails" in text and "Owner <@U2>" in text and "to do" in text
    assert "O-1 Grow activation" in text and "O-2 Keep customers" in text
    assert "KR-1" in text and "KR-3" in text and "KR-2" not in text  # only what it serves
    assert "50%" in text  # KR-1: 45 → 25 days at 35
    assert "on track" in text or "at risk" in text or "off track" in text


def test_status_of_work_by_its_url_and_after_it_is_done(okr, linked_work):
    okr.ok("done I-1", user="U2")
    by_url = okr.ok(f"status <{ISSUE}>")
    assert "I-1" in by_url.text and "done" in by_url.text and "KR-1" in by_url.text
    assert okr.ok(f"status {ISSUE}").text == by_url.text


def test_status_of_work_hides_the_private_objectives_it_serves_from_others(okr, linked_work):
    okr.ok('objective add "Secret pivot" private')
    okr.ok('kr add O-3 "Pilots" by initiatives')
    okr.ok("link I-1 KR-4")
    mine = okr.ok("status I-1")
    assert "Secret pivot" in mine.text
    theirs = okr.ok("status I-1", user="U3")
    assert "Secret pivot" not in theirs.text and "KR-4" not in theirs.text
    assert "1 KR of private objectives you can't see" in theirs.text


def test_status_of_unknown_or_unlinked_work_says_what_to_type(okr, linked_work):
    unknown = okr("status I-9")
    assert unknown.problem and "There is no initiative I-9" in unknown.text
    assert okr("status <https://github.com/acme/app/issues/99>").problem
    okr.ok("unlink I-1 KR-1")
    okr.ok("unlink I-1 KR-3")
    alone = okr.ok("status I-1")
    assert "serves no KR yet" in alone.text and "/okr link I-1 KR-n" in alone.text
    with_period = okr("status I-1 2026-Q3")
    assert with_period.problem and "leave out" in with_period.text
