"""Adam and AdamW, Adamax, NAdam and RAdam, step for step as torch.optim's single-tensor (CPU) code.

All five keep the same two exponential moving averages of the gradient g_t:

    m_t = β1 m_{t-1} + (1 - β1) g_t        (torch: exp_avg.lerp_(grad, 1 - β1))
    v_t = β2 v_{t-1} + (1 - β2) g_t²       (torch: exp_avg_sq.mul_(β2).addcmul_(grad, grad, value=1 - β2))

and differ in how they turn them into a step. The floating-point operations follow torch's order
(bias corrections as float64 scalars, `addcdiv` as `θ + (c * m) / d`, ...), so the paths agree with
torch.optim to rounding: about 1e-16 relative per step. Bitwise equality is out of reach for numpy,
because torch's CPU kernels fuse multiply-adds (lerp, addcmul, add with alpha) and its float64 sqrt
is off by one ulp about once in a hundred.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import NamedTuple

import numpy as np

from optviz.optimizers._common import decoupled_weight_decay as shrink_params
from optviz.optimizers._common import gradient_with_weight_decay, lerp
from optviz.optimizers.base import (
    MAXIMIZE,
    Array,
    Hyperparameter,
    OptimizerDef,
    Transform,
    at_least,
    each_in_interval,
    learning_rate,
    weight_decay,
)


def first_moment(exp_avg: Array, grad: Array, beta1) -> Array:
    """m_t = β1 m_{t-1} + (1 - β1) g_t, as torch's `exp_avg.lerp_(grad, 1 - beta1)`."""
    return lerp(exp_avg, grad, 1 - beta1)


def second_moment(exp_avg_sq: Array, grad: Array, beta2) -> Array:
    """v_t = β2 v_{t-1} + (1 - β2) g_t², as torch's `exp_avg_sq.mul_(β2).addcmul_(grad, grad, value=1 - β2)`."""
    return exp_avg_sq * beta2 + (1 - beta2) * grad * grad


def decay_weights(grad: Array, params: Array, lr, weight_decay, decoupled: bool,
                  maximize: bool) -> tuple[Array, Array]:
    """(g_t, θ'): the gradient the moments average and the parameters the step starts from.

    Coupled (an L2 penalty, Adam's default):  g_t = ±∇f(θ) + λ θ,   θ' = θ
    Decoupled (Loshchilov & Hutter 2019):     g_t = ±∇f(θ),         θ' = θ (1 - lr λ)
    """
    if decoupled:
        return gradient_with_weight_decay(grad, params, 0.0, maximize), shrink_params(params, lr, weight_decay)
    return gradient_with_weight_decay(grad, params, weight_decay, maximize), params


class AdamState(NamedTuple):
    exp_avg: Array  # m, (B, 2)
    exp_avg_sq: Array  # v, (B, 2)
    max_exp_avg_sq: Array  # running max of v (amsgrad only; stays zero otherwise), (B, 2)
    count: int  # steps taken so far


def make_adam(*, lr, betas, eps, weight_decay, amsgrad, maximize, decoupled_weight_decay) -> Transform:
    """torch.optim.Adam (Kingma & Ba 2015, "Adam: A Method for Stochastic Optimization").

        g_t, θ' from `decay_weights` (coupled, or decoupled as in AdamW)
        m_t, v_t as above;  v̂_t = max(v̂_{t-1}, v_t) with amsgrad (Reddi et al. 2018), else v_t
        θ_t = θ' - lr / (1 - β1^t) · m_t / (sqrt(v̂_t) / sqrt(1 - β2^t) + ε)
    """
    beta1, beta2 = betas

    def init(params: Array) -> AdamState:
        return AdamState(np.zeros_like(params), np.zeros_like(params), np.zeros_like(params), count=0)

    def update(grad: Array, state: AdamState, params: Array) -> tuple[Array, AdamState]:
        step = float(state.count + 1)
        g, params = decay_weights(grad, params, lr, weight_decay, decoupled_weight_decay, maximize)
        exp_avg = first_moment(state.exp_avg, g, beta1)
        exp_avg_sq = second_moment(state.exp_avg_sq, g, beta2)
        max_exp_avg_sq = np.maximum(state.max_exp_avg_sq, exp_avg_sq) if amsgrad else state.max_exp_avg_sq
        step_size = lr / (1 - beta1**step)
        bias_correction2_sqrt = (1 - beta2**step) ** 0.5
        denom = np.sqrt(max_exp_avg_sq if amsgrad else exp_avg_sq) / bias_correction2_sqrt + eps
        new_params = params + (-step_size * exp_avg) / denom
        return new_params, AdamState(exp_avg, exp_avg_sq, max_exp_avg_sq, state.count + 1)

    return Transform(init, update)


class AdamaxState(NamedTuple):
    exp_avg: Array  # m, (B, 2)
    exp_inf: Array  # u, the exponentially weighted infinity norm, (B, 2)
    count: int  # steps taken so far


def make_adamax(*, lr, betas, eps, weight_decay, maximize) -> Transform:
    """torch.optim.Adamax, Adam with the infinity norm (Kingma & Ba 2015, section 7.1).

        g_t = ±∇f(θ_{t-1}) + λ θ_{t-1}
        m_t as above;  u_t = max(β2 u_{t-1}, |g_t| + ε)
        θ_t = θ_{t-1} - lr / (1 - β1^t) · m_t / u_t
    """
    beta1, beta2 = betas

    def init(params: Array) -> AdamaxState:
        return AdamaxState(np.zeros_like(params), np.zeros_like(params), count=0)

    def update(grad: Array, state: AdamaxState, params: Array) -> tuple[Array, AdamaxState]:
        step = float(state.count + 1)
        g = gradient_with_weight_decay(grad, params, weight_decay, maximize)
        exp_avg = first_moment(state.exp_avg, g, beta1)
        exp_inf = np.maximum(state.exp_inf * beta2, np.abs(g) + eps)
        clr = lr / (1 - beta1**step)
        new_params = params + (-clr * exp_avg) / exp_inf
        return new_params, AdamaxState(exp_avg, exp_inf, state.count + 1)

    return Transform(init, update)


class NAdamState(NamedTuple):
    exp_avg: Array  # m, (B, 2)
    exp_avg_sq: Array  # v, (B, 2)
    mu_product: float  # Π_{i<=t} μ_i
    count: int  # steps taken so far


def make_nadam(*, lr, betas, eps, weight_decay, momentum_decay, decoupled_weight_decay, maximize) -> Transform:
    """torch.optim.NAdam, Adam with Nesterov momentum (Dozat 2016, "Incorporating Nesterov Momentum into Adam").

        g_t, θ' from `decay_weights`
        μ_t = β1 (1 - ½ · 0.96^(t ψ)),   ψ = momentum_decay
        m_t, v_t as above;  d_t = sqrt(v_t / (1 - β2^t)) + ε
        θ_t = θ' - lr (1 - μ_t) / (1 - Π_{i<=t} μ_i) · g_t / d_t
                 - lr μ_{t+1} / (1 - Π_{i<=t+1} μ_i) · m_t / d_t

    torch keeps the running product Π μ_i as a tensor of its default dtype; parity is defined with torch run
    entirely in float64 (`torch.set_default_dtype(torch.float64)`), so the product is a float64 here.
    """
    beta1, beta2 = betas

    def momentum_cache(step: float):
        return beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))

    def init(params: Array) -> NAdamState:
        return NAdamState(np.zeros_like(params), np.zeros_like(params), mu_product=1.0, count=0)

    def update(grad: Array, state: NAdamState, params: Array) -> tuple[Array, NAdamState]:
        step = float(state.count + 1)
        bias_correction2 = 1 - beta2**step
        g, params = decay_weights(grad, params, lr, weight_decay, decoupled_weight_decay, maximize)
        mu = momentum_cache(step)
        mu_next = momentum_cache(step + 1)
        mu_product = state.mu_product * mu  # torch's `mu_product *= mu`
        mu_product_next = mu_product * mu_next
        exp_avg = first_moment(state.exp_avg, g, beta1)
        exp_avg_sq = second_moment(state.exp_avg_sq, g, beta2)
        denom = np.sqrt(exp_avg_sq / bias_correction2) + eps
        new_params = params + (-lr * (1.0 - mu) / (1.0 - mu_product)) * g / denom
        new_params = new_params + ((-lr * mu_next) / (1.0 - mu_product_next)) * exp_avg / denom
        return new_params, NAdamState(exp_avg, exp_avg_sq, mu_product, state.count + 1)

    return Transform(init, update)


class RAdamState(NamedTuple):
    exp_avg: Array  # m, (B, 2)
    exp_avg_sq: Array  # v, (B, 2)
    count: int  # steps taken so far


def make_radam(*, lr, betas, eps, weight_decay, decoupled_weight_decay, maximize) -> Transform:
    """torch.optim.RAdam, Adam with a rectified adaptive step (Liu et al. 2020, "On the Variance of the
    Adaptive Learning Rate and Beyond").

        g_t, θ' from `decay_weights`;  m_t, v_t as above
        ρ_∞ = 2 / (1 - β2) - 1,   ρ_t = ρ_∞ - 2 t β2^t / (1 - β2^t)
        m̂_t = m_t / (1 - β1^t)
        θ_t = θ' - lr m̂_t · r_t sqrt(1 - β2^t) / (sqrt(v_t) + ε)   when ρ_t > 5,
              r_t = sqrt((ρ_t - 4)(ρ_t - 2) ρ_∞ / ((ρ_∞ - 4)(ρ_∞ - 2) ρ_t))
        θ_t = θ' - lr m̂_t                                            otherwise (plain momentum)
    """
    beta1, beta2 = betas
    rho_inf = 2 / (1 - beta2) - 1

    def init(params: Array) -> RAdamState:
        return RAdamState(np.zeros_like(params), np.zeros_like(params), count=0)

    def update(grad: Array, state: RAdamState, params: Array) -> tuple[Array, RAdamState]:
        step = float(state.count + 1)
        g, params = decay_weights(grad, params, lr, weight_decay, decoupled_weight_decay, maximize)
        exp_avg = first_moment(state.exp_avg, g, beta1)
        exp_avg_sq = second_moment(state.exp_avg_sq, g, beta2)
        bias_correction1 = 1 - beta1**step
        bias_correction2 = 1 - beta2**step
        bias_corrected_exp_avg = exp_avg / bias_correction1
        rho_t = rho_inf - 2 * step * (beta2**step) / bias_correction2
        if rho_t > 5.0:
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            # torch writes `bias_correction2**0.5 / tensor`, which it evaluates as reciprocal(tensor) * scalar
            adaptive_lr = (1 / (np.sqrt(exp_avg_sq) + eps)) * bias_correction2**0.5
            new_params = params - bias_corrected_exp_avg * lr * adaptive_lr * rect
        else:
            new_params = params - bias_corrected_exp_avg * lr
        return new_params, RAdamState(exp_avg, exp_avg_sq, state.count + 1)

    return Transform(init, update)


_BETAS = Hyperparameter("betas", (0.9, 0.999), "decay rates (β1, β2) of the moment averages m and v",
                        each_in_interval(0, 1))
_EPS = Hyperparameter("eps", 1e-8, "added to the denominator for numerical stability", at_least(0))
_WEIGHT_DECAY = weight_decay("L2 penalty (decoupled: shrink factor per unit lr)")
_DECOUPLED = Hyperparameter("decoupled_weight_decay", False,
                            "shrink the parameters directly (AdamW style) instead of adding λθ to the gradient")

adam = OptimizerDef(
    name="adam",
    summary="adaptive moment estimation: momentum divided by a running RMS of the gradient",
    reference="Kingma & Ba 2015, Adam: A Method for Stochastic Optimization; torch.optim.Adam",
    hyperparameters=(
        learning_rate(1e-3), _BETAS, _EPS, _WEIGHT_DECAY,
        Hyperparameter("amsgrad", False, "divide by the running maximum of v (Reddi et al. 2018)"),
        MAXIMIZE, _DECOUPLED,
    ),
    make=make_adam,
    torch_class="Adam",
)

# torch.optim.AdamW is Adam with decoupled_weight_decay=True fixed and weight_decay=1e-2 by default.
adamw = dataclasses.replace(
    adam,
    name="adamw",
    summary="Adam with decoupled weight decay",
    reference="Loshchilov & Hutter 2019, Decoupled Weight Decay Regularization; torch.optim.AdamW",
    hyperparameters=tuple(
        dataclasses.replace(h, default=1e-2) if h.name == "weight_decay" else h
        for h in adam.hyperparameters if h.name != "decoupled_weight_decay"
    ),
    make=functools.partial(make_adam, decoupled_weight_decay=True),
    torch_class="AdamW",
)

adamax = OptimizerDef(
    name="adamax",
    summary="Adam with the infinity norm in place of the RMS",
    reference="Kingma & Ba 2015, section 7.1; torch.optim.Adamax",
    hyperparameters=(learning_rate(2e-3), _BETAS, _EPS, _WEIGHT_DECAY, MAXIMIZE),
    make=make_adamax,
    torch_class="Adamax",
)

nadam = OptimizerDef(
    name="nadam",
    summary="Adam with Nesterov momentum",
    reference="Dozat 2016, Incorporating Nesterov Momentum into Adam; torch.optim.NAdam",
    hyperparameters=(
        learning_rate(2e-3), _BETAS, _EPS, _WEIGHT_DECAY,
        Hyperparameter("momentum_decay", 4e-3, "ψ in the momentum schedule μ_t = β1 (1 - ½ 0.96^(t ψ))",
                       at_least(0)),
        _DECOUPLED, MAXIMIZE,
    ),
    make=make_nadam,
    torch_class="NAdam",
)

radam = OptimizerDef(
    name="radam",
    summary="Adam with the adaptive step rectified while the variance estimate is unreliable",
    reference="Liu et al. 2020, On the Variance of the Adaptive Learning Rate and Beyond; torch.optim.RAdam",
    hyperparameters=(learning_rate(1e-3), _BETAS, _EPS, _WEIGHT_DECAY, _DECOUPLED, MAXIMIZE),
    make=make_radam,
    torch_class="RAdam",
)
