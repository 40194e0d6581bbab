"""The real-OKR evaluation's data: what is loaded, which items are linked and which asked,
and which organisations are tuned on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.real_eval import REPORT, TUNE, OrgPeriod, load, other_org, split, warm_split

DATA = Path(__file__).resolve().parents[2] / "eval" / "realokrs"


def write_org(directory: Path, org: str, krs: list[dict]) -> None:
    doc = {"org": org, "source": {}, "periods": [{"period": "2018-Q1", "krs": krs}]}
    (directory / f"{org}.json").write_text(json.dumps(doc), encoding="utf-8")


def kr(number: int, *items: str) -> dict:
    return {"id": f"KR-{number}", "title": f"Key result {number}", "objective": "Objective",
            "items": [{"text": text, "url": None} for text in items]}


def test_an_item_filed_under_two_krs_is_asked_once_and_either_kr_is_right(tmp_path):
    write_org(tmp_path, TUNE[0], [kr(1, "Bitswap speed", "Mount the repo"), kr(2, "Bitswap speed")])
    (org,) = load(tmp_path)
    by_text = {item.text: item.krs for item in org.items}
    assert by_text == {"Bitswap speed": {"KR-1", "KR-2"}, "Mount the repo": {"KR-1"}}


def test_warm_links_half_of_each_krs_items_and_asks_only_the_rest(tmp_path):
    items = [f"work item number {n}" for n in range(7)]
    write_org(tmp_path, TUNE[0], [kr(1, *items[:4]), kr(2, *items[4:])])
    (org,) = load(tmp_path)
    linked, asked = warm_split(org)
    assert [len(linked["KR-1"]), len(linked["KR-2"])] == [2, 1]  # half, rounded down
    linked_texts = {item.text for group in linked.values() for item in group}
    assert {item.text for item in asked} == set(items) - linked_texts
    assert warm_split(load(tmp_path)[0]) == (linked, asked)  # the same halves on every run


def test_off_topic_requests_come_from_other_organisations_and_tuning_never_reads_report_text(tmp_path):
    write_org(tmp_path, TUNE[0], [kr(1, "first tuned one", "first tuned two")])
    write_org(tmp_path, TUNE[1], [kr(1, "second tuned")])
    write_org(tmp_path, REPORT[0], [kr(1, "reported")])
    orgs = {org.org: org for org in load(tmp_path)}
    everyone = list(orgs.values())
    assert [i.text for i in other_org(orgs[TUNE[0]], everyone)] == ["second tuned"]
    assert sorted(i.text for i in other_org(orgs[REPORT[0]], everyone)) == [
        "first tuned one", "first tuned two", "second tuned"]


def test_every_shipped_organisation_is_in_exactly_one_of_tune_and_report():
    orgs = load(DATA)
    assert orgs, "eval/realokrs holds no organisation"
    assert not set(TUNE) & set(REPORT)
    sets = split(orgs)
    assert {o.org for o in sets["TUNE"]} == set(TUNE)
    assert {o.org for o in sets["REPORT"]} == set(REPORT)
    assert all(o.items for o in sets["REPORT"])


def test_an_organisation_in_neither_set_is_refused():
    stray = OrgPeriod("somebody-else", "2020-Q1", (), ())
    with pytest.raises(ValueError, match="somebody-else"):
        split([stray])


@pytest.mark.parametrize("path", sorted(DATA.glob("*.json")), ids=lambda p: p.name)
def test_each_shipped_file_parses_names_its_source_and_files_every_item_under_one_of_its_own_krs(path):
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["org"] == path.stem
    source = doc["source"]
    assert all(source[key] for key in ("repo", "commit", "path", "licence"))
    sources_md = (DATA / "SOURCES.md").read_text(encoding="utf-8")
    assert source["repo"] in sources_md and source["commit"] in sources_md, "SOURCES.md must record it"
    assert doc["periods"]
    for period in doc["periods"]:
        ids = [kr["id"] for kr in period["krs"]]
        assert len(ids) == len(set(ids)) and all(kr["title"] and kr["objective"] for kr in period["krs"])
        assert all(item["text"].strip() for kr in period["krs"] for item in kr["items"])
    for org in load(path.parent):
        if org.org == doc["org"]:
            own = {kr.id for kr in org.krs}
            assert org.items and all(item.krs and item.krs <= own for item in org.items)
