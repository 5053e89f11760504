"""Choose a learning rate when the user gave none: a deterministic, vectorised search over a log grid.

torch's default learning rates are tuned for neural networks and often crawl (or explode) on these
landscapes, so a newcomer's `--opt adam,sgd` would show nothing. For each optimiser we step every
candidate lr from every start at once (one batched engine call, on at most MAX_TUNING_STARTS starts) for
the race's own step budget, and keep, in turn,

    1. the candidates that did not diverge (all of them, if every one did),
    2. of those, the ones that left the plotted domain least (the race must happen on screen) and
       whose largest single step stays under 10% of the domain's diagonal (the animation reads as a
       path, not as jumps across the picture),
    3. of those, the ones that end nearest the goal: the final loss gap f - f* (on a log scale, averaged
       over starts, floored so that runs which reached a global minimum tie) within TIE_DECADES of the
       best; when f is unbounded below, the ones descending at least 95% as far as the best,
    4. and pick the middle one of those on the grid: the ones below it arrive just in time (or, on a
       landscape with several minima, crawl into the nearest one), the ones above it are closest to
       overshooting, so the middle moves visibly and keeps a margin from both.

The choice depends on the step budget: a run of 5 steps is tuned to get as far as it can in 5 steps, and
picks a larger lr than a run of 300 steps, which can afford to arrive smoothly.
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
# Gaps below this (relative to 1 + |f*|) count as having reached the minimum; they tie on criterion 3.
GAP_FLOOR = 1e-10
# Criterion 2: no single step longer than this share of the domain's diagonal.
MAX_STEP_SHARE = 0.1
# Criterion 3: a final gap within this many decades of the best (about 5% larger) is as good as the best.
TIE_DECADES = 0.02
# Criterion 3 without f*: candidates descending at least this share of the best descent are as good as the best.
PROGRESS_SHARE = 0.95
# More starts than this are tuned on an evenly spaced subsample of them (the same one every time).
MAX_TUNING_STARTS = 64


def tuning_starts(starts: np.ndarray) -> np.ndarray:
    """The starts the tuner steps: all of them, or MAX_TUNING_STARTS spread evenly over their order."""
    if len(starts) <= MAX_TUNING_STARTS:
        return starts
    return starts[np.linspace(0, len(starts) - 1, MAX_TUNING_STARTS).round().astype(int)]


def _final_log_gap(function: TestFunction, losses: np.ndarray) -> np.ndarray:
    """Per candidate, averaged over starts: log10 of the final gap f - f*, floored at GAP_FLOOR."""
    floor = GAP_FLOOR * (1.0 + abs(function.f_min))
    return np.log10(np.maximum(losses[-1] - function.f_min, floor)).mean(axis=1)


def _closest_to_goal(function: TestFunction, losses: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """Criterion 3: the candidates that end as near the goal as the best one (all of them if none descended)."""
    with np.errstate(invalid="ignore"):  # inf - inf where the start itself was not finite: no progress
        if function.f_min is None:
            descent = np.nan_to_num((losses[0] - losses[-1]).mean(axis=1), nan=-np.inf)[candidates]
            best = descent.max()
            return candidates if best <= 0 else candidates[descent >= PROGRESS_SHARE * best]
        start_gap = np.nan_to_num(_final_log_gap(function, losses[:1]), nan=np.inf)[candidates]
        final_gap = np.nan_to_num(_final_log_gap(function, losses), nan=np.inf)[candidates]
    if not (final_gap < start_gap).any():  # nothing descended: at least do the least harm
        return candidates[final_gap == final_gap.min()]
    return candidates[final_gap <= final_gap.min() + TIE_DECADES]


def choose_candidate(function: TestFunction, losses: np.ndarray, positions: np.ndarray,
                     diverged_step: np.ndarray) -> int:
    """Index of the best candidate; arrays are laid out as (steps + 1, candidates, starts[, d]), candidates in
    increasing order of lr."""
    candidates = np.arange(losses.shape[1])
    diverged = (diverged_step >= 0).any(axis=1)
    if not diverged.all():
        candidates = candidates[~diverged[candidates]]
    left_domain = (~inside_box(positions, function.domain)).mean(axis=(0, 2))
    candidates = candidates[left_domain[candidates] == left_domain[candidates].min()]
    step_lengths = np.linalg.norm(np.diff(positions, axis=0), axis=-1)  # (steps, candidates, starts)
    low, high = np.asarray(function.domain, dtype=np.float64).T
    too_far = step_lengths.max(axis=(0, 2), initial=0.0) / np.linalg.norm(high - low) - MAX_STEP_SHARE
    candidates = candidates[too_far[candidates] <= max(too_far[candidates].min(), 0.0)]
    candidates = _closest_to_goal(function, losses, candidates)
    return int(candidates[(len(candidates) - 1) // 2])


def tune_learning_rate(
    function: TestFunction, definition: OptimizerDef, params: Mapping[str, Any], starts: np.ndarray, steps: int
) -> float:
    """The best lr on LR_GRID for this optimiser, function, set of starts and step budget."""
    starts = tuning_starts(np.asarray(starts, dtype=np.float64))
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
