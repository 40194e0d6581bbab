"""The three tiers of a "serves" answer, and what the matcher learns from the workspace
(linked work as precedent, "Not this one" as rejection). Table tests."""

from __future__ import annotations

import pytest

from okrbot.domain.matching import NO_MATCH_THRESHOLD, KrEvidence, Matcher
from okrbot.domain.serves_tiers import SERVES_LEAD, SERVES_THRESHOLD, Tier, tier_of


@pytest.mark.parametrize(
    ("scores", "tier"),
    [
        ((), Tier.NONE),
        ((1.0,), Tier.SERVES),
        ((SERVES_THRESHOLD,), Tier.SERVES),
        ((SERVES_THRESHOLD, 0.6), Tier.SERVES),
        ((SERVES_THRESHOLD - 0.01,), Tier.MIGHT),
        ((NO_MATCH_THRESHOLD, NO_MATCH_THRESHOLD), Tier.MIGHT),
        # Two KRs about as likely: no confident answer, however strong.
        ((0.9, 0.9), Tier.MIGHT),
        ((0.9, 0.9 - SERVES_LEAD / 2), Tier.MIGHT),
        ((0.9, 0.9 - SERVES_LEAD), Tier.SERVES),
    ],
)
def test_the_best_score_decides_the_tier(scores, tier):
    assert tier_of(scores) is tier


def test_the_confident_cut_off_is_above_the_no_kr_cut_off():
    assert NO_MATCH_THRESHOLD < SERVES_THRESHOLD < 1.0


KRS = (
    KrEvidence("KR-1", "Raise 7-day activation rate of new signups", "New users reach value in their first week"),
    KrEvidence("KR-2", "Increase trial-to-paid conversion", "New users reach value in their first week"),
    KrEvidence("KR-3", "Cut p95 API latency to 300 ms", "Run a reliable platform"),
)


def _with(kr_id: str, *, initiatives: tuple[str, ...] = (), rejected: tuple[str, ...] = ()) -> list[KrEvidence]:
    return [
        KrEvidence(kr.kr_id, kr.title, kr.objective, initiatives, rejected) if kr.kr_id == kr_id else kr for kr in KRS
    ]


@pytest.mark.parametrize(
    ("evidence", "request_text", "first", "tier"),
    [
        # Nothing taught: weak evidence, a tie between the objective's two KRs.
        (KRS, "value for users", "KR-1", Tier.MIGHT),
        # Linked work in the same words: confidently that KR.
        (_with("KR-2", initiatives=("Value for users",)), "value for users", "KR-2", Tier.SERVES),
        (_with("KR-2", initiatives=("Value for users",)), "more value for our users", "KR-2", Tier.SERVES),
        # Work in the team's own words, which no KR title uses.
        (_with("KR-3", initiatives=("Migrate the billing ledger to Postgres",)), "migrate billing ledger to postgres", "KR-3", Tier.SERVES),
        (KRS, "migrate billing ledger to postgres", None, Tier.NONE),
        # "Not this one" for these words: that KR is not named, the other still is.
        (_with("KR-1", rejected=("value for users",)), "Value for users", "KR-2", Tier.MIGHT),
        # A rejection of other words leaves the KR alone (named first; at 0.76 a "might").
        (_with("KR-3", rejected=("rewrite the API docs",)), "speed up the slow API endpoints", "KR-3", Tier.MIGHT),
    ],
)
def test_what_the_workspace_taught_changes_the_answer(evidence, request_text, first, tier):
    matches = Matcher(evidence).match(request_text)
    assert (matches[0].kr_id if matches else None) == first
    assert tier_of([m.score for m in matches]) is tier
    rejected = {kr.kr_id for kr in evidence if kr.rejected and request_text.lower() == kr.rejected[0].lower()}
    assert not rejected & {m.kr_id for m in matches}
