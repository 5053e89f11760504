"""Gradient clipping as torch.nn.utils.clip_grad_norm_ and clip_grad_value_, one start point per row.

A batch of gradients has shape (B, d): row b is start b's whole parameter vector, so each row is clipped as
torch clips the gradients of one model:

    clip_by_norm:   n_b = ||g_b||_p   (p = norm_type; p = inf: max_i |g_bi|)
                    c_b = min(max_norm / (n_b + 1e-6), 1)
                    g_b <- g_b c_b                     (torch multiplies even when c_b = 1, so a row whose
                                                        norm is inf or nan becomes 0 and nan, or all nan)
    clip_by_value:  g_bi <- min(max(g_bi, -clip_value), clip_value)    (nan stays nan)

torch accepts any max_norm and clip_value; a negative one would flip or scramble the gradient and 0 would
freeze every start, so both must be finite and > 0 here. norm_type must be > 0 or inf (torch also computes
the "0-norm", a count of non-zero entries, which is no size of a gradient).

`clipped(transform, clipping)` is the combinator a run uses (optax style): the inner transform receives the
clipped gradient, exactly as `clip_grad_norm_(params, C)` before `optimizer.step()` (weight decay and the
rest of the step are the optimiser's, applied afterwards). Clipping happens only when asked, and then
shows in the run's label and JSON.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from optviz.errors import UsageError
from optviz.optimizers.base import Transform
from optviz.specs import format_number

# torch adds this to the norm before dividing (torch/nn/utils/clip_grad.py, _clip_grads_with_norm_)
NORM_EPSILON = 1e-6


def clip_by_norm(grad: np.ndarray, max_norm: float, norm_type: float = 2.0) -> np.ndarray:
    """Scale each row of `grad` (B, d) so its p-norm is at most about max_norm; a new array."""
    max_norm = _positive_finite(max_norm, "clip_norm")
    p = _norm_type(norm_type)
    magnitude = np.abs(grad)
    if math.isinf(p):
        norms = magnitude.max(axis=1, keepdims=True)
    else:
        norms = np.sum(magnitude**p, axis=1, keepdims=True) ** (1.0 / p)
    coefficient = np.minimum(max_norm / (norms + NORM_EPSILON), 1.0)
    with np.errstate(invalid="ignore"):  # inf * 0 = nan in a row whose norm is inf, as in torch
        return grad * coefficient


def clip_by_value(grad: np.ndarray, clip_value: float) -> np.ndarray:
    """Clamp every entry of `grad` into [-clip_value, clip_value]; a new array."""
    clip_value = _positive_finite(clip_value, "clip_value")
    return np.clip(grad, -clip_value, clip_value)


def _positive_finite(value: float, parameter: str) -> float:
    if not (isinstance(value, int | float | np.floating | np.integer) and not isinstance(value, bool)):
        raise UsageError(f"must be a number (got {value!r})", parameter=parameter)
    if not (math.isfinite(value) and value > 0):
        raise UsageError(f"must be a finite number > 0 (got {value!r})", parameter=parameter)
    return float(value)


def _norm_type(value: float) -> float:
    if not (isinstance(value, int | float | np.floating | np.integer) and not isinstance(value, bool)):
        raise UsageError(f"must be a number or inf (got {value!r})", parameter="norm_type")
    if not (value > 0 and (math.isfinite(value) or value == math.inf)):
        raise UsageError(f"must be > 0 or inf (got {value!r})", parameter="norm_type")
    return float(value)


@dataclass(frozen=True)
class Clipping:
    """One run's gradient clipping: by p-norm per start (`clip_norm`) or by value (`clip_value`)."""

    kind: str  # "clip_norm" or "clip_value", the option's name
    threshold: float
    norm_type: float = 2.0

    def apply(self, grad: np.ndarray) -> np.ndarray:
        if self.kind == "clip_norm":
            return clip_by_norm(grad, self.threshold, self.norm_type)
        return clip_by_value(grad, self.threshold)

    def label(self) -> str:
        """`clip_norm=1`, `clip_norm=1 (inf-norm)`, `clip_value=0.5`."""
        norm = f" ({format_number(self.norm_type)}-norm)" if self.kind == "clip_norm" and self.norm_type != 2 else ""
        return f"{self.kind}={format_number(self.threshold)}{norm}"

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {self.kind: self.threshold}
        if self.kind == "clip_norm":
            document["norm_type"] = self.norm_type
        return document


def make_clipping(clip_norm: float | None = None, clip_value: float | None = None,
                  norm_type: float = 2.0) -> Clipping | None:
    """The clipping the options ask for, validated; None when neither is given. One kind per run."""
    if clip_norm is not None and clip_value is not None:
        raise UsageError("give clip_norm or clip_value, not both", parameter="clip_value")
    if clip_norm is not None:
        return Clipping("clip_norm", _positive_finite(clip_norm, "clip_norm"), _norm_type(norm_type))
    if clip_value is not None:
        return Clipping("clip_value", _positive_finite(clip_value, "clip_value"))
    return None


def clipped(transform: Transform, clipping: Clipping) -> Transform:
    """`transform` stepping on the clipped gradient; state and everything it needs pass through unchanged, except
    that an oracle (a line search's extra evaluations) returns clipped gradients too: every gradient the optimiser
    sees is clipped the same way."""

    def update(grad: np.ndarray, state: Any, params: np.ndarray, **extras: Any) -> tuple[np.ndarray, Any]:
        if "oracle" in extras:
            extras = {**extras, "oracle": _clipped_oracle(extras["oracle"], clipping)}
        return transform.update(clipping.apply(grad), state, params, **extras)

    return Transform(transform.init, update, transform.needs)


def _clipped_oracle(oracle: Any, clipping: Clipping) -> Any:
    def clipped_oracle(points: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        values, grads = oracle(points, rows)
        return values, clipping.apply(grads)

    return clipped_oracle
