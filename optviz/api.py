"""The public API: `optviz.race(...)` computes a race; the command line is a thin layer over it.

    import optviz
    result = optviz.race("rosenbrock", ["adam", "sgd(lr=1e-3, momentum=0.9)", "torch.optim.ASGD(lr=0.01)"])
    result.stats                  # the dict `optviz stats` prints for the same arguments
    result.save("race.gif")       # or .mp4 / .html / .png / .svg / .pdf, with the CLI's render options
    result                        # in a notebook: the animation inline, with a results table

Every keyword has the CLI option's name and default (`steps` is `--steps`, `lr` is `--lr`). Bad arguments raise
`optviz.UsageError`, whose message names the keyword (`steps: must be at least 1`); the CLI shows the same message
with the flag (`--steps: ...`). Set-up (defaults, refusals) lives here, so both behave alike.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from optviz.clipping import make_clipping
from optviz.errors import UsageError
from optviz.functions import FUNCTIONS, TestFunction
from optviz.functions.base import Box, Point
from optviz.engine import Gradients, Progress
from optviz.racing import Race, Run, label_runs, resolve_runs, run_race
from optviz.schedules import Schedule, parse_schedule
from optviz.specs import StartsSpec, parse_optimizer_list, parse_starts

DEFAULT_OPTIMIZERS = "sgd,momentum,rmsprop,adam"
MAX_STEPS = 100_000
# A start farther than this many domain widths outside the domain is refused: the picture cannot show the race.
MAX_START_DOMAIN_WIDTHS = 10.0
# Starts and view bounds stay within +-MAX_COORDINATE: beyond it a step of any sensible lr is lost in float64
# rounding and the picture's arithmetic overflows. A view narrower than MIN_RELATIVE_WIDTH of its magnitude (or
# than that absolutely, near 0) has no distinct grid points to draw.
MAX_COORDINATE = 1e12
MIN_RELATIVE_WIDTH = 1e-9


def resolve_function(fn: str | TestFunction, *, domain: Box | None = None, start: Point | None = None,
                     steps: int | None = None) -> TestFunction:
    """A built-in by name (a built-in name always wins), else the user's expression, as a TestFunction."""
    if isinstance(fn, TestFunction):
        function = fn
    elif not isinstance(fn, str):
        raise UsageError(f"expected a function name, an expression or an optviz.Function, got {type(fn).__name__}",
                         parameter="fn")
    else:
        from optviz.expressions import looks_like_expression, parse_expression

        if not looks_like_expression(fn):
            try:
                function = FUNCTIONS.get(fn)  # unknown words get "did you mean"
            except UsageError as error:
                raise UsageError(error.message, parameter="fn") from None
        else:
            from optviz.functions.user import expression_function

            return expression_function(parse_expression(fn), domain=domain, start=start, steps=steps)
    if domain is not None:
        if len(domain) != function.dimensions:
            raise UsageError(f"{function.name} has {function.dimensions} coordinate(s); the domain gives "
                             f"{len(domain)} interval(s)", parameter="domain")
        function = dataclasses.replace(function, domain=tuple(tuple(map(float, d)) for d in domain))
    return function


def check_start(function: TestFunction, start: Point) -> tuple[float, ...]:
    """A start the race can use: the function's number of coordinates, near its domain, f finite there."""
    point = tuple(float(c) for c in np.atleast_1d(np.asarray(start, dtype=np.float64)))
    if len(point) != function.dimensions:
        raise UsageError(f"{function.name} takes {function.dimensions} coordinate(s), got {len(point)}",
                         parameter="start")
    shown = ",".join(f"{c:g}" for c in point)
    for c, (low, high) in zip(point, function.domain):
        width = high - low
        if not (math.isfinite(c) and low - MAX_START_DOMAIN_WIDTHS * width <= c <= high + MAX_START_DOMAIN_WIDTHS
                * width):
            raise UsageError(f"{shown} is far outside the domain {_domain_text(function.domain)}; start within "
                             f"{MAX_START_DOMAIN_WIDTHS:g} domain widths of it (or set --domain)", parameter="start")
    with np.errstate(all="ignore"):
        value = float(function.value_at(np.array(point)))
    if not np.isfinite(value):
        raise UsageError(f"{shown}: {function.name} is not finite there (f = {value}); start closer to its domain "
                         f"{_domain_text(function.domain)}", parameter="start")
    return point


def _domain_text(domain: Box) -> str:
    return " x ".join(f"[{low:g}, {high:g}]" for low, high in domain)


def resolve_specs(optimizers: Sequence[str | Run] | str | None, lr: float | None, *,
                  schedule: str | Schedule | None = None, clip_norm: float | None = None,
                  clip_value: float | None = None) -> list[Run]:
    """Spec strings (or resolved Runs) into Runs: `lr` wherever a spec names none, `schedule` wherever a spec has
    none of its own, and the clipping for every run."""
    if optimizers is None:
        optimizers = [DEFAULT_OPTIMIZERS]
    if isinstance(optimizers, str):
        optimizers = [optimizers]
    if not optimizers:
        raise UsageError("no optimizer given, e.g. ['adam', 'sgd']", parameter="optimizers")
    lr = None if lr is None else _check_lr(lr)
    shared_schedule = parse_schedule(schedule) if isinstance(schedule, str) else _check_schedule(schedule)
    clip = make_clipping(clip_norm, clip_value)
    runs: list[Run] = []
    for item in optimizers:  # in the order given
        if isinstance(item, str):
            runs.extend(resolve_runs(parse_optimizer_list([item]), lr=lr, schedule=shared_schedule, clip=clip))
        elif isinstance(item, Run):  # a resolved Run takes `lr` too where it has none of its own
            lr_given = lr is not None and item.lr_source != "user" and "lr" in item.params
            runs.append(dataclasses.replace(item, params={**item.params, "lr": lr}, lr_source="user") if lr_given
                        else item)
        else:
            raise UsageError(f"expected optimizer specs such as 'adam(lr=0.05)', got {type(item).__name__}",
                             parameter="optimizers")
    return list(label_runs(runs))


def _check_schedule(schedule: Any) -> Schedule | None:
    if schedule is None or isinstance(schedule, Schedule):
        return schedule
    raise UsageError(f"expected a schedule such as 'cosine(T_max=100)', got {type(schedule).__name__}",
                     parameter="schedule")


def _check_lr(lr: Any) -> float:
    if isinstance(lr, bool) or not isinstance(lr, int | float) or not math.isfinite(lr) or lr < 0:
        raise UsageError(f"must be a finite number >= 0 (got {lr!r})", parameter="lr")
    return float(lr)


def _check_steps(steps: Any, function: TestFunction) -> int:
    if steps is None:
        return function.default_steps
    if isinstance(steps, bool) or not isinstance(steps, int | np.integer) or not 1 <= steps <= MAX_STEPS:
        raise UsageError(f"must be a whole number from 1 to {MAX_STEPS} (got {steps!r})", parameter="steps")
    return int(steps)


def race(
    fn: str | TestFunction = "rosenbrock",
    optimizers: Sequence[str | Run] | str | None = None,
    *,
    start: Point | Sequence[Point] | None = None,
    starts: str | StartsSpec | None = None,
    seed: int = 0,
    steps: int | None = None,
    lr: float | None = None,
    tune: bool = True,
    domain: Box | Sequence[float] | None = None,
    schedule: str | Schedule | None = None,
    clip_norm: float | None = None,
    clip_value: float | None = None,
    noise: float = 0.0,
    batch_size: int | None = None,
    record_every: int | None = 1,
    progress: Progress | None = None,
) -> Race:
    """Step every optimiser on `fn` and return the computed `Race` (nothing is drawn until asked).

    fn: a built-in name (`optviz list functions`), an expression in x (and y) such as "x**2" or
        "(1-x)**2 + 100*(y-x**2)**2", or an `optviz.Function` / TestFunction.
    optimizers: spec strings with torch.optim's keywords ("adam(lr=0.05, betas=(0.9, 0.99))"), default
        sgd, momentum, rmsprop and adam.
    start: one point (x, y) or (x,) in 1-D, or a list of points; default: the function's instructive start.
    starts: many starts spread over the domain instead: "grid:NxM" (cell centres; "grid:N" in 1-D) or
        "random:N" (uniform, drawn from `seed`).
    seed: the seed of random starts, gradient noise and minibatches (default 0: runs are reproducible).
    steps: optimiser steps, default the function's own budget.
    lr: the learning rate of every optimiser that does not name its own (lr_source "user").
    tune: without an lr, search one per optimiser (lr_source "tuned"); False uses torch's default.
    domain: the view, ((xmin, xmax), (ymin, ymax)) or (xmin, xmax, ymin, ymax); (xmin, xmax) in 1-D.
    schedule: an lr schedule for every optimiser without its own `schedule=` ("cosine(T_max=100)",
        "warmup_cosine(warmup_steps=20, T_max=280)", "torch.optim.lr_scheduler.StepLR(step_size=50)").
    clip_norm: clip each start's gradient to this 2-norm before every step (torch.nn.utils.clip_grad_norm_).
    clip_value: clamp every gradient entry into [-clip_value, clip_value] (torch.nn.utils.clip_grad_value_).
    noise: standard deviation of Gaussian noise added to every gradient component, drawn per (seed, start, step),
        so every optimiser sees the same noise.
    batch_size: for functions that average over a dataset, minibatch gradients of this many data points, drawn
        per (seed, start, step); default the full batch (the exact gradient).
    record_every: keep every k-th step (1: every step, what pictures need; None: only the start and the end,
        for statistics of many starts; the statistics see every step either way).
    progress: `progress(done, total)` in point-steps, called while stepping (from worker threads).
    """
    # the cheap refusals first: a user function's minima search takes time
    specs = resolve_specs(optimizers, lr, schedule=schedule, clip_norm=clip_norm, clip_value=clip_value)
    box = _as_box(domain)
    points = _start_points(start)
    if points is not None and starts is not None:
        raise UsageError("give start points or a starts spread, not both", parameter="starts")
    function = resolve_function(fn, domain=box, start=points[0] if points else None, steps=None)
    step_count = _check_steps(steps, function)
    gradients = Gradients(noise=noise, batch_size=batch_size, seed=seed).check(function)
    _check_record_every(record_every)
    spread = None
    if starts is not None:
        spread = starts if isinstance(starts, StartsSpec) else parse_starts(starts)
        start_array = spread.points(function.domain, seed)  # a start where f is not finite diverges at step 0
    else:
        chosen = points if points is not None else [function.default_start]
        start_array = np.array([check_start(function, point) for point in chosen])
    return run_race(function, specs, start_array, step_count, tune=bool(tune), gradients=gradients,
                    record_every=record_every, progress=progress, starts_spec=spread.text if spread else None)


def _start_points(start: Point | Sequence[Point] | str | None) -> list[Point] | None:
    """One point ((x, y), (x,), a number or "x,y" text) or a list of points, as a list of tuples within range."""
    if start is None:
        return None
    if isinstance(start, str):
        from optviz.specs import parse_start

        return [_check_magnitude(parse_start(start))]
    try:
        array = np.asarray(start, dtype=np.float64)
    except (TypeError, ValueError):
        raise UsageError(f"expected numbers such as (1.5, -2), (3,) in 1-D, or a list of points (got {start!r:.60})",
                         parameter="start") from None
    if array.ndim > 2 or array.size == 0:
        raise UsageError(f"expected a point such as (1.5, -2) or a list of points (got an array of shape "
                         f"{array.shape})", parameter="start")
    rows = array.reshape(1, -1) if array.ndim < 2 else array
    return [_check_magnitude(tuple(float(c) for c in row)) for row in rows]


def _check_record_every(record_every: int | None) -> None:
    if record_every is not None and (isinstance(record_every, bool) or not isinstance(record_every, int | np.integer)
                                     or record_every < 1):
        raise UsageError(f"must be a whole number >= 1 or None (got {record_every!r})", parameter="record_every")


def _check_magnitude(point: Point) -> Point:
    if not all(math.isfinite(c) and abs(c) <= MAX_COORDINATE for c in point):
        raise UsageError(f"{','.join(f'{c:g}' for c in point)} is out of range: each coordinate must be finite and "
                         f"within +-{MAX_COORDINATE:g}", parameter="start")
    return point


def _as_box(domain: Box | Sequence[float] | None) -> Box | None:
    if domain is None:
        return None
    flat = np.asarray(domain, dtype=np.float64).reshape(-1)
    if flat.size not in (2, 4) or not np.all(np.isfinite(flat)):
        raise UsageError("expected (xmin, xmax) or (xmin, xmax, ymin, ymax), finite", parameter="domain")
    box = tuple((float(flat[i]), float(flat[i + 1])) for i in range(0, flat.size, 2))
    if any(not low < high for low, high in box):
        raise UsageError("each interval's low end must come first and differ from its high end", parameter="domain")
    if np.max(np.abs(flat)) > MAX_COORDINATE:
        raise UsageError(f"{_domain_text(box)} reaches beyond +-{MAX_COORDINATE:g}; use a view within it",
                         parameter="domain")
    for low, high in box:
        if high - low < MIN_RELATIVE_WIDTH * max(1.0, abs(low), abs(high)):
            raise UsageError(f"the interval [{low:g}, {high:g}] is too narrow to draw; widen it", parameter="domain")
    return box


def Function(value: Callable[..., Any], grad: Callable[..., Any], *, domain: Box | Sequence[float],
             hessian: Callable[..., Any] | None = None, name: str = "f", start: Point | None = None,
             steps: int | None = None) -> TestFunction:
    """A test function from Python callables, for people who have theirs as code.

    `value(x, y)` (or `value(x)` in 1-D) and `grad(x, y) -> (df/dx, df/dy)` take numpy arrays and work
    element-wise; `hessian(x, y) -> (fxx, fxy, fyy)` (or `(fxx,)`) is optional (without it, optimisers that need
    one cannot run, and the minima are polished by gradient steps). The minima are found numerically in `domain`.
    """
    from optviz.functions.user import CallableFormula, expression_function

    box = _as_box(domain)
    formula = CallableFormula(value=value, gradient=grad, hessian=hessian, variables=("x", "y")[: len(box)],
                              text=name)
    return expression_function(formula, domain=box, start=start, steps=steps)
