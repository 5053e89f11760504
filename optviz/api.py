"""The public API: `optviz.racing(...)` computes a race; the command line is a thin layer over it.

    import optviz
    result = optviz.racing("rosenbrock", ["adam", "sgd(lr=1e-3, momentum=0.9)"])
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

from optviz.errors import UsageError
from optviz.functions import FUNCTIONS, TestFunction
from optviz.functions.base import Box, Point
from optviz.engine import Gradients, Progress
from optviz.racing import Race, run_race
from optviz.specs import OptimizerSpec, StartsSpec, parse_optimizer_list, parse_starts, resolve_optimizers

DEFAULT_OPTIMIZERS = "sgd,momentum,rmsprop,adam"
MAX_STEPS = 100_000
# A start farther than this many domain widths outside the domain is refused: the picture cannot show the race.
MAX_START_DOMAIN_WIDTHS = 10.0


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
            function = FUNCTIONS.get(fn)  # unknown words get "did you mean"
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


def resolve_specs(optimizers: Sequence[str | OptimizerSpec] | str | None, lr: float | None) -> list[OptimizerSpec]:
    """Spec strings (or resolved specs) into resolved specs; `lr` sets lr wherever a spec does not name its own."""
    if optimizers is None:
        optimizers = [DEFAULT_OPTIMIZERS]
    if isinstance(optimizers, str):
        optimizers = [optimizers]
    texts = [o for o in optimizers if isinstance(o, str)]
    given = [o for o in optimizers if not isinstance(o, str)]
    for item in given:
        if not isinstance(item, OptimizerSpec):
            raise UsageError(f"expected optimizer specs such as 'adam(lr=0.05)', got {type(item).__name__}",
                             parameter="optimizers")
    specs = [*resolve_optimizers(parse_optimizer_list(texts)), *given] if texts else list(given)
    if not specs:
        raise UsageError("no optimizer given, e.g. ['adam', 'sgd']", parameter="optimizers")
    if lr is None:
        return specs
    lr = _check_lr(lr)
    return [spec if spec.lr_given else dataclasses.replace(spec, params={**spec.params, "lr": lr}, lr_given=True)
            for spec in specs]


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
    optimizers: Sequence[str | OptimizerSpec] | str | None = None,
    *,
    start: Point | Sequence[Point] | None = None,
    starts: str | StartsSpec | None = None,
    seed: int = 0,
    steps: int | None = None,
    lr: float | None = None,
    tune: bool = True,
    domain: Box | Sequence[float] | None = None,
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
    noise: standard deviation of Gaussian noise added to every gradient component, drawn per (seed, start, step),
        so every optimiser sees the same noise.
    batch_size: for functions that average over a dataset, minibatch gradients of this many data points, drawn
        per (seed, start, step); default the full batch (the exact gradient).
    record_every: keep every k-th step (1: every step, what pictures need; None: only the start and the end,
        for statistics of many starts; the statistics see every step either way).
    progress: `progress(done, total)` in point-steps, called while stepping (from worker threads).
    """
    box = _as_box(domain)
    points = _start_points(start)
    if points is not None and starts is not None:
        raise UsageError("give start points or a starts spread, not both", parameter="starts")
    function = resolve_function(fn, domain=box, start=points[0] if points else None, steps=None)
    specs = resolve_specs(optimizers, lr)
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


def _start_points(start: Point | Sequence[Point] | None) -> list[tuple[float, ...]] | None:
    """One point ((x, y), (x,) or a number) or a list of points, as a list of tuples."""
    if start is None:
        return None
    try:
        array = np.asarray(start, dtype=np.float64)
    except (TypeError, ValueError):
        raise UsageError(f"expected a point such as (1.5, -2) or a list of points (got {start!r})",
                         parameter="start") from None
    if array.ndim > 2 or array.size == 0:
        raise UsageError(f"expected a point such as (1.5, -2) or a list of points (got {start!r})", parameter="start")
    rows = array.reshape(1, -1) if array.ndim < 2 else array
    return [tuple(float(c) for c in row) for row in rows]


def _check_record_every(record_every: int | None) -> None:
    if record_every is not None and (isinstance(record_every, bool) or not isinstance(record_every, int | np.integer)
                                     or record_every < 1):
        raise UsageError(f"must be a whole number >= 1 or None (got {record_every!r})", parameter="record_every")


def _as_box(domain: Box | Sequence[float] | None) -> Box | None:
    if domain is None:
        return None
    flat = np.asarray(domain, dtype=np.float64).reshape(-1)
    if flat.size not in (2, 4) or not np.all(np.isfinite(flat)):
        raise UsageError("expected (xmin, xmax) or (xmin, xmax, ymin, ymax), finite", parameter="domain")
    box = tuple((float(flat[i]), float(flat[i + 1])) for i in range(0, flat.size, 2))
    if any(not low < high for low, high in box):
        raise UsageError("each interval's low end must come first and differ from its high end", parameter="domain")
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
