"""Sentence vectors on disk (store/vector_cache.py): a second process reads the vectors the
first one computed instead of running the model again, another model never reads them, and
a broken file costs time, never an answer."""

from __future__ import annotations

import logging
import sqlite3
import subprocess
import sys
import textwrap

import numpy as np

from okrbot.store.vector_cache import CachedEncoder, VectorCache, cache_path, model_fingerprint
from tests.domain.test_semantic_matching import TopicModel
from tests.fakes.tiny_bert import write_tiny_model

TEXTS = ["Reduce monthly logo churn", "Replace the legacy PDF renderer", "Keep p95 API latency under 300 ms"]


def cached(path, model=None) -> CachedEncoder:
    model = model or TopicModel()
    return CachedEncoder(model, VectorCache(path, model.dimension))


def test_a_second_process_reads_the_vectors_the_first_computed(tmp_path):
    first = cached(tmp_path / "v.sqlite3")
    vectors = first.encode(TEXTS)
    assert first.model.embedded == TEXTS

    # Another process: its own connection and its own model object.
    script = textwrap.dedent(f"""
        import numpy as np, sys
        sys.path[:0] = {sys.path!r}
        from tests.services.test_vector_cache import cached, TEXTS
        again = cached({str(tmp_path / "v.sqlite3")!r})
        out = again.encode(TEXTS + ["Raise crash-free sessions"])
        np.save({str(tmp_path / "out.npy")!r}, out)
        print(len(again.model.embedded))
    """)
    ran = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "1"  # only the text it had not seen
    out = np.load(tmp_path / "out.npy")
    assert np.array_equal(out[:3], vectors)
    assert np.array_equal(out[3], TopicModel().encode(["Raise crash-free sessions"])[0])


def test_repeated_texts_in_a_batch_run_once_and_come_back_in_order(tmp_path):
    encoder = cached(tmp_path / "v.sqlite3")
    out = encoder.encode([TEXTS[1], TEXTS[0], TEXTS[1]])
    assert encoder.model.embedded == [TEXTS[1], TEXTS[0]]
    assert np.array_equal(out, TopicModel().encode([TEXTS[1], TEXTS[0], TEXTS[1]]))


def test_a_single_text_is_not_kept(tmp_path):
    encoder = cached(tmp_path / "v.sqlite3")
    encoder.encode(["one question someone asked"])
    assert len(encoder.cache) == 0
    encoder.encode(TEXTS)
    assert len(encoder.cache) == 3


def test_another_model_has_another_file(tmp_path):
    one = write_tiny_model(tmp_path / "one", seed=1)
    two = write_tiny_model(tmp_path / "two", seed=2)
    assert model_fingerprint(one) == model_fingerprint(write_tiny_model(tmp_path / "copy", seed=1))
    assert model_fingerprint(one) != model_fingerprint(two)
    assert cache_path(tmp_path, model_fingerprint(one)) != cache_path(tmp_path, model_fingerprint(two))


def test_a_damaged_file_is_started_again(tmp_path, caplog):
    path = tmp_path / "v.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with caplog.at_level(logging.WARNING):
        encoder = cached(path)
        out = encoder.encode(TEXTS)
    assert np.array_equal(out, TopicModel().encode(TEXTS))
    assert "damaged" in caplog.text
    assert cached(path).missing(TEXTS) == []  # the new file keeps what it was given


def test_a_vector_of_the_wrong_size_is_not_read(tmp_path):
    path = tmp_path / "v.sqlite3"
    cached(path).encode(TEXTS)
    smaller = VectorCache(path, TopicModel.dimension - 1)
    assert smaller.get(TEXTS) == {}


def test_an_unwritable_directory_costs_only_the_cache(tmp_path, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with caplog.at_level(logging.WARNING):
        encoder = cached(blocker / "sub" / "v.sqlite3")
        out = encoder.encode(TEXTS)
    assert np.array_equal(out, TopicModel().encode(TEXTS))
    assert "not be cached" in caplog.text


def test_missing_names_the_texts_without_a_vector_and_reads_none(tmp_path):
    encoder = cached(tmp_path / "v.sqlite3")
    encoder.encode(TEXTS)
    assert encoder.missing([*TEXTS, "Raise crash-free sessions"]) == ["Raise crash-free sessions"]
    assert encoder.model.embedded == TEXTS


def test_a_file_damaged_inside_is_started_again_when_read(tmp_path, caplog):
    path = tmp_path / "v.sqlite3"
    texts = [f"work item {n}" for n in range(200)]
    cached(path).encode(texts)
    checkpoint = sqlite3.connect(path)
    checkpoint.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    checkpoint.close()
    data = bytearray(path.read_bytes())
    assert len(data) > 5 * 16384
    data[2 * 16384:4 * 16384] = bytes(range(256)) * (2 * 16384 // 256)  # pages of the table, not the header
    path.write_bytes(bytes(data))

    encoder = cached(path)
    with caplog.at_level(logging.WARNING):
        out = encoder.encode(texts)
    assert np.array_equal(out, TopicModel().encode(texts))
    assert "damaged" in caplog.text
    assert cached(path).missing(texts) == []  # the new file holds what the model computed again
