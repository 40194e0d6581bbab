"""Sentence embeddings from a sentence-transformers BERT model on disk, computed with numpy.

The optional semantic reach of "does this serve a KR?" (issue 12): the operator points
OKRBOT_EMBEDDING_MODEL at a model directory such as all-MiniLM-L6-v2's; nothing is
downloaded and no deep-learning framework is needed. What is read from the directory:

  config.json             the BERT shape (layers, heads, sizes, LayerNorm epsilon)
  vocab.txt               the WordPiece vocabulary, one token a line (its line number is its id)
  model.safetensors       the weights (an 8-byte little-endian header length, a JSON
                          header naming each tensor's dtype, shape and byte range, the bytes)
  1_Pooling/config.json   how token vectors become one sentence vector (mean, CLS or max)
  sentence_bert_config.json, tokenizer_config.json   (optional) max length, lower-casing

The pipeline is the one sentence-transformers runs: BERT's uncased basic tokenizer and
greedy longest-match WordPiece, the encoder (embeddings + LayerNorm, then per layer
self-attention with the padding masked out, GELU in its erf form, two residual
LayerNorms), pooling over the real tokens, and L2 normalisation (its 2_Normalize module;
all-MiniLM-L6-v2 lists it). Weights are memory-mapped float32: processes on one machine
share one copy through the page cache.
"""

from __future__ import annotations

import json
import math
import struct
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

REQUIRED_FILES = ("config.json", "vocab.txt", "model.safetensors")
BATCH = 32  # sentences per forward pass: sorted by length, so padding stays small
MAX_WORD_CHARACTERS = 100  # BERT: a longer "word" is [UNK]
_DTYPES = {"F32": "<f4", "F16": "<f2", "F64": "<f8", "I64": "<i8", "I32": "<i4", "BF16": "<u2"}


class ModelError(ValueError):
    """The model directory cannot be used; the message says which file and what is wrong."""


# --- safetensors ---------------------------------------------------------------------------


def read_safetensors(path: Path | str) -> dict[str, np.ndarray]:
    """Every tensor in the file, memory-mapped (float16 and bfloat16 are widened to float32)."""
    path = Path(path)
    try:
        with path.open("rb") as file:
            prefix = file.read(8)
            if len(prefix) < 8:
                raise ModelError(f"{path} is not a safetensors file (shorter than its 8-byte header length)")
            (header_length,) = struct.unpack("<Q", prefix)
            size = path.stat().st_size
            if header_length > size - 8:
                raise ModelError(f"{path} is not a safetensors file (its header length {header_length} exceeds the file)")
            header = json.loads(file.read(header_length))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ModelError(f"{path} could not be read as safetensors: {error}") from error
    start = 8 + header_length
    data = np.memmap(path, dtype=np.uint8, mode="r")
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = _DTYPES.get(info.get("dtype"))
        if dtype is None:
            raise ModelError(f"{path}: tensor {name} has dtype {info.get('dtype')}, which is not supported")
        begin, end = info["data_offsets"]
        if not 0 <= begin <= end <= size - start:
            raise ModelError(f"{path}: tensor {name} lies outside the file (truncated download?)")
        array = data[start + begin : start + end].view(dtype).reshape(info["shape"])
        if info["dtype"] == "BF16":
            array = (array.astype(np.uint32) << 16).view(np.float32)
        elif info["dtype"] in ("F16", "F64"):
            array = array.astype(np.float32)
        tensors[name] = array
    return tensors


def write_safetensors(path: Path | str, tensors: Mapping[str, np.ndarray]) -> None:
    """The format's writer, for tests and tools: little-endian, offsets in name order, 8-byte aligned."""
    codes = {np.dtype("<f4"): "F32", np.dtype("<f2"): "F16", np.dtype("<i8"): "I64", np.dtype("<i4"): "I32"}
    header: dict[str, object] = {}
    chunks, offset = [], 0
    for name in sorted(tensors):
        array = np.ascontiguousarray(tensors[name])
        array = array.astype(array.dtype.newbyteorder("<"))
        raw = array.tobytes()
        header[name] = {"dtype": codes[array.dtype], "shape": list(array.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    encoded = json.dumps(header).encode()
    encoded += b" " * (-len(encoded) % 8)
    with Path(path).open("wb") as file:
        file.write(struct.pack("<Q", len(encoded)))
        file.write(encoded)
        for raw in chunks:
            file.write(raw)


# --- tokenizer ---------------------------------------------------------------------------


def _is_whitespace(char: str) -> bool:
    return char in " \t\n\r" or unicodedata.category(char) == "Zs"


def _is_control(char: str) -> bool:
    return char not in "\t\n\r" and unicodedata.category(char).startswith("C")


def _is_punctuation(char: str) -> bool:
    code = ord(char)
    # BERT counts every non-alphanumeric ASCII character ("$", "^", "`") as punctuation.
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
        return True
    return unicodedata.category(char).startswith("P")


def _is_cjk(code: int) -> bool:
    return (
        0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0x20000 <= code <= 0x2A6DF
        or 0x2A700 <= code <= 0x2B73F or 0x2B740 <= code <= 0x2B81F or 0x2B820 <= code <= 0x2CEAF
        or 0xF900 <= code <= 0xFAFF or 0x2F800 <= code <= 0x2FA1F
    )


class WordPieceTokenizer:
    """BERT's tokenizer: clean the text, split CJK characters, lower-case and strip accents
    (uncased models), split off punctuation, then each word into the longest vocabulary
    pieces from its start ("##" marks a piece inside a word); a word that does not split
    into known pieces is [UNK]."""

    def __init__(self, vocab: Sequence[str], *, lower_case: bool = True, strip_accents: bool | None = None) -> None:
        self.vocab = {token: index for index, token in enumerate(vocab)}
        self.lower_case = lower_case
        # tokenizer_config.json's strip_accents null means: strip when lower-casing.
        self.strip_accents = lower_case if strip_accents is None else strip_accents
        for token in ("[CLS]", "[SEP]", "[UNK]", "[PAD]"):
            if token not in self.vocab:
                raise ModelError(f"the vocabulary has no {token} token")
        self.cls, self.sep = self.vocab["[CLS]"], self.vocab["[SEP]"]
        self.unk, self.pad = self.vocab["[UNK]"], self.vocab["[PAD]"]
        self._pieces = lru_cache(maxsize=1 << 16)(self._word_pieces)

    def basic(self, text: str) -> list[str]:
        """Words and punctuation marks, normalised as the model was trained."""
        cleaned = []
        for char in text:
            code = ord(char)
            if code == 0 or code == 0xFFFD or _is_control(char):
                continue
            if _is_whitespace(char):
                cleaned.append(" ")
            elif _is_cjk(code):
                cleaned.append(f" {char} ")
            else:
                cleaned.append(char)
        tokens = []
        for word in "".join(cleaned).split():
            if self.lower_case:
                word = word.lower()
            if self.strip_accents:
                word = "".join(c for c in unicodedata.normalize("NFD", word) if unicodedata.category(c) != "Mn")
            current = ""
            for char in word:
                if _is_punctuation(char):
                    if current:
                        tokens.append(current)
                    tokens.append(char)
                    current = ""
                else:
                    current += char
            if current:
                tokens.append(current)
        return tokens

    def _word_pieces(self, word: str) -> tuple[int, ...]:
        if len(word) > MAX_WORD_CHARACTERS:
            return (self.unk,)
        pieces, start = [], 0
        while start < len(word):
            end = len(word)
            while end > start:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                found = self.vocab.get(piece)
                if found is not None:
                    pieces.append(found)
                    break
                end -= 1
            else:
                return (self.unk,)
            start = end
        return tuple(pieces)

    def tokenize(self, text: str) -> list[int]:
        """The token ids of the text, without [CLS] and [SEP]."""
        ids: list[int] = []
        for word in self.basic(text):
            ids.extend(self._pieces(word))
        return ids

    def encode(self, text: str, max_length: int) -> list[int]:
        """[CLS] tokens [SEP], the tokens cut so that the whole fits in max_length."""
        return [self.cls, *self.tokenize(text)[: max(0, max_length - 2)], self.sep]


# --- the encoder -------------------------------------------------------------------------


@dataclass(frozen=True)
class BertShape:
    layers: int
    heads: int
    hidden: int
    eps: float
    max_positions: int

    @classmethod
    def from_config(cls, config: Mapping) -> BertShape:
        if config.get("model_type", "bert") != "bert":
            raise ModelError(f"config.json says model_type {config.get('model_type')!r}; only BERT models are supported")
        if config.get("hidden_act", "gelu") != "gelu":
            raise ModelError(f"config.json says hidden_act {config.get('hidden_act')!r}; only gelu is supported")
        if config.get("position_embedding_type", "absolute") != "absolute":
            raise ModelError("config.json asks for relative position embeddings; only absolute ones are supported")
        try:
            shape = cls(int(config["num_hidden_layers"]), int(config["num_attention_heads"]), int(config["hidden_size"]),
                        float(config.get("layer_norm_eps", 1e-12)), int(config.get("max_position_embeddings", 512)))
        except (KeyError, TypeError, ValueError) as error:
            raise ModelError(f"config.json lacks a BERT setting: {error}") from error
        if shape.hidden % shape.heads:
            raise ModelError(f"config.json: hidden_size {shape.hidden} is not a multiple of num_attention_heads {shape.heads}")
        return shape


@dataclass(frozen=True)
class _Layer:
    query: tuple[np.ndarray, np.ndarray]  # (weight [out, in], bias)
    key: tuple[np.ndarray, np.ndarray]
    value: tuple[np.ndarray, np.ndarray]
    attention_out: tuple[np.ndarray, np.ndarray]
    attention_norm: tuple[np.ndarray, np.ndarray]  # (gamma, beta)
    intermediate: tuple[np.ndarray, np.ndarray]
    output: tuple[np.ndarray, np.ndarray]
    output_norm: tuple[np.ndarray, np.ndarray]


POOLING_MODES = ("mean", "cls", "max")


class SentenceEncoder:
    """Unit-length sentence vectors: `encode(["some text", ...])` is a float32 [n, dim] array."""

    def __init__(
        self,
        shape: BertShape,
        tensors: Mapping[str, np.ndarray],
        tokenizer: WordPieceTokenizer,
        *,
        max_length: int = 256,
        pooling: str = "mean",
        normalize: bool = True,
        name: str = "",
    ) -> None:
        if pooling not in POOLING_MODES:
            raise ModelError(f"pooling {pooling!r} is not one of {', '.join(POOLING_MODES)}")
        self.shape = shape
        self.tokenizer = tokenizer
        self.max_length = min(max_length, shape.max_positions)
        self.pooling = pooling
        self.normalize = normalize
        self.name = name
        prefix = "bert." if "bert.embeddings.word_embeddings.weight" in tensors else ""

        def tensor(name: str, shape_wanted: tuple[int | None, ...]) -> np.ndarray:
            found = tensors.get(prefix + name)
            if found is None:
                raise ModelError(f"model.safetensors has no tensor {prefix + name}")
            if len(found.shape) != len(shape_wanted) or any(w is not None and w != n for w, n in zip(shape_wanted, found.shape)):
                raise ModelError(f"model.safetensors: {prefix + name} has shape {list(found.shape)}, config.json implies "
                                 f"{['any' if w is None else w for w in shape_wanted]}")
            return found

        hidden = shape.hidden

        def dense(name: str, out: int | None = hidden, into: int | None = hidden) -> tuple[np.ndarray, np.ndarray]:
            weight = tensor(name + ".weight", (out, into))
            return weight, tensor(name + ".bias", (weight.shape[0],))

        def norm(name: str) -> tuple[np.ndarray, np.ndarray]:
            return tensor(name + ".weight", (hidden,)), tensor(name + ".bias", (hidden,))

        self.word_embeddings = tensor("embeddings.word_embeddings.weight", (None, hidden))
        if self.word_embeddings.shape[0] < len(tokenizer.vocab):
            raise ModelError(f"vocab.txt has {len(tokenizer.vocab)} tokens, the model's embeddings {self.word_embeddings.shape[0]}")
        self.position_embeddings = tensor("embeddings.position_embeddings.weight", (None, hidden))
        self.max_length = min(self.max_length, self.position_embeddings.shape[0])
        self.token_type = tensor("embeddings.token_type_embeddings.weight", (None, hidden))[0]
        self.embedding_norm = norm("embeddings.LayerNorm")
        self.layers = []
        for i in range(shape.layers):
            at = f"encoder.layer.{i}."
            self.layers.append(_Layer(
                query=dense(at + "attention.self.query"),
                key=dense(at + "attention.self.key"),
                value=dense(at + "attention.self.value"),
                attention_out=dense(at + "attention.output.dense"),
                attention_norm=norm(at + "attention.output.LayerNorm"),
                intermediate=dense(at + "intermediate.dense", out=None),
                output=dense(at + "output.dense", into=None),
                output_norm=norm(at + "output.LayerNorm"),
            ))

    @property
    def dimension(self) -> int:
        return self.shape.hidden

    def encode(self, texts: Sequence[str], *, batch: int = BATCH) -> np.ndarray:
        """One unit-length (with `normalize`) float32 vector per text, in the order given."""
        token_ids = [self.tokenizer.encode(text, self.max_length) for text in texts]
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        # Similar lengths together: a batch is padded to its longest text only.
        order = sorted(range(len(texts)), key=lambda i: len(token_ids[i]))
        for first in range(0, len(order), batch):
            chosen = order[first : first + batch]
            vectors[chosen] = self.encode_ids([token_ids[i] for i in chosen])
        return vectors

    def encode_ids(self, token_ids: Sequence[Sequence[int]]) -> np.ndarray:
        """The sentence vectors of texts already tokenized ([CLS] ... [SEP]), padded together."""
        if not token_ids:
            return np.zeros((0, self.dimension), dtype=np.float32)
        length = max(len(ids) for ids in token_ids)
        ids = np.full((len(token_ids), length), self.tokenizer.pad, dtype=np.int64)
        mask = np.zeros((len(token_ids), length), dtype=np.float32)
        for row, sentence in enumerate(token_ids):
            ids[row, : len(sentence)] = sentence
            mask[row, : len(sentence)] = 1.0
        states = self._forward(ids, mask)
        return self._pool(states, mask)

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        batch, length = ids.shape
        heads, hidden = self.shape.heads, self.shape.hidden
        size = hidden // heads
        eps = self.shape.eps
        x = self.word_embeddings[ids] + self.position_embeddings[:length] + self.token_type
        x = _layer_norm(x.astype(np.float32, copy=False), *self.embedding_norm, eps)
        # Padding keys get a large negative score: after the softmax they weigh exactly 0.
        blocked = ((1.0 - mask) * np.finfo(np.float32).min)[:, None, None, :]
        scale = np.float32(1.0 / math.sqrt(size))
        for layer in self.layers:
            flat = x.reshape(batch * length, hidden)

            def split(projection: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
                # [batch, length, heads, size] -> [batch, heads, length, size]
                return _dense(flat, *projection).reshape(batch, length, heads, size).transpose(0, 2, 1, 3)

            q, k, v = split(layer.query), split(layer.key), split(layer.value)
            scores = np.matmul(q, k.transpose(0, 1, 3, 2)) * scale + blocked
            scores -= scores.max(axis=-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=-1, keepdims=True)
            context = np.matmul(scores, v).transpose(0, 2, 1, 3).reshape(batch * length, hidden)
            attended = _layer_norm(_dense(context, *layer.attention_out) + flat, *layer.attention_norm, eps)
            inner = _gelu(_dense(attended, *layer.intermediate))
            x = _layer_norm(_dense(inner, *layer.output) + attended, *layer.output_norm, eps).reshape(batch, length, hidden)
        return x

    def _pool(self, states: np.ndarray, mask: np.ndarray) -> np.ndarray:
        if self.pooling == "cls":
            pooled = states[:, 0]
        elif self.pooling == "max":
            pooled = np.where(mask[:, :, None] > 0, states, np.float32(-1e9)).max(axis=1)
        else:
            counts = np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
            pooled = np.einsum("btd,bt->bd", states, mask) / counts
        pooled = pooled.astype(np.float32, copy=False)
        if self.normalize:
            pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return pooled


def _dense(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    return x @ weight.T + bias  # weight is [out, in], as PyTorch stores it: no copy for .T


def _layer_norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    variance = (centred * centred).mean(axis=-1, keepdims=True)
    return centred / np.sqrt(variance + np.float32(eps)) * gamma + beta


# Abramowitz and Stegun 7.1.26: erf(x) = 1 - t(a1 + t(a2 + ...)) exp(-x^2), t = 1 / (1 + p x),
# for x >= 0; its error is at most 1.5e-7, as fine as float32 itself near 1.
_ERF_P = np.float32(0.3275911)
_ERF_A = tuple(np.float32(a) for a in (1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592))


def erf(x: np.ndarray) -> np.ndarray:
    """The error function (numpy has none), in float32, to about 2e-7."""
    x = np.asarray(x, dtype=np.float32)
    a = np.abs(x)
    t = np.float32(1.0) / (np.float32(1.0) + _ERF_P * a)
    poly = _ERF_A[0]
    for coefficient in _ERF_A[1:]:
        poly = poly * t + coefficient
    return np.copysign(np.float32(1.0) - poly * t * np.exp(-a * a), x)


_SQRT_HALF = np.float32(1.0 / math.sqrt(2.0))


def _gelu(x: np.ndarray) -> np.ndarray:
    """BERT's GELU, the exact (erf) form, not the tanh approximation."""
    return np.float32(0.5) * x * (np.float32(1.0) + erf(x * _SQRT_HALF))


# --- loading a model directory ---------------------------------------------------------------


def load_encoder(directory: Path | str) -> SentenceEncoder:
    """The model in `directory` (see the module's docstring); ModelError says what is missing."""
    root = Path(directory).expanduser()
    if not root.is_dir():
        raise ModelError(f"{root} is not a directory: point it at a sentence-transformers model folder "
                         "(config.json, vocab.txt, model.safetensors, 1_Pooling/config.json)")
    missing = [name for name in REQUIRED_FILES if not (root / name).is_file()]
    if missing:
        hint = " (a pytorch_model.bin is not read: convert it to model.safetensors)" if "model.safetensors" in missing and (root / "pytorch_model.bin").exists() else ""
        raise ModelError(f"{root} lacks {', '.join(missing)}{hint}")
    config = _json(root / "config.json")
    shape = BertShape.from_config(config)
    tokenizer_config = _json(root / "tokenizer_config.json", optional=True)
    vocab = (root / "vocab.txt").read_text(encoding="utf-8").split("\n")
    if vocab and vocab[-1] == "":
        vocab.pop()
    tokenizer = WordPieceTokenizer(
        vocab, lower_case=bool(tokenizer_config.get("do_lower_case", True)), strip_accents=tokenizer_config.get("strip_accents"))
    sentence_config = _json(root / "sentence_bert_config.json", optional=True)
    max_length = int(sentence_config.get("max_seq_length") or tokenizer_config.get("model_max_length") or shape.max_positions)
    pooling = _pooling(_json(root / "1_Pooling" / "config.json", optional=True))
    modules = _json(root / "modules.json", optional=True, default=[])
    # A model directory with modules.json normalises only when it lists a Normalize module;
    # without one, vectors are normalised anyway (cosine similarity is what is used).
    normalize = not modules or any(str(m.get("type", "")).endswith("Normalize") for m in modules)
    return SentenceEncoder(shape, read_safetensors(root / "model.safetensors"), tokenizer,
                           max_length=max_length, pooling=pooling, normalize=normalize, name=root.name)


def _pooling(config: Mapping) -> str:
    if not config:
        return "mean"
    chosen = [mode for mode, key in (("mean", "pooling_mode_mean_tokens"), ("cls", "pooling_mode_cls_token"),
                                     ("max", "pooling_mode_max_tokens")) if config.get(key)]
    if len(chosen) != 1 or any(config.get(k) for k in ("pooling_mode_mean_sqrt_len_tokens", "pooling_mode_weightedmean_tokens",
                                                        "pooling_mode_lasttoken")):
        raise ModelError(f"1_Pooling/config.json asks for pooling {config}; one of mean, CLS or max is supported")
    return chosen[0]


def _json(path: Path, *, optional: bool = False, default=None):
    if not path.is_file():
        if optional:
            return {} if default is None else default
        raise ModelError(f"{path} is missing")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ModelError(f"{path} is not valid JSON: {error}") from error
