"""Built-in test functions, formulas from the Virtual Library of Simulation Experiments
(Surjanovic & Bingham, https://www.sfu.ca/~ssurjano/optimization.html) where it has them.

The classic three live here; the others are grouped by shape in saddles, bowls, polynomials and
trigonometric, the model landscapes (losses averaged over a fixed dataset) in models. `BUILTIN_FUNCTIONS` lists them all in the order `optviz list` shows them.
"""

from __future__ import annotations

import numpy as np

from optviz.functions.base import TestFunction, literature
from optviz.functions.bowls import BOOTH, MATYAS
from optviz.functions.elementwise import elementwise
from optviz.functions.models import MODEL_FUNCTIONS
from optviz.functions.polynomials import (
    GOLDSTEIN_PRICE,
    HIMMELBLAU,
    SIX_HUMP_CAMEL,
    STYBLINSKI_TANG,
    THREE_HUMP_CAMEL,
)
from optviz.functions.references import vlse
from optviz.functions.saddles import MONKEY_SADDLE, SADDLE
from optviz.functions.trigonometric import ACKLEY, LEVI, MCCORMICK, RASTRIGIN


@elementwise
def _rosenbrock_value(x, y):
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


# The gradient in the order torch's autograd computes it for (1 - x)**2 + 100*(y - x**2)**2, so it is the same
# float64 bits: -(2 (1 - x)) - (100 (2 b)) (2 x) rather than -2 (1 - x) - 400 x b, which rounds differently for a
# third of all points. L-BFGS amplifies such last-bit differences; with the same bits it follows torch exactly.
@elementwise
def _rosenbrock_grad(x, y):
    a, b = 1 - x, y - x * x
    return -(2 * a) - (100 * (2 * b)) * (2 * x), 100 * (2 * b)


@elementwise
def _rosenbrock_value_and_grad(x, y):
    a, b = 1 - x, y - x * x
    return a * a + 100 * (b * b), (-(2 * a) - (100 * (2 * b)) * (2 * x), 100 * (2 * b))


@elementwise
def _rosenbrock_hessian(x, y):
    return 2 - 400 * y + 1200 * x * x, -400 * x, np.full(np.shape(y), 200.0)


ROSENBROCK = TestFunction(
    name="rosenbrock",
    formula="(1 - x)^2 + 100 (y - x^2)^2",
    value=_rosenbrock_value,
    grad=_rosenbrock_grad,
    hessian=_rosenbrock_hessian,
    value_and_grad=_rosenbrock_value_and_grad,
    domain=((-2.0, 2.0), (-1.0, 3.0)),
    optimum=literature(((1.0, 1.0),), 0.0),
    default_start=(-1.5, 2.0),
    default_steps=1500,
    log_scale=True,
    reference=vlse("rosen.html"),
)


def _beale_terms(x, y):
    return 1.5 - x + x * y, 2.25 - x + x * y**2, 2.625 - x + x * y**3


@elementwise
def _beale_value(x, y):
    a, b, c = _beale_terms(x, y)
    return a**2 + b**2 + c**2


@elementwise
def _beale_grad(x, y):
    a, b, c = _beale_terms(x, y)
    dx = 2 * a * (y - 1) + 2 * b * (y**2 - 1) + 2 * c * (y**3 - 1)
    dy = 2 * a * x + 2 * b * 2 * x * y + 2 * c * 3 * x * y**2
    return dx, dy


@elementwise
def _beale_hessian(x, y):
    a, b, c = _beale_terms(x, y)
    hxx = 2 * (y - 1) ** 2 + 2 * (y**2 - 1) ** 2 + 2 * (y**3 - 1) ** 2
    hxy = (2 * x * (y - 1) + 2 * a
           + 2 * (2 * x * y) * (y**2 - 1) + 2 * b * 2 * y
           + 2 * (3 * x * y**2) * (y**3 - 1) + 2 * c * 3 * y**2)
    hyy = (2 * x**2 + 2 * (2 * x * y) ** 2 + 2 * b * 2 * x
           + 2 * (3 * x * y**2) ** 2 + 2 * c * 6 * x * y)
    return hxx, hxy, hyy


BEALE = TestFunction(
    name="beale",
    formula="(1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2",
    value=_beale_value,
    grad=_beale_grad,
    hessian=_beale_hessian,
    domain=((-4.5, 4.5), (-4.5, 4.5)),
    optimum=literature(((3.0, 0.5),), 0.0),
    default_start=(1.0, 1.5),
    default_steps=400,
    log_scale=True,
    reference=vlse("beale.html"),
)

# An ill-conditioned elliptic bowl (condition number 25): plain gradient descent zig-zags across
# the narrow axis while crawling along the long one, the classic case for momentum.
QUADRATIC_CURVATURE = (1.0, 25.0)


@elementwise
def _quadratic_value(x, y):
    a, b = QUADRATIC_CURVATURE
    return 0.5 * (a * x * x + b * y * y)


@elementwise
def _quadratic_grad(x, y):
    a, b = QUADRATIC_CURVATURE
    return a * x, b * y


@elementwise
def _quadratic_hessian(x, y):
    a, b = QUADRATIC_CURVATURE
    shape = np.broadcast(x, y).shape
    return np.full(shape, a), np.zeros(shape), np.full(shape, b)


QUADRATIC = TestFunction(
    name="quadratic",
    formula="(x^2 + 25 y^2) / 2",
    value=_quadratic_value,
    grad=_quadratic_grad,
    hessian=_quadratic_hessian,
    domain=((-10.0, 10.0), (-4.0, 4.0)),
    optimum=literature(((0.0, 0.0),), 0.0),
    default_start=(-9.0, 3.0),
    default_steps=200,
    log_scale=True,
    reference="ill-conditioned quadratic, e.g. Goh, 'Why Momentum Really Works', Distill 2017",
)

BUILTIN_FUNCTIONS = [
    ROSENBROCK, BEALE, QUADRATIC,
    SADDLE, MONKEY_SADDLE,
    BOOTH, MATYAS,
    HIMMELBLAU, GOLDSTEIN_PRICE, THREE_HUMP_CAMEL, SIX_HUMP_CAMEL, STYBLINSKI_TANG,
    RASTRIGIN, ACKLEY, LEVI, MCCORMICK,
    *MODEL_FUNCTIONS,
]
