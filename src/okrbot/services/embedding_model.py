"""The operator's optional sentence-embedding model (OKRBOT_EMBEDDING_MODEL): loaded once
per process from the directory the setting names, never downloaded.

Unset, "does this serve a KR?" ranks by words alone, exactly as without this option.
`okrbot serve`, `worker` and `shell` load it at start-up, so a bad path stops them with
a message that says what is wrong; `okrbot doctor` reports whether it loads.

With a cache directory (OKRBOT_CACHE_DIR, on by default) the vectors of KR and linked-work
texts are kept on disk per model (store/vector_cache.py): a process started after another
one embedded a workspace reads its vectors instead of running the model over it again.
"""

from __future__ import annotations

import time
from functools import lru_cache
from pathlib import Path

import numpy as np

from okrbot.config import Settings
from okrbot.domain.semantic_matching import Encoder
from okrbot.domain.sentence_encoder import ModelError, SentenceEncoder, load_encoder
from okrbot.store.vector_cache import CachedEncoder, VectorCache, cache_path, model_fingerprint

SETTING = "OKRBOT_EMBEDDING_MODEL"
PROBE = "Fix the flaky sign-up emails"  # one sentence run through the model to check it works


class EmbeddingModelError(Exception):
    """The configured model cannot be used; the message names the setting and what to do."""


def encoder_for(settings: Settings) -> Encoder | None:
    """The model OKRBOT_EMBEDDING_MODEL names, behind the vector cache when there is a cache
    directory (the same object for every call in a process: the serves index is keyed by it), or None."""
    if not settings.embedding_model:
        return None
    directory = _model_directory(settings)
    model = _load(directory)
    cache = settings.cache_directory
    return model if cache is None else _cached(directory, str(cache.resolve()))


def _model_directory(settings: Settings) -> str:
    return str(Path(settings.embedding_model).expanduser().resolve())


@lru_cache(maxsize=4)
def _cached(directory: str, cache: str) -> CachedEncoder:
    model = _load(directory)
    return CachedEncoder(model, VectorCache(cache_path(Path(cache) / "vectors", model_fingerprint(directory)), model.dimension))


@lru_cache(maxsize=4)
def _load(directory: str) -> SentenceEncoder:
    try:
        encoder = load_encoder(directory)
        vector = encoder.encode([PROBE])
    except ModelError as error:
        raise EmbeddingModelError(f"{SETTING}={directory}: {error}. Unset {SETTING} to rank by words alone.") from error
    except (OSError, ValueError, IndexError) as error:  # a damaged file the format checks let through
        raise EmbeddingModelError(f"{SETTING}={directory}: the model does not run ({error.__class__.__name__}: {error}). "
                                  f"Unset {SETTING} to rank by words alone.") from error
    if vector.shape != (1, encoder.dimension) or not np.isfinite(vector).all():
        raise EmbeddingModelError(f"{SETTING}={directory}: the model gives no usable vector (shape {vector.shape}, "
                                  f"finite: {bool(np.isfinite(vector).all())}). Unset {SETTING} to rank by words alone.")
    return encoder


def describe(settings: Settings) -> tuple[bool, str]:
    """For `okrbot doctor`: whether the model loads, and what it is."""
    if not settings.embedding_model:
        return True, f"not set: \"does this serve a KR?\" ranks by words alone ({SETTING}=<model folder> adds meaning)"
    started = time.perf_counter()
    try:
        encoder = _load(_model_directory(settings))
    except EmbeddingModelError as error:
        return False, str(error)
    shape = encoder.shape
    return True, (f"{encoder.name} loads and runs ({shape.layers} layers, {encoder.dimension} dimensions, "
                  f"{len(encoder.tokenizer.vocab):,} tokens, {encoder.pooling} pooling, up to {encoder.max_length} tokens; "
                  f"{time.perf_counter() - started:.2f} s)")
