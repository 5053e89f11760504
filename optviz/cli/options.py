"""Options shared by `stats` and `race`, declared once (the API, `optviz.api.race`, validates their values)."""

from __future__ import annotations

from typing import Annotated

import typer

DEFAULT_OPTIMIZERS = "sgd,momentum,rmsprop,adam"
MAX_STEPS = 100_000

FunctionOption = Annotated[str, typer.Option("--fn", help="Test function (see `optviz list functions`).")]
OptimizerOption = Annotated[
    list[str] | None,
    typer.Option("--opt", help='Optimisers, comma-separated or repeated, with torch.optim keywords: '
                               '"adam(lr=0.05, betas=(0.9, 0.99)),sgd(lr=1e-3, momentum=0.9)". '
                               f"Default: {DEFAULT_OPTIMIZERS}."),
]
StartOption = Annotated[list[str] | None, typer.Option(
    "--start", help="Start point X,Y (X in 1-D); repeat for several starts (default: the function's).")]
StartsOption = Annotated[str | None, typer.Option(
    "--starts", help="Many starts over the domain: grid:NxM (grid:N in 1-D) or random:N (drawn from --seed).")]
SeedOption = Annotated[int, typer.Option("--seed", min=0, help="Seed of random starts, noise and minibatches.")]
NoiseOption = Annotated[float, typer.Option(
    "--noise", min=0.0, help="Standard deviation of Gaussian noise added to every gradient component.")]
BatchSizeOption = Annotated[int | None, typer.Option(
    "--batch-size", min=1, help="Minibatch size, for functions over a dataset (default: the full batch).")]
StepsOption = Annotated[
    int | None, typer.Option("--steps", min=1, max=MAX_STEPS, help="Steps per optimiser (default: the function's).")
]
NoTuneOption = Annotated[
    bool, typer.Option("--no-tune", help="Use torch's default lr where none is given, instead of tuning one.")
]
TrajectoryOption = Annotated[
    bool, typer.Option("--trajectory", help="Include every step's x, y and loss in the JSON.")
]
