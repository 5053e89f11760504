"""Lion (EvoLved Sign Momentum): a sign update of an interpolated momentum. torch.optim has no Lion."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from optviz.optimizers._common import decoupled_weight_decay
from optviz.optimizers.base import (
    MAXIMIZE,
    Array,
    Hyperparameter,
    OptimizerDef,
    Transform,
    each_in_interval,
    learning_rate,
    weight_decay,
)


class LionState(NamedTuple):
    momentum: Array  # (B, 2), starts at zero


def make_lion(*, lr, betas, weight_decay, maximize) -> Transform:
    """Lion, Algorithm 2 of Chen et al. 2023, with decoupled weight decay.

        g_t = ±grad                                           (minus when maximize)
        c_t = β1 * m_{t-1} + (1 - β1) * g_t
        θ_t = θ_{t-1} * (1 - lr * weight_decay) - lr * sign(c_t)
        m_t = β2 * m_{t-1} + (1 - β2) * g_t

    Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms", arXiv:2302.06675.
    """
    beta1, beta2 = betas

    def init(params: Array) -> LionState:
        return LionState(np.zeros_like(params))

    def update(grad: Array, state: LionState, params: Array) -> tuple[Array, LionState]:
        g = -grad if maximize else grad
        interpolation = beta1 * state.momentum + (1 - beta1) * g
        new_params = decoupled_weight_decay(params, lr, weight_decay) - lr * np.sign(interpolation)
        return new_params, LionState(beta2 * state.momentum + (1 - beta2) * g)

    return Transform(init, update)


lion = OptimizerDef(
    name="lion",
    summary="steps of fixed size lr along the sign of an interpolated momentum",
    reference="Chen et al. 2023, arXiv:2302.06675 (not in torch.optim)",
    hyperparameters=(
        learning_rate(1e-4, "learning rate (the size of every step along each axis)"),
        Hyperparameter("betas", (0.9, 0.99), "interpolation (β1) and momentum (β2) factors", each_in_interval(0, 1)),
        weight_decay("decoupled weight decay: θ <- θ * (1 - lr * weight_decay)"),
        MAXIMIZE,
    ),
    make=make_lion,
    torch_class=None,
)
