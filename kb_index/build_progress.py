"""Progress of an index build: the callback type, a fan-out, and the terminal bar.

A callback is ``on_progress(done, total, stage)``; the stages and their numbers
are described in :mod:`kb_index.versions`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

ProgressCallback = Callable[[int, int, str], None]


def fan_out(*callbacks: ProgressCallback | None) -> ProgressCallback:
    """One callback calling each of ``callbacks`` (None ones are left out) in order."""
    targets = [c for c in callbacks if c is not None]

    def call(done: int, total: int, stage: str) -> None:
        for callback in targets:
            callback(done, total, stage)

    return call


@contextmanager
def terminal_bar(description: str) -> Iterator[ProgressCallback]:
    """A rich progress bar on stderr (``guichet kb index``), driven as a callback."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    columns = (
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(stderr=True)) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int, stage: str) -> None:
            if stage == "embedding":
                bar.update(task, completed=done, total=total)

        yield update
