"""Step real torch.optim (float64) and optviz side by side, for the parity suites.

The torch side differentiates its own copy of each function with autograd; optviz uses its analytic
gradients. Agreement to 1e-9 relative at every step is the product's promise.
"""

from __future__ import annotations

import numpy as np
import pytest

from optviz.functions import FUNCTIONS
from optviz.optimizers import OPTIMIZERS

try:
    import torch
except ImportError:  # only the tests marked `requires_torch` need it; the rest of each module runs without
    torch = None

# Only the tests that step or construct torch are skipped without it (CI installs torch and requires it).
requires_torch = pytest.mark.skipif(torch is None, reason="needs torch (CI installs torch==2.13.0)")

# Parity is defined once: agreement with torch run entirely in float64, scalars and state included.
if torch is not None:
    torch.set_default_dtype(torch.float64)

# The same functions written in torch, independently of optviz's numpy code.
TORCH_FUNCTIONS = {
    "rosenbrock": lambda x, y: (1 - x) ** 2 + 100 * (y - x * x) ** 2,
    "beale": lambda x, y: ((1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2
                           + (2.625 - x + x * y**3) ** 2),
    "quadratic": lambda x, y: 0.5 * (x * x + 25 * y * y),
}

RELATIVE_TOLERANCE = 1e-9


def torch_path(optimizer_class, hyperparameters: dict, function: str, start, steps: int) -> np.ndarray:
    """Positions (steps + 1, 2) of torch.optim's `optimizer_class` stepping `function` from `start`."""
    f = TORCH_FUNCTIONS[function]
    p = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = optimizer_class([p], **hyperparameters)
    out = np.empty((steps + 1, 2))
    out[0] = start
    for i in range(steps):
        opt.zero_grad()
        f(p[0], p[1]).backward()
        opt.step()
        out[i + 1] = p.detach().numpy()
    return out


def optviz_path(optimizer: str, hyperparameters: dict, function: str, start, steps: int) -> np.ndarray:
    """Positions (steps + 1, 2) of optviz's transform, stepped directly (no engine, no freezing)."""
    definition = OPTIMIZERS.get(optimizer)
    transform = definition.build(definition.resolve(hyperparameters))
    fn = FUNCTIONS.get(function)
    params = np.array([start], dtype=np.float64)
    state = transform.init(params)
    out = np.empty((steps + 1, 2))
    out[0] = start
    for i in range(steps):
        params, state = transform.update(fn.gradient_at(params), state, params)
        out[i + 1] = params[0]
    return out


def assert_paths_agree(ours: np.ndarray, theirs: np.ndarray, rtol: float = RELATIVE_TOLERANCE) -> float:
    """Every step, both coordinates, within rtol relative (absolute near zero); returns the worst error."""
    assert ours.shape == theirs.shape
    assert np.all(np.isfinite(theirs)), "torch itself diverged: pick a stable configuration"
    scale = np.maximum(np.abs(theirs), 1.0)
    error = np.abs(ours - theirs) / scale
    worst = float(error.max())
    if worst > rtol:
        step, coord = np.unravel_index(int(error.argmax()), error.shape)
        raise AssertionError(
            f"diverges from torch at step {step}, coordinate {coord}: "
            f"optviz {ours[step, coord]!r} vs torch {theirs[step, coord]!r} (relative error {worst:.3g})"
        )
    return worst
