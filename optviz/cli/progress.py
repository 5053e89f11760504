"""Rich progress bars for stepping and rendering, on stderr, shown only to a person at a terminal."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

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


# Stepping that finishes sooner than this shows no bar at all.
STEP_PROGRESS_DELAY_SECONDS = 1.0


@contextmanager
def step_progress(enabled: bool) -> Iterator[Callable[[int, int], None] | None]:
    """Yield a `progress(done, total)` callback for the engine (point-steps, called from its threads) whose bar
    appears once stepping has taken STEP_PROGRESS_DELAY_SECONDS; None when stderr is not a terminal or --quiet."""
    if not (enabled and stderr.is_terminal):
        yield None
        return
    began = time.monotonic()
    with ExitStack() as stack:
        shown: list = []

        def update(done: int, total: int) -> None:
            if not shown:
                if time.monotonic() - began < STEP_PROGRESS_DELAY_SECONDS:
                    return
                progress = stack.enter_context(Progress(TextColumn("stepping"), BarColumn(), TextColumn(
                    "{task.percentage:>3.0f}%"), TimeRemainingColumn(), console=stderr, transient=True))
                shown.append((progress, progress.add_task("steps", total=total)))
            progress, task = shown[0]
            progress.update(task, completed=done, total=total)

        yield update
