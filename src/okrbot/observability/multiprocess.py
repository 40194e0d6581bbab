"""One directory for the counts of `okrbot serve` and its worker processes.

prometheus_client picks its storage when it is first imported (PROMETHEUS_MULTIPROC_DIR
set: files in that directory, which every process writes and the scrape reads), so this
module must not import it, and serve calls it first.
"""

from __future__ import annotations

import os
import shutil
import tempfile

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"


def share_counts_between_processes() -> str | None:
    """Returns the directory made here (to remove at exit), or None when the operator set
    PROMETHEUS_MULTIPROC_DIR (theirs to empty before each start, as prometheus_client asks)."""
    if os.environ.get(MULTIPROCESS_DIR):
        return None
    directory = tempfile.mkdtemp(prefix="okrbot-metrics-")
    os.environ[MULTIPROCESS_DIR] = directory  # spawned workers inherit it
    return directory


def remove_counts(directory: str | None) -> None:
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
