"""Options shared by `stats` and `race`, declared once, and their conversion into a resolved race setup."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import typer

from optviz.functions import FUNCTIONS, TestFunction
from optviz.racing import Run
from optviz.specs import parse_start

DEFAULT_OPTIMIZERS = "sgd,momentum,rmsprop,adam"
MAX_STEPS = 100_000

FunctionOption = Annotated[str, typer.Option("--fn", help="Test function (see `optviz list functions`).")]
OptimizerOption = Annotated[
    list[str] | None,
    typer.Option("--opt", help='Optimisers, comma-separated or repeated, with torch.optim keywords: '
                               '"adam(lr=0.05, betas=(0.9, 0.99)),sgd(lr=1e-3, momentum=0.9)"; any torch.optim '
                               'class or plugin by import path: "torch.optim.ASGD(lr=0.01)", '
                               '"package.module:ClassName(lr=0.1)" (the module is imported); one optimiser\'s '
                               'own schedule: "adam(lr=0.1, schedule=cosine(T_max=100))". '
                               f"Default: {DEFAULT_OPTIMIZERS}."),
]
ScheduleOption = Annotated[
    str | None,
    typer.Option("--schedule", help='lr schedule for every optimiser without its own (torch.optim.lr_scheduler\'s '
                                    'semantics, stepped after each optimiser step): "cosine(T_max=300)", '
                                    '"step(step_size=50, gamma=0.5)", "warmup_cosine(warmup_steps=20, T_max=280)", '
                                    '"onecycle(max_lr=0.1)", any torch scheduler by import path: '
                                    '"torch.optim.lr_scheduler.StepLR(step_size=50)".', metavar="SPEC"),
]
ClipNormOption = Annotated[
    float | None,
    typer.Option("--clip-norm", help="Clip each start's gradient to this 2-norm before every step, as "
                                     "torch.nn.utils.clip_grad_norm_ (e.g. --clip-norm 1). Off unless given.",
                 metavar="C"),
]
ClipValueOption = Annotated[
    float | None,
    typer.Option("--clip-value", help="Clamp every gradient entry into [-V, V] before every step, as "
                                      "torch.nn.utils.clip_grad_value_ (e.g. --clip-value 0.5). Off unless given.",
                 metavar="V"),
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
    specs: tuple[Run, ...]
    start: tuple[float, float]
    steps: int
    tune: bool


def resolve_setup(fn: str, opt: list[str] | None, start: str | None, steps: int | None, no_tune: bool,
                  schedule: str | None = None, clip_norm: float | None = None,
                  clip_value: float | None = None) -> RaceSetup:
    """Validate every race option up front; raise UsageError naming the bad part."""
    from optviz.api import check_start, resolve_specs

    function = FUNCTIONS.get(fn)
    specs = tuple(resolve_specs(opt or [DEFAULT_OPTIMIZERS], None, schedule=schedule, clip_norm=clip_norm,
                                clip_value=clip_value))
    start_point = check_start(function, parse_start(start) if start is not None else function.default_start)
    return RaceSetup(function, specs, start_point, steps or function.default_steps, not no_tune)
