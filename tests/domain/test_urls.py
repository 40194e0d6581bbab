"""One normal form per tracker item, so a pasted link and a webhook's link meet (issue 14)."""

from __future__ import annotations

import pytest

from okrbot.domain.urls import title_from_url, url_key


@pytest.mark.parametrize(
    ("pasted", "sent"),
    [
        ("https://GitHub.com/Acme/App/issues/12/", "https://github.com/acme/app/issues/12"),
        ("https://github.com/acme/app/milestone/3", "https://github.com/Acme/App/milestone/3"),
        ("https://gitlab.lrz.de/hephaestustest/demo-repository/-/issues/5#note_4406174", "https://gitlab.lrz.de/hephaestustest/demo-repository/-/issues/5"),
        ("https://gitlab.com/Acme/Sub/App/-/merge_requests/3/diffs", "https://gitlab.com/acme/sub/app/-/merge_requests/3"),
        ("https://some-instance-test.atlassian.net/browse/TES-41?focusedCommentId=10", "https://some-instance-test.atlassian.net/browse/TES-41"),
        ("http://jira.example.com:8080/jira/browse/tes-4", "http://jira.example.com:8080/jira/browse/TES-4"),
        ("https://linear.app/korosuke613/issue/KOR-11", "https://linear.app/korosuke613/issue/KOR-11/webhook-test"),
        ("https://linear.app/xxxx/project/37f87fe3d558/overview", "https://linear.app/xxxx/project/rename-project-37f87fe3d558"),
    ],
    ids=["github tail", "github milestone", "gitlab note", "gitlab mr tail", "jira query", "jira dc context", "linear slug", "linear project"],
)
def test_a_pasted_link_and_the_webhooks_link_have_one_key(pasted, sent):
    assert url_key(pasted) == url_key(sent)


def test_different_items_keep_different_keys():
    keys = {
        url_key(url)
        for url in (
            "https://gitlab.com/acme/app/-/issues/3",
            "https://gitlab.com/acme/app/-/merge_requests/3",
            "https://gitlab.com/acme/app/-/milestones/3",
            "https://acme.atlassian.net/browse/PAY-3",
            "https://acme.atlassian.net/browse/PAY-30",
            "https://linear.app/acme/issue/PAY-3",
            "https://linear.app/acme/project/launch-aaaaaaaa1111",
            "https://linear.app/acme/project/launch-bbbbbbbb2222",
        )
    }
    assert len(keys) == 8


@pytest.mark.parametrize(
    ("url", "title"),
    [
        ("https://gitlab.lrz.de/hephaestustest/demo-repository/-/merge_requests/2", "hephaestustest/demo-repository!2"),
        ("https://acme.atlassian.net/browse/PAY-12", "PAY-12"),
        ("https://linear.app/acme/issue/KOR-11/webhook-test", "KOR-11"),
        ("https://github.com/acme/app/milestone/3", "acme/app milestone 3"),
    ],
)
def test_work_first_seen_as_a_link_gets_a_readable_title(url, title):
    assert title_from_url(url) == title


@pytest.mark.parametrize(("typed", "key"), [("PAY-12", "PAY-12"), ("pay-12", "PAY-12"), ("DATA_ENG-7", "DATA_ENG-7")])
def test_a_jira_key_names_work_and_okrbot_ids_stay_okrbot_ids(typed, key):
    from okrbot.domain.commands import Link, WorkRef
    from okrbot.domain.grammar import parse

    assert parse(f"link {typed} KR-3") == Link(WorkRef(issue_key=key), 3)
    assert parse("link I-12 KR-3") == Link(WorkRef(initiative=12), 3)
