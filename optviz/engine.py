"""The stepping engine: every optimiser from every start, vectorised, float64.

Arrays are time-major, so recording step k is one contiguous write and a renderer reads frame k in one slice.
`steps_kept` lists the steps recorded (every step, every k-th, or only the start and the end; the last step is
always kept):

    positions[i, run, start] = (x[, y]) after steps_kept[i] steps     shape (kept, runs, starts, d)
    losses[i, run, start]    = f at that position                     shape (kept, runs, starts)
    evaluations[i, run, start] = evaluations of f and its gradient so far   shape (kept, runs, starts)
    diverged_step[run, start] = first step whose value was non-finite or whose position left the
                                divergence box, or -1                 shape (runs, starts)

What the statistics need from every step is reduced while stepping, so it needs no full record:
`best_loss`, `path_length`, `max_step` (the longest single step) and `converged_step` (the first step from which
f - f_min stays within CONVERGENCE_TOLERANCE, -1 if it never settles or f_min is unknown), each (runs, starts).

A diverged run is frozen at its last good position (and loss) from that step on, and the others carry on:
divergence is a result, not an error. A run whose start is already non-finite is diverged at step 0 and stays
at its start.

The gradient an optimiser sees is the function's exact gradient, or a minibatch gradient (`batch_size`, for
functions with a dataset), plus Gaussian noise (`noise`). Every random draw is a function of (seed, start index,
step) alone, from numpy's counter-based Philox generator (key: seed and step, counter: start index), so every
optimiser sees the same noise and the same batches at the same start and step, whatever else is in the batch.

Optimisers declare what they need beyond the gradient (`Transform.needs`): "value" gets `value=`, f at the current
parameters (where `grad` was taken: the previous step's loss, which costs nothing more), and `oracle=`, a callable
evaluating f and this step's gradient at extra points for given rows (each point counted as an evaluation);
"hessian" gets `hessian=`, the Hessian at the current parameters. So a step's evaluations are one (value and
gradient at the parameters) plus the oracle's points, which is what torch.optim.LBFGS counts in `func_evals`.

Every optimiser steps in lockstep with the others, so f and its gradient are evaluated once per step for all of
them (the noise and batches are per start and step, so sharing them is exact). Stepping goes in blocks of a few
steps: the divergence check, the record and the reductions run once per block over the whole block, so the
per-step cost is the function, its gradient and the optimisers' updates.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from optviz.errors import UsageError
from optviz.functions import TestFunction
from optviz.optimizers import Transform

# A position farther than this many domain widths from the domain's centre counts as diverged.
DIVERGENCE_DOMAIN_WIDTHS = 1e6
# Below this many starts per thread, splitting a batch across threads costs more than it saves.
MIN_STARTS_PER_THREAD = 4096
# A run has converged from the first step after which f - f_min stays within this (relative to 1 + |f_min|).
CONVERGENCE_TOLERANCE = 1e-6
# Steps per block: up to MAX_BLOCK_STEPS, fewer for large batches so a block holds about BLOCK_POINTS points.
MAX_BLOCK_STEPS = 64
BLOCK_POINTS = 1 << 18
# Philox keys: (seed, 2 * step + stream), so noise and batch draws never share numbers.
_NOISE_STREAM, _BATCH_STREAM = 0, 1

# Evaluation counts: 4 bytes a point-step in a full record (2^31 evaluations is 20,000 times the longest budget).
EVALUATION_COUNT = np.int32

Progress = Callable[[int, int], None]  # progress(point-steps done, point-steps in all)


@dataclass(frozen=True)
class Gradients:
    """What gradient the optimisers see: exact (the defaults), minibatch and/or noisy, drawn from `seed`."""

    noise: float = 0.0  # standard deviation of the Gaussian noise added to every gradient component
    batch_size: int | None = None  # data points per minibatch; None = the full batch (the exact gradient)
    seed: int = 0

    def check(self, function: TestFunction) -> Gradients:
        """Refuse what cannot be done; return self."""
        if isinstance(self.noise, bool) or not isinstance(self.noise, int | float) or not (
                math.isfinite(self.noise) and self.noise >= 0):
            raise UsageError(f"must be a finite number >= 0 (got {self.noise!r})", parameter="noise")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int | np.integer) or not 0 <= self.seed < 2**63:
            raise UsageError(f"must be a whole number >= 0 (got {self.seed!r})", parameter="seed")
        if self.batch_size is not None:
            if function.dataset is None:
                raise UsageError(f"{function.name} is not a mean over data points; minibatches need a function "
                                 "with a dataset (such as linear-regression)", parameter="batch_size")
            size = function.dataset.size
            if isinstance(self.batch_size, bool) or not isinstance(self.batch_size, int | np.integer) or not (
                    1 <= self.batch_size <= size):
                raise UsageError(f"must be a whole number from 1 to {size}, the dataset's size "
                                 f"(got {self.batch_size!r})", parameter="batch_size")
        return self

    @property
    def exact(self) -> bool:
        return self.noise == 0 and self.batch_size is None

    def gradient(self, function: TestFunction, points: np.ndarray, starts: np.ndarray, step: int) -> np.ndarray:
        """The gradient step `step` sees at `points` (n, d), row i belonging to start index starts[i]."""
        if self.batch_size is None:
            grad = function.gradient_at(points)
        else:
            batches = minibatches(self.seed, step, starts, function.dataset.size, self.batch_size)
            grad = function.dataset.batch_gradient(points, batches)
        if self.noise:
            grad = grad + self.noise * gaussian_noise(self.seed, step, starts, function.dimensions)
        return grad


EXACT = Gradients()


def _raw_draws(seed: int, step: int, stream: int, starts: np.ndarray, blocks: int) -> np.ndarray:
    """(n, 4 * blocks) uint64: Philox blocks start * blocks .. (start + 1) * blocks - 1 of key (seed, step)."""
    low, high = int(starts.min()), int(starts.max()) + 1
    generator = np.random.Philox(key=np.array([seed, 2 * step + stream], dtype=np.uint64), counter=low * blocks)
    raw = generator.random_raw((high - low) * blocks * 4).reshape(high - low, blocks * 4)
    return raw[starts - low]


def _uniform(raw: np.ndarray) -> np.ndarray:
    """uint64 -> float64 in [0, 1), from the top 53 bits."""
    return (raw >> np.uint64(11)).astype(np.float64) * 2.0**-53


def gaussian_noise(seed: int, step: int, starts: np.ndarray, dimensions: int) -> np.ndarray:
    """(n, d) standard normal draws, row i a function of (seed, step, starts[i]) only (Box-Muller)."""
    starts = np.asarray(starts, dtype=np.int64)
    blocks = -(-dimensions // 4)  # each Philox block gives 4 uniforms = 2 Box-Muller pairs = 4 normals
    u = _uniform(_raw_draws(seed, step, _NOISE_STREAM, starts, blocks))
    radius = np.sqrt(-2.0 * np.log1p(-u[:, 0::2]))
    angle = 2.0 * np.pi * u[:, 1::2]
    normals = np.concatenate([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    return normals[:, :dimensions]


def minibatches(seed: int, step: int, starts: np.ndarray, size: int, batch_size: int) -> np.ndarray:
    """(n, batch_size) distinct data indices per row, a uniform draw without replacement from (seed, step, start)."""
    starts = np.asarray(starts, dtype=np.int64)
    keys = _raw_draws(seed, step, _BATCH_STREAM, starts, -(-size // 4))[:, :size]
    return np.sort(np.argsort(keys, axis=1, kind="stable")[:, :batch_size], axis=1)


def kept_steps(steps: int, record_every: int | None) -> np.ndarray:
    """The steps recorded: 0, k, 2k, ... and always the last; only 0 and the last when record_every is None."""
    if record_every is None:
        return np.unique([0, steps])
    if record_every < 1:
        raise ValueError("record_every must be >= 1 or None")
    return np.unique(np.append(np.arange(0, steps + 1, record_every), steps))


@dataclass(frozen=True)
class Trajectories:
    positions: np.ndarray  # (kept, runs, starts, d), d = function.dimensions
    losses: np.ndarray  # (kept, runs, starts)
    diverged_step: np.ndarray  # (runs, starts), -1 where the run never diverged
    steps_kept: np.ndarray = field(default=None)  # (kept,) step numbers; default every step
    evaluations: np.ndarray = field(default=None)  # (kept, runs, starts); default one per step
    best_loss: np.ndarray = field(default=None)  # (runs, starts)
    path_length: np.ndarray = field(default=None)  # (runs, starts)
    converged_step: np.ndarray = field(default=None)  # (runs, starts), -1 = never (or f_min unknown)
    max_step: np.ndarray = field(default=None)  # (runs, starts), the longest single step's length

    def __post_init__(self) -> None:
        """Fill what a full record given by hand implies (the engine always passes every field)."""
        kept = len(self.losses)
        defaults = {
            "steps_kept": lambda: np.arange(kept),
            "evaluations": lambda: np.broadcast_to(np.arange(kept)[:, None, None], self.losses.shape),
            "best_loss": lambda: self.losses.min(axis=0),
            "path_length": lambda: np.linalg.norm(np.diff(self.positions, axis=0), axis=-1).sum(axis=0),
            "converged_step": lambda: np.full(self.diverged_step.shape, -1),
            "max_step": lambda: np.linalg.norm(np.diff(self.positions, axis=0), axis=-1).max(axis=0, initial=0.0),
        }
        for name, make in defaults.items():
            if getattr(self, name) is None:
                object.__setattr__(self, name, make())

    @property
    def every_step(self) -> bool:
        return len(self.steps_kept) == int(self.steps_kept[-1]) + 1


def divergence_box(function: TestFunction) -> tuple[np.ndarray, float]:
    """Centre of the function's domain and the largest distance (per coordinate) still counted as sane."""
    low, high = np.asarray(function.domain, dtype=np.float64).T
    return (low + high) / 2, DIVERGENCE_DOMAIN_WIDTHS * float((high - low).max())


def step_batch(
    function: TestFunction, transform: Transform, starts: np.ndarray, steps: int, *,
    gradients: Gradients = EXACT, start_indices: np.ndarray | None = None, record_every: int | None = 1,
    progress: Callable[[int], None] | None = None,
) -> Trajectories:
    """Step one transform from a batch of starts (B, d): a Trajectories with one run. `start_indices` (B,) says
    which start each row is, for the noise and batch draws (default 0 .. B - 1). `progress(point_steps)` is called
    with the work of each block of steps.

    The transform's hyperparameters may themselves be batched (an lr of shape (B, 1)).
    """
    starts = np.asarray(starts, dtype=np.float64).reshape(-1, function.dimensions)
    rows = np.arange(len(starts)) if start_indices is None else np.asarray(start_indices, dtype=np.int64)
    record = _Record.empty(kept_steps(steps, record_every), 1, len(starts), function.dimensions)
    _step_into(function, [transform], starts, rows, steps, gradients, record.view(slice(None)), progress)
    return record.trajectories()


@dataclass(frozen=True)
class _Record:
    """The arrays a run writes (or a view of them: one run, a slice of starts)."""

    steps_kept: np.ndarray
    positions: np.ndarray
    losses: np.ndarray
    evaluations: np.ndarray
    diverged_step: np.ndarray
    best_loss: np.ndarray
    path_length: np.ndarray
    converged_step: np.ndarray
    max_step: np.ndarray

    @classmethod
    def empty(cls, steps_kept: np.ndarray, runs: int, starts: int, dimensions: int) -> _Record:
        kept = len(steps_kept)
        return cls(steps_kept, np.empty((kept, runs, starts, dimensions)), np.empty((kept, runs, starts)),
                   np.empty((kept, runs, starts), dtype=EVALUATION_COUNT), np.empty((runs, starts), dtype=np.int64),
                   np.empty((runs, starts)), np.empty((runs, starts)), np.empty((runs, starts), dtype=np.int64),
                   np.empty((runs, starts)))

    def view(self, part: slice) -> _Record:
        """Every run, the starts in `part`."""
        return _Record(self.steps_kept, self.positions[:, :, part], self.losses[:, :, part],
                       self.evaluations[:, :, part], self.diverged_step[:, part], self.best_loss[:, part],
                       self.path_length[:, part], self.converged_step[:, part], self.max_step[:, part])

    def trajectories(self) -> Trajectories:
        return Trajectories(self.positions, self.losses, self.diverged_step, self.steps_kept, self.evaluations,
                            self.best_loss, self.path_length, self.converged_step, self.max_step)


def _step_into(function: TestFunction, transforms: Sequence[Transform], starts: np.ndarray, rows: np.ndarray,
               steps: int, gradients: Gradients, out: _Record, progress: Callable[[int], None] | None) -> None:
    """The stepping loop: every transform from a batch of starts (rows: their start indices), writing into `out`
    (runs, starts). The transforms step in lockstep, so f and its gradient are evaluated once per step for all of
    them: internally row r * B + b is transform r from start b."""
    n_runs, batch = len(transforms), len(starts)
    size = n_runs * batch
    params = np.tile(np.asarray(starts, dtype=np.float64), (n_runs, 1))
    parts = [slice(r * batch, (r + 1) * batch) for r in range(n_runs)]
    all_rows = np.tile(rows, n_runs)
    centre, reach = divergence_box(function)
    # Every coordinate inside [low, high] means every run is inside its box: a cheap check for the common case.
    low, high = centre.max() - reach, centre.min() + reach
    f_min = function.f_min
    tolerance = CONVERGENCE_TOLERANCE * (1.0 + abs(f_min)) if f_min is not None else math.inf
    block_steps = max(1, min(MAX_BLOCK_STEPS, BLOCK_POINTS // max(size, 1)))
    block_positions = np.empty((block_steps, size, function.dimensions))
    block_losses = np.empty((block_steps, size))
    block_segments = np.empty_like(block_positions)
    block_evaluations = np.empty((block_steps, size), dtype=EVALUATION_COUNT)
    block_extra = np.empty((block_steps, size), dtype=np.int64)
    kept = out.steps_kept
    every_step = len(kept) == steps + 1
    buffers = block_positions, block_losses, block_evaluations
    extra = np.zeros(size, dtype=np.int64)  # evaluations by the oracles so far, per row
    step = 0  # the step whose gradient the oracles give

    def oracle_for(part: slice) -> Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
        def oracle(points: np.ndarray, which: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            which = np.asarray(which, dtype=np.int64)
            np.add.at(extra, part.start + which, 1)
            return function.value_at(points), gradients.gradient(function, points, rows[which], step)

        return oracle

    oracles = [oracle_for(part) if "value" in t.needs else None for t, part in zip(transforms, parts)]
    wants_hessian = ["hessian" in t.needs for t in transforms]
    wants_oracle = any(o is not None for o in oracles)
    exact = gradients.exact
    one = n_runs == 1
    with np.errstate(all="ignore"):
        states = [t.init(params[part]) for t, part in zip(transforms, parts)]
        loss = np.array(function.value_at(params), dtype=np.float64)
        active = np.isfinite(loss)
        diverged_step = np.where(active, -1, 0)
        all_active = bool(active.all())
        _write(out, 0, params, loss, np.zeros(size, dtype=np.int64), n_runs, batch)
        last_positions, last_losses = params.copy(), loss.copy()
        last_evaluations = np.zeros(size, dtype=np.int64)
        best_loss, path_length, max_step = loss.copy(), np.zeros(size), np.zeros(size)
        last_outside = np.where(np.abs(loss - f_min) <= tolerance, -1, 0) if f_min is not None else 0
        record_at = 1
        grad = None
        value = loss  # f at params, for the transforms that need it
        first = 1
        while first <= steps:
            count = min(block_steps, steps - first + 1)
            direct = _direct_views(out, first, count, size) if every_step else None
            # the block is written straight into the record where it can be (no copy), else into buffers
            block_positions, block_losses, block_evaluations = direct if direct is not None else buffers
            for i in range(count):
                step = first + i
                if exact:
                    grad = function.gradient_at(params) if grad is None else grad
                else:
                    grad = gradients.gradient(function, params, all_rows, step)
                if one and not wants_oracle and not wants_hessian[0]:  # the common case, without slicing
                    params, states[0] = transforms[0].update(grad, states[0], params)
                else:
                    news = []
                    for r, part in enumerate(parts):
                        extras = {}
                        if oracles[r] is not None:
                            extras["value"], extras["oracle"] = value[part], oracles[r]
                        if wants_hessian[r]:
                            extras["hessian"] = function.hessian_at(params[part])
                        new, states[r] = transforms[r].update(grad[part], states[r], params[part], **extras)
                        news.append(new)
                    params = news[0] if one else np.concatenate(news)
                block_positions[i] = params
                if exact and step < steps:
                    block_losses[i], grad = function.value_and_gradient_at(params)
                else:
                    block_losses[i], grad = function.value_at(params), None
                if wants_oracle:
                    block_extra[i] = extra
                    value = block_losses[i].copy()
            positions, losses, evals = block_positions[:count], block_losses[:count], block_evaluations[:count]
            # one evaluation per step, plus the oracles' (diverged rows are frozen below)
            np.add(np.arange(first, first + count)[:, None], block_extra[:count] if wants_oracle else extra[None],
                   out=evals)
            if not (all_active and np.isfinite(losses.sum()) and low <= positions.min() and positions.max() <= high):
                all_active = _freeze_diverged(positions, losses, evals, (last_positions, last_losses,
                                              last_evaluations), active, first, centre, reach, diverged_step)
                if not all_active:  # diverged rows restart each block from their frozen state
                    params = np.where(active[:, None], params, positions[-1])
                    value = losses[-1].copy()  # their frozen loss, the value at their frozen position
                    grad = None
            segments = block_segments[:count]
            np.subtract(positions[:1], last_positions, out=segments[:1])
            np.subtract(positions[1:], positions[:-1], out=segments[1:])
            lengths = _lengths(segments)
            path_length += lengths.sum(axis=0)
            np.maximum(max_step, lengths.max(axis=0), out=max_step)
            np.minimum(best_loss, losses.min(axis=0), out=best_loss)
            if f_min is not None:
                outside = ~(np.abs(losses - f_min) <= tolerance)
                last = count - 1 - np.argmax(outside[::-1], axis=0)
                last_outside = np.where(outside.any(axis=0), first + last, last_outside)
            until = int(np.searchsorted(kept, first + count))  # the kept steps inside this block, written at once
            if direct is not None:
                record_at = until
            elif until > record_at:
                offsets = kept[record_at:until] - first
                if offsets[-1] - offsets[0] == len(offsets) - 1:  # every step of a stretch: a view, one copy
                    offsets = slice(int(offsets[0]), int(offsets[-1]) + 1)
                _write(out, slice(record_at, until), positions[offsets], losses[offsets], evals[offsets], n_runs,
                       batch)
                record_at = until
            last_positions[:], last_losses[:], last_evaluations[:] = positions[-1], losses[-1], evals[-1]
            first += count
            if progress is not None:
                progress(count * size)
        settled = (np.abs(last_losses - f_min) <= tolerance) if f_min is not None else np.zeros(size, dtype=bool)
        for name, value in [("diverged_step", diverged_step), ("best_loss", best_loss),
                            ("path_length", path_length), ("max_step", max_step),
                            ("converged_step", np.where(settled, last_outside + 1, -1))]:
            getattr(out, name)[:] = value.reshape(n_runs, batch)


def _lengths(segments: np.ndarray) -> np.ndarray:
    """Euclidean length of each segment (..., d), without numpy's slow reduction over a last axis of 1 or 2;
    overwrites `segments`."""
    if segments.shape[-1] == 1:
        return np.abs(segments[..., 0])
    np.multiply(segments, segments, out=segments)  # the caller's scratch buffer
    if segments.shape[-1] == 2:
        return np.sqrt(segments[..., 0] + segments[..., 1])
    return np.sqrt(segments.sum(axis=-1))


def _direct_views(out: _Record, first: int, count: int, size: int) -> tuple[np.ndarray, ...] | None:
    """The record's steps first .. first + count - 1 as flat (count, runs * batch[, d]) views, or None when its
    layout (a slice of the starts of several runs) allows no such view."""
    try:
        return (np.reshape(out.positions[first:first + count], (count, size, -1), copy=False),
                np.reshape(out.losses[first:first + count], (count, size), copy=False),
                np.reshape(out.evaluations[first:first + count], (count, size), copy=False))
    except ValueError:  # the reshape would need a copy
        return None


def _write(out: _Record, index: int | slice, positions: np.ndarray, losses: np.ndarray, evaluations: np.ndarray,
           n_runs: int, batch: int) -> None:
    """Record one step (or a slice of steps) of the flat (runs * batch) rows."""
    out.positions[index] = positions.reshape(*positions.shape[:-2], n_runs, batch, positions.shape[-1])
    out.losses[index] = losses.reshape(*losses.shape[:-1], n_runs, batch)
    out.evaluations[index] = evaluations.reshape(*evaluations.shape[:-1], n_runs, batch)


def _freeze_diverged(positions: np.ndarray, losses: np.ndarray, evaluations: np.ndarray,
                     last: tuple[np.ndarray, np.ndarray, np.ndarray], active: np.ndarray, first: int,
                     centre: np.ndarray, reach: float, diverged_step: np.ndarray) -> bool:
    """Flag runs that diverged inside this block (steps first .. first + len - 1) and freeze every diverged run at
    its last good state, in place; update `active`; return whether every run is still active. `last` holds the
    positions, losses and evaluations before the block."""
    last_positions, last_losses, last_evaluations = last
    count, batch = losses.shape
    sane = np.isfinite(losses) & (np.abs(positions - centre).max(axis=-1) <= reach)
    sane &= active[None]
    bad = ~sane.all(axis=0)
    first_bad = np.argmin(sane, axis=0)  # the first insane step in the block (0 for runs diverged before)
    newly = bad & active
    diverged_step[newly] = first + first_bad[newly]
    columns = np.arange(batch)
    before = np.clip(first_bad - 1, 0, None)
    good_positions = np.where((first_bad > 0)[:, None], positions[before, columns], last_positions)
    good_losses = np.where(first_bad > 0, losses[before, columns], last_losses)
    good_evaluations = np.where(first_bad > 0, evaluations[before, columns], last_evaluations)
    frozen = (np.arange(count)[:, None] >= first_bad[None]) & bad[None]
    positions[frozen] = np.broadcast_to(good_positions, positions.shape)[frozen]
    losses[frozen] = np.broadcast_to(good_losses, losses.shape)[frozen]
    evaluations[frozen] = np.broadcast_to(good_evaluations, evaluations.shape)[frozen]
    active &= ~bad
    return bool(active.all())


def run(
    function: TestFunction, transforms: Sequence[Transform], starts: np.ndarray, steps: int, *,
    gradients: Gradients = EXACT, record_every: int | None = 1, progress: Progress | None = None,
    min_starts_per_thread: int = MIN_STARTS_PER_THREAD,
) -> Trajectories:
    """Every transform from every start for `steps` steps, keeping every `record_every`-th step (None: only the
    start and the end; the statistics' reductions see every step regardless).

    Large batches of starts are split across the machine's cores: numpy releases the GIL inside its
    loops, so threads stepping disjoint slices of starts run in parallel, and each run's result is the
    same bits as stepping it alone. The transforms' hyperparameters must therefore be scalars (or
    broadcast over any slice of starts), as the registry builds them. `progress(done, total)` is called
    from the stepping threads after each block of steps.
    """
    starts = np.asarray(starts, dtype=np.float64).reshape(-1, function.dimensions)
    n_runs, n_starts = len(transforms), len(starts)
    record = _Record.empty(kept_steps(steps, record_every), n_runs, n_starts, function.dimensions)
    workers = max(1, min(os.cpu_count() or 1, n_starts // max(min_starts_per_thread, 1)))
    bounds = np.linspace(0, n_starts, workers + 1).astype(int)
    slices = [slice(begin, end) for begin, end in zip(bounds[:-1], bounds[1:])]
    jobs = slices
    total, done, lock = n_runs * n_starts * steps, [0], threading.Lock()

    def advance(point_steps: int) -> None:
        with lock:
            done[0] += point_steps
            progress(done[0], total)

    def step_job(part: slice) -> None:
        _step_into(function, transforms, starts[part], np.arange(n_starts)[part], steps, gradients,
                   record.view(part), advance if progress is not None else None)

    if workers == 1:
        for job in jobs:
            step_job(job)
    else:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(step_job, jobs))
    return record.trajectories()
