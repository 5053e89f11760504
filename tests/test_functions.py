"""The built-in test functions: analytic derivatives against finite differences, listed minima against
a dense grid and Newton's method, f_min against published values, and the calling convention."""

from __future__ import annotations

import re
from typing import NamedTuple

import numpy as np
import pytest

from optviz.functions import FUNCTIONS, TestFunction

ALL = list(FUNCTIONS)
BOUNDED = [fn for fn in ALL if fn.f_min is not None]
# The model landscapes' minima are found numerically (tests/test_models.py checks them); the others are published.
LITERATURE = [fn for fn in BOUNDED if fn.optimum.source == "literature"]
UNBOUNDED = [fn for fn in ALL if fn.f_min is None]


def by_name(functions: list[TestFunction]):
    return pytest.mark.parametrize("fn", functions, ids=[fn.name for fn in functions])


# Points where f has a kink instead of a derivative; derivative checks keep clear of them.
KINKS = {"ackley": ((0.0, 0.0),)}


class Published(NamedTuple):
    f_min: float
    f_tolerance: float  # one unit in the last published digit, unless noted
    minima: tuple[tuple[float, float], ...]
    x_tolerance: float
    source: str


VLSE = "Surjanovic & Bingham, VLSE"
WIKIPEDIA = "Wikipedia, 'Test functions for optimization'"

# Independent references, typed from the sources, to the digits they publish.
PUBLISHED = {
    "rosenbrock": Published(0.0, 1e-12, ((1.0, 1.0),), 1e-12, VLSE),
    "beale": Published(0.0, 1e-12, ((3.0, 0.5),), 1e-12, VLSE),
    "quadratic": Published(0.0, 1e-12, ((0.0, 0.0),), 1e-12, "(x^2 + 25 y^2) / 2 >= 0, zero at the origin"),
    "booth": Published(0.0, 1e-12, ((1.0, 3.0),), 1e-12, VLSE),
    "matyas": Published(0.0, 1e-12, ((0.0, 0.0),), 1e-12, VLSE),
    "himmelblau": Published(
        0.0, 1e-12,
        ((3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126)),
        1e-6, WIKIPEDIA,
    ),
    "goldstein-price": Published(3.0, 1e-12, ((0.0, -1.0),), 1e-12, VLSE),
    "three-hump-camel": Published(0.0, 1e-12, ((0.0, 0.0),), 1e-12, VLSE),
    "six-hump-camel": Published(-1.0316, 1e-4, ((0.0898, -0.7126), (-0.0898, 0.7126)), 1e-4, VLSE),
    # VLSE prints -39.16599 d, 2e-4 too high; Wikipedia brackets it: -39.16617 d < f_min < -39.16616 d.
    "styblinski-tang": Published(-39.166165 * 2, 0.000005 * 2, ((-2.903534, -2.903534),), 1e-6, WIKIPEDIA),
    "rastrigin": Published(0.0, 1e-12, ((0.0, 0.0),), 1e-12, VLSE),
    "ackley": Published(0.0, 1e-12, ((0.0, 0.0),), 1e-12, VLSE),
    "levi": Published(0.0, 1e-12, ((1.0, 1.0),), 1e-12, VLSE),
    # VLSE prints -1.9133 (the value, -1.91322..., rounds to -1.9132) at (-0.54719, -1.54719), the
    # minimiser truncated: allow one unit in the last digit of each.
    "mccormick": Published(-1.9133, 1e-4, ((-0.54719, -1.54719),), 1e-5, VLSE),
}


def test_registry_lists_every_builtin():
    assert FUNCTIONS.names() == [
        "rosenbrock", "beale", "quadratic",
        "saddle", "monkey-saddle",
        "booth", "matyas",
        "himmelblau", "goldstein-price", "three-hump-camel", "six-hump-camel", "styblinski-tang",
        "rastrigin", "ackley", "levi", "mccormick",
        "linear-regression", "logistic-regression", "tiny-network",
    ]


def test_every_bounded_function_has_a_published_reference():
    assert sorted(PUBLISHED) == sorted(fn.name for fn in LITERATURE)
    assert {fn.name for fn in BOUNDED if fn not in LITERATURE} == {fn.name for fn in ALL if fn.dataset is not None}


# --- helpers ---


def inside(fn: TestFunction, x: float, y: float) -> bool:
    (x0, x1), (y0, y1) = fn.domain
    return x0 <= x <= x1 and y0 <= y <= y1


def grid(fn: TestFunction, n: int) -> tuple[np.ndarray, np.ndarray]:
    (x0, x1), (y0, y1) = fn.domain
    return np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))


def random_points(fn: TestFunction, count: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Uniform points of the domain, none within 1% of the domain's width of a kink."""
    (x0, x1), (y0, y1) = fn.domain
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(x0, x1, count), rng.uniform(y0, y1, count)
    keep = np.ones(count, dtype=bool)
    for kx, ky in KINKS.get(fn.name, ()):
        keep &= np.hypot(x - kx, y - ky) > 0.01 * (x1 - x0)
    return x[keep], y[keep]


def central_differences(vector_fn, x, y, h):
    """d/dx and d/dy of each output of vector_fn, by central differences with step h."""
    ddx = [(p - m) / (2 * h) for p, m in zip(vector_fn(x + h, y), vector_fn(x - h, y))]
    ddy = [(p - m) / (2 * h) for p, m in zip(vector_fn(x, y + h), vector_fn(x, y - h))]
    return ddx, ddy


def assert_close_to_scale(actual, expected, rtol):
    """Agreement relative to each value and to the largest value in the sample (for near-zero entries)."""
    expected = np.asarray(expected)
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * np.max(np.abs(expected)))


def step_for(fn: TestFunction) -> float:
    (x0, x1), (y0, y1) = fn.domain
    return 1e-6 * max(x1 - x0, y1 - y0)


def newton_polish(fn: TestFunction, x: np.ndarray, y: np.ndarray, steps: int = 30):
    """Newton's method from many points at once: steps only where the Hessian is positive definite,
    clipped to the domain."""
    (x0, x1), (y0, y1) = fn.domain
    for _ in range(steps):
        gx, gy = fn.grad(x, y)
        a, b, c = fn.hessian(x, y)
        det = a * c - b * b
        convex = (a > 0) & (det > 0)
        safe_det = np.where(convex, det, 1.0)
        x = np.clip(x - np.where(convex, (c * gx - b * gy) / safe_det, 0.0), x0, x1)
        y = np.clip(y - np.where(convex, (a * gy - b * gx) / safe_det, 0.0), y0, y1)
    return x, y


def grid_local_minima(fn: TestFunction, n: int):
    """Interior grid points no higher than any of their 8 neighbours."""
    x, y = grid(fn, n)
    f = fn.value(x, y)
    centre = f[1:-1, 1:-1]
    lowest = np.ones_like(centre, dtype=bool)
    for di in (-1, 0, 1):
        for dj in (-1, 0, 1):
            if di or dj:
                lowest &= centre <= f[1 + di:n - 1 + di, 1 + dj:n - 1 + dj]
    return x[1:-1, 1:-1][lowest], y[1:-1, 1:-1][lowest]


def value_tolerance(fn: TestFunction) -> float:
    return 1e-12 * max(1.0, abs(fn.f_min))


# --- metadata ---


@by_name(ALL)
def test_metadata_is_well_formed(fn):
    assert re.fullmatch(r"[a-z]+(-[a-z]+)*", fn.name)
    assert fn.formula.strip() and fn.reference.strip()
    (x0, x1), (y0, y1) = fn.domain
    assert all(np.isfinite(v) for v in (x0, x1, y0, y1))
    assert x0 < x1 and y0 < y1
    assert inside(fn, *fn.default_start), f"start {fn.default_start} outside {fn.domain}"
    assert isinstance(fn.default_steps, int) and 100 <= fn.default_steps <= 5000
    assert isinstance(fn.log_scale, bool)
    assert not (fn.log_scale and fn.f_min is None), "a log scale of f - f_min needs f_min"


@by_name(BOUNDED)
def test_minima_are_listed_and_inside_the_domain(fn):
    assert fn.minima
    for point in fn.minima:
        assert inside(fn, *point), f"minimum {point} outside {fn.domain}"
    assert fn.default_start not in fn.minima


@by_name(UNBOUNDED)
def test_unbounded_functions_have_no_minimum(fn):
    assert fn.f_min is None
    assert fn.minima == ()
    x, y = grid(fn, 101)
    assert fn.value(x, y).min() < fn.value(*fn.default_start) - 1.0


# --- derivatives ---


@by_name(ALL)
def test_gradient_matches_finite_differences_of_value(fn):
    x, y = random_points(fn)
    ddx, ddy = central_differences(lambda a, b: (fn.value(a, b),), x, y, step_for(fn))
    gx, gy = fn.grad(x, y)
    assert_close_to_scale(gx, ddx[0], rtol=1e-6)
    assert_close_to_scale(gy, ddy[0], rtol=1e-6)


@by_name(ALL)
def test_hessian_matches_finite_differences_of_gradient(fn):
    x, y = random_points(fn, seed=1)
    (gxx, gyx), (gxy, gyy) = central_differences(fn.grad, x, y, step_for(fn))
    hxx, hxy, hyy = fn.hessian(x, y)
    assert_close_to_scale(hxx, gxx, rtol=1e-5)
    assert_close_to_scale(hxy, gxy, rtol=1e-5)
    assert_close_to_scale(hxy, gyx, rtol=1e-5)
    assert_close_to_scale(hyy, gyy, rtol=1e-5)


@pytest.mark.parametrize("name", sorted(KINKS))
def test_kinks_get_a_zero_subgradient_and_a_finite_hessian(name):
    fn = FUNCTIONS.get(name)
    for kx, ky in KINKS[name]:
        with np.errstate(divide="raise", over="raise", invalid="raise"):
            assert [float(g) for g in fn.grad(kx, ky)] == [0.0, 0.0]
            assert np.all(np.isfinite(fn.hessian(kx, ky)))
        # Just off the kink the gradient points away from it (f rises like the distance).
        gx, gy = fn.grad(kx + 1e-9, ky)
        assert gx > 0


# --- minima ---


@by_name(BOUNDED)
def test_f_min_is_attained_at_every_listed_minimum(fn):
    for point in fn.minima:
        assert abs(fn.value(*point) - fn.f_min) <= value_tolerance(fn), point


@by_name(BOUNDED)
def test_gradient_vanishes_at_every_listed_minimum(fn):
    for point in fn.minima:
        assert np.hypot(*fn.grad(*point)) <= 1e-10, point


@by_name(BOUNDED)
def test_hessian_is_positive_semidefinite_at_every_smooth_minimum(fn):
    for point in fn.minima:
        if point in KINKS.get(fn.name, ()):
            continue
        a, b, c = (float(v) for v in fn.hessian(*point))
        eigenvalues = np.linalg.eigvalsh([[a, b], [b, c]])
        assert eigenvalues.min() >= -1e-9 * max(1.0, eigenvalues.max()), (point, eigenvalues)


@by_name(BOUNDED)
def test_f_min_is_the_minimum_over_a_dense_grid(fn):
    x, y = grid(fn, 801)
    f = fn.value(x, y)
    assert f.min() >= fn.f_min - value_tolerance(fn)
    # ... and the grid comes close to it, so f_min is not a loose lower bound.
    assert f.min() - fn.f_min <= 1e-3 * (f.max() - fn.f_min)


@by_name(BOUNDED)
def test_every_global_minimum_is_listed(fn):
    """Polish every local minimum of a fine grid with Newton's method; those reaching f_min are the list."""
    x, y = newton_polish(fn, *grid_local_minima(fn, 401))
    at_f_min = np.abs(fn.value(x, y) - fn.f_min) <= 1e-9 * max(1.0, abs(fn.f_min))
    at_f_min &= np.hypot(*fn.grad(x, y)) <= 1e-8
    found = np.unique(np.round(np.column_stack([x[at_f_min], y[at_f_min]]), 6), axis=0)
    listed = np.unique(np.round(np.array(fn.minima), 6), axis=0)
    np.testing.assert_array_equal(found, listed)


@by_name(LITERATURE)
def test_f_min_and_minima_match_the_published_values(fn):
    published = PUBLISHED[fn.name]
    assert abs(fn.f_min - published.f_min) <= published.f_tolerance, published.source
    assert len(fn.minima) == len(published.minima)
    for px, py in published.minima:
        distance = min(max(abs(mx - px), abs(my - py)) for mx, my in fn.minima)
        assert distance <= published.x_tolerance, ((px, py), fn.minima, published.source)


# --- calling convention ---

SHAPES = [
    ((), ()),
    ((5,), (5,)),
    ((3, 4), (3, 4)),
    ((3, 1), (1, 4)),
    ((4,), ()),
    ((), (2, 3)),
]


@by_name(ALL)
@pytest.mark.parametrize(("x_shape", "y_shape"), SHAPES, ids=[f"{a}x{b}" for a, b in SHAPES])
def test_outputs_are_float64_of_the_broadcast_shape_and_elementwise(fn, x_shape, y_shape):
    x, y = random_points(fn, count=12, seed=2)
    x = x[: int(np.prod(x_shape))].reshape(x_shape)
    y = y[: int(np.prod(y_shape))].reshape(y_shape)
    if x_shape == ():
        x = float(x)
    if y_shape == ():
        y = float(y)
    shape = np.broadcast_shapes(x_shape, y_shape)
    xb, yb = np.broadcast_arrays(x, y)
    for method, count in ((fn.value, 1), (fn.grad, 2), (fn.hessian, 3)):
        outputs = method(x, y)
        outputs = (outputs,) if count == 1 else outputs
        assert len(outputs) == count
        for index, out in enumerate(outputs):
            out = np.asarray(out)
            assert out.dtype == np.float64 and out.shape == shape, (method.__name__, index)
            pointwise = [np.reshape(method(a, b), count)[index] for a, b in zip(xb.flat, yb.flat)]
            np.testing.assert_array_equal(out.reshape(-1), pointwise)


# Offsets at which squares underflow to subnormals or zero and 1 / distance could overflow.
HAIR_OFFSETS = ((5e-324, 0.0), (1e-200, -1e-200), (1e-161, 1e-161), (-1e-150, 0.0))


@by_name(ALL)
def test_no_floating_point_warnings_on_the_grid_and_special_points(fn):
    x, y = grid(fn, 201)
    centres = [(0.0, 0.0), *KINKS.get(fn.name, ())]
    near = [(cx + dx, cy + dy) for cx, cy in centres for dx, dy in HAIR_OFFSETS]
    special = [*fn.minima, fn.default_start, *centres, *near]
    x = np.append(x.ravel(), [p[0] for p in special])
    y = np.append(y.ravel(), [p[1] for p in special])
    with np.errstate(divide="raise", over="raise", invalid="raise"):
        outputs = [fn.value(x, y), *fn.grad(x, y), *fn.hessian(x, y)]
    assert all(np.all(np.isfinite(out)) for out in outputs)
