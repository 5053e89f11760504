"""A user's formula as a test function: exact derivatives from the expression, minima found numerically.

    function = expression_function(parse_expression("x**2"))            # a 1-D problem
    function = expression_function(parse_expression("(1-x)**2 + 100*(y-x**2)**2"), domain=((-2, 2), (-1, 3)))

Nobody has published the minima of a formula typed a minute ago, and unknown is not unbounded, so they are looked
for inside the search box (the `domain` when given, else `SEARCH_BOX` grown to hold the start):

1. f on a grid over the box (`GRID_POINTS` per axis); the grid's local minima, lowest first, are candidates;
2. each candidate is polished by Newton steps with the exact Hessian (a step that does not lower f, or leaves the
   box, is halved; a Hessian that is not positive definite falls back to a gradient step);
3. the lowest value wins, and every polished point within `SAME_VALUE` of it is a global minimiser too.

When the lowest value lies on the box's edge, f may decrease without bound beyond it: the result says so
(`Minima.on_edge`), and no f* is claimed. The view, when no domain is given, is a square (an interval in 1-D)
around the minima that holds the start, and the default start is a point away from the minima: both are
deterministic, so the same formula gives the same picture.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from optviz.errors import UsageError
from optviz.functions.base import Box, Minima, Point, TestFunction

if TYPE_CHECKING:
    from optviz.expressions import Expression

SEARCH_HALF_WIDTH = 5.0  # without a domain, the search box is [-5, 5] per coordinate (grown to hold the start)
GRID_POINTS = {1: 4001, 2: 201}  # grid samples per axis
CANDIDATES = 24  # grid minima polished by Newton
NEWTON_STEPS = 60
SAME_VALUE = 1e-9  # relative to 1 + |f*|: ties for the global minimum
SAME_POINT = 1e-6  # relative to the box's size: one minimiser, not two
VIEW_MARGIN = 1.3  # the view's half-width is this times the farthest of the start and the minima from their centre
MIN_VIEW_HALF_WIDTH = 1.0
START_SHARE = 0.6  # the default start sits this share of the search box's half-width away from the minimum
DEFAULT_STEPS = 300


def expression_function(expression: Expression, *, domain: Box | None = None, start: Point | None = None,
                        steps: int | None = None) -> TestFunction:
    """The test function of `expression`, with its minima found inside `domain` (or around the origin)."""
    dims = len(expression.variables)
    if domain is not None and len(domain) != dims:
        raise UsageError(f"the function has {dims} coordinate{'s' * (dims > 1)} but the domain gives {len(domain)} "
                         f"intervals (expected {_domain_form(dims)})", parameter="domain")
    if start is not None and len(start) != dims:
        raise UsageError(f"the function has {dims} coordinate{'s' * (dims > 1)} but the start gives {len(start)}",
                         parameter="start")
    search = domain if domain is not None else _search_box(dims, start)
    minima = find_minima(expression, search)
    default_start = start if start is not None else default_start_for(expression, minima, search)
    view = domain if domain is not None else view_for(minima, default_start, search)
    return TestFunction(
        name=expression.text,
        formula=expression.pretty(),
        value=expression.value,
        grad=expression.gradient,
        hessian=expression.hessian,
        domain=view,
        optimum=minima,
        default_start=tuple(float(c) for c in default_start),
        default_steps=steps or DEFAULT_STEPS,
        log_scale=minima.f_star is not None,
        reference="your expression; minima found numerically (grid search polished by Newton steps)",
        title=f"f({', '.join(expression.variables)}) = {expression.pretty()}",
        file_stem=expression.file_stem(),
    )


@dataclass(frozen=True)
class CallableFormula:
    """Python callables in the shape of a parsed Expression (see `optviz.Function`)."""

    value: Callable[..., Any]
    gradient: Callable[..., Any]
    hessian_function: Callable[..., Any] | None
    variables: tuple[str, ...]
    text: str

    def __init__(self, value, gradient, hessian, variables, text):
        object.__setattr__(self, "value", value)
        object.__setattr__(self, "gradient", gradient)
        object.__setattr__(self, "hessian_function", hessian)
        object.__setattr__(self, "variables", tuple(variables))
        object.__setattr__(self, "text", text)

    def hessian(self, *coords):
        """The given Hessian, or NaN everywhere when none was given (Newton polishing then takes gradient steps)."""
        if self.hessian_function is not None:
            return self.hessian_function(*coords)
        shape = np.broadcast(*coords).shape
        return tuple(np.full(shape, np.nan) for _ in range(1 if len(self.variables) == 1 else 3))

    def pretty(self) -> str:
        return self.text

    def file_stem(self) -> str:
        return re.sub(r"[^A-Za-z0-9._-]+", "-", self.text).strip(".-")[:60] or "function"


def _domain_form(dims: int) -> str:
    return "XMIN,XMAX" if dims == 1 else "XMIN,XMAX,YMIN,YMAX"


def _search_box(dims: int, start: Point | None) -> Box:
    box = []
    for axis in range(dims):
        low, high = -SEARCH_HALF_WIDTH, SEARCH_HALF_WIDTH
        if start is not None:
            low, high = min(low, 1.1 * start[axis] - 0.1 * high), max(high, 1.1 * start[axis] - 0.1 * low)
        box.append((float(low), float(high)))
    return tuple(box)


def _evaluate(expression: Expression, points: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        values = np.broadcast_to(expression.value(*np.moveaxis(points, -1, 0)), points.shape[:-1])
    return np.where(np.isfinite(values), values, np.inf)


def find_minima(expression: Expression, box: Box) -> Minima:
    """Global minimisers of `expression` inside `box` (see the module docstring)."""
    dims = len(box)
    axes = [np.linspace(low, high, GRID_POINTS[dims]) for low, high in box]
    grid = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1)  # (n, [n,] d)
    values = _evaluate(expression, grid)
    if not np.isfinite(values).any():
        raise UsageError("the expression is not finite anywhere in the domain", parameter="fn")
    candidates = grid[_grid_local_minima(values)][:CANDIDATES]
    polished = np.array([_polish(expression, point, box) for point in candidates])
    polished_values = _evaluate(expression, polished)
    best = float(polished_values.min())
    tie = SAME_VALUE * (1.0 + abs(best))
    low, high = np.asarray(box, dtype=np.float64).T
    size = float(np.linalg.norm(high - low))
    points: list[np.ndarray] = []
    for point in polished[np.argsort(polished_values, kind="stable")]:
        if _evaluate(expression, point[None])[0] > best + tie:
            break
        if all(np.linalg.norm(point - kept) > SAME_POINT * size for kept in points):
            points.append(point)
    on_edge = any(bool(np.any(np.isclose(p, low, rtol=0, atol=1e-9 * size) | np.isclose(p, high, rtol=0,
                                                                                           atol=1e-9 * size)))
                  for p in points)
    return Minima(points=tuple(tuple(float(c) for c in p) for p in points), value=best, source="numerical",
                  on_edge=on_edge)


def _grid_local_minima(values: np.ndarray) -> tuple[np.ndarray, ...]:
    """Indices of grid points no higher than any neighbour (edges included), lowest first."""
    padded = np.pad(values, 1, constant_values=np.inf)
    is_minimum = np.isfinite(values)
    for offset in itertools.product((-1, 0, 1), repeat=values.ndim):
        if any(offset):
            window = tuple(slice(1 + o, 1 + o + n) for o, n in zip(offset, values.shape))
            is_minimum &= values <= padded[window]
    flat = np.flatnonzero(is_minimum)
    flat = flat[np.argsort(values.reshape(-1)[flat], kind="stable")]
    return np.unravel_index(flat, values.shape)


def _polish(expression: Expression, point: np.ndarray, box: Box) -> np.ndarray:
    """Newton steps from `point`, kept inside `box` and never uphill."""
    low, high = np.asarray(box, dtype=np.float64).T
    dims = len(box)
    x = point.astype(np.float64)
    fx = _evaluate(expression, x[None])[0]
    with np.errstate(all="ignore"):
        for _ in range(NEWTON_STEPS):
            grad = np.array([float(g) for g in expression.gradient(*x)])
            if not np.all(np.isfinite(grad)) or not np.any(grad):
                break
            parts = [float(h) for h in expression.hessian(*x)]
            hessian = np.array([[parts[0]]]) if dims == 1 else np.array([[parts[0], parts[1]], [parts[1], parts[2]]])
            step = -grad * (high - low) * 1e-3 / max(float(np.abs(grad).max()), 1e-300)
            if np.all(np.isfinite(hessian)) and np.all(np.linalg.eigvalsh(hessian) > 0):
                step = -np.linalg.solve(hessian, grad)
            for _ in range(40):
                trial = np.clip(x + step, low, high)
                f_trial = _evaluate(expression, trial[None])[0]
                if f_trial <= fx:
                    break
                step = step / 2
            else:
                break
            moved = float(np.abs(trial - x).max())
            x, fx = trial, f_trial
            if moved <= 1e-15 * (1.0 + float(np.abs(x).max())):
                break
    return x


def default_start_for(expression: Expression, minima: Minima, box: Box) -> Point:
    """A start that makes a race: a share of the box's half-width from the (first) minimum, f finite, not flat."""
    low, high = np.asarray(box, dtype=np.float64).T
    centre = np.asarray(minima.points[0]) if minima.points and not minima.on_edge else (low + high) / 2
    half = START_SHARE * (high - low) / 2
    dims = len(box)
    directions = [(1.0,), (-1.0,)] if dims == 1 else [(1.0, 1.0), (-1.0, 1.0), (1.0, -1.0), (-1.0, -1.0),
                                                       (1.0, 0.0), (0.0, 1.0)]
    fallback = None
    for direction in directions:
        point = np.clip(centre + half * np.asarray(direction), low, high)
        value = _evaluate(expression, point[None])[0]
        with np.errstate(all="ignore"):
            grad = np.array([float(g) for g in expression.gradient(*point)])
        if np.isfinite(value) and np.all(np.isfinite(grad)) and np.any(grad != 0):
            if value > minima.value + 1e-6 * (1 + abs(minima.value)):
                return tuple(float(c) for c in point)
            fallback = fallback or tuple(float(c) for c in point)
    if fallback is None:
        raise UsageError("found no start where the expression and its gradient are finite; give --start",
                         parameter="fn")
    return fallback


def view_for(minima: Minima, start: Point, box: Box) -> Box:
    """A square view (an interval in 1-D) centred on the minima that holds them and the start."""
    if not minima.points or minima.on_edge:
        return box
    points = np.asarray(minima.points + (tuple(start),), dtype=np.float64)
    centre = np.asarray(minima.points, dtype=np.float64).mean(axis=0)
    half = max(VIEW_MARGIN * float(np.abs(points - centre).max()), MIN_VIEW_HALF_WIDTH)
    return tuple((float(c - half), float(c + half)) for c in centre)
