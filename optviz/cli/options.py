"""Options shared by `stats` and `race`, declared once, and the one place their text becomes API keywords.

A new race option is three lines here and there: an Annotated option below, a parameter of the same name in both
commands (cli/app.py), and its keyword in the `api.race` call. Parsing text (`--start 1,2`) happens in
`race_keywords`; defaults and refusals belong to `optviz.api`, so the API and the command line behave alike.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from optviz.api import DEFAULT_OPTIMIZERS, MAX_STEPS
from optviz.specs import parse_domain, parse_start

FunctionOption = Annotated[str, typer.Option(
    "--fn", help='A built-in test function (see `optviz list functions`) or an expression in x (and y), such as '
                 '"x**2" or "(1-x)**2 + 100*(y-x**2)**2".')]
OptimizerOption = Annotated[list[str] | None, typer.Option(
    "--opt", help='Optimisers, comma-separated or repeated, with torch.optim keywords: '
                  '"adam(lr=0.05, betas=(0.9, 0.99)),sgd(lr=1e-3, momentum=0.9)". '
                  f"Default: {DEFAULT_OPTIMIZERS}.")]
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
StartOption = Annotated[str | None, typer.Option(
    "--start", help="Start point X,Y (X alone for a function of x), e.g. --start=-1.5,2 (default: the function's).")]
StepsOption = Annotated[int | None, typer.Option(
    "--steps", min=1, max=MAX_STEPS, help="Steps per optimiser (default: the function's).")]
LrOption = Annotated[float | None, typer.Option(
    "--lr", help="Learning rate of every optimiser that does not set its own (then nothing is tuned).")]
DomainOption = Annotated[str | None, typer.Option(
    "--domain", help="The view XMIN,XMAX,YMIN,YMAX (XMIN,XMAX for a function of x), e.g. --domain=-2,2,-1,3 "
                     "(default: the function's; chosen around the minima for an expression).")]
NoTuneOption = Annotated[bool, typer.Option(
    "--no-tune", help="Use torch's default lr where none is given, instead of tuning one.")]
TrajectoryOption = Annotated[bool, typer.Option(
    "--trajectory", help="Include every step's coordinates and loss in the JSON.")]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress display and no notes on stderr.")]


def race_keywords(*, opt: list[str] | None, start: str | None, domain: str | None, no_tune: bool,
                  **same_name: Any) -> dict[str, Any]:
    """`optviz.api.race` keywords from the command line: parse the options given as text, rename `--opt` and
    `--no-tune`, and pass every other option (fn, steps, lr, ...) on under its own name."""
    return {
        "optimizers": opt,
        "start": parse_start(start) if start is not None else None,
        "domain": parse_domain(domain) if domain is not None else None,
        "tune": not no_tune,
        **same_name,
    }
