"""A tiny sentence-transformers BERT model folder with random weights, written for tests:
the files OKRBOT_EMBEDDING_MODEL reads, in their real formats, a few kilobytes in all."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from okrbot.domain.sentence_encoder import write_safetensors

VOCAB = [
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
    ",", ".", "!", "-", "'", "the", "a", "of", "to", "and",
    "un", "##aff", "##able", "affable", "sign", "up", "##s", "cafe", "naive",
    "churn", "customer", "##er", "cancel", "##ling", "crash", "app", "fast", "faster",
    "report", "pdf", "latency", "api", "team", "party", "chair",
]
HIDDEN, HEADS, LAYERS, INTERMEDIATE, POSITIONS = 8, 2, 2, 16, 32


def write_tiny_model(directory: Path, *, seed: int = 0, max_seq_length: int = 24) -> Path:
    """A 2-layer, 2-head, 8-dimensional BERT over VOCAB with mean pooling and normalisation."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)

    def weights(*shape: int, scale: float = 0.5) -> np.ndarray:
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    tensors = {
        "embeddings.word_embeddings.weight": weights(len(VOCAB), HIDDEN),
        "embeddings.position_embeddings.weight": weights(POSITIONS, HIDDEN),
        "embeddings.token_type_embeddings.weight": weights(2, HIDDEN),
        "embeddings.LayerNorm.weight": 1.0 + weights(HIDDEN, scale=0.1),
        "embeddings.LayerNorm.bias": weights(HIDDEN, scale=0.1),
        "embeddings.position_ids": np.arange(POSITIONS, dtype=np.int64)[None, :],
    }
    for i in range(LAYERS):
        at = f"encoder.layer.{i}."
        for name in ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"):
            tensors[at + name + ".weight"] = weights(HIDDEN, HIDDEN)
            tensors[at + name + ".bias"] = weights(HIDDEN, scale=0.1)
        tensors[at + "intermediate.dense.weight"] = weights(INTERMEDIATE, HIDDEN)
        tensors[at + "intermediate.dense.bias"] = weights(INTERMEDIATE, scale=0.1)
        tensors[at + "output.dense.weight"] = weights(HIDDEN, INTERMEDIATE)
        tensors[at + "output.dense.bias"] = weights(HIDDEN, scale=0.1)
        for norm in ("attention.output.LayerNorm", "output.LayerNorm"):
            tensors[at + norm + ".weight"] = 1.0 + weights(HIDDEN, scale=0.1)
            tensors[at + norm + ".bias"] = weights(HIDDEN, scale=0.1)
    write_safetensors(directory / "model.safetensors", tensors)
    (directory / "vocab.txt").write_text("\n".join(VOCAB) + "\n", encoding="utf-8")
    (directory / "config.json").write_text(json.dumps({
        "model_type": "bert", "hidden_act": "gelu", "hidden_size": HIDDEN, "num_attention_heads": HEADS,
        "num_hidden_layers": LAYERS, "intermediate_size": INTERMEDIATE, "layer_norm_eps": 1e-12,
        "max_position_embeddings": POSITIONS, "type_vocab_size": 2, "vocab_size": len(VOCAB)}), encoding="utf-8")
    (directory / "1_Pooling").mkdir(exist_ok=True)
    (directory / "1_Pooling" / "config.json").write_text(json.dumps({
        "word_embedding_dimension": HIDDEN, "pooling_mode_cls_token": False, "pooling_mode_mean_tokens": True,
        "pooling_mode_max_tokens": False, "pooling_mode_mean_sqrt_len_tokens": False}), encoding="utf-8")
    (directory / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": max_seq_length}), encoding="utf-8")
    (directory / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}]), encoding="utf-8")
    return directory
