"""Choose a learning rate when the user gave none: a deterministic, vectorised search over a log grid.

torch's default learning rates are tuned for neural networks and often crawl (or explode) on these
landscapes, so a newcomer's `--opt adam,sgd` would show nothing. For each optimiser we step every
candidate lr from every start at once (one batched engine call) and keep, in turn,

    1. the candidates that did not diverge (all of them, if every one did),
    2. of those, the ones that left the plotted domain least (the race must happen on screen) and
       whose largest single step stays under 5% of the domain's diagonal (the animation reads as a
       path, not as jumps across the picture),
    3. of those, the ones that made at least 95% of the best progress, measured in decades of loss
       gap f - f_min removed (floored, so candidates that converged tie), or in plain descent of f
       when the function is unbounded below,
    4. and pick the one with the shortest path: it gets there as well, without wild overshoots.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from optviz.engine import step_batch
from optviz.functions import TestFunction
from optviz.functions.base import inside_box
from optviz.optimizers import OptimizerDef

# 10^-8 .. 10^2, four candidates per decade (steep functions such as goldstein-price need tiny steps).
LR_GRID = np.logspace(-8.0, 2.0, 41)
# Gaps below this (relative to 1 + |f_min|) count as converged; they tie on criterion 3.
GAP_FLOOR = 1e-10
# Criterion 2: no single step longer than this share of the domain's diagonal.
MAX_STEP_SHARE = 0.05
# Criterion 3: candidates making at least this share of the best progress are as good as the best.
PROGRESS_SHARE = 0.95


def _progress(function: TestFunction, losses: np.ndarray) -> np.ndarray:
    """Per candidate, averaged over starts: decades of loss gap removed, or the plain descent when
    the function is unbounded below."""
    if function.f_min is None:
        return (losses[0] - losses[-1]).mean(axis=1)
    floor = GAP_FLOOR * (1.0 + abs(function.f_min))
    log_gap = np.log10(np.maximum(losses - function.f_min, floor))
    return (log_gap[0] - log_gap[-1]).mean(axis=1)


def choose_candidate(function: TestFunction, losses: np.ndarray, positions: np.ndarray,
                     diverged_step: np.ndarray) -> int:
    """Index of the best candidate; arrays are laid out as (steps + 1, candidates, starts[, 2])."""
    candidates = np.arange(losses.shape[1])
    diverged = (diverged_step >= 0).any(axis=1)
    if not diverged.all():
        candidates = candidates[~diverged[candidates]]
    left_domain = (~inside_box(positions, function.domain)).mean(axis=(0, 2))
    candidates = candidates[left_domain[candidates] == left_domain[candidates].min()]
    step_lengths = np.linalg.norm(np.diff(positions, axis=0), axis=-1)  # (steps, candidates, starts)
    low, high = np.asarray(function.domain, dtype=np.float64).T
    too_far = step_lengths.max(axis=(0, 2)) / np.linalg.norm(high - low) - MAX_STEP_SHARE
    candidates = candidates[too_far[candidates] <= max(too_far[candidates].min(), 0.0)]

    with np.errstate(invalid="ignore"):  # inf - inf where the start itself was not finite: no progress
        progress = np.nan_to_num(_progress(function, losses), nan=-np.inf)
    best = progress[candidates].max()
    if best <= 0:  # nothing descended: at least do the least harm
        return int(candidates[np.argmax(progress[candidates])])
    candidates = candidates[progress[candidates] >= PROGRESS_SHARE * best]

    path_length = step_lengths.sum(axis=0).mean(axis=1)
    return int(candidates[np.argmin(path_length[candidates])])


def tune_learning_rate(
    function: TestFunction, definition: OptimizerDef, params: Mapping[str, Any], starts: np.ndarray, steps: int
) -> float:
    """The best lr on LR_GRID for this optimiser, function, set of starts and step budget."""
    n_starts = len(starts)
    lr = np.repeat(LR_GRID, n_starts)[:, None]  # candidate-major: rows c*n_starts .. (c+1)*n_starts - 1
    transform = definition.build({**params, "lr": lr})
    positions, losses, diverged_step = step_batch(function, transform, np.tile(starts, (len(LR_GRID), 1)), steps)
    shape = (len(LR_GRID), n_starts)
    best = choose_candidate(
        function,
        losses.reshape(steps + 1, *shape),
        positions.reshape(steps + 1, *shape, function.dimensions),
        diverged_step.reshape(shape),
    )
    return float(LR_GRID[best])
