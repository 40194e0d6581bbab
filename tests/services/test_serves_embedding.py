""""Does this serve a KR?" with the optional embedding model (OKRBOT_EMBEDDING_MODEL): unset,
nothing changes and no model is loaded; set, the index holds each text's vector and the
answers still respect private objectives; a bad path stops start-up with a clear message,
and `okrbot doctor` says whether the model loads.

The organisation is tests/services/test_serves.py's: KR-3 is logo churn, and the private
objectives' KR-6..KR-11 are about churn too, so a request about leaving that shares no word
with any KR is a fair test of who may be answered what."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta

import pytest
import typer.testing

from okrbot.cli import app as cli_app
from okrbot.config import Settings
from okrbot.domain.matching import Matcher
from okrbot.domain.semantic_matching import SemanticMatcher
from okrbot.doctor import embedding_model_check
from okrbot.services import embedding_model, serves
from okrbot.services.embedding_model import EmbeddingModelError, encoder_for
from okrbot.adapters.slack.commands.runner import CommandRunner
from tests.conftest import NOW
from tests.domain.test_semantic_matching import TopicModel
from tests.fakes.tiny_bert import write_tiny_model
from tests.services.test_serves import OFF_TOPIC, admin, ask, build_organisation, kr_ids

LEAVING = "folks drift away to rivals"  # no word in common with any KR; about churn


@pytest.fixture
def organisation(db, actor):
    build_organisation(db, actor)
    return db


def settings(model: str = "") -> Settings:
    return Settings(_env_file=None, OKRBOT_EMBEDDING_MODEL=model)


def ask_with(db, actor, text, encoder, *, shown_to_channel=False):
    with db.session_scope() as session:
        return serves.serves(session, actor, text, shown_to_channel=shown_to_channel, encoder=encoder)


def cached_matchers(db) -> list:
    """Every matcher the service holds for this database (read-only commands use an engine of
    their own over the same pool)."""
    engines = [engine for engine in list(serves._caches) if engine.pool is db.engine.pool]
    return [index.matcher for engine in engines for index in serves._caches[engine].indexes.values()]


def test_unset_answers_are_the_lexical_matchers_and_no_model_is_loaded(organisation, actor):
    embedding_model._load.cache_clear()
    runner = CommandRunner(organisation, settings(), offline=True)
    requests = ["a checklist on first login", "customers keep cancelling", "the API is slow", OFF_TOPIC, LEAVING]
    for text in requests:
        reply = runner.run(f"serves {text}", actor).reply
        assert not reply.error
        expected = ask(organisation, actor, text)  # the service without a model, as before this option
        for fit in expected.fits:
            assert f"KR-{fit.kr_number}" in reply.text
        assert ("No KR" in reply.text) == (not expected.fits)
    assert encoder_for(settings()) is None
    assert embedding_model._load.cache_info().currsize == 0
    matchers = cached_matchers(organisation)
    assert matchers and all(type(matcher) is Matcher for matcher in matchers)


def test_with_a_model_a_request_is_matched_by_meaning_as_well_as_words(organisation, actor):
    model = TopicModel()
    assert kr_ids(ask(organisation, actor, LEAVING)) == []  # words alone: no KR
    assert kr_ids(ask_with(organisation, actor, LEAVING, model)) == ["KR-3"]
    answer = ask_with(organisation, actor, LEAVING, model)
    assert answer.fits[0].reason == "close in meaning to this KR"
    assert kr_ids(ask_with(organisation, actor, OFF_TOPIC, model)) == []


@pytest.mark.parametrize("viewer, allowed", [("U1", {"KR-3"}), ("U5", {"KR-3", "KR-6", "KR-7", "KR-8"}),
                                              ("U7", {"KR-3", "KR-9", "KR-10", "KR-11"})])
def test_private_krs_close_in_meaning_answer_only_those_who_may_see_them(organisation, actor, viewer, allowed):
    model = TopicModel()
    named = set(kr_ids(ask_with(organisation, replace(actor, user_id=viewer), LEAVING, model)))
    assert named and named <= allowed
    assert kr_ids(ask_with(organisation, replace(actor, user_id="U5"), LEAVING, model, shown_to_channel=True)) == ["KR-3"]


def test_the_index_embeds_each_text_once_and_a_change_embeds_only_the_new_text(organisation, actor):
    model = TopicModel()
    ask_with(organisation, actor, LEAVING, model)
    first = len(model.embedded)
    ask_with(organisation, actor, "the API is slow", model)
    assert len(model.embedded) == first + 1  # the question only
    runner = CommandRunner(organisation, settings(), offline=True)
    later = admin(replace(actor, now=NOW + timedelta(minutes=5)))
    assert not runner.run('initiative add KR-4 "Make the endpoints faster"', later).reply.error
    model.embedded.clear()
    assert kr_ids(ask_with(organisation, actor, "endpoints feel sluggish", model))[0] == "KR-4"
    assert model.embedded == ["Make the endpoints faster", "endpoints feel sluggish"]
    (semantic,) = [m for m in cached_matchers(organisation) if isinstance(m, SemanticMatcher)]
    assert semantic.vectors.texts.embedded == 1


def test_the_operators_model_folder_is_loaded_once_and_used_by_slash_okr_serves(organisation, actor, tmp_path):
    folder = write_tiny_model(tmp_path / "tiny-model")
    configured = settings(str(folder))
    encoder = encoder_for(configured)
    assert encoder is not None and encoder_for(configured) is encoder
    reply = CommandRunner(organisation, configured, offline=True).run("serves customers keep cancelling", actor).reply
    assert not reply.error
    assert any(isinstance(m, SemanticMatcher) and m.encoder is encoder for m in cached_matchers(organisation))


def test_a_process_started_later_reads_the_vectors_instead_of_running_the_model(organisation, actor, tmp_path):
    configured = settings(str(write_tiny_model(tmp_path / "tiny-model")))
    first = encoder_for(configured)
    before = ask_with(organisation, actor, "customers keep cancelling", first)

    # A new process: its own model object and an empty index cache; the same cache directory.
    embedding_model._load.cache_clear()
    embedding_model._cached.cache_clear()
    serves._caches.clear()
    later = encoder_for(configured)
    assert later is not first
    ran: list[str] = []
    model_encode = later.model.encode
    later.model.encode = lambda texts: ran.extend(texts) or model_encode(texts)
    after = ask_with(organisation, actor, "customers keep cancelling", later)
    assert ran == ["customers keep cancelling"]  # the question; every KR and work text came from the file
    assert [(f.kr_number, f.score) for f in after.fits] == [(f.kr_number, f.score) for f in before.fits]


class GatedModel(TopicModel):
    """Reads a batch (an index's texts) only once the gate opens; a question at once."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()

    def encode(self, texts):
        if len(texts) > 1:
            assert self.gate.wait(30), "the test never opened the gate"
        return super().encode(texts)


def finish_embedding() -> None:
    for cache in list(serves._caches.values()):
        thread = cache.embedding
        if thread is not None:
            thread.join(30)
            assert not thread.is_alive()


def test_a_workspace_the_model_has_not_read_is_answered_by_words_until_it_has(organisation, actor, monkeypatch):
    monkeypatch.setattr(serves, "EMBED_WHILE_ASKED", 2)
    model = GatedModel()
    # The model is busy reading the workspace: the question does not wait, words answer it.
    assert kr_ids(ask_with(organisation, actor, LEAVING, model)) == []
    by_words = ask(organisation, actor, "customers keep cancelling")
    assert kr_ids(ask_with(organisation, actor, "customers keep cancelling", model)) == kr_ids(by_words)
    # A change while it reads: the index after it is embedded too.
    runner = CommandRunner(organisation, settings(), offline=True)
    later = admin(replace(actor, now=NOW + timedelta(minutes=5)))
    assert not runner.run('initiative add KR-4 "Make the endpoints faster"', later).reply.error
    assert kr_ids(ask_with(organisation, actor, LEAVING, model)) == []
    model.gate.set()
    finish_embedding()
    assert kr_ids(ask_with(organisation, actor, LEAVING, model)) == ["KR-3"]
    assert kr_ids(ask_with(organisation, actor, "endpoints feel sluggish", model))[0] == "KR-4"
    with_model = [index for cache in serves._caches.values() for index in cache.indexes.values() if index.encoder is model]
    assert with_model and all(isinstance(index.matcher, SemanticMatcher) for index in with_model)


def test_a_small_workspace_is_embedded_while_asked(organisation, actor):
    model = TopicModel()  # this organisation's texts are under EMBED_WHILE_ASKED
    assert kr_ids(ask_with(organisation, actor, LEAVING, model)) == ["KR-3"]
    assert all(cache.embedding is None for cache in serves._caches.values())


def test_a_bad_model_path_is_a_clear_error_at_start_up_and_in_doctor(tmp_path):
    with pytest.raises(EmbeddingModelError, match=r"OKRBOT_EMBEDDING_MODEL=.*nowhere: .* is not a directory.*Unset"):
        encoder_for(settings(str(tmp_path / "nowhere")))
    result = typer.testing.CliRunner().invoke(
        cli_app, ["shell", "-c", "/okr help"],
        env={"OKRBOT_EMBEDDING_MODEL": str(tmp_path / "nowhere"), "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"})
    assert result.exit_code == 2
    assert "Can't start: OKRBOT_EMBEDDING_MODEL=" in result.output and "is not a directory" in result.output
    finding = embedding_model_check(settings(str(tmp_path / "nowhere")))
    assert not finding.ok and "OKRBOT_EMBEDDING_MODEL" in finding.say


def test_a_damaged_model_file_is_named(tmp_path):
    folder = write_tiny_model(tmp_path / "damaged")
    (folder / "model.safetensors").write_bytes((folder / "model.safetensors").read_bytes()[:-40])
    with pytest.raises(EmbeddingModelError, match="model.safetensors"):
        encoder_for(settings(str(folder)))


def test_doctor_reports_an_unset_model_and_a_loading_one(tmp_path):
    unset = embedding_model_check(settings())
    assert unset.ok and "not set" in unset.say
    loaded = embedding_model_check(settings(str(write_tiny_model(tmp_path / "doctor-model"))))
    assert loaded.ok and "loads and runs" in loaded.say and "2 layers, 8 dimensions" in loaded.say
