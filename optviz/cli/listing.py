"""`optviz list`: the registries as JSON (stdout) or as readable tables (stderr, like all human output)."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from optviz.cli.console import stderr, write_stdout
from optviz.functions import FUNCTIONS
from optviz.optimizers import OPTIMIZERS
from optviz.stats import to_json


def functions() -> list[dict[str, Any]]:
    return [
        {
            "name": f.name,
            "formula": f.formula,
            "domain": [list(f.domain[0]), list(f.domain[1])],
            "minima": [list(m) for m in f.minima],
            "f_min": f.f_min,
            "defaults": {"start": list(f.default_start), "steps": f.default_steps},
            "log_scale": f.log_scale,
            "reference": f.reference,
        }
        for f in FUNCTIONS
    ]


def optimizers() -> list[dict[str, Any]]:
    return [
        {
            "name": o.name,
            "aliases": list(o.aliases),
            "summary": o.summary,
            "torch_class": o.torch_class,
            "hyperparameters": {h.name: h.default for h in o.hyperparameters},
            "reference": o.reference,
        }
        for o in OPTIMIZERS
    ]


def _cell(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={_cell(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return "(" + ", ".join(_cell(v) for v in value) + ")"
    if isinstance(value, float):
        return f"{value:.6g}"
    if value is None:
        return "-"
    return str(value)


def show(entries: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        write_stdout(to_json(entries))
        return
    columns = [key for key in entries[0] if key not in ("reference", "aliases")]
    table = Table(*columns, show_lines=False, header_style="bold")
    for entry in entries:
        table.add_row(*(_cell(entry[c]) for c in columns))
    stderr.print(table)
