"""Functions built from sines and cosines: a regular lattice of local minima around the global one."""

from __future__ import annotations

import numpy as np

from optviz.functions.base import TestFunction, literature
from optviz.functions.elementwise import elementwise
from optviz.functions.references import vlse

TAU = 2 * np.pi


@elementwise
def _rastrigin_value(x, y):
    return 20 + x**2 - 10 * np.cos(TAU * x) + y**2 - 10 * np.cos(TAU * y)


@elementwise
def _rastrigin_grad(x, y):
    return 2 * x + 10 * TAU * np.sin(TAU * x), 2 * y + 10 * TAU * np.sin(TAU * y)


@elementwise
def _rastrigin_hessian(x, y):
    return 2 + 10 * TAU**2 * np.cos(TAU * x), np.zeros_like(x), 2 + 10 * TAU**2 * np.cos(TAU * y)


# A bowl x^2 + y^2 with an egg-crate of amplitude 10 on top: a local minimum near every integer point.
RASTRIGIN = TestFunction(
    name="rastrigin",
    formula="20 + x^2 - 10 cos(2 pi x) + y^2 - 10 cos(2 pi y)",
    value=_rastrigin_value,
    grad=_rastrigin_grad,
    hessian=_rastrigin_hessian,
    domain=((-5.12, 5.12), (-5.12, 5.12)),
    optimum=literature(((0.0, 0.0),), 0.0),
    default_start=(1.25, 1.35),
    default_steps=300,
    log_scale=False,
    reference=vlse("rastr.html"),
)

ACKLEY_A, ACKLEY_B, ACKLEY_C = 20.0, 0.2, TAU


def _ackley_parts(x, y):
    """r = sqrt((x^2 + y^2) / 2), the direction (x, y) / r (0 at the kink), exp(-b r), exp(E).

    E = (cos(c x) + cos(c y)) / 2. Below the smallest normal float, r counts as the kink r = 0, so
    1 / r never overflows; np.hypot keeps r exact for tiny x and y.
    """
    r = np.sqrt(0.5) * np.hypot(x, y)
    kink = r < np.finfo(np.float64).tiny
    safe_r = np.where(kink, 1.0, r)
    ux, uy = np.where(kink, 0.0, x / safe_r), np.where(kink, 0.0, y / safe_r)
    ripple = np.exp(0.5 * (np.cos(ACKLEY_C * x) + np.cos(ACKLEY_C * y)))
    return r, safe_r, kink, (ux, uy), np.exp(-ACKLEY_B * r), ripple


@elementwise
def _ackley_value(x, y):
    """f = -a exp(-b r) - exp(E) + a + e with r = sqrt((x^2 + y^2) / 2), E = (cos(c x) + cos(c y)) / 2.

    f has a kink, not a derivative, at its minimum (0, 0): near it f ~ a b r, a cone. There the
    gradient is taken as 0 (a valid subgradient) and the Hessian as the cosine term's alone; away
    from the origin both are exact and finite. No division by zero happens on either branch.
    """
    _, _, _, _, radial, ripple = _ackley_parts(x, y)
    return -ACKLEY_A * radial - ripple + ACKLEY_A + np.e


@elementwise
def _ackley_grad(x, y):
    """grad f = (a b / 2) exp(-b r) (x, y) / r + (c / 2) exp(E) (sin(c x), sin(c y)); 0 at the origin.

    (x, y) / r has no limit at the origin (f grows like the distance in every direction), so the
    cone term is 0 there, which is a valid subgradient: the gradient at the global minimum is 0.
    """
    _, _, _, (ux, uy), radial, ripple = _ackley_parts(x, y)
    cone = 0.5 * ACKLEY_A * ACKLEY_B * radial
    wave = 0.5 * ACKLEY_C * ripple
    return cone * ux + wave * np.sin(ACKLEY_C * x), cone * uy + wave * np.sin(ACKLEY_C * y)


@elementwise
def _ackley_hessian(x, y):
    """The cone term contributes (a b exp(-b r) / (2 r)) [I - (b r + 1) u u^T / 2], u = (x, y) / r.

    That grows like 1/r towards the origin, where f has a kink rather than curvature; at the origin
    only the cosine term's (finite, positive definite) Hessian is returned, so Newton-type steps
    stay finite there.
    """
    r, safe_r, kink, (ux, uy), radial, ripple = _ackley_parts(x, y)
    cone = np.where(kink, 0.0, 0.5 * ACKLEY_A * ACKLEY_B * radial / safe_r)
    bend = 0.5 * cone * (ACKLEY_B * r + 1)
    sx, sy = np.sin(ACKLEY_C * x), np.sin(ACKLEY_C * y)
    wave = 0.5 * ACKLEY_C**2 * ripple
    return (cone - bend * ux * ux + wave * (np.cos(ACKLEY_C * x) - 0.5 * sx * sx),
            -bend * ux * uy - wave * 0.5 * sx * sy,
            cone - bend * uy * uy + wave * (np.cos(ACKLEY_C * y) - 0.5 * sy * sy))


# A funnel (the exp(-b r) cone) covered in ripples: many local minima, one sharp global minimum,
# where f has a kink (see _ackley_value).
ACKLEY = TestFunction(
    name="ackley",
    formula="-20 exp(-0.2 sqrt((x^2 + y^2) / 2)) - exp((cos(2 pi x) + cos(2 pi y)) / 2) + 20 + e",
    value=_ackley_value,
    grad=_ackley_grad,
    hessian=_ackley_hessian,
    domain=((-2.5, 2.5), (-2.5, 2.5)),
    optimum=literature(((0.0, 0.0),), 0.0),
    default_start=(0.75, 0.45),
    default_steps=300,
    log_scale=False,
    reference=vlse("ackley.html") + " (a = 20, b = 0.2, c = 2 pi)",
)


@elementwise
def _levi_value(x, y):
    return (np.sin(1.5 * TAU * x) ** 2
            + (x - 1) ** 2 * (1 + np.sin(1.5 * TAU * y) ** 2)
            + (y - 1) ** 2 * (1 + np.sin(TAU * y) ** 2))


@elementwise
def _levi_grad(x, y):
    k = 1.5 * TAU  # 3 pi
    return (k * np.sin(2 * k * x) + 2 * (x - 1) * (1 + np.sin(k * y) ** 2),
            k * (x - 1) ** 2 * np.sin(2 * k * y)
            + 2 * (y - 1) * (1 + np.sin(TAU * y) ** 2)
            + TAU * (y - 1) ** 2 * np.sin(2 * TAU * y))


@elementwise
def _levi_hessian(x, y):
    k = 1.5 * TAU
    return (2 * k**2 * np.cos(2 * k * x) + 2 * (1 + np.sin(k * y) ** 2),
            2 * k * (x - 1) * np.sin(2 * k * y),
            2 * k**2 * (x - 1) ** 2 * np.cos(2 * k * y)
            + 2 * (1 + np.sin(TAU * y) ** 2)
            + 4 * TAU * (y - 1) * np.sin(2 * TAU * y)
            + 2 * TAU**2 * (y - 1) ** 2 * np.cos(2 * TAU * y))


# Ripples of period 2/3 in x over a valley towards (1, 1); the x ripple never fades, so every
# column of the plot has local minima.
LEVI = TestFunction(
    name="levi",
    formula="sin^2(3 pi x) + (x - 1)^2 (1 + sin^2(3 pi y)) + (y - 1)^2 (1 + sin^2(2 pi y))",
    value=_levi_value,
    grad=_levi_grad,
    hessian=_levi_hessian,
    domain=((-4.0, 6.0), (-4.0, 6.0)),
    optimum=literature(((1.0, 1.0),), 0.0),
    default_start=(4.5, -3.0),
    default_steps=300,
    log_scale=True,
    reference=vlse("levy13.html") + " (Levy function N. 13)",
)


@elementwise
def _mccormick_value(x, y):
    return np.sin(x + y) + (x - y) ** 2 - 1.5 * x + 2.5 * y + 1


@elementwise
def _mccormick_grad(x, y):
    c, d = np.cos(x + y), 2 * (x - y)
    return c + d - 1.5, c - d + 2.5


@elementwise
def _mccormick_hessian(x, y):
    s = np.sin(x + y)
    return 2 - s, -2 - s, 2 - s


# With u = x + y and v = x - y, f = sin(u) + u / 2 + (v - 1)^2: a straight valley along v = 1 whose
# floor is a tilted sine wave. It is unbounded below along that valley (u -> -inf), so the minimum is
# the one of the VLSE box [-1.5, 4] x [-3, 4]: u = -2 pi / 3, v = 1. The next dip of the wave, near
# (2.6, 1.6), is a local minimum that traps plain gradient descent.
MCCORMICK = TestFunction(
    name="mccormick",
    formula="sin(x + y) + (x - y)^2 - 1.5 x + 2.5 y + 1",
    value=_mccormick_value,
    grad=_mccormick_grad,
    hessian=_mccormick_hessian,
    domain=((-1.5, 4.0), (-3.0, 4.0)),
    optimum=literature(((0.5 - np.pi / 3, -0.5 - np.pi / 3),), -np.sqrt(3) / 2 - np.pi / 3),
    default_start=(3.3, -1.5),
    default_steps=200,
    log_scale=True,
    reference=vlse("mccorm.html"),
)
