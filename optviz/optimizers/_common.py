"""Numeric pieces shared by the optimisers, written operation for operation as torch.optim computes them.

Float hyperparameters may be Python floats or arrays broadcastable to (B, 1); `weight_decay` is skipped
only when it is zero everywhere, as torch skips it when it is 0.
"""

from __future__ import annotations

import numpy as np

Array = np.ndarray


def gradient_with_weight_decay(grad: Array, params: Array, weight_decay, maximize: bool) -> Array:
    """The gradient torch's optimisers work with: g <- (-g if maximize else g) + weight_decay * params.

    This is the coupled L2 penalty of torch's sgd, adagrad, rmsprop, adadelta and adam
    (`grad = grad.add(param, alpha=weight_decay)`, after `grad = -grad` when maximizing).
    """
    g = -grad if maximize else grad
    if _nonzero(weight_decay):
        g = g + weight_decay * params
    return g


def decoupled_weight_decay(params: Array, lr, weight_decay) -> Array:
    """Decoupled weight decay (Loshchilov & Hutter 2019): params <- params * (1 - lr * weight_decay).

    torch's adamw (`param.mul_(1 - lr * weight_decay)`) and lion shrink the parameters this way,
    before and independently of the gradient step.
    """
    if _nonzero(weight_decay):
        return params * (1 - lr * weight_decay)
    return params


def _nonzero(value) -> bool:
    """Whether a hyperparameter (a float, or an array of them) is non-zero anywhere; floats skip numpy's ~2 µs."""
    return value != 0 if isinstance(value, float | int) else bool(np.any(value != 0))


def lerp(start: Array, end: Array, weight) -> Array:
    """torch.lerp: start + weight * (end - start), computed from the nearer end as torch's kernel does.

    For weight < 0.5 torch evaluates start + weight * (end - start), otherwise
    end - (end - start) * (1 - weight); both are the same number up to rounding.
    """
    if isinstance(weight, float) or np.ndim(weight) == 0:  # one branch, as torch takes it (the usual case: beta is a plain float)
        return start + weight * (end - start) if weight < 0.5 else end - (end - start) * (1 - weight)
    return np.where(weight < 0.5, start + weight * (end - start), end - (end - start) * (1 - weight))
