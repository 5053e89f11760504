"""The calling convention every test-function formula shares: float64 inputs of one broadcast shape."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

import numpy as np

Formula = TypeVar("Formula", bound=Callable)


def elementwise(formula: Formula) -> Formula:
    """Call `formula(x, y)` with x and y as float64 arrays broadcast to their common shape.

    Scalars become 0-d arrays and mixed shapes such as (n, 1) and (1, m) become (n, m), so every
    output of the formula, even one that depends on x alone or is a constant built with
    `np.full_like(x, c)`, has the broadcast shape and dtype float64.
    """

    @functools.wraps(formula)
    def on_broadcast_floats(x, y):
        if type(x) is type(y) is np.ndarray and x.shape == y.shape and x.dtype == y.dtype == np.float64:
            return formula(x, y)  # already what the formula takes (the engine's case); saves ~3 µs a call
        x, y = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
        return formula(x, y)

    return on_broadcast_floats  # type: ignore[return-value]
