"""How eval/realokrs/build.py reads the organisations' documents (on inline markdown; the
snapshots themselves are not needed)."""

from __future__ import annotations

from eval.realokrs.build import bullets, first_sentence, plain, rust_goal, tekton


def test_a_nested_bullet_keeps_its_parent_and_a_wrapped_bullet_is_one_item():
    lines = ["* Pipelines LTS promotions", "  * CSI volumes", "* Improve our contributor experience by",
             "  writing it down", "", "Not a bullet"]
    assert bullets(lines) == ["Pipelines LTS promotions", "Pipelines LTS promotions: CSI volumes",
                              "Improve our contributor experience by writing it down"]


def test_only_the_first_sentence_of_a_bullet_is_its_text_and_identifiers_keep_underscores():
    assert first_sentence("Add viewer serialization. The entire viewer state should be saveable.") == \
        "Add viewer serialization"
    assert plain("Finish `min_generic_const_args` and **ship** it")[0] == "Finish min_generic_const_args and ship it"


def test_tekton_goals_are_krs_and_the_2021_list_without_goals_is_not_used():
    source = "\n".join([
        "### 2023 Goals", "#### Goal: Improve our own Infrastructure", "* Fuzz testing of everything",
        "### 2021 Roadmap", "* Migrate all repos to main"])
    (kr,) = tekton(source)["2023"]
    assert kr.title == "Improve our own Infrastructure"
    assert [i["text"] for i in kr.items] == ["Fuzz testing of everything"]


def test_a_rust_goal_takes_its_steps_and_milestones_but_not_what_it_asks_of_teams():
    goal = "\n".join([
        "# Scalable Polonius support on nightly", "", "| Status | Accepted |", "", "## Summary", "",
        "Implement a native rustc version of Polonius. It scales better.", "",
        "### The next six months", "", "* Land polonius on nightly", "",
        "## Ownership and team asks", "", "| Task | Owner |", "| --- | --- |", "| Design review | @niko |", "",
        "### Milestones", "", "| Milestone | Date |", "| --- | --- |",
        "| ↳ [x] rewrite invalid universe constraints | TBD |"])
    kr = rust_goal(goal)
    assert (kr.title, kr.objective) == ("Scalable Polonius support on nightly",
                                        "Implement a native rustc version of Polonius")
    assert [i["text"] for i in kr.items] == ["Land polonius on nightly", "rewrite invalid universe constraints"]
