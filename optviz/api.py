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
from optviz.racing import Race, Run, label_runs, resolve_runs, run_race
from optviz.schedules import Schedule, parse_schedule
from optviz.specs import parse_optimizer_list

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
    steps: int | None = None,
    lr: float | None = None,
    tune: bool = True,
    domain: Box | Sequence[float] | None = None,
    schedule: str | Schedule | None = None,
    clip_norm: float | None = None,
    clip_value: float | None = None,
) -> Race:
    """Step every optimiser on `fn` and return the computed `Race` (nothing is drawn until asked).

    fn: a built-in name (`optviz list functions`), an expression in x (and y) such as "x**2" or
        "(1-x)**2 + 100*(y-x**2)**2", or an `optviz.Function` / TestFunction.
    optimizers: spec strings with torch.optim's keywords ("adam(lr=0.05, betas=(0.9, 0.99))"), default
        sgd, momentum, rmsprop and adam.
    start: one point (x, y) or (x,) in 1-D; default: the function's instructive start.
    steps: optimiser steps, default the function's own budget.
    lr: the learning rate of every optimiser that does not name its own (lr_source "user").
    tune: without an lr, search one per optimiser (lr_source "tuned"); False uses torch's default.
    domain: the view, ((xmin, xmax), (ymin, ymax)) or (xmin, xmax, ymin, ymax); (xmin, xmax) in 1-D.
    schedule: an lr schedule for every optimiser without its own `schedule=` ("cosine(T_max=100)",
        "warmup_cosine(warmup_steps=20, T_max=280)", "torch.optim.lr_scheduler.StepLR(step_size=50)").
    clip_norm: clip each start's gradient to this 2-norm before every step (torch.nn.utils.clip_grad_norm_).
    clip_value: clamp every gradient entry into [-clip_value, clip_value] (torch.nn.utils.clip_grad_value_).
    """
    specs = resolve_specs(optimizers, lr, schedule=schedule, clip_norm=clip_norm, clip_value=clip_value)  # cheap refusals first: a user function's minima search takes time
    box = _as_box(domain)
    start_point = None if start is None else _as_point(start)
    function = resolve_function(fn, domain=box, start=start_point, steps=None)
    step_count = _check_steps(steps, function)
    point = check_start(function, start_point if start_point is not None else function.default_start)
    return run_race(function, specs, [point], step_count, tune=bool(tune))


def _as_point(start: Any) -> Point:
    if isinstance(start, str):
        from optviz.specs import parse_start

        return _check_magnitude(parse_start(start))
    try:
        flat = np.atleast_1d(np.asarray(start, dtype=np.float64))
    except (TypeError, ValueError):
        raise UsageError(f"expected numbers such as (1.5, -2), or (3,) in 1-D (got {start!r:.60})",
                         parameter="start") from None
    if flat.ndim != 1:
        raise UsageError(f"expected one point such as (1.5, -2) (got an array of shape {flat.shape})",
                         parameter="start")
    return _check_magnitude(tuple(float(c) for c in flat))


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
