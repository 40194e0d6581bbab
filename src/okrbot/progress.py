"""Progress bars for long commands: on a terminal only, so a pipe or a log stays clean.

Drawn on standard error (standard output may be the export itself). A command reports
what it finished with `step(label)`; the bar shows how far along it is and what it did last.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

Step = Callable[..., None]  # step(label: str = "", advance: int = 1)


def _quiet(label: str = "", advance: int = 1) -> None:
    return None


@contextmanager
def progress_bar(description: str, total: int, *, console: Console | None = None) -> Iterator[Step]:
    console = console or Console(stderr=True)
    if not console.is_terminal or console.is_dumb_terminal:
        yield _quiet
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as bar:
        task = bar.add_task(description, total=total)

        def step(label: str = "", advance: int = 1) -> None:
            bar.update(task, advance=advance, description=f"{description}: {label}" if label else description)

        yield step
