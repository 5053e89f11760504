"""Model landscapes: what "Neural Networks 101" trains, as a loss averaged over a small fixed dataset.

Each problem has two parameters (the picture's x and y) and a per-sample loss l(p1, p2; sample); its f is the mean
of l over the data points. The data are drawn by numpy from fixed seeds and parameters written here, independent
of any user --seed, so a landscape is always the same picture. Analytic gradients and Hessians are of the
full-batch mean; `dataset.batch_gradient` gives the gradient of the mean over any chosen data points (minibatch
SGD). There is no published minimum: it is found by Newton's method from the parameters the data came from,
polished until the gradient vanishes to rounding error, and checked to be a minimum (Minima source "numerical").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from optviz.functions.base import Array, Box, Dataset, Minima, Point, TestFunction
from optviz.functions.elementwise import elementwise

# Per-sample pieces: (p1, p2, *columns) -> tuple of arrays, element-wise over broadcast shapes.
SampleTerms = Callable[..., tuple[Array, ...]]
# Parameters x data points evaluated at once: the mean over a large mesh goes through the data in blocks.
BLOCK_ELEMENTS = 1 << 20
NEWTON_STEPS = 100


@dataclass(frozen=True)
class SampleLoss:
    """A per-sample loss with its derivatives in the two parameters, and the data it is averaged over."""

    loss: SampleTerms  # -> (l,)
    grad: SampleTerms  # -> (dl/dp1, dl/dp2)
    hessian: SampleTerms  # -> (l_11, l_12, l_22)
    data: tuple[Array, ...]  # columns of equal length, one entry per data point

    @property
    def size(self) -> int:
        return len(self.data[0])

    def mean(self, terms: SampleTerms, p1: Array, p2: Array) -> tuple[Array, ...]:
        """Each output of `terms` averaged over every data point, at parameters of any broadcast shape."""
        p1, p2 = np.broadcast_arrays(np.asarray(p1, dtype=np.float64), np.asarray(p2, dtype=np.float64))
        block = max(1, BLOCK_ELEMENTS // max(1, p1.size))
        totals = None
        for begin in range(0, self.size, block):
            columns = [column[begin:begin + block] for column in self.data]
            sums = [np.sum(out, axis=-1) for out in terms(p1[..., None], p2[..., None], *columns)]
            totals = sums if totals is None else [t + s for t, s in zip(totals, sums)]
        return tuple(t / self.size for t in totals)

    def batch_gradient(self, points: Array, batches: Array) -> Array:
        """Per row of points (B, 2), the gradient of the mean loss over the data points its batch (B, b) lists."""
        columns = [column[batches] for column in self.data]
        g1, g2 = self.grad(points[:, :1], points[:, 1:2], *columns)
        return np.stack([g1.mean(axis=1), g2.mean(axis=1)], axis=-1)


def _polished_minimum(model: SampleLoss, guess: Point) -> Point:
    """Newton's method on the full-batch mean from `guess`; raises if it does not end at a strict minimum."""
    p = np.array(guess, dtype=np.float64)
    for _ in range(NEWTON_STEPS):
        g = np.array(model.mean(model.grad, *p))
        h11, h12, h22 = model.mean(model.hessian, *p)
        p = p - np.linalg.solve(np.array([[h11, h12], [h12, h22]]), g)
    h11, h12, h22 = model.mean(model.hessian, *p)
    gradient = np.hypot(*model.mean(model.grad, *p))
    if not (gradient < 1e-12 and h11 > 0 and h11 * h22 - h12 * h12 > 0):
        raise ArithmeticError(f"Newton's method from {guess} ended at {p} (|grad| {gradient:g}), not a minimum")
    return float(p[0]), float(p[1])


def model_function(name: str, formula: str, model: SampleLoss, guesses: tuple[Point, ...], *, domain: Box,
                   default_start: Point, default_steps: int, reference: str) -> TestFunction:
    """The TestFunction whose f is the mean of the model's loss, its minima polished from `guesses`."""

    @elementwise
    def value(p1, p2):
        return model.mean(model.loss, p1, p2)[0]

    @elementwise
    def grad(p1, p2):
        return model.mean(model.grad, p1, p2)

    @elementwise
    def hessian(p1, p2):
        return model.mean(model.hessian, p1, p2)

    points = tuple(_polished_minimum(model, guess) for guess in guesses)
    lowest = min(float(value(*p)) for p in points)
    return TestFunction(
        name=name, formula=formula, value=value, grad=grad, hessian=hessian, domain=domain,
        optimum=Minima(points=points, value=lowest, source="numerical"),
        default_start=default_start, default_steps=default_steps, log_scale=True, reference=reference,
        dataset=Dataset(size=model.size, batch_gradient=model.batch_gradient),
    )


# --- linear regression: y ~ w x + b, mean squared error ---

# Inputs away from 0 tie w to b (their mean is not zero), so the bowl is a tilted, elongated valley.
_LINEAR_RNG = np.random.default_rng(1001)
_LINEAR_X = _LINEAR_RNG.uniform(0.5, 3.0, 64)
_LINEAR_W, _LINEAR_B, _LINEAR_NOISE = 1.5, -1.0, 0.5
_LINEAR_Y = _LINEAR_W * _LINEAR_X + _LINEAR_B + _LINEAR_RNG.normal(0.0, _LINEAR_NOISE, 64)


def _linear_loss(w, b, x, y):
    return ((w * x + b - y) ** 2,)


def _linear_grad(w, b, x, y):
    r = w * x + b - y
    return 2 * r * x, 2 * r


def _linear_hessian(w, b, x, y):
    ones = np.ones(np.broadcast(w, b, x).shape)
    return 2 * x * x * ones, 2 * x * ones, 2 * ones


LINEAR_REGRESSION = model_function(
    "linear-regression", "mean over 64 points of (w x + b - y)^2   [x = w, y = b]",
    SampleLoss(_linear_loss, _linear_grad, _linear_hessian, (_LINEAR_X, _LINEAR_Y)),
    ((_LINEAR_W, _LINEAR_B),),
    domain=((-1.5, 4.5), (-4.0, 3.0)), default_start=(-1.0, 2.5), default_steps=300,
    reference="least squares on 64 noisy points of y = 1.5 x - 1, x uniform in [0.5, 3] (numpy seed 1001)",
)


# --- logistic regression: p(t = 1) = sigmoid(w1 x1 + w2 x2), mean cross-entropy ---

# Two overlapping Gaussian blobs (so the minimum is finite), features correlated (so the valley is tilted).
_LOGISTIC_RNG = np.random.default_rng(2002)
_LOGISTIC_MEANS = np.array([[-0.6, -0.3], [0.6, 0.3]])
_LOGISTIC_COVARIANCE = np.array([[1.0, 0.6], [0.6, 0.8]])
_LOGISTIC_T = np.repeat([0.0, 1.0], 32)
_LOGISTIC_X = np.concatenate([_LOGISTIC_RNG.multivariate_normal(m, _LOGISTIC_COVARIANCE, 32)
                              for m in _LOGISTIC_MEANS])


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # never overflows


def _logistic_loss(w1, w2, x1, x2, t):
    z = w1 * x1 + w2 * x2
    return (np.logaddexp(0.0, z) - t * z,)


def _logistic_grad(w1, w2, x1, x2, t):
    r = _sigmoid(w1 * x1 + w2 * x2) - t
    return r * x1, r * x2


def _logistic_hessian(w1, w2, x1, x2, t):
    p = _sigmoid(w1 * x1 + w2 * x2)
    s = p * (1.0 - p)
    return s * x1 * x1, s * x1 * x2, s * x2 * x2


LOGISTIC_REGRESSION = model_function(
    "logistic-regression", "mean over 64 points of log(1 + e^z) - t z, z = w1 x1 + w2 x2   [x = w1, y = w2]",
    SampleLoss(_logistic_loss, _logistic_grad, _logistic_hessian,
               (_LOGISTIC_X[:, 0], _LOGISTIC_X[:, 1], _LOGISTIC_T)),
    ((1.0, 0.5),),
    domain=((-3.0, 5.0), (-4.0, 4.0)), default_start=(-2.5, 3.0), default_steps=300,
    reference="cross-entropy of a linear classifier on two Gaussian blobs of 32 points (numpy seed 2002)",
)


# --- a tiny network: y ~ w2 tanh(w1 x), mean squared error ---

# f(w1, w2) = f(-w1, -w2) (tanh is odd): two mirror-image minima, and a saddle at the origin between them.
_NETWORK_RNG = np.random.default_rng(3003)
_NETWORK_X = _NETWORK_RNG.uniform(-2.0, 2.0, 64)
_NETWORK_W1, _NETWORK_W2, _NETWORK_NOISE = 1.5, 1.0, 0.1
_NETWORK_Y = _NETWORK_W2 * np.tanh(_NETWORK_W1 * _NETWORK_X) + _NETWORK_RNG.normal(0.0, _NETWORK_NOISE, 64)


def _network_loss(w1, w2, x, y):
    return ((w2 * np.tanh(w1 * x) - y) ** 2,)


def _network_grad(w1, w2, x, y):
    t = np.tanh(w1 * x)
    r = w2 * t - y
    return 2 * r * w2 * (1 - t * t) * x, 2 * r * t


def _network_hessian(w1, w2, x, y):
    t = np.tanh(w1 * x)
    s = 1 - t * t  # d tanh(u) / du
    r = w2 * t - y
    h11 = 2 * (w2 * s * x) ** 2 - 4 * r * w2 * t * s * x * x
    h12 = 2 * t * w2 * s * x + 2 * r * s * x
    return h11, h12, 2 * t * t


TINY_NETWORK = model_function(
    "tiny-network", "mean over 64 points of (w2 tanh(w1 x) - y)^2   [x = w1, y = w2]",
    SampleLoss(_network_loss, _network_grad, _network_hessian, (_NETWORK_X, _NETWORK_Y)),
    ((_NETWORK_W1, _NETWORK_W2), (-_NETWORK_W1, -_NETWORK_W2)),
    domain=((-3.0, 3.0), (-2.5, 2.5)), default_start=(2.2, -1.9), default_steps=300,
    reference="one tanh unit fitted to 64 noisy points of y = tanh(1.5 x), x uniform in [-2, 2] (numpy seed 3003)",
)

MODEL_FUNCTIONS = [LINEAR_REGRESSION, LOGISTIC_REGRESSION, TINY_NETWORK]
