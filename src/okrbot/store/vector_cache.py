"""Sentence vectors kept on disk, so the embedding model reads each KR and linked-work
text once per install instead of once per process start.

With OKRBOT_EMBEDDING_MODEL the serves index embeds every KR and linked-work title
when it is built (about 10 ms a text: 52 s at 5,000 KRs). Without this cache, every
worker pays that again after each restart. The file lives in the cache directory
(OKRBOT_CACHE_DIR), one per model: its name carries a fingerprint of the model's
files, so vectors of another model or another version of one are never read.

It is a cache: a SQLite file in WAL mode, written without fsync, shared by the
processes of one machine. Losing it costs only time. A damaged file is started again; one
that cannot be opened or written is ignored with a warning, and the model runs. A batch of one text (a question, or
the one new link after a change) is not kept: it costs one pass of the model, and a cache
that kept every question would grow without end.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from okrbot.domain.semantic_matching import Encoder

log = logging.getLogger(__name__)

# The files the encoder reads (domain/sentence_encoder.py): a change to any is another model.
MODEL_FILES = ("config.json", "vocab.txt", "model.safetensors", "tokenizer_config.json",
               "sentence_bert_config.json", "modules.json", "1_Pooling/config.json")
_BATCH = 500  # keys per SELECT (SQLite's default limit on parameters is 32,766; fewer keeps each short)


def model_fingerprint(directory: Path | str) -> str:
    """A short hash of the model's files, whole (about 0.2 s for 87 MiB)."""
    digest = hashlib.sha256()
    root = Path(directory)
    for name in MODEL_FILES:
        path = root / name
        digest.update(name.encode() + b"\0")
        if path.is_file():
            with path.open("rb") as file:
                for block in iter(lambda: file.read(1 << 20), b""):
                    digest.update(block)
    return digest.hexdigest()[:16]


def _key(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


class VectorCache:
    """Vectors by text, in one SQLite file; every failure is logged and ignored."""

    def __init__(self, path: Path | str, dimension: int) -> None:
        self.path = path = Path(path)
        self.dimension = dimension
        self._lock = threading.RLock()  # _failed may start the file again from inside a read or write
        self._db: sqlite3.Connection | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                self._db = self._open()
            except sqlite3.DatabaseError as error:
                if isinstance(error, sqlite3.OperationalError):
                    raise
                self._db = self._started_again(error)
        except (sqlite3.Error, OSError) as error:
            log.warning("sentence vectors will not be cached: %s: %s", path, error)

    def _started_again(self, error: sqlite3.Error) -> sqlite3.Connection:
        """A file that is not a database, or is damaged (it is written without fsync): removed
        and made anew (processes that still hold the old one keep reading it until they restart)."""
        log.warning("sentence vector cache %s is damaged (%s): starting it again", self.path, error)
        for stale in (self.path, self.path.with_name(self.path.name + "-wal"), self.path.with_name(self.path.name + "-shm")):
            stale.unlink(missing_ok=True)
        return self._open()

    def _failed(self, error: sqlite3.Error, doing: str) -> None:
        """Log it; a damaged file (not a busy one) is started again."""
        log.warning("sentence vector cache %s not %s: %s", self.path, doing, error)
        if isinstance(error, sqlite3.DatabaseError) and not isinstance(error, sqlite3.OperationalError):
            old, self._db = self._db, None
            try:
                if old is not None:
                    old.close()
                self._db = self._started_again(error)
            except (sqlite3.Error, OSError) as again:
                log.warning("sentence vectors will not be cached: %s: %s", self.path, again)

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=5.0, check_same_thread=False, isolation_level=None)
        try:
            # Rows of 1.5 KiB (384 float32): 16 KiB pages and a rowid table keep the file near the
            # vectors' own size (8.3 MiB for 5,195; WITHOUT ROWID on 4 KiB pages took 23 MiB).
            db.execute("PRAGMA page_size=16384")  # a new file only
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=OFF")  # a cache: a lost write costs one pass of the model
            db.execute("CREATE TABLE IF NOT EXISTS vector (key BLOB PRIMARY KEY, value BLOB NOT NULL)")
        except sqlite3.Error:
            db.close()
            raise
        return db

    def get(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """The cached vectors of those texts that have one."""
        size = self.dimension * 4
        return {text: np.frombuffer(value, dtype=np.float32)
                for text, value in self._rows(texts, "value") if len(value) == size}

    def held(self, texts: Sequence[str]) -> set[str]:
        """Those texts that have a vector (read without the vectors)."""
        size = self.dimension * 4
        return {text for text, length in self._rows(texts, "length(value)") if length == size}

    def _rows(self, texts: Sequence[str], column: str) -> list[tuple[str, object]]:
        if self._db is None or not texts:
            return []
        wanted = {_key(text): text for text in texts}
        keys = list(wanted)
        found = []
        with self._lock:
            if self._db is None:
                return []
            try:
                for start in range(0, len(keys), _BATCH):
                    chunk = keys[start:start + _BATCH]
                    marks = ",".join("?" * len(chunk))
                    for key, value in self._db.execute(f"SELECT key, {column} FROM vector WHERE key IN ({marks})", chunk):
                        found.append((wanted[key], value))
            except sqlite3.Error as error:
                self._failed(error, "read")
        return found

    def put(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        if self._db is None or not texts:
            return
        rows = [(_key(text), np.ascontiguousarray(vector, dtype=np.float32).tobytes()) for text, vector in zip(texts, vectors)]
        with self._lock:
            if self._db is None:
                return
            try:
                self._db.execute("BEGIN")
                self._db.executemany("INSERT OR REPLACE INTO vector (key, value) VALUES (?, ?)", rows)
                self._db.execute("COMMIT")
            except sqlite3.Error as error:
                try:
                    self._db.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
                self._failed(error, "written")

    def __len__(self) -> int:
        with self._lock:
            return 0 if self._db is None else self._db.execute("SELECT count(*) FROM vector").fetchone()[0]


class CachedEncoder:
    """The model behind a VectorCache: texts it has embedded before come from the file."""

    def __init__(self, model: Encoder, cache: VectorCache) -> None:
        self.model = model
        self.cache = cache
        self.name = model.name

    @property
    def dimension(self) -> int:
        return self.model.dimension

    def missing(self, texts: Sequence[str]) -> list[str]:
        """Those texts the file has no vector for."""
        held = self.cache.held(texts)
        return [text for text in texts if text not in held]

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if len(texts) <= 1:
            return self.model.encode(texts)
        known = self.cache.get(texts)
        fresh = [text for text in dict.fromkeys(texts) if text not in known]
        if fresh:
            vectors = self.model.encode(fresh)
            self.cache.put(fresh, vectors)
            known.update(zip(fresh, vectors))
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            out[row] = known[text]
        return out


def cache_path(directory: Path, fingerprint: str) -> Path:
    return directory / f"sentence-vectors-{fingerprint}.sqlite3"
