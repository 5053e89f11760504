"""Options shared by `stats` and `race`, declared once, and their conversion into a resolved race setup."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import numpy as np
import typer

from optviz.errors import UsageError
from optviz.functions import FUNCTIONS, TestFunction
from optviz.specs import OptimizerSpec, parse_optimizer_list, parse_start, resolve_optimizers

DEFAULT_OPTIMIZERS = "sgd,momentum,rmsprop,adam"
MAX_STEPS = 100_000

FunctionOption = Annotated[str, typer.Option("--fn", help="Test function (see `optviz list functions`).")]
OptimizerOption = Annotated[
    list[str] | None,
    typer.Option("--opt", help='Optimisers, comma-separated or repeated, with torch.optim keywords: '
                               '"adam(lr=0.05, betas=(0.9, 0.99)),sgd(lr=1e-3, momentum=0.9)". '
                               f"Default: {DEFAULT_OPTIMIZERS}."),
]
StartOption = Annotated[str | None, typer.Option("--start", help="Start point X,Y (default: the function's).")]
StepsOption = Annotated[
    int | None, typer.Option("--steps", min=1, max=MAX_STEPS, help="Steps per optimiser (default: the function's).")
]
NoTuneOption = Annotated[
    bool, typer.Option("--no-tune", help="Use torch's default lr where none is given, instead of tuning one.")
]
TrajectoryOption = Annotated[
    bool, typer.Option("--trajectory", help="Include every step's x, y and loss in the JSON.")
]


@dataclass(frozen=True)
class RaceSetup:
    function: TestFunction
    specs: tuple[OptimizerSpec, ...]
    start: tuple[float, float]
    steps: int
    tune: bool


def resolve_setup(fn: str, opt: list[str] | None, start: str | None, steps: int | None, no_tune: bool) -> RaceSetup:
    """Validate every race option up front; raise UsageError naming the bad part."""
    function = FUNCTIONS.get(fn)
    specs = tuple(resolve_optimizers(parse_optimizer_list(opt or [DEFAULT_OPTIMIZERS])))
    start_point = parse_start(start) if start is not None else function.default_start
    with np.errstate(all="ignore"):
        start_value = float(function.value_at(np.array(start_point)))
    if not np.isfinite(start_value):
        raise UsageError(f"--start={start_point[0]:g},{start_point[1]:g}: {function.name} is not finite there "
                         f"(f = {start_value}); start closer to its domain {list(map(list, function.domain))}")
    return RaceSetup(function, specs, start_point, steps or function.default_steps, not no_tune)
