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

With many starts it tunes on a deterministic, evenly spread sample of them (`tuning_sample`); it sees the race's
gradients (noise and minibatches of the same starts), and it keeps every step only while that fits in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from optviz.engine import EXACT, Gradients, step_batch
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
# At most this many starts are tuned on (spread evenly over the race's starts).
TUNING_STARTS = 16
# Above this many recorded points (candidates x starts x steps) only every k-th step is kept for criterion 2.
MAX_RECORDED_POINTS = 1 << 23


def tuning_sample(n_starts: int) -> np.ndarray:
    """Indices of the starts the tuner steps: all of them, or TUNING_STARTS spread evenly (first and last kept)."""
    if n_starts <= TUNING_STARTS:
        return np.arange(n_starts)
    return np.unique(np.linspace(0, n_starts - 1, TUNING_STARTS).round().astype(np.int64))


def tuning_work(n_starts: int, steps: int) -> int:
    """Point-steps one tuning takes (for progress displays)."""
    return len(LR_GRID) * len(tuning_sample(n_starts)) * steps


def _progress(function: TestFunction, losses: np.ndarray) -> np.ndarray:
    """Per candidate, averaged over starts: decades of loss gap removed, or the plain descent when
    the function is unbounded below."""
    if function.f_min is None:
        return (losses[0] - losses[-1]).mean(axis=1)
    floor = GAP_FLOOR * (1.0 + abs(function.f_min))
    log_gap = np.log10(np.maximum(losses - function.f_min, floor))
    return (log_gap[0] - log_gap[-1]).mean(axis=1)


def choose_candidate(function: TestFunction, losses: np.ndarray, positions: np.ndarray,
                     diverged_step: np.ndarray, max_step: np.ndarray, path_length: np.ndarray) -> int:
    """Index of the best candidate; records are laid out as (kept steps, candidates, starts[, d]), the
    reductions over every step (diverged_step, max_step, path_length) as (candidates, starts)."""
    candidates = np.arange(losses.shape[1])
    diverged = (diverged_step >= 0).any(axis=1)
    if not diverged.all():
        candidates = candidates[~diverged[candidates]]
    left_domain = (~inside_box(positions, function.domain)).mean(axis=(0, 2))
    candidates = candidates[left_domain[candidates] == left_domain[candidates].min()]
    low, high = np.asarray(function.domain, dtype=np.float64).T
    too_far = max_step.max(axis=1) / np.linalg.norm(high - low) - MAX_STEP_SHARE
    candidates = candidates[too_far[candidates] <= max(too_far[candidates].min(), 0.0)]

    with np.errstate(invalid="ignore"):  # inf - inf where the start itself was not finite: no progress
        progress = np.nan_to_num(_progress(function, losses), nan=-np.inf)
    best = progress[candidates].max()
    if best <= 0:  # nothing descended: at least do the least harm
        return int(candidates[np.argmax(progress[candidates])])
    candidates = candidates[progress[candidates] >= PROGRESS_SHARE * best]

    mean_path = path_length.mean(axis=1)
    return int(candidates[np.argmin(mean_path[candidates])])


def tune_learning_rate(
    function: TestFunction, definition: OptimizerDef, params: Mapping[str, Any], starts: np.ndarray, steps: int,
    gradients: Gradients = EXACT, progress: Callable[[int], None] | None = None,
) -> float:
    """The best lr on LR_GRID for this optimiser, function, set of starts (a sample of them), step budget and
    gradients."""
    sample = tuning_sample(len(starts))
    n_starts = len(sample)
    lr = np.repeat(LR_GRID, n_starts)[:, None]  # candidate-major: rows c*n_starts .. (c+1)*n_starts - 1
    transform = definition.build({**params, "lr": lr})
    record_every = -(-len(LR_GRID) * n_starts * (steps + 1) // MAX_RECORDED_POINTS)
    result = step_batch(function, transform, np.tile(starts[sample], (len(LR_GRID), 1)), steps, gradients=gradients,
                        start_indices=np.tile(sample, len(LR_GRID)), record_every=record_every,
                        progress=progress)
    shape = (len(LR_GRID), n_starts)
    best = choose_candidate(
        function,
        result.losses.reshape(-1, *shape),
        result.positions.reshape(-1, *shape, function.dimensions),
        result.diverged_step.reshape(shape),
        result.max_step.reshape(shape),
        result.path_length.reshape(shape),
    )
    return float(LR_GRID[best])
