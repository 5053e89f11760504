"""The stepping engine: every optimiser from every start, vectorised, float64, every step recorded.

Arrays are time-major, so recording step k is one contiguous write and a renderer reads frame k in one slice:

    positions[k, run, start] = (x[, y]) after k steps     shape (steps + 1, runs, starts, d)
    losses[k, run, start]    = f at that position         shape (steps + 1, runs, starts)
    diverged_step[run, start] = first step whose value was non-finite or whose position left the
                                divergence box, or -1    shape (runs, starts)

A diverged run is frozen at its last good position (and loss) from that step on, and the others
carry on: divergence is a result, not an error. A run whose start is already non-finite is diverged
at step 0 and stays at its start.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from optviz.functions import TestFunction
from optviz.optimizers import Transform

# A position farther than this many domain widths from the domain's centre counts as diverged.
DIVERGENCE_DOMAIN_WIDTHS = 1e6
# Below this many starts per thread, splitting a batch across threads costs more than it saves.
MIN_STARTS_PER_THREAD = 4096


@dataclass(frozen=True)
class Trajectories:
    positions: np.ndarray  # (steps + 1, runs, starts, d), d = function.dimensions
    losses: np.ndarray  # (steps + 1, runs, starts)
    diverged_step: np.ndarray  # (runs, starts), -1 where the run never diverged


def divergence_box(function: TestFunction) -> tuple[np.ndarray, float]:
    """Centre of the function's domain and the largest distance (per coordinate) still counted as sane."""
    low, high = np.asarray(function.domain, dtype=np.float64).T
    return (low + high) / 2, DIVERGENCE_DOMAIN_WIDTHS * float((high - low).max())


def step_batch(
    function: TestFunction, transform: Transform, starts: np.ndarray, steps: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Step one transform from a batch of starts (B, d); returns time-major positions, losses, diverged_step.

    The transform's hyperparameters may themselves be batched (an lr of shape (B, 1)).
    """
    batch = len(starts)
    positions, losses = np.empty((steps + 1, batch, function.dimensions)), np.empty((steps + 1, batch))
    diverged_step = np.empty(batch, dtype=np.int64)
    _step_into(function, transform, starts, positions, losses, diverged_step)
    return positions, losses, diverged_step


def _step_into(function: TestFunction, transform: Transform, starts: np.ndarray,
               positions: np.ndarray, losses: np.ndarray, diverged_step: np.ndarray) -> None:
    """The stepping loop, writing into caller-owned arrays (views of a larger record are fine)."""
    params = np.array(starts, dtype=np.float64, copy=True)
    diverged_step[:] = -1
    centre, reach = divergence_box(function)
    # Every coordinate inside [low, high] means every run is inside its box: a cheap check for the common case.
    low, high = centre.max() - reach, centre.min() + reach
    with np.errstate(all="ignore"):
        state = transform.init(params)
        positions[0] = params
        losses[0] = function.value_at(params)
        active = np.isfinite(losses[0])
        diverged_step[~active] = 0
        all_active = bool(active.all())
        for step in range(1, len(positions)):
            new_params, state = transform.update(function.gradient_at(params), state, params)
            loss = function.value_at(new_params)
            if all_active and np.isfinite(loss.sum()) and low <= new_params.min() and new_params.max() <= high:
                params = new_params  # the common case: every run sane, no masking needed
            else:
                offset = np.abs(new_params - centre)
                sane = np.isfinite(loss) & (offset.max(axis=1) <= reach)
                diverged_step[active & ~sane] = step
                active &= sane
                all_active = bool(active.all())
                params = np.where(active[:, None], new_params, params)
                loss = np.where(active, loss, losses[step - 1])
            positions[step] = params
            losses[step] = loss


def run(
    function: TestFunction, transforms: Sequence[Transform], starts: np.ndarray, steps: int
) -> Trajectories:
    """Every transform from every start for `steps` steps.

    Large batches of starts are split across the machine's cores: numpy releases the GIL inside its
    loops, so threads stepping disjoint slices of starts run in parallel, and each run's result is the
    same bits as stepping it alone. The transforms' hyperparameters must therefore be scalars (or
    broadcast over any slice of starts), as the registry builds them.
    """
    starts = np.asarray(starts, dtype=np.float64).reshape(-1, function.dimensions)
    n_runs, n_starts = len(transforms), len(starts)
    positions = np.empty((steps + 1, n_runs, n_starts, function.dimensions))
    losses = np.empty((steps + 1, n_runs, n_starts))
    diverged_step = np.empty((n_runs, n_starts), dtype=np.int64)
    workers = max(1, min(os.cpu_count() or 1, n_starts // MIN_STARTS_PER_THREAD))
    bounds = np.linspace(0, n_starts, workers + 1).astype(int)
    slices = [slice(begin, end) for begin, end in zip(bounds[:-1], bounds[1:])]
    jobs = [(r, part) for r in range(n_runs) for part in slices]

    def step_job(job: tuple[int, slice]) -> None:
        r, part = job
        _step_into(function, transforms[r], starts[part], positions[:, r, part], losses[:, r, part],
                   diverged_step[r, part])

    if workers == 1:
        for job in jobs:
            step_job(job)
    else:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(step_job, jobs))
    return Trajectories(positions, losses, diverged_step)
