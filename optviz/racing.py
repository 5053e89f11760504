"""A race: resolved optimiser specs, learning rates chosen, every trajectory computed. Nothing is drawn here."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from optviz import engine
from optviz.engine import Trajectories
from optviz.errors import UsageError
from optviz.functions import TestFunction
from optviz.optimizers import OPTIMIZERS
from optviz.specs import OptimizerSpec
from optviz.tuning import tune_learning_rate


@dataclass(frozen=True)
class Run:
    """One optimiser as raced: its label, registry name, every hyperparameter, and where lr came from."""

    label: str
    optimizer: str
    params: Mapping[str, Any]
    lr_source: str  # "user" (given), "tuned" (chosen by optviz.tuning) or "default" (torch's, --no-tune)


@dataclass(frozen=True)
class Race:
    """A computed race: what `optviz.racing(...)` returns. Nothing is drawn until `save`, `show` or display.

    trajectories.positions: (steps + 1, runs, starts, d) float64, d = function.dimensions, in the order of `runs`;
    trajectories.losses: (steps + 1, runs, starts); trajectories.diverged_step: (runs, starts), -1 = never.
    """

    function: TestFunction
    runs: tuple[Run, ...]
    starts: np.ndarray  # (starts, d)
    steps: int
    trajectories: Trajectories  # runs in the order of `runs`

    @property
    def stats(self) -> dict[str, Any]:
        """The document `optviz stats` prints for the same arguments (strict JSON values)."""
        from optviz.stats import race_document

        return race_document(self)

    def to_json(self, trajectory: bool = False) -> str:
        """`stats` as strict JSON text; with `trajectory`, every step's coordinates and loss per run."""
        from optviz.stats import race_document, to_json

        return to_json(race_document(self, include_trajectory=trajectory))

    def save(self, path: str | Path, **render_options: Any) -> Path:
        """Write the race to `path` (.gif, .mp4, .html, .png, .svg, .pdf); options as the CLI's: frames, fps,
        hold, size ("1280x720" or (1280, 720)), theme, title. Returns the path written."""
        from optviz.render import render_race

        return render_race(self, render_spec(path, render_options))

    def show(self, **render_options: Any) -> _Display:
        """An inline display with render options, for a notebook cell: `race.show(theme="dark")`."""
        return _Display(self, render_options)

    def _repr_html_(self) -> str:
        from optviz.render.html import notebook_html

        return notebook_html(self)


def render_spec(path: str | Path, options: Mapping[str, Any]):
    """A RenderSpec from API keywords: the CLI's render options by name, size as "WxH" or (width, height)."""
    import dataclasses as _dataclasses

    from optviz.render.spec import RenderSpec
    from optviz.specs import parse_size

    known = {field.name for field in _dataclasses.fields(RenderSpec)} - {"out"}
    unknown = sorted(set(options) - known)
    if unknown:
        raise UsageError(f"unknown render option '{unknown[0]}' (valid: {', '.join(sorted(known))})",
                         parameter=unknown[0])
    if not str(path).strip():
        raise UsageError("is empty: give a file name such as race.gif", parameter="out")
    if str(path).endswith(("/", os.sep)):
        raise UsageError(f"'{path}' names a folder: give a file name such as '{Path(path) / 'race.gif'}'",
                         parameter="out")
    values = dict(options)
    if isinstance(values.get("size"), str):
        values["size"] = parse_size(values["size"])
    return RenderSpec(out=Path(path).expanduser(), **values)


@dataclass(frozen=True)
class _Display:
    race: Race
    options: Mapping[str, Any]

    def _repr_html_(self) -> str:
        from optviz.render.html import notebook_html

        return notebook_html(self.race, **self.options)


def choose_runs(
    function: TestFunction, specs: Sequence[OptimizerSpec], starts: np.ndarray, steps: int, tune: bool
) -> tuple[Run, ...]:
    """Fill in lr where the user gave none: tuned for this function and budget, or torch's default."""
    runs = []
    for spec in specs:
        params = dict(spec.params)
        if spec.lr_given:
            source = "user"
        elif tune:
            params["lr"] = tune_learning_rate(function, OPTIMIZERS.get(spec.optimizer), params, starts, steps)
            source = "tuned"
        else:
            source = "default"
        runs.append(Run(spec.label, spec.optimizer, params, source))
    return tuple(runs)


def run_race(
    function: TestFunction, specs: Sequence[OptimizerSpec], starts: Sequence[Sequence[float]], steps: int,
    tune: bool = True,
) -> Race:
    start_array = np.atleast_2d(np.asarray(starts, dtype=np.float64))
    runs = choose_runs(function, specs, start_array, steps, tune)
    transforms = [OPTIMIZERS.get(run.optimizer).build(run.params) for run in runs]
    trajectories = engine.run(function, transforms, start_array, steps)
    return Race(function, runs, start_array, steps, trajectories)
