"""A race: resolved optimiser specs, learning rates chosen, every trajectory computed. Nothing is drawn here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from optviz import engine
from optviz.engine import Trajectories
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
    function: TestFunction
    runs: tuple[Run, ...]
    starts: np.ndarray  # (starts, 2)
    steps: int
    trajectories: Trajectories  # runs in the order of `runs`


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
