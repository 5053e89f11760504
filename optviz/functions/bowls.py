"""Quadratic bowls with tilted, elongated contours: a constant Hessian, one minimum.

On a quadratic, gradient descent converges at a rate set by the condition number (largest over
smallest Hessian eigenvalue), which is why these two are good first races.
"""

from __future__ import annotations

import numpy as np

from optviz.functions.base import TestFunction, literature
from optviz.functions.elementwise import elementwise
from optviz.functions.references import vlse


@elementwise
def _booth_value(x, y):
    return (x + 2 * y - 7) ** 2 + (2 * x + y - 5) ** 2


@elementwise
def _booth_grad(x, y):
    a, b = x + 2 * y - 7, 2 * x + y - 5
    return 2 * a + 4 * b, 4 * a + 2 * b


@elementwise
def _booth_hessian(x, y):
    return np.full_like(x, 10.0), np.full_like(x, 8.0), np.full_like(x, 10.0)


# Hessian [[10, 8], [8, 10]]: eigenvalues 18 along (1, 1) and 2 along (1, -1), condition number 9.
BOOTH = TestFunction(
    name="booth",
    formula="(x + 2y - 7)^2 + (2x + y - 5)^2",
    value=_booth_value,
    grad=_booth_grad,
    hessian=_booth_hessian,
    domain=((-10.0, 10.0), (-10.0, 10.0)),
    optimum=literature(((1.0, 3.0),), 0.0),
    default_start=(-7.0, 8.0),
    default_steps=200,
    log_scale=True,
    reference=vlse("booth.html"),
)


@elementwise
def _matyas_value(x, y):
    return 0.26 * (x * x + y * y) - 0.48 * x * y


@elementwise
def _matyas_grad(x, y):
    return 0.52 * x - 0.48 * y, 0.52 * y - 0.48 * x


@elementwise
def _matyas_hessian(x, y):
    return np.full_like(x, 0.52), np.full_like(x, -0.48), np.full_like(x, 0.52)


# Hessian [[0.52, -0.48], [-0.48, 0.52]]: eigenvalues 1 along (1, -1) and 0.04 along the valley
# (1, 1), condition number 25. The valley floor is nearly flat, so plain gradient descent crawls.
MATYAS = TestFunction(
    name="matyas",
    formula="0.26 (x^2 + y^2) - 0.48 x y",
    value=_matyas_value,
    grad=_matyas_grad,
    hessian=_matyas_hessian,
    domain=((-10.0, 10.0), (-10.0, 10.0)),
    optimum=literature(((0.0, 0.0),), 0.0),
    default_start=(8.0, 5.0),
    default_steps=300,
    log_scale=True,
    reference=vlse("matya.html"),
)
