"""Stochastic gradient descent with optional (Nesterov) momentum, step for step as torch.optim.SGD.

Momentum and Nesterov are the same algorithm with other defaults (`OptimizerDef.preset`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import numpy as np

from optviz.optimizers._common import gradient_with_weight_decay
from optviz.optimizers.base import (
    MAXIMIZE,
    Array,
    Hyperparameter,
    OptimizerDef,
    Transform,
    at_least,
    learning_rate,
    weight_decay,
)


class SGDState(NamedTuple):
    momentum_buffer: Array  # (B, 2); zeros until the first step sets it
    count: int  # steps taken so far


def make_sgd(*, lr, momentum, dampening, weight_decay, nesterov, maximize) -> Transform:
    """torch.optim.SGD (single-tensor path).

        g_t = ±grad + weight_decay * θ_{t-1}                  (minus when maximize)
        b_1 = g_1;   b_t = momentum * b_{t-1} + (1 - dampening) * g_t    (when momentum != 0)
        d_t = g_t + momentum * b_t  if nesterov  else  b_t    (d_t = g_t when momentum == 0)
        θ_t = θ_{t-1} - lr * d_t

    Nesterov momentum follows Sutskever et al. 2013, "On the importance of initialization and
    momentum in deep learning", in torch's formulation.
    """

    def init(params: Array) -> SGDState:
        return SGDState(momentum_buffer=np.zeros_like(params), count=0)

    def update(grad: Array, state: SGDState, params: Array) -> tuple[Array, SGDState]:
        g = gradient_with_weight_decay(grad, params, weight_decay, maximize)
        buffer = state.momentum_buffer
        direction = g
        if np.any(momentum != 0):
            buffer = g.copy() if state.count == 0 else state.momentum_buffer * momentum + (1 - dampening) * g
            direction = g + momentum * buffer if nesterov else buffer
            # rows whose momentum is 0 (momentum given as an array) step on the plain gradient, as torch does
            direction = np.where(momentum != 0, direction, g)
        return params - lr * direction, SGDState(momentum_buffer=buffer, count=state.count + 1)

    return Transform(init, update)


def _nesterov_needs_momentum(params: Mapping) -> str | None:
    if params["nesterov"] and (params["momentum"] <= 0 or params["dampening"] != 0):
        return (f"nesterov=true needs momentum > 0 and dampening = 0 "
                f"(got momentum={params['momentum']:g}, dampening={params['dampening']:g})")
    return None


sgd = OptimizerDef(
    name="sgd",
    summary="plain gradient descent, optionally with (Nesterov) momentum",
    reference="Robbins & Monro 1951; torch.optim.SGD",
    hyperparameters=(
        learning_rate(1e-3),
        Hyperparameter("momentum", 0.0, "momentum factor (0 = none)", at_least(0)),
        Hyperparameter("dampening", 0.0, "dampening of the gradient's share of the momentum buffer"),
        weight_decay(),
        Hyperparameter("nesterov", False, "Nesterov momentum (needs momentum > 0, dampening = 0)"),
        MAXIMIZE,
    ),
    make=make_sgd,
    torch_class="SGD",
    cross_check=_nesterov_needs_momentum,
    aliases=("gd",),
)

momentum = sgd.preset("momentum", "gradient descent with heavy-ball momentum 0.9", momentum=0.9)

nesterov = sgd.preset("nesterov", "gradient descent with Nesterov momentum 0.9", momentum=0.9, nesterov=True)
