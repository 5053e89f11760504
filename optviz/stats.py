"""Race -> plain dicts -> strict JSON. Non-finite numbers become null, so stdout is always valid JSON."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

from optviz import __version__
from optviz.functions import TestFunction
from optviz.functions.base import Minima, Unbounded
from optviz.racing import Race

# A run has converged from the first step after which f - f_min stays within this (relative to 1 + |f_min|).
CONVERGENCE_TOLERANCE = 1e-6


def strict(value: Any) -> Any:
    """Recursively turn numpy scalars/arrays into Python values and non-finite floats into None."""
    if isinstance(value, dict):
        return {str(k): strict(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [strict(v) for v in value]
    if isinstance(value, np.ndarray):
        return strict(value.tolist())
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    return value


def to_json(document: Any) -> str:
    """Strict JSON, indented for people, with every list of plain values (a point, a trajectory row) on one line."""
    return _layout(strict(document), "")


def _is_flat(value: Any) -> bool:
    return isinstance(value, list) and not any(isinstance(v, list | dict) for v in value)


def _layout(value: Any, indent: str) -> str:
    inner = indent + "  "
    if isinstance(value, dict) and value:
        items = [f"{inner}{json.dumps(k)}: {_layout(v, inner)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    if isinstance(value, list) and value and not _is_flat(value):
        return "[\n" + ",\n".join(inner + _layout(v, inner) for v in value) + "\n" + indent + "]"
    return json.dumps(value, allow_nan=False, separators=(", ", ": "))


def function_document(function: TestFunction) -> dict[str, Any]:
    """The function as raced. `minima_source` is "literature" (built-ins), "numerical" (found inside the domain)
    or null when f is unbounded below; `minimum_on_edge` says the lowest value found lies on the domain's edge
    (f may be unbounded beyond it, and `f_min` is then null)."""
    optimum = function.optimum
    return {
        "name": function.name,
        "expression": function.formula,
        "dimensions": function.dimensions,
        "domain": [list(interval) for interval in function.domain],
        "minima": [list(m) for m in function.minima],
        "f_min": function.f_min,
        "minima_source": optimum.source if isinstance(optimum, Minima) else None,
        "unbounded": isinstance(optimum, Unbounded),
        "minimum_on_edge": isinstance(optimum, Minima) and optimum.on_edge,
    }


def converged_step(losses: np.ndarray, f_min: float | None) -> int | None:
    """First step from which the loss gap stays within tolerance, or None."""
    if f_min is None:
        return None
    within = np.abs(losses - f_min) <= CONVERGENCE_TOLERANCE * (1.0 + abs(f_min))
    if not within[-1]:
        return None
    outside = np.flatnonzero(~within)
    return int(outside[-1] + 1) if outside.size else 0


def distance_to_minimum(point: np.ndarray, function: TestFunction) -> float | None:
    if not function.minima:
        return None
    return float(np.min(np.linalg.norm(np.asarray(function.minima) - point, axis=1)))


def run_document(race: Race, run_index: int, start_index: int, include_trajectory: bool) -> dict[str, Any]:
    run = race.runs[run_index]
    positions = race.trajectories.positions[:, run_index, start_index]
    losses = race.trajectories.losses[:, run_index, start_index]
    diverged_step = int(race.trajectories.diverged_step[run_index, start_index])
    final = positions[-1]
    document = {
        **run.to_json(),
        "final": {**dict(zip(race.function.coordinates, final)), "loss": losses[-1]},
        "best_loss": losses.min(),
        "distance_to_minimum": distance_to_minimum(final, race.function),
        "converged_step": converged_step(losses, race.function.f_min),
        "diverged": diverged_step >= 0,
        "diverged_step": diverged_step if diverged_step >= 0 else None,
        "path_length": np.linalg.norm(np.diff(positions, axis=0), axis=1).sum(),
    }
    if include_trajectory:
        document["trajectory"] = np.column_stack([positions, losses])
    return document


def race_document(race: Race, include_trajectory: bool = False) -> dict[str, Any]:
    """The `optviz stats` JSON contract (see README)."""
    return strict({
        "optviz": __version__,
        "function": function_document(race.function),
        "start": race.starts[0],
        "steps": race.steps,
        "runs": [run_document(race, r, s, include_trajectory)
                 for r in range(len(race.runs)) for s in range(len(race.starts))],
    })
