"""Per-coordinate adaptive step sizes: Adagrad, RMSprop and Adadelta, step for step as torch.optim.

Each mirrors torch's single-tensor code path (the one torch takes on CPU), in the same order of
floating-point operations.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from optviz.optimizers._common import gradient_with_weight_decay, lerp
from optviz.optimizers.base import (
    MAXIMIZE,
    Array,
    Hyperparameter,
    OptimizerDef,
    Transform,
    at_least,
    in_interval,
    learning_rate,
    weight_decay,
)

# --- Adagrad ---


class AdagradState(NamedTuple):
    sum_of_squares: Array  # (B, 2), starts at initial_accumulator_value
    count: int  # steps taken so far


def make_adagrad(*, lr, lr_decay, weight_decay, initial_accumulator_value, eps, maximize) -> Transform:
    """torch.optim.Adagrad (single-tensor path).

        g_t = ±grad + weight_decay * θ_{t-1}                  (minus when maximize)
        η_t = lr / (1 + (t - 1) * lr_decay)
        s_t = s_{t-1} + g_t²                                  (s_0 = initial_accumulator_value)
        θ_t = θ_{t-1} - η_t * g_t / (√s_t + eps)

    Duchi, Hazan & Singer 2011, "Adaptive Subgradient Methods for Online Learning and Stochastic
    Optimization", JMLR 12.
    """

    def init(params: Array) -> AdagradState:
        return AdagradState(sum_of_squares=np.full_like(params, initial_accumulator_value), count=0)

    def update(grad: Array, state: AdagradState, params: Array) -> tuple[Array, AdagradState]:
        step = state.count + 1
        g = gradient_with_weight_decay(grad, params, weight_decay, maximize)
        decayed_lr = lr / (1 + (step - 1) * lr_decay)
        sum_of_squares = state.sum_of_squares + g * g
        std = np.sqrt(sum_of_squares) + eps
        return params - decayed_lr * g / std, AdagradState(sum_of_squares, step)

    return Transform(init, update)


adagrad = OptimizerDef(
    name="adagrad",
    summary="steps shrink with each coordinate's accumulated squared gradients",
    reference="Duchi, Hazan & Singer 2011, JMLR 12; torch.optim.Adagrad",
    hyperparameters=(
        learning_rate(1e-2),
        Hyperparameter("lr_decay", 0.0, "learning-rate decay: lr / (1 + (t - 1) * lr_decay)", at_least(0)),
        weight_decay(),
        Hyperparameter("initial_accumulator_value", 0.0, "starting value of the sum of squares", at_least(0)),
        Hyperparameter("eps", 1e-10, "added to the root of the sum of squares", at_least(0)),
        MAXIMIZE,
    ),
    make=make_adagrad,
    torch_class="Adagrad",
)


# --- RMSprop ---


class RMSpropState(NamedTuple):
    square_avg: Array  # (B, 2) running mean of g²
    grad_avg: Array  # (B, 2) running mean of g (used when centered)
    momentum_buffer: Array  # (B, 2) (used when momentum > 0)


def make_rmsprop(*, lr, alpha, eps, weight_decay, momentum, centered, maximize) -> Transform:
    """torch.optim.RMSprop (single-tensor path).

        g_t = ±grad + weight_decay * θ_{t-1}                  (minus when maximize)
        v_t = alpha * v_{t-1} + (1 - alpha) * g_t²
        m_t = alpha * m_{t-1} + (1 - alpha) * g_t             (centered only)
        a_t = √(v_t - m_t²) + eps  if centered  else  √v_t + eps
        b_t = momentum * b_{t-1} + g_t / a_t;  θ_t = θ_{t-1} - lr * b_t     (momentum > 0)
        θ_t = θ_{t-1} - lr * g_t / a_t                                      (momentum = 0)

    Hinton, Srivastava & Swersky 2012, Neural Networks for Machine Learning, lecture 6e;
    centered variant from Graves 2013, "Generating Sequences With Recurrent Neural Networks".
    """

    def init(params: Array) -> RMSpropState:
        return RMSpropState(np.zeros_like(params), np.zeros_like(params), np.zeros_like(params))

    def update(grad: Array, state: RMSpropState, params: Array) -> tuple[Array, RMSpropState]:
        g = gradient_with_weight_decay(grad, params, weight_decay, maximize)
        square_avg = state.square_avg * alpha + (1 - alpha) * g * g
        grad_avg = state.grad_avg
        if centered:
            grad_avg = lerp(grad_avg, g, 1 - alpha)
            avg = np.sqrt(square_avg - grad_avg * grad_avg) + eps
        else:
            avg = np.sqrt(square_avg) + eps
        buffer = state.momentum_buffer
        if np.any(momentum > 0):
            buffer = buffer * momentum + g / avg
            new_params = params - lr * buffer
        else:
            new_params = params - lr * g / avg
        return new_params, RMSpropState(square_avg, grad_avg, buffer)

    return Transform(init, update)


rmsprop = OptimizerDef(
    name="rmsprop",
    summary="divides the step by a running root-mean-square of the gradient",
    reference="Hinton, Srivastava & Swersky 2012, lecture 6e; torch.optim.RMSprop",
    hyperparameters=(
        learning_rate(1e-2),
        Hyperparameter("alpha", 0.99, "smoothing constant of the running mean of g²", at_least(0)),
        Hyperparameter("eps", 1e-8, "added to the root-mean-square", at_least(0)),
        weight_decay(),
        Hyperparameter("momentum", 0.0, "momentum factor (0 = none)", at_least(0)),
        Hyperparameter("centered", False, "normalise by the gradient's estimated variance instead"),
        MAXIMIZE,
    ),
    make=make_rmsprop,
    torch_class="RMSprop",
)


# --- Adadelta ---


class AdadeltaState(NamedTuple):
    square_avg: Array  # (B, 2) running mean of g²
    acc_delta: Array  # (B, 2) running mean of squared updates


def make_adadelta(*, lr, rho, eps, weight_decay, maximize) -> Transform:
    """torch.optim.Adadelta (single-tensor path).

        g_t = ±grad + weight_decay * θ_{t-1}                  (minus when maximize)
        v_t = rho * v_{t-1} + (1 - rho) * g_t²
        Δ_t = √(u_{t-1} + eps) / √(v_t + eps) * g_t
        u_t = rho * u_{t-1} + (1 - rho) * Δ_t²
        θ_t = θ_{t-1} - lr * Δ_t

    Zeiler 2012, "ADADELTA: An Adaptive Learning Rate Method", arXiv:1212.5701.
    """

    def init(params: Array) -> AdadeltaState:
        return AdadeltaState(np.zeros_like(params), np.zeros_like(params))

    def update(grad: Array, state: AdadeltaState, params: Array) -> tuple[Array, AdadeltaState]:
        g = gradient_with_weight_decay(grad, params, weight_decay, maximize)
        square_avg = state.square_avg * rho + (1 - rho) * g * g
        std = np.sqrt(square_avg + eps)
        delta = np.sqrt(state.acc_delta + eps) / std * g
        acc_delta = state.acc_delta * rho + (1 - rho) * delta * delta
        return params - lr * delta, AdadeltaState(square_avg, acc_delta)

    return Transform(init, update)


adadelta = OptimizerDef(
    name="adadelta",
    summary="RMSprop whose step size is a running RMS of past updates",
    reference="Zeiler 2012, arXiv:1212.5701; torch.optim.Adadelta",
    hyperparameters=(
        learning_rate(1.0, "scale applied to the update"),
        Hyperparameter("rho", 0.9, "smoothing constant of both running means", in_interval(0, 1, closed_high=True)),
        Hyperparameter("eps", 1e-6, "added inside both square roots", at_least(0)),
        weight_decay(),
        MAXIMIZE,
    ),
    make=make_adadelta,
    torch_class="Adadelta",
)
