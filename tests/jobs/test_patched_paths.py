"""Where okrbot reaches into its libraries, the patched path gives what the original does.

adapters/slack/speedups.py caches slack_sdk's validator look-up; runtime/jobs/runner.py wraps bolt's `ack`
to hand a modal's answer on early. pyproject.toml pins the ranges these were checked on;
these tests are what tells a new release apart."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.basic_objects import JsonObject
from slack_sdk.models.blocks import ActionsBlock, ButtonElement, ContextBlock, HeaderBlock, MarkdownTextObject, SectionBlock
from slack_sdk.models.views import View

from okrbot.runtime.jobs import Answer, Job, Route
from okrbot.runtime.jobs.runner import JobRunner
from okrbot.adapters.slack import speedups
from okrbot.store.db import Database
from tests.e2e.harness import bot_settings
from tests.fakes.slack_api import SlackDouble


def blocks_and_views():
    long_text = "x" * 3001  # over a section's limit: both must refuse it
    return {
        "section": lambda: SectionBlock(text=MarkdownTextObject(text="*KR-1* 40%"), block_id="b1").to_dict(),
        "header": lambda: HeaderBlock(text="Objectives").to_dict(),
        "actions": lambda: ActionsBlock(elements=[ButtonElement(text="Mark done", action_id="a", value="I-1", style="primary")]).to_dict(),
        "context": lambda: ContextBlock(elements=[MarkdownTextObject(text="by <@U1>")]).to_dict(),
        "modal": lambda: View(type="modal", callback_id="c", title="Check in", submit="Save", blocks=[SectionBlock(text="hi")]).to_dict(),
        "too long": lambda: SectionBlock(text=MarkdownTextObject(text=long_text)).to_dict(),
        "bad button style": lambda: ButtonElement(text="x", action_id="a", style="loud").to_dict(),
    }


def outcome(build):
    try:
        return ("ok", json.dumps(build(), sort_keys=True))
    except SlackObjectFormationError as error:
        return ("refused", str(error))


@pytest.mark.parametrize("name", list(blocks_and_views()))
def test_the_faster_block_kit_serialises_and_refuses_like_slack_sdk(name, monkeypatch):
    build = blocks_and_views()[name]
    speedups.use_faster_block_kit()
    faster = outcome(build)
    monkeypatch.setattr(JsonObject, "validate_json", speedups._original)
    original = outcome(build)
    assert faster == original
    assert faster[0] == ("refused" if name in ("too long", "bad button style") else "ok")


def test_a_modal_answer_handed_on_at_the_ack_is_the_one_bolt_gives(database_url):
    with SlackDouble() as slack:
        settings = bot_settings(slack, database_url)
        db = Database(settings.database_url)
        runner = JobRunner(settings, db, threads=1)
        errors = {"value": "Type a number, e.g. 42"}

        @runner.bolt.view("patched_path_test")
        def refuse(ack):
            ack(response_action="errors", errors=errors)

        answers: list[Answer] = []
        runner.start(answers.append)
        payload = {
            "type": "view_submission",
            "team": {"id": "T1"},
            "user": {"id": "U1", "team_id": "T1"},
            "api_app_id": "A1",
            "trigger_id": "1.2.3",
            "view": {"id": "V1", "type": "modal", "callback_id": "patched_path_test", "hash": "h", "state": {"values": {}}, "private_metadata": ""},
        }
        runner.put(Job(1, Route.SLACK, urlencode({"payload": json.dumps(payload)}).encode(), {"content-type": "application/x-www-form-urlencoded"}, "", True, "test"))
        runner.stop(timeout=30)
        db.dispose()
    early, final = answers
    assert (early.done, final.done) == (False, True)
    assert json.loads(early.body) == json.loads(final.body) == {"response_action": "errors", "errors": errors}
