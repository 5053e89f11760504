"""What a test function is: value, analytic derivatives, and the facts needed to race and draw on it.

A function has one or two coordinates (`dimensions`): x, or x and y. Points are float64 arrays whose last axis
holds the coordinates, shape (..., d); `value_at`, `gradient_at` and `hessian_at` take them in that form, so the
engine, the stats and the tuner never need to know d.

Where f is lowest is one of two states, kept apart in the type:
- `Minima`: global minimisers and the lowest value, from the literature (built-ins) or found numerically inside the
  domain (a user's expression); a numerical search whose lowest value lies on the domain's edge says so
  (`on_edge`: f may decrease without bound beyond the view, and the value found is no f*);
- `Unbounded`: f has no minimum (the saddles).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

Array = np.ndarray
Point = tuple[float, ...]  # (x,) or (x, y)
Box = tuple[tuple[float, float], ...]  # one (low, high) per coordinate
COORDINATES = ("x", "y")


def inside_box(points: Array, box: Box) -> Array:
    """Whether each point (..., d) lies in the closed box ((low, high) per coordinate)."""
    points = np.asarray(points)
    inside = np.ones(points.shape[:-1], dtype=bool)
    for axis, (low, high) in enumerate(box):
        inside &= (points[..., axis] >= low) & (points[..., axis] <= high)
    return inside


@dataclass(frozen=True)
class Minima:
    """Every global minimiser and the lowest value, and where that knowledge comes from."""

    points: tuple[Point, ...]
    value: float
    source: Literal["literature", "numerical"]
    on_edge: bool = False  # numerical only: the lowest value found lies on the domain's edge

    @property
    def f_star(self) -> float | None:
        """The value to measure gaps f - f* against: None when the lowest value found is on the edge."""
        return None if self.on_edge else self.value


@dataclass(frozen=True)
class Unbounded:
    """f has no global minimum: it decreases without bound (the saddles)."""


Optimum = Minima | Unbounded


def literature(points: tuple[Point, ...], value: float) -> Minima:
    """A built-in's published global minima."""
    return Minima(points=tuple(tuple(float(c) for c in p) for p in points), value=float(value), source="literature")


@dataclass(frozen=True)
class Dataset:
    """For a loss that averages over data points (the model landscapes): minibatch gradients.

    `batch_gradient(points (B, d), batches (B, b) int) -> (B, d)`: per row, the gradient of the mean loss over the
    data points whose indices that row's batch lists. The function's own `grad` is the full-batch gradient.
    """

    size: int  # number of data points
    batch_gradient: Callable[[Array, Array], Array]


@dataclass(frozen=True)
class TestFunction:
    """A smooth (or piecewise smooth) f of one or two coordinates with its analytic gradient and Hessian.

    `value(*coords)`, `grad(*coords) -> (df/dx[, df/dy])` and `hessian(*coords) -> (fxx,)` in 1-D or
    `(fxx, fxy, fyy)` in 2-D take float64 arrays of any (equal or broadcastable) shape and work element-wise, so
    the same code serves a batch of optimiser positions and a contour mesh.
    """

    __test__ = False  # not a pytest test class

    name: str
    formula: str  # human-readable, e.g. "(1 - x)^2 + 100 (y - x^2)^2"
    value: Callable[..., Array]
    grad: Callable[..., tuple[Array, ...]]
    hessian: Callable[..., tuple[Array, ...]]
    domain: Box  # plotting window, one (low, high) per coordinate
    optimum: Optimum
    default_start: Point  # a start that makes an instructive race
    default_steps: int
    log_scale: bool  # contours read best on a log scale of f - f_min
    reference: str = ""
    aliases: tuple[str, ...] = ()
    dataset: Dataset | None = None  # set when f is a mean over data points (minibatch gradients possible)
    title: str = ""  # the picture's default title, when the name and formula do not make it (user expressions)
    file_stem: str = ""  # a safe stem for default output names, when the name is not one (user expressions)
    # optional fused formula, value_and_grad(*coords) -> (f, (df/dx[, df/dy])): one call sharing subexpressions,
    # which the engine uses at every step; without it the engine calls value and grad
    value_and_grad: Callable[..., tuple[Array, tuple[Array, ...]]] | None = None

    def __post_init__(self) -> None:
        if len(self.domain) not in (1, 2) or len(self.default_start) != len(self.domain):
            raise ValueError(f"{self.name}: domain and default start must have 1 or 2 coordinates alike")

    @property
    def output_stem(self) -> str:
        """What default output files are named after: `rosenbrock` -> `rosenbrock-race.gif`."""
        return self.file_stem or self.name

    @property
    def dimensions(self) -> int:
        return len(self.domain)

    @property
    def coordinates(self) -> tuple[str, ...]:
        """("x",) or ("x", "y")."""
        return COORDINATES[: self.dimensions]

    @property
    def minima(self) -> tuple[Point, ...]:
        """The global minimisers where known (found on the edge included), else ()."""
        return self.optimum.points if isinstance(self.optimum, Minima) else ()

    @property
    def f_min(self) -> float | None:
        """f* to measure progress against, or None (unbounded, or the lowest value found lies on the edge)."""
        return self.optimum.f_star if isinstance(self.optimum, Minima) else None

    def _coords(self, points: Array) -> list[Array]:
        """The coordinates of float64 `points` (..., d) as d arrays (...): views, no copies."""
        dimensions = len(self.domain)
        if points.shape[-1] != dimensions:
            raise ValueError(f"{self.name} takes points with {dimensions} coordinates, got shape {points.shape}")
        return [points[..., axis] for axis in range(dimensions)]

    def value_at(self, points: Array) -> Array:
        """f at a batch of points of shape (..., d), returned with shape (...)."""
        points = np.asarray(points, dtype=np.float64)
        value = self.value(*self._coords(points))
        shape = points.shape[:-1]
        return value if isinstance(value, np.ndarray) and value.shape == shape else np.broadcast_to(value, shape)

    def gradient_at(self, points: Array) -> Array:
        """Gradient at a batch of points of shape (..., d), returned with the same shape."""
        points = np.asarray(points, dtype=np.float64)
        out = np.empty(points.shape)
        for axis, part in enumerate(self.grad(*self._coords(points))):
            out[..., axis] = part  # broadcasts a part that is constant or depends on fewer coordinates
        return out

    def value_and_gradient_at(self, points: Array) -> tuple[Array, Array]:
        """(value_at(points), gradient_at(points)) in one call, through the fused formula where there is one."""
        if self.value_and_grad is None:
            return self.value_at(points), self.gradient_at(points)
        if type(points) is not np.ndarray or points.dtype != np.float64:  # the engine's points already are
            points = np.asarray(points, dtype=np.float64)
        value, parts = self.value_and_grad(*self._coords(points))
        shape = points.shape[:-1]
        if not (type(value) is np.ndarray and value.shape == shape):
            value = np.broadcast_to(value, shape)
        grad = np.empty(points.shape)
        for axis, part in enumerate(parts):
            grad[..., axis] = part
        return value, grad

    def hessian_at(self, points: Array) -> Array:
        """Hessian at a batch of points (..., d), returned as (..., d, d)."""
        parts = np.broadcast_arrays(*self.hessian(*self._coords(np.asarray(points, dtype=np.float64))))
        if self.dimensions == 1:
            return parts[0][..., None, None]
        fxx, fxy, fyy = parts
        return np.stack([np.stack([fxx, fxy], axis=-1), np.stack([fxy, fyy], axis=-1)], axis=-2)
