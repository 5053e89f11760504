"""What a 2-D test function is: value, analytic derivatives, and the facts needed to race and draw on it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Array = np.ndarray
Point = tuple[float, float]
Box = tuple[tuple[float, float], tuple[float, float]]


def inside_box(points: Array, box: Box) -> Array:
    """Whether each point (..., 2) lies in the closed box ((xmin, xmax), (ymin, ymax))."""
    (xmin, xmax), (ymin, ymax) = box
    x, y = points[..., 0], points[..., 1]
    return (x >= xmin) & (x <= xmax) & (y >= ymin) & (y <= ymax)


@dataclass(frozen=True)
class TestFunction:
    """A smooth (or piecewise smooth) f(x, y) with its analytic gradient and Hessian.

    `value(x, y)`, `grad(x, y) -> (df/dx, df/dy)` and `hessian(x, y) -> (fxx, fxy, fyy)` take
    float64 arrays of any (equal or broadcastable) shape and work element-wise, so the same code
    serves a batch of optimiser positions and a contour mesh.
    """

    __test__ = False  # not a pytest test class

    name: str
    formula: str  # human-readable, e.g. "(1 - x)^2 + 100 (y - x^2)^2"
    value: Callable[[Array, Array], Array]
    grad: Callable[[Array, Array], tuple[Array, Array]]
    hessian: Callable[[Array, Array], tuple[Array, Array, Array]]
    domain: Box  # plotting window ((xmin, xmax), (ymin, ymax))
    minima: tuple[Point, ...]  # every known global minimiser; empty when unbounded below
    f_min: float | None  # None when unbounded below
    default_start: Point  # a start that makes an instructive race
    default_steps: int
    log_scale: bool  # contours read best on a log scale of f - f_min
    reference: str = ""
    aliases: tuple[str, ...] = ()

    def gradient_at(self, points: Array) -> Array:
        """Gradient at a batch of points of shape (..., 2), returned with the same shape."""
        gx, gy = self.grad(points[..., 0], points[..., 1])
        return np.stack(np.broadcast_arrays(gx, gy), axis=-1)

    def value_at(self, points: Array) -> Array:
        """f at a batch of points of shape (..., 2), returned with shape (...)."""
        return np.broadcast_to(self.value(points[..., 0], points[..., 1]), points.shape[:-1])
