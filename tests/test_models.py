"""The model landscapes: fixed datasets, minima found numerically and checked independently, minibatch gradients."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from optviz.functions import FUNCTIONS
from optviz.functions import models

MODELS = [fn for fn in FUNCTIONS if fn.dataset is not None]
POINTS = np.array([[0.3, -0.7], [1.2, 0.4], [-2.0, 1.5], [0.0, 0.0]])


def by_name(functions):
    return pytest.mark.parametrize("fn", functions, ids=[fn.name for fn in functions])


def test_the_model_landscapes_are_builtins_with_64_data_points():
    assert [fn.name for fn in MODELS] == ["linear-regression", "logistic-regression", "tiny-network"]
    assert all(fn.dataset.size == 64 and fn.optimum.source == "numerical" for fn in MODELS)


def test_the_data_do_not_depend_on_any_global_random_state():
    before = [fn.value_at(POINTS) for fn in MODELS]
    np.random.seed(12345)
    reloaded = importlib.reload(models)
    after = [fn.value_at(POINTS) for fn in reloaded.MODEL_FUNCTIONS]
    for old, new in zip(before, after):
        np.testing.assert_array_equal(old, new)


def test_linear_regression_minimum_is_the_least_squares_solution():
    x, y = models._LINEAR_X, models._LINEAR_Y
    (w, b), *_ = np.linalg.lstsq(np.column_stack([x, np.ones_like(x)]), y, rcond=None)
    fn = FUNCTIONS.get("linear-regression")
    np.testing.assert_allclose(fn.minima, [(w, b)], rtol=1e-12)
    assert fn.f_min == pytest.approx(np.mean((w * x + b - y) ** 2), rel=1e-12)


def test_logistic_regression_is_convex_so_its_one_minimum_is_global():
    fn = FUNCTIONS.get("logistic-regression")
    (x0, x1), (y0, y1) = fn.domain
    x, y = np.meshgrid(np.linspace(x0, x1, 41), np.linspace(y0, y1, 41))
    a, b, c = fn.hessian(x, y)
    assert np.all(a > 0) and np.all(a * c - b * b > 0)
    assert len(fn.minima) == 1


def test_tiny_network_has_mirror_minima_and_a_saddle_at_the_origin():
    fn = FUNCTIONS.get("tiny-network")
    np.testing.assert_array_equal(fn.value_at(POINTS), fn.value_at(-POINTS))
    (first, second) = fn.minima
    assert first == tuple(-c for c in second)
    assert fn.value(*first) == fn.value(*second) == fn.f_min
    assert np.hypot(*fn.grad(0.0, 0.0)) == 0.0
    eigenvalues = np.linalg.eigvalsh(fn.hessian_at(np.zeros(2)))
    assert eigenvalues[0] < 0 < eigenvalues[1]
    assert fn.value(0.0, 0.0) > fn.f_min + 0.5


def test_a_guess_that_does_not_lead_to_a_minimum_is_refused():
    loss = models.SampleLoss(models._network_loss, models._network_grad, models._network_hessian,
                             (models._NETWORK_X, models._NETWORK_Y))
    with pytest.raises(ArithmeticError, match="not a minimum"):
        models._polished_minimum(loss, (0.0, 0.0))  # the saddle: Newton stays there


@by_name(MODELS)
@pytest.mark.parametrize("batch_size", [1, 4, 16, 64])
def test_minibatch_gradients_over_a_covering_partition_average_to_the_full_gradient(fn, batch_size):
    order = np.random.default_rng(7).permutation(fn.dataset.size)
    batches = order.reshape(-1, batch_size)  # every data point in exactly one batch
    points = np.repeat(POINTS, len(batches), axis=0)
    grads = fn.dataset.batch_gradient(points, np.tile(batches, (len(POINTS), 1)))
    assert grads.shape == (len(points), 2)
    mean = grads.reshape(len(POINTS), len(batches), 2).mean(axis=1)
    np.testing.assert_allclose(mean, fn.gradient_at(POINTS), rtol=1e-12, atol=1e-14)
    if batch_size < fn.dataset.size:  # a minibatch sees only part of the data: its gradient is noisy
        assert np.ptp(grads.reshape(len(POINTS), len(batches), 2), axis=1).max() > 1e-3


@by_name(MODELS)
def test_a_batch_gradient_is_the_gradient_of_that_batch_mean(fn):
    """Finite differences of f restricted to a batch, via the identity f_batch = mean of one-point losses."""
    batch = np.array([[3, 17, 17, 40]])
    point = np.array([[0.4, -0.6]])
    h = 1e-6
    one_point = []
    for index in batch[0]:
        column = [c[index:index + 1] for c in _data(fn)]
        loss = _sample_loss(fn)
        values = [loss(point[0, 0] + dx, point[0, 1] + dy, *column)[0][0]
                  for dx, dy in ((h, 0), (-h, 0), (0, h), (0, -h))]
        one_point.append([(values[0] - values[1]) / (2 * h), (values[2] - values[3]) / (2 * h)])
    np.testing.assert_allclose(fn.dataset.batch_gradient(point, batch)[0], np.mean(one_point, axis=0), rtol=1e-7)


def _sample_loss(fn):
    return {"linear-regression": models._linear_loss, "logistic-regression": models._logistic_loss,
            "tiny-network": models._network_loss}[fn.name]


def _data(fn):
    return {"linear-regression": (models._LINEAR_X, models._LINEAR_Y),
            "logistic-regression": (models._LOGISTIC_X[:, 0], models._LOGISTIC_X[:, 1], models._LOGISTIC_T),
            "tiny-network": (models._NETWORK_X, models._NETWORK_Y)}[fn.name]


@by_name(MODELS)
def test_a_large_mesh_is_averaged_in_blocks_to_the_same_values(fn):
    (x0, x1), (y0, y1) = fn.domain
    x, y = np.meshgrid(np.linspace(x0, x1, 300), np.linspace(y0, y1, 300))  # 90 000 points x 64 samples: blocks
    assert x.size * fn.dataset.size > models.BLOCK_ELEMENTS
    rows = np.array([fn.value(x[i], y[i]) for i in range(0, 300, 37)])
    np.testing.assert_allclose(fn.value(x, y)[::37], rows, rtol=1e-13)
