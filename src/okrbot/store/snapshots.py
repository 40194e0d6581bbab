"""Files that one process of an install writes and the others read instead of building the
same thing again (the "serves" index of a workspace-period: services/serves.py).

A snapshot is one file: an 8-byte magic, the length of a JSON header, the header, then
each array's raw bytes (64-byte aligned). The header names each array's dtype (plain
numbers only), shape, offset and CRC-32, so reading executes nothing a stray or damaged
file could hold: a file that does not check out is refused (`SnapshotError`), never
half-read. The arrays are views of one read-only memory map, so processes reading the
same file share its pages.

Layout: <cache dir>/<kind>/<database>/<code>/<key...>/<revision>.snap, where <database>
is a digest of the database's URL (its password left out) and <code> a digest of what
made the content (the caller's version key): another database, or another version of
okrbot, never reads them. Written as a temporary file then renamed, so a reader sees a
whole file or none; several processes may write the same one at once. Writing a revision
removes the older ones of the same key; files not read or written for KEEP_DAYS, stray
temporary files and, past MAX_FILES, the least recently used go too, so a deleted
workspace's or a past period's snapshots do not pile up.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import mmap
import os
import re
import secrets
import shutil
import time
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy.engine import URL

from okrbot.config import Settings

log = logging.getLogger("okrbot.snapshots")

MAGIC = b"OKRSNAP1"
SUFFIX = ".snap"
ALIGN = 64
# Plain numbers only: no object arrays, so nothing in a file is ever unpickled.
DTYPES = frozenset({"|b1", "|u1", "<u2", "<u4", "<i4", "<i8", "<f8"})
KEEP_DAYS = 30  # a snapshot nobody read or wrote for this long goes (past periods, deleted workspaces)
MAX_FILES = 256  # per cache directory, all databases and kinds together; the least recently used go first
LOCK = ".building"  # per folder: held by the process building what the folder will hold
STRAY_SECONDS = 3600  # a temporary file this old was left by a process that died writing it
_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


class SnapshotError(ValueError):
    """The file is not a whole, readable snapshot (truncated, damaged, or not one at all)."""


@dataclass(frozen=True)
class Snapshot:
    revision: int
    header: dict[str, Any]  # what the writer put there, as JSON gives it back
    arrays: dict[str, np.ndarray]  # read-only views of the file
    path: Path


def write_file(path: Path, header: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
    """Write `header` (JSON) and `arrays` to `path` as one snapshot file, whole or not at all."""
    laid_out, offset, parts = {}, 0, []
    for name, array in arrays.items():
        array = np.ascontiguousarray(array)
        dtype = array.dtype.newbyteorder("<") if array.dtype.byteorder == ">" else array.dtype
        array = array.astype(dtype, copy=False)
        if array.dtype.str not in DTYPES:
            raise TypeError(f"{name}: {array.dtype} is not a plain number type a snapshot holds")
        offset = -(-offset // ALIGN) * ALIGN
        data = array.reshape(-1).view(np.uint8)
        laid_out[name] = {"dtype": array.dtype.str, "shape": list(array.shape), "offset": offset,
                          "bytes": array.nbytes, "crc32": zlib.crc32(data)}
        parts.append((offset, data))
        offset += array.nbytes
    encoded = json.dumps({"header": dict(header), "arrays": laid_out}, ensure_ascii=False).encode()
    start = -(-(len(MAGIC) + 8 + len(encoded)) // ALIGN) * ALIGN
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with open(temporary, "wb") as file:
            file.write(MAGIC + len(encoded).to_bytes(8, "little") + encoded)
            for at, data in parts:
                file.seek(start + at)
                file.write(data)
            file.truncate(start + offset)
        os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()


def read_file(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The header and arrays `write_file` wrote; SnapshotError unless every byte checks out."""
    with open(path, "rb") as file:
        size = os.fstat(file.fileno()).st_size
        if size < len(MAGIC) + 8:
            raise SnapshotError(f"{path.name}: too short to be a snapshot")
        mapped = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
    if mapped[: len(MAGIC)] != MAGIC:
        raise SnapshotError(f"{path.name}: not a snapshot file")
    length = int.from_bytes(mapped[len(MAGIC) : len(MAGIC) + 8], "little")
    if len(MAGIC) + 8 + length > size:
        raise SnapshotError(f"{path.name}: truncated header")
    try:
        contents = json.loads(bytes(mapped[len(MAGIC) + 8 : len(MAGIC) + 8 + length]))
        header, layout = contents["header"], contents["arrays"]
        start = -(-(len(MAGIC) + 8 + length) // ALIGN) * ALIGN
        arrays = {}
        for name, spec in layout.items():
            if spec["dtype"] not in DTYPES:
                raise SnapshotError(f"{path.name}: {name} is not a plain number array")
            dtype = np.dtype(spec["dtype"])
            shape = tuple(int(n) for n in spec["shape"])
            count = int(np.prod(shape, dtype=np.int64)) if shape else 1
            at, nbytes = start + int(spec["offset"]), int(spec["bytes"])
            if nbytes != count * dtype.itemsize or at < start or at + nbytes > size:
                raise SnapshotError(f"{path.name}: {name} lies outside the file")
            if zlib.crc32(memoryview(mapped)[at : at + nbytes]) != spec["crc32"]:
                raise SnapshotError(f"{path.name}: {name} is damaged (checksum)")
            if count:
                array = np.frombuffer(mapped, dtype=dtype, count=count, offset=at).reshape(shape)
            else:
                array = np.zeros(shape, dtype=dtype)
                array.flags.writeable = False
            arrays[name] = array
    except (KeyError, TypeError, ValueError, json.JSONDecodeError) as error:
        if isinstance(error, SnapshotError):
            raise
        raise SnapshotError(f"{path.name}: unreadable header ({error.__class__.__name__}: {error})") from error
    if not isinstance(header, dict):
        raise SnapshotError(f"{path.name}: unreadable header")
    return header, arrays


class Snapshots:
    """One cache directory's snapshots of one kind (`kind`: what they hold, a directory name)."""

    def __init__(self, directory: Path, kind: str) -> None:
        self.root = Path(directory) / kind

    def folder(self, database: URL, code: str, key: Sequence[str]) -> Path:
        return self.root.joinpath(database_digest(database), _safe(code), *(_safe(part) for part in key))

    def newest(self, folder: Path) -> Snapshot | None:
        """The newest snapshot in `folder` that reads back whole; None when there is none. A
        damaged one is passed over (a process that then builds writes a good one over it)."""
        for revision, path in self._revisions(folder):
            try:
                header, arrays = read_file(path)
            except FileNotFoundError:
                continue  # removed by a writer between listing and opening: the next may do
            except SnapshotError as error:
                log.warning("snapshot %s removed: %s", path, error)
                self.discard(path)  # never written in place: damaged for good
                continue
            except OSError as error:
                log.warning("snapshot %s not read: %s", path, error)
                continue
            with contextlib.suppress(OSError):
                os.utime(path)  # read: recently used
            return Snapshot(revision, header, arrays, path)
        return None

    def forget(self, database: URL) -> None:
        """Remove every snapshot of this database (restored from a backup: another history)."""
        shutil.rmtree(self.root / database_digest(database), ignore_errors=True)

    @staticmethod
    def discard(path: Path) -> None:
        with contextlib.suppress(OSError):
            path.unlink()

    def newest_revision(self, folder: Path) -> int | None:
        found = next(iter(self._revisions(folder)), None)
        return None if found is None else found[0]

    def write(self, folder: Path, revision: int, header: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> Path | None:
        """Write the snapshot of `revision` into `folder`, then remove the older ones there and
        sweep the directory. A cache that cannot be written is only a slower start: logged, None."""
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{revision:012d}{SUFFIX}"
            write_file(path, header, arrays)
        except OSError as error:
            log.warning("snapshot not written in %s: %s", folder, error)
            return None
        for older, old_path in self._revisions(folder):
            if older < revision:
                with contextlib.suppress(OSError):
                    old_path.unlink()  # a process reading it keeps its pages (POSIX)
        self.sweep()
        return path

    def sweep(self, *, now: float | None = None) -> None:
        """Remove stray temporary files, snapshots unused for KEEP_DAYS, and the least recently
        used past MAX_FILES; then empty folders."""
        now = time.time() if now is None else now
        kept = []
        for path, modified in _files(self.root):
            age = now - modified
            if path.name.endswith(".tmp"):
                stale = age > STRAY_SECONDS
            elif path.name.endswith(SUFFIX) or path.name == LOCK:
                stale = age > KEEP_DAYS * 86400
            else:
                continue  # not ours: left alone
            if stale:
                with contextlib.suppress(OSError):
                    path.unlink()
            elif path.name.endswith(SUFFIX):
                kept.append((modified, path))
        kept.sort()
        for _, path in kept[: max(0, len(kept) - MAX_FILES)]:
            with contextlib.suppress(OSError):
                path.unlink()
        for folder, _, _ in sorted(os.walk(self.root), reverse=True):  # deepest first
            if Path(folder) != self.root:
                with contextlib.suppress(OSError):
                    os.rmdir(folder)  # only if empty

    @contextlib.contextmanager
    def building(self, folder: Path, *, wait: float) -> Iterator[None]:
        """Held while this process builds what `folder` will hold, so that the other processes
        that want it at the same moment wait (up to `wait` seconds) and read it, rather than
        all building it at once. Not held (a plain pass) where locks are unavailable."""
        try:
            import fcntl
        except ImportError:  # not POSIX
            yield
            return
        try:
            folder.mkdir(parents=True, exist_ok=True)
            lock = open(folder / LOCK, "a+b")
            os.utime(lock.fileno())  # in use: the sweep leaves it
        except OSError:
            yield
            return
        with lock:
            deadline = time.monotonic() + wait
            while True:
                try:
                    fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError:
                    if time.monotonic() >= deadline:
                        break  # build anyway: a slow start, never a stuck one
                    time.sleep(0.05)
            yield  # the lock goes with the file, when this process is done or dies

    @staticmethod
    def _revisions(folder: Path) -> list[tuple[int, Path]]:
        """The snapshots in `folder`, newest first."""
        try:
            names = os.listdir(folder)
        except OSError:
            return []
        found = []
        for name in names:
            stem = name[: -len(SUFFIX)]
            if name.endswith(SUFFIX) and stem.isdigit():
                found.append((int(stem), folder / name))
        return sorted(found, reverse=True)


def database_digest(url: URL) -> str:
    """Which database: its URL without the password (a SQLite file by its absolute path)."""
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        url = url.set(database=str(Path(url.database).resolve()))
    return hashlib.sha256(url.render_as_string(hide_password=True).encode()).hexdigest()[:16]


def _safe(part: str) -> str:
    """A directory name for `part`: itself when it is plain, else a digest."""
    return part if part and not _SAFE.search(part) and part not in (".", "..") else hashlib.sha256(part.encode()).hexdigest()[:16]


def _files(root: Path) -> Iterator[tuple[Path, float]]:
    for folder, _, names in os.walk(root):
        for name in names:
            path = Path(folder) / name
            try:
                yield path, path.stat().st_mtime
            except OSError:
                continue


@lru_cache(maxsize=8)
def _for(directory: str, kind: str) -> Snapshots:
    return Snapshots(Path(directory), kind)


def snapshots_for(settings: Settings, kind: str) -> Snapshots | None:
    """This install's snapshots of `kind` (the same object for every call), or None when
    OKRBOT_CACHE_DIR is off."""
    directory = settings.cache_directory
    return None if directory is None else _for(str(directory.resolve()), kind)
