"""The numpy sentence encoder (OKRBOT_EMBEDDING_MODEL): the safetensors reader, BERT's
tokenizer, the forward pass against a plain per-token reference, pooling, and loading errors.

A tiny random model is written for most tests (tests/fakes/tiny_bert.py). With a real
all-MiniLM-L6-v2 folder in OKRBOT_TEST_EMBEDDING_MODEL, its published outputs are checked
too (sentence-transformers' documented similarity matrix; fastembed's reference vector)."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pytest

from okrbot.domain.sentence_encoder import (
    ModelError,
    WordPieceTokenizer,
    erf,
    load_encoder,
    read_safetensors,
    write_safetensors,
)
from tests.fakes.tiny_bert import HEADS, VOCAB, write_tiny_model

REAL_MODEL = os.environ.get("OKRBOT_TEST_EMBEDDING_MODEL", "")


@pytest.fixture
def tiny(tmp_path):
    return load_encoder(write_tiny_model(tmp_path / "tiny"))


@pytest.fixture(scope="module")
def real():
    if not REAL_MODEL:
        pytest.skip("set OKRBOT_TEST_EMBEDDING_MODEL to an all-MiniLM-L6-v2 folder to check the real model's outputs")
    return load_encoder(REAL_MODEL)


# --- safetensors ---------------------------------------------------------------------------


def test_safetensors_round_trip_keeps_names_dtypes_shapes_and_values(tmp_path):
    tensors = {
        "a.weight": np.arange(12, dtype=np.float32).reshape(3, 4) / 7,
        "half": np.array([1.5, -2.25], dtype=np.float16),
        "ids": np.arange(5, dtype=np.int64)[None, :],
    }
    write_safetensors(tmp_path / "m.safetensors", tensors)
    raw = (tmp_path / "m.safetensors").read_bytes()
    header_length = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8 : 8 + header_length])
    assert header["half"]["dtype"] == "F16" and header["ids"]["shape"] == [1, 5]
    read = read_safetensors(tmp_path / "m.safetensors")
    assert set(read) == set(tensors)
    np.testing.assert_array_equal(read["a.weight"], tensors["a.weight"])
    assert read["half"].dtype == np.float32 and read["half"].tolist() == [1.5, -2.25]  # widened
    assert read["ids"].tolist() == [[0, 1, 2, 3, 4]]


def test_bfloat16_is_read_as_the_float32_it_truncates():
    from okrbot.domain import sentence_encoder

    values = np.array([1.0, -3.5, 0.15625], dtype=np.float32)
    top_halves = (values.view(np.uint32) >> 16).astype("<u2")
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"bf16-{os.getpid()}.safetensors"
    header = json.dumps({"x": {"dtype": "BF16", "shape": [3], "data_offsets": [0, 6]}}).encode()
    path.write_bytes(len(header).to_bytes(8, "little") + header + top_halves.tobytes())
    try:
        assert sentence_encoder.read_safetensors(path)["x"].tolist() == [1.0, -3.5, 0.15625]
    finally:
        path.unlink()


@pytest.mark.parametrize("damage", ["empty", "header past the end", "tensor past the end", "not json"])
def test_a_damaged_safetensors_file_says_what_is_wrong(tmp_path, damage):
    path = tmp_path / "m.safetensors"
    write_safetensors(path, {"w": np.ones((4, 4), dtype=np.float32)})
    raw = path.read_bytes()
    if damage == "empty":
        path.write_bytes(b"")
    elif damage == "header past the end":
        path.write_bytes((10**9).to_bytes(8, "little") + raw[8:])
    elif damage == "tensor past the end":
        path.write_bytes(raw[:-8])  # a truncated download
    else:
        path.write_bytes(raw[:8] + b"{" * (len(raw) - 8))
    with pytest.raises(ModelError, match="m.safetensors"):
        read_safetensors(path)


# --- tokenizer ----------------------------------------------------------------------------

TOKENIZER = WordPieceTokenizer(VOCAB)


@pytest.mark.parametrize(
    "text, tokens",
    [
        ("unaffable", ["un", "##aff", "##able"]),  # BERT's own example: longest piece first
        ("affable", ["affable"]),  # a whole word in the vocabulary is one piece
        ("UnAffable!", ["un", "##aff", "##able", "!"]),  # lower-cased; punctuation split off
        ("Café naïve", ["cafe", "naive"]),  # accents stripped (uncased model)
        ("sign-up", ["sign", "-", "up"]),
        ("signs", ["sign", "##s"]),
        ("customer's churn", ["customer", "'", "[UNK]", "churn"]),  # "s" alone is not a piece here
        ("zebra", ["[UNK]"]),  # no way to spell it from the pieces: the whole word is unknown
        ("churn\tcancelling\n\x00", ["churn", "cancel", "##ling"]),  # whitespace and control characters
        ("chair" * 30, ["[UNK]"]),  # longer than 100 characters
        ("team党party", ["team", "[UNK]", "party"]),  # a CJK character is a word of its own
    ],
)
def test_wordpiece_tokenizer_splits_as_bert_does(text, tokens):
    ids = TOKENIZER.tokenize(text)
    assert [VOCAB[i] for i in ids] == tokens


def test_encoded_text_is_wrapped_in_cls_and_sep_and_cut_to_the_maximum_length():
    ids = TOKENIZER.encode("the app the app the app the app", 6)
    assert [VOCAB[i] for i in ids] == ["[CLS]", "the", "app", "the", "app", "[SEP]"]
    assert [VOCAB[i] for i in TOKENIZER.encode("", 6)] == ["[CLS]", "[SEP]"]


def test_a_vocabulary_without_bert_special_tokens_is_refused():
    with pytest.raises(ModelError, match=r"\[CLS\]"):
        WordPieceTokenizer(["[PAD]", "[UNK]", "a"])


# --- the forward pass ----------------------------------------------------------------------


def reference_vector(encoder, ids: list[int]) -> np.ndarray:
    """BERT written out token by token and head by head, in float64 with math.erf: slow and
    plain, so that the batched float32 code is checked against something written differently."""
    t = encoder.tensors_for_reference

    def norm(x, name):
        mean = x.mean()
        return (x - mean) / math.sqrt(((x - mean) ** 2).mean() + 1e-12) * t[name + ".weight"] + t[name + ".bias"]

    def dense(x, name):
        return t[name + ".weight"].astype(np.float64) @ x + t[name + ".bias"]

    states = [norm(t["embeddings.word_embeddings.weight"][i] + t["embeddings.position_embeddings.weight"][p]
                   + t["embeddings.token_type_embeddings.weight"][0], "embeddings.LayerNorm") for p, i in enumerate(ids)]
    size = len(states[0]) // HEADS
    layer = 0
    while f"encoder.layer.{layer}.attention.self.query.weight" in t:
        at = f"encoder.layer.{layer}."
        q = [dense(x, at + "attention.self.query") for x in states]
        k = [dense(x, at + "attention.self.key") for x in states]
        v = [dense(x, at + "attention.self.value") for x in states]
        attended = []
        for a in range(len(states)):
            context = []
            for h in range(HEADS):
                part = slice(h * size, (h + 1) * size)
                scores = [float(q[a][part] @ k[b][part]) / math.sqrt(size) for b in range(len(states))]
                top = max(scores)
                weights = [math.exp(s - top) for s in scores]
                context.append(sum(w * v[b][part] for b, w in enumerate(weights)) / sum(weights))
            attended.append(norm(dense(np.concatenate(context), at + "attention.output.dense") + states[a],
                                 at + "attention.output.LayerNorm"))
        states = []
        for x in attended:
            inner = dense(x, at + "intermediate.dense")
            inner = np.array([0.5 * u * (1 + math.erf(u / math.sqrt(2))) for u in inner])
            states.append(norm(dense(inner, at + "output.dense") + x, at + "output.LayerNorm"))
        layer += 1
    pooled = np.mean(states, axis=0)
    return pooled / np.linalg.norm(pooled)


@pytest.fixture
def tiny_with_tensors(tmp_path):
    directory = write_tiny_model(tmp_path / "tiny", seed=3)
    encoder = load_encoder(directory)
    encoder.tensors_for_reference = {name: np.asarray(a, dtype=np.float64) for name, a in
                                     read_safetensors(directory / "model.safetensors").items()}
    return encoder


@pytest.mark.parametrize("text", ["the app", "customer churn, the api latency!", "unaffable team party chair"])
def test_the_forward_pass_is_bert_as_written_out_by_hand(tiny_with_tensors, text):
    encoder = tiny_with_tensors
    ids = encoder.tokenizer.encode(text, encoder.max_length)
    np.testing.assert_allclose(encoder.encode([text])[0], reference_vector(encoder, ids), atol=2e-5)


def test_padding_and_batching_do_not_change_a_sentence_vector(tiny):
    texts = ["the app", "crash", "customer churn of the api and the pdf report, faster and faster", "cafe party", ""]
    alone = np.vstack([tiny.encode([text]) for text in texts])
    together = tiny.encode(texts)  # padded to the longest in one batch
    in_pairs = tiny.encode(texts, batch=2)
    np.testing.assert_allclose(together, alone, atol=1e-5)
    np.testing.assert_allclose(in_pairs, alone, atol=1e-5)
    # Padding ids never reach a real token: a sentence padded by hand gives the same vector.
    ids = tiny.tokenizer.encode("the app", tiny.max_length)
    padded = tiny.encode_ids([ids, ids + [tiny.tokenizer.cls] * 5])  # the second is longer
    np.testing.assert_allclose(padded[0], alone[0], atol=1e-5)


def test_vectors_are_unit_length_float32_in_the_order_given(tiny):
    texts = ["team party", "the app", "api latency"]
    vectors = tiny.encode(texts)
    assert vectors.shape == (3, 8) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(tiny.encode(texts[::-1]), vectors[::-1], atol=1e-6)
    assert tiny.encode([]).shape == (0, 8)


def test_a_text_longer_than_the_model_reads_is_cut_not_refused(tiny):
    assert tiny.max_length == 24  # sentence_bert_config.json
    long = " ".join(["churn"] * 200)
    np.testing.assert_allclose(tiny.encode([long]), tiny.encode([" ".join(["churn"] * 22)]), atol=1e-6)


def test_erf_matches_the_standard_library_to_float32_precision():
    xs = np.linspace(-6, 6, 20001, dtype=np.float32)
    expected = np.array([math.erf(float(x)) for x in xs])
    assert np.abs(erf(xs) - expected).max() < 1e-6


# --- loading a folder ----------------------------------------------------------------------


def test_a_folder_that_is_not_a_model_says_what_it_lacks(tmp_path):
    with pytest.raises(ModelError, match="is not a directory"):
        load_encoder(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="lacks config.json, vocab.txt, model.safetensors"):
        load_encoder(tmp_path / "empty")


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: (d / "config.json").write_text('{"model_type": "roberta"}'), "only BERT"),
        (lambda d: (d / "config.json").write_text("{not json"), "not valid JSON"),
        (lambda d: (d / "1_Pooling" / "config.json").write_text('{"pooling_mode_lasttoken": true}'), "pooling"),
        (lambda d: write_safetensors(d / "model.safetensors", {"x": np.zeros(2, dtype=np.float32)}), "no tensor"),
        (lambda d: (d / "config.json").write_text(json.dumps({**json.loads((d / "config.json").read_text()), "hidden_size": 16})),
         "has shape"),
    ],
)
def test_a_model_folder_with_a_bad_file_names_the_file_and_the_problem(tmp_path, change, message):
    directory = write_tiny_model(tmp_path / "m")
    change(directory)
    with pytest.raises(ModelError, match=message):
        load_encoder(directory)


# --- the real model (optional) --------------------------------------------------------------


def test_real_model_reproduces_the_published_similarity_matrix(real):
    # sentence-transformers' quickstart (README and docs), with all-MiniLM-L6-v2.
    vectors = real.encode(["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."])
    similarity = vectors @ vectors.T
    expected = np.array([[1.0, 0.6660, 0.1046], [0.6660, 1.0, 0.1411], [0.1046, 0.1411, 1.0]])
    np.testing.assert_allclose(similarity, expected, atol=1e-3)


def test_real_model_reproduces_a_published_vector(real):
    # qdrant/fastembed's tests/test_text_onnx_embeddings.py: "hello world", first five dimensions.
    vector = real.encode(["hello world"])[0]
    np.testing.assert_allclose(vector[:5], [-0.034478, 0.03102, 0.00673, 0.02611, -0.039362], atol=1e-4)


def test_real_model_puts_work_closer_to_the_kr_it_serves_than_to_others(real):
    krs = ["Reduce monthly logo churn from 3% to 2%", "Keep p95 API latency under 300 ms",
           "Raise crash-free sessions of the mobile app to 99.8%"]
    requests = {"customers keep cancelling their subscriptions": 0, "the endpoints respond too slowly": 1,
                "the iOS app dies on launch": 2}
    k = real.encode(krs)
    for text, expected in requests.items():
        assert int(np.argmax(k @ real.encode([text])[0])) == expected, text
