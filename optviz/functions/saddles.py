"""Saddles: functions unbounded below whose only critical point is a saddle at the origin.

They show how optimisers leave a saddle. Gradient descent started on the attracting axis slides
towards the saddle and escapes only as fast as the tiny transverse offset grows; momentum and
sign-like methods (Adam) escape much sooner.
"""

from __future__ import annotations

import numpy as np

from optviz.functions.base import TestFunction, Unbounded
from optviz.functions.elementwise import elementwise


@elementwise
def _saddle_value(x, y):
    return x * x - y * y


@elementwise
def _saddle_grad(x, y):
    return 2 * x, -2 * y


@elementwise
def _saddle_hessian(x, y):
    return np.full_like(x, 2.0), np.zeros_like(x), np.full_like(x, -2.0)


SADDLE = TestFunction(
    name="saddle",
    formula="x^2 - y^2",
    value=_saddle_value,
    grad=_saddle_grad,
    hessian=_saddle_hessian,
    domain=((-1.5, 1.5), (-1.5, 1.5)),
    optimum=Unbounded(),
    default_start=(-1.0, 1e-3),
    default_steps=300,
    log_scale=False,
    reference="hyperbolic paraboloid; Dauphin et al., 'Identifying and attacking the saddle point "
              "problem in high-dimensional non-convex optimization', NeurIPS 2014",
)


@elementwise
def _monkey_saddle_value(x, y):
    return x**3 - 3 * x * y**2


@elementwise
def _monkey_saddle_grad(x, y):
    return 3 * x**2 - 3 * y**2, -6 * x * y


@elementwise
def _monkey_saddle_hessian(x, y):
    return 6 * x, -6 * y, -6 * x


# f = r^3 cos(3 theta): three ridges (theta = 0, 120, 240 degrees) and three valleys between them
# (theta = 60, 180, 300). At the origin gradient *and* Hessian vanish, so the saddle is degenerate:
# second-order methods see no curvature to escape along.
MONKEY_SADDLE = TestFunction(
    name="monkey-saddle",
    formula="x^3 - 3 x y^2",
    value=_monkey_saddle_value,
    grad=_monkey_saddle_grad,
    hessian=_monkey_saddle_hessian,
    domain=((-1.5, 1.5), (-1.5, 1.5)),
    optimum=Unbounded(),
    default_start=(1.0, 0.01),
    default_steps=300,
    log_scale=False,
    reference="degenerate (third-order) saddle; Hilbert & Cohn-Vossen, 'Geometry and the "
              "Imagination', 1952",
)
