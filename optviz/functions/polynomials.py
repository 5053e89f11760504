"""Multimodal polynomials: several minima (global and local), saddles between them, steep walls.

Where a minimiser has no closed form it is the double nearest the exact root of the gradient
(polished with Newton's method at 50 significant digits), so the analytic gradient vanishes there
to rounding error.
"""

from __future__ import annotations

import numpy as np

from optviz.functions.base import TestFunction, literature
from optviz.functions.elementwise import elementwise
from optviz.functions.references import vlse


@elementwise
def _himmelblau_value(x, y):
    return (x * x + y - 11) ** 2 + (x + y * y - 7) ** 2


@elementwise
def _himmelblau_grad(x, y):
    a, b = x * x + y - 11, x + y * y - 7
    return 4 * x * a + 2 * b, 2 * a + 4 * y * b


@elementwise
def _himmelblau_hessian(x, y):
    a, b = x * x + y - 11, x + y * y - 7
    return 4 * a + 8 * x * x + 2, 4 * x + 4 * y, 2 + 4 * b + 8 * y * y


# Four minima of equal depth, one local maximum near (-0.27, -0.92) and four saddles between: which
# minimum an optimiser reaches depends on its path, not only on where it starts.
HIMMELBLAU = TestFunction(
    name="himmelblau",
    formula="(x^2 + y - 11)^2 + (x + y^2 - 7)^2",
    value=_himmelblau_value,
    grad=_himmelblau_grad,
    hessian=_himmelblau_hessian,
    domain=((-5.0, 5.0), (-5.0, 5.0)),
    optimum=literature((
        (3.0, 2.0),
        (-2.805118086952745, 3.131312518250573),
        (-3.779310253377747, -3.2831859912861696),
        (3.5844283403304917, -1.8481265269644036),
    ), 0.0),
    default_start=(0.0, -1.0),
    default_steps=200,
    log_scale=True,
    reference="Himmelblau, 'Applied Nonlinear Programming', McGraw-Hill, 1972",
)


@elementwise
def _three_hump_camel_value(x, y):
    return 2 * x**2 - 1.05 * x**4 + x**6 / 6 + x * y + y**2


@elementwise
def _three_hump_camel_grad(x, y):
    return 4 * x - 4.2 * x**3 + x**5 + y, x + 2 * y


@elementwise
def _three_hump_camel_hessian(x, y):
    return 4 - 12.6 * x**2 + 5 * x**4, np.ones_like(x), np.full_like(x, 2.0)


# The global minimum at the origin sits between two shallower local minima near +-(1.75, -0.87).
THREE_HUMP_CAMEL = TestFunction(
    name="three-hump-camel",
    formula="2 x^2 - 1.05 x^4 + x^6 / 6 + x y + y^2",
    value=_three_hump_camel_value,
    grad=_three_hump_camel_grad,
    hessian=_three_hump_camel_hessian,
    domain=((-2.5, 2.5), (-2.5, 2.5)),
    optimum=literature(((0.0, 0.0),), 0.0),
    default_start=(-1.5, 2.0),
    default_steps=200,
    log_scale=True,
    reference=vlse("camel3.html"),
)


@elementwise
def _six_hump_camel_value(x, y):
    return (4 - 2.1 * x**2 + x**4 / 3) * x**2 + x * y + (-4 + 4 * y**2) * y**2


@elementwise
def _six_hump_camel_grad(x, y):
    return 8 * x - 8.4 * x**3 + 2 * x**5 + y, x - 8 * y + 16 * y**3


@elementwise
def _six_hump_camel_hessian(x, y):
    return 8 - 25.2 * x**2 + 10 * x**4, np.ones_like(x), -8 + 48 * y**2


# Symmetric under (x, y) -> (-x, -y): two global minima, four more local ones, a saddle at the origin.
SIX_HUMP_CAMEL = TestFunction(
    name="six-hump-camel",
    formula="(4 - 2.1 x^2 + x^4 / 3) x^2 + x y + (4 y^2 - 4) y^2",
    value=_six_hump_camel_value,
    grad=_six_hump_camel_grad,
    hessian=_six_hump_camel_hessian,
    domain=((-2.0, 2.0), (-1.0, 1.0)),
    optimum=literature((
        (0.08984201310031806, -0.7126564030207396),
        (-0.08984201310031806, 0.7126564030207396),
    ), -1.0316284534898774),
    default_start=(-1.8, -0.7),
    default_steps=200,
    log_scale=True,
    reference=vlse("camel6.html"),
)

# The smaller root of 4 t^3 - 32 t + 5 = 0, where t^4 - 16 t^2 + 5 t is least.
_STYBLINSKI_TANG_ARGMIN = -2.903534027771177


@elementwise
def _styblinski_tang_value(x, y):
    return 0.5 * (x**4 - 16 * x**2 + 5 * x + y**4 - 16 * y**2 + 5 * y)


@elementwise
def _styblinski_tang_grad(x, y):
    return 2 * x**3 - 16 * x + 2.5, 2 * y**3 - 16 * y + 2.5


@elementwise
def _styblinski_tang_hessian(x, y):
    return 6 * x**2 - 16, np.zeros_like(x), 6 * y**2 - 16


# Separable: each coordinate has a deep well near -2.90 and a shallower one near 2.75, giving one
# global minimum, two medium and one shallow local minimum, with a local maximum near (0.16, 0.16).
STYBLINSKI_TANG = TestFunction(
    name="styblinski-tang",
    formula="(x^4 - 16 x^2 + 5 x + y^4 - 16 y^2 + 5 y) / 2",
    value=_styblinski_tang_value,
    grad=_styblinski_tang_grad,
    hessian=_styblinski_tang_hessian,
    domain=((-5.0, 5.0), (-5.0, 5.0)),
    optimum=literature(((_STYBLINSKI_TANG_ARGMIN, _STYBLINSKI_TANG_ARGMIN),), -78.33233140754282),
    default_start=(-2.0, 4.5),
    default_steps=200,
    log_scale=True,
    reference=vlse("stybtang.html"),
)


def _goldstein_price_factors(x, y):
    """f = a b; returns (a, a_x, a_y, a_xx, a_xy, a_yy) and the same six for b.

    a = 1 + s^2 p with s = x + y + 1, p = 19 - 14x + 3x^2 - 14y + 6xy + 3y^2;
    b = 30 + t^2 q with t = 2x - 3y, q = 18 - 32x + 12x^2 + 48y - 36xy + 27y^2.
    """
    s = x + y + 1
    p = 19 - 14 * x + 3 * x**2 - 14 * y + 6 * x * y + 3 * y**2
    p_x = p_y = -14 + 6 * x + 6 * y  # p is symmetric in x and y; every second derivative of p is 6
    a = 1 + s**2 * p
    a_x = 2 * s * p + s**2 * p_x
    a_y = 2 * s * p + s**2 * p_y
    a_xx = 2 * p + 4 * s * p_x + 6 * s**2
    a_xy = 2 * p + 2 * s * (p_x + p_y) + 6 * s**2
    a_yy = 2 * p + 4 * s * p_y + 6 * s**2

    t = 2 * x - 3 * y
    q = 18 - 32 * x + 12 * x**2 + 48 * y - 36 * x * y + 27 * y**2
    q_x = -32 + 24 * x - 36 * y
    q_y = 48 - 36 * x + 54 * y
    b = 30 + t**2 * q
    b_x = 4 * t * q + t**2 * q_x
    b_y = -6 * t * q + t**2 * q_y
    b_xx = 8 * q + 8 * t * q_x + 24 * t**2
    b_xy = -12 * q + 4 * t * q_y - 6 * t * q_x - 36 * t**2
    b_yy = 18 * q - 12 * t * q_y + 54 * t**2
    return (a, a_x, a_y, a_xx, a_xy, a_yy), (b, b_x, b_y, b_xx, b_xy, b_yy)


@elementwise
def _goldstein_price_value(x, y):
    (a, *_), (b, *_) = _goldstein_price_factors(x, y)
    return a * b


@elementwise
def _goldstein_price_grad(x, y):
    (a, a_x, a_y, *_), (b, b_x, b_y, *_) = _goldstein_price_factors(x, y)
    return a_x * b + a * b_x, a_y * b + a * b_y


@elementwise
def _goldstein_price_hessian(x, y):
    (a, a_x, a_y, a_xx, a_xy, a_yy), (b, b_x, b_y, b_xx, b_xy, b_yy) = _goldstein_price_factors(x, y)
    return (a_xx * b + 2 * a_x * b_x + a * b_xx,
            a_xy * b + a_x * b_y + a_y * b_x + a * b_xy,
            a_yy * b + 2 * a_y * b_y + a * b_yy)


# Values span six orders of magnitude over the square, so step sizes that suit one region blow up in
# another; local minima of 30 near (-0.6, -0.4), 84 near (1.8, 0.2) and 840 near (1.2, 0.8).
GOLDSTEIN_PRICE = TestFunction(
    name="goldstein-price",
    formula="[1 + (x + y + 1)^2 (19 - 14x + 3x^2 - 14y + 6xy + 3y^2)]"
            " [30 + (2x - 3y)^2 (18 - 32x + 12x^2 + 48y - 36xy + 27y^2)]",
    value=_goldstein_price_value,
    grad=_goldstein_price_grad,
    hessian=_goldstein_price_hessian,
    domain=((-2.0, 2.0), (-2.0, 2.0)),
    optimum=literature(((0.0, -1.0),), 3.0),
    default_start=(1.5, 1.5),
    default_steps=300,
    log_scale=True,
    reference=vlse("goldpr.html"),
)
