"""The stepping engine: every optimiser from every start, vectorised, float64, every step recorded.

Arrays are time-major, so recording step k is one contiguous write and a renderer reads frame k in one slice:

    positions[k, run, start] = (x, y) after k steps       shape (steps + 1, runs, starts, 2)
    losses[k, run, start]    = f at that position         shape (steps + 1, runs, starts)
    diverged_step[run, start] = first step whose value was non-finite or whose position left the
                                divergence box, or -1    shape (runs, starts)

A diverged run is frozen at its last good position (and loss) from that step on, and the others
carry on: divergence is a result, not an error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from optviz.functions import TestFunction
from optviz.optimizers import Transform

# A position farther than this many domain widths from the domain's centre counts as diverged.
DIVERGENCE_DOMAIN_WIDTHS = 1e6


@dataclass(frozen=True)
class Trajectories:
    positions: np.ndarray  # (steps + 1, runs, starts, 2)
    losses: np.ndarray  # (steps + 1, runs, starts)
    diverged_step: np.ndarray  # (runs, starts), -1 where the run never diverged

    @property
    def steps(self) -> int:
        return self.positions.shape[0] - 1


def divergence_box(function: TestFunction) -> tuple[np.ndarray, float]:
    """Centre of the function's domain and the largest distance (per coordinate) still counted as sane."""
    (xmin, xmax), (ymin, ymax) = function.domain
    centre = np.array([(xmin + xmax) / 2, (ymin + ymax) / 2])
    return centre, DIVERGENCE_DOMAIN_WIDTHS * max(xmax - xmin, ymax - ymin)


def step_batch(
    function: TestFunction, transform: Transform, starts: np.ndarray, steps: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Step one transform from a batch of starts (B, 2); returns time-major positions, losses, diverged_step.

    The transform's hyperparameters may themselves be batched (an lr of shape (B, 1)).
    """
    params = np.array(starts, dtype=np.float64, copy=True)
    batch = params.shape[0]
    positions = np.empty((steps + 1, batch, 2))
    losses = np.empty((steps + 1, batch))
    diverged_step = np.full(batch, -1, dtype=np.int64)
    centre, reach = divergence_box(function)

    with np.errstate(all="ignore"):
        state = transform.init(params)
        positions[0] = params
        losses[0] = function.value_at(params)
        active = np.isfinite(losses[0])
        diverged_step[~active] = 0
        for step in range(1, steps + 1):
            new_params, state = transform.update(function.gradient_at(params), state, params)
            loss = function.value_at(new_params)
            sane = np.isfinite(loss) & (np.abs(new_params - centre) <= reach).all(axis=1)
            if active.all() and sane.all():
                params = new_params
            else:
                newly_diverged = active & ~sane
                diverged_step[newly_diverged] = step
                active &= sane
                params = np.where(active[:, None], new_params, params)
                loss = np.where(active, loss, losses[step - 1])
            positions[step] = params
            losses[step] = loss
    return positions, losses, diverged_step


def run(
    function: TestFunction, transforms: Sequence[Transform], starts: np.ndarray, steps: int
) -> Trajectories:
    """Every transform from every start for `steps` steps."""
    starts = np.atleast_2d(np.asarray(starts, dtype=np.float64))
    results = [step_batch(function, transform, starts, steps) for transform in transforms]
    return Trajectories(
        positions=np.stack([positions for positions, _, _ in results], axis=1),
        losses=np.stack([losses for _, losses, _ in results], axis=1),
        diverged_step=np.stack([diverged for _, _, diverged in results], axis=0),
    )
