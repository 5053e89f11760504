"""Race -> plain dicts -> strict JSON. Non-finite numbers become null, so stdout is always valid JSON.

The document (schema 2): the function, the steps, the gradients (noise, batch size, seed), one run document per
(optimiser, start) in optimiser-major order, each with its "start" and "start_index", and a "summary" per label over
its starts. A single start still has one run per optimiser, and "start" at the top is the first start, so a reader
of one-start documents keeps working. `write_json` streams the document, so a run of 10^5 starts never holds it
all as text or as dicts.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from optviz import __version__
from optviz.engine import CONVERGENCE_TOLERANCE
from optviz.functions import TestFunction
from optviz.functions.base import Minima, Unbounded
from optviz.racing import Race

SCHEMA = 2
__all__ = ["CONVERGENCE_TOLERANCE", "SCHEMA", "race_document", "to_json", "write_json", "write_race_json"]


class Raw(str):
    """JSON text already laid out at its place in the document (the streamed run documents)."""


class Shared(dict):
    """A strict sub-document that many documents share (a run's params across its starts): laid out once."""


def strict(value: Any) -> Any:
    """Recursively turn numpy scalars/arrays into Python values and non-finite floats into None."""
    if isinstance(value, Shared):
        return value
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
    parts: list[str] = []
    write_json(document, parts.append)
    return "".join(parts)


def write_json(document: Any, write: Callable[[str], Any], chunk_chars: int = 1 << 16) -> None:
    """`to_json`, written in chunks of about `chunk_chars`; a value that is an iterator (not a list) is streamed
    as a JSON list, each item made strict as it comes."""
    pending: list[str] = []
    size = 0
    for piece in _layout(document, "", {}):
        pending.append(piece)
        size += len(piece)
        if size >= chunk_chars:
            write("".join(pending))
            pending, size = [], 0
    if pending:
        write("".join(pending))


def _is_flat(value: Any) -> bool:
    return isinstance(value, list) and not any(isinstance(v, list | dict) for v in value)


def _scalar(value: Any) -> str:
    if value is None or value is True or value is False:
        return json.dumps(value)
    if type(value) is float:
        return repr(value) if math.isfinite(value) else "null"
    if type(value) is int:
        return str(value)
    return json.dumps(value, allow_nan=False)


def _layout(value: Any, indent: str, shared: dict[int, str]) -> Iterator[str]:
    """The text of `value` (already strict, except streamed items); `shared` holds the text of Shared
    sub-documents."""
    if isinstance(value, Raw):
        yield value
        return
    if isinstance(value, Iterator):
        inner = indent + "  "
        first = True
        for item in value:
            yield ("[\n" if first else ",\n") + inner
            yield from _layout(strict(item), inner, shared)
            first = False
        yield "[]" if first else "\n" + indent + "]"
        return
    if isinstance(value, Shared) and value:
        if id(value) not in shared:  # a Shared dict lives as long as the document, so its id stays its own
            shared[id(value)] = "".join(_layout(dict(value), indent, shared))
        yield shared[id(value)]
        return
    if isinstance(value, dict) and value:
        inner = indent + "  "
        for i, (k, v) in enumerate(value.items()):
            yield ("{\n" if i == 0 else ",\n") + f"{inner}{json.dumps(k)}: "
            yield from _layout(v, inner, shared)
        yield "\n" + indent + "}"
        return
    if isinstance(value, list) and value and not _is_flat(value):
        inner = indent + "  "
        yield "[\n" + ",\n".join(inner + "".join(_layout(v, inner, shared)) for v in value) + "\n" + indent + "]"
        return
    if isinstance(value, list):
        yield "[" + ", ".join(_scalar(v) for v in value) + "]"
        return
    yield _scalar(value)


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


def distance_to_minimum(points: np.ndarray, function: TestFunction) -> np.ndarray | None:
    """Distance from each point (..., d) to the nearest global minimiser, or None when none is known."""
    if not function.minima:
        return None
    minima = np.asarray(function.minima, dtype=np.float64)
    points = np.asarray(points, dtype=np.float64)
    return np.linalg.norm(points[..., None, :] - minima, axis=-1).min(axis=-1)


def summary(race: Race) -> dict[str, dict[str, Any]]:
    """Per label, over its starts: how many, the median and best final loss (finite ones), the share that
    converged to a global minimum (f within tolerance of f_min at the end, not diverged), the share that diverged,
    and the median converged step of those that converged."""
    t = race.trajectories
    out = {}
    for r, run in enumerate(race.runs):
        final = t.losses[-1, r]
        finite = final[np.isfinite(final)]
        diverged = t.diverged_step[r] >= 0
        converged = (t.converged_step[r] >= 0) & ~diverged
        out[run.label] = {
            "starts": len(final),
            "median_final_loss": float(np.median(finite)) if finite.size else None,
            "best_final_loss": float(finite.min()) if finite.size else None,
            "share_converged": float(converged.mean()),
            "share_diverged": float(diverged.mean()),
            "median_converged_step": float(np.median(t.converged_step[r][converged])) if converged.any() else None,
        }
    return out


def _columns(race: Race, r: int) -> dict[str, Any]:
    """The numbers of run r's documents, as Python lists indexed by start (one run at a time keeps memory flat)."""
    t = race.trajectories
    distances = distance_to_minimum(t.positions[-1, r], race.function)
    return {
        "final_position": t.positions[-1, r].tolist(),
        "final_loss": t.losses[-1, r].tolist(),
        "best_loss": t.best_loss[r].tolist(),
        "distance": distances.tolist() if distances is not None else None,
        "converged": t.converged_step[r].tolist(),
        "diverged": t.diverged_step[r].tolist(),
        "path_length": t.path_length[r].tolist(),
        "evaluations": t.evaluations[-1, r].tolist(),
    }


def run_documents(race: Race, include_trajectory: bool = False) -> Iterator[dict[str, Any]]:
    """One document per (optimiser, start), optimiser-major, made of plain Python values."""
    t, function = race.trajectories, race.function
    starts = race.starts.tolist()
    for r, run in enumerate(race.runs):
        described = {key: Shared(strict(value)) if key == "params" else value for key, value in run.to_json().items()}
        columns = _columns(race, r)
        lr_rows = _lr_rows(race, run) if include_trajectory and run.schedule is not None else None
        for s, start in enumerate(starts):
            diverged_step = columns["diverged"][s]
            converged_step = columns["converged"][s]
            document = {
                **described,
                "start": start,
                "start_index": s,
                "final": {**dict(zip(function.coordinates, columns["final_position"][s])),
                          "loss": columns["final_loss"][s]},
                "best_loss": columns["best_loss"][s],
                "distance_to_minimum": columns["distance"][s] if columns["distance"] is not None else None,
                "converged_step": converged_step if converged_step >= 0 else None,
                "diverged": diverged_step >= 0,
                "diverged_step": diverged_step if diverged_step >= 0 else None,
                "path_length": columns["path_length"][s],
                "evaluations": columns["evaluations"][s],
            }
            if include_trajectory:
                document["trajectory"] = np.column_stack([t.positions[:, r, s], t.losses[:, r, s]]).tolist()
                if lr_rows is not None:
                    document["trajectory_lr"] = lr_rows
            yield document


def _lr_rows(race: Race, run: Any) -> list[float | None]:
    """The lr in force for the step that led to each trajectory row (the first row, the start, has none)."""
    trace = run.schedule.values(run.params, race.steps)["lr"]
    kept = race.trajectories.steps_kept
    return [None if step == 0 else float(trace[step - 1]) for step in kept.tolist()]


def _number(value: float | None) -> str:
    return repr(value) if value is not None and math.isfinite(value) else "null"


def _step_text(step: int) -> str:
    return str(step) if step >= 0 else "null"


def run_texts(race: Race) -> Iterator[Raw]:
    """`run_documents` (without trajectories) as laid out in the streamed document, a format string per
    optimiser: the same text as the generic layout, about ten times faster (10^5 starts x 4 optimisers)."""
    starts = race.starts.tolist()
    item, field = "    ", "      "  # a run document is an item of "runs", itself a field of the top level
    coordinates = race.function.coordinates
    for r, run in enumerate(race.runs):
        columns = _columns(race, r)
        head = "{\n" + "".join(f"{field}{json.dumps(key)}: {''.join(_layout(strict(value), field, {}))},\n"
                               for key, value in run.to_json().items())
        final_keys = [f"{field}  {json.dumps(c)}: " for c in coordinates]
        for s, start in enumerate(starts):
            final = ",\n".join(key + _number(v) for key, v in zip(final_keys, columns["final_position"][s]))
            distance = columns["distance"][s] if columns["distance"] is not None else None
            diverged = columns["diverged"][s]
            yield Raw(
                f"{head}{field}\"start\": [{', '.join(map(_number, start))}],\n{field}\"start_index\": {s},\n"
                f"{field}\"final\": {{\n{final},\n{field}  \"loss\": {_number(columns['final_loss'][s])}\n"
                f"{field}}},\n{field}\"best_loss\": {_number(columns['best_loss'][s])},\n"
                f"{field}\"distance_to_minimum\": {_number(distance)},\n"
                f"{field}\"converged_step\": {_step_text(columns['converged'][s])},\n"
                f"{field}\"diverged\": {'true' if diverged >= 0 else 'false'},\n"
                f"{field}\"diverged_step\": {_step_text(diverged)},\n"
                f"{field}\"path_length\": {_number(columns['path_length'][s])},\n"
                f"{field}\"evaluations\": {columns['evaluations'][s]}\n{item}}}")


def _header(race: Race, include_trajectory: bool) -> dict[str, Any]:
    gradients = race.gradients
    header = {
        "optviz": __version__,
        "schema": SCHEMA,
        "function": function_document(race.function),
        "start": race.starts[0],
        "starts": len(race.starts),
        "starts_spec": race.starts_spec,
        "steps": race.steps,
        "noise": gradients.noise,
        "batch_size": gradients.batch_size,
        "seed": gradients.seed,
    }
    if include_trajectory and not race.trajectories.every_step:  # trajectory rows are these steps
        header["steps_kept"] = race.trajectories.steps_kept
    return strict(header)


def race_document(race: Race, include_trajectory: bool = False) -> dict[str, Any]:
    """The `optviz stats` JSON contract (see README), as one dict."""
    runs = [strict(document) for document in run_documents(race, include_trajectory)]
    return {**_header(race, include_trajectory), "runs": runs, "summary": strict(summary(race))}


def write_race_json(race: Race, write: Callable[[str], Any], include_trajectory: bool = False,
                    chunk_chars: int = 1 << 16) -> None:
    """`to_json(race_document(race))`, streamed: the run documents are made and written a chunk at a time."""
    runs = run_documents(race, include_trajectory) if include_trajectory else run_texts(race)
    write_json({**_header(race, include_trajectory), "runs": runs, "summary": strict(summary(race))}, write,
               chunk_chars)
    write("\n")
