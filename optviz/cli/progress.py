"""A rich progress bar for rendering, on stderr, shown only to a person at a terminal."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from optviz.cli.console import stderr


@contextmanager
def frame_progress(enabled: bool) -> Iterator[Callable[[int, int], None] | None]:
    """Yield a `progress(done, total)` callback, or None when stderr is not a terminal or --quiet."""
    if not (enabled and stderr.is_terminal):
        yield None
        return
    with Progress(TextColumn("rendering"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=stderr, transient=True) as progress:
        task = progress.add_task("frames", total=None)

        def update(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield update
