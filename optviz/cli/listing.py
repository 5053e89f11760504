"""`optviz list`: the registries as JSON (stdout) or as readable tables (stderr, like all human output)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
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
            "dimensions": f.dimensions,
            "domain": [list(interval) for interval in f.domain],
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


def _number(value: Any) -> str:
    return "-" if value is None else f"{value:.6g}"


def _point(point: Any) -> str:
    return "(" + ", ".join(_number(v) for v in point) + ")"


def _functions_table(entries: list[dict[str, Any]]) -> Table:
    table = Table("name", "formula", "domain", "f_min", "global minima", "start", "steps", header_style="bold")
    for e in entries:
        table.add_row(e["name"], e["formula"], " x ".join(f"[{_number(a)}, {_number(b)}]" for a, b in e["domain"]),
                      _number(e["f_min"]), " ".join(_point(m) for m in e["minima"]) or "unbounded",
                      _point(e["defaults"]["start"]), str(e["defaults"]["steps"]))
    return table


def _format_default(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list | tuple):
        return _point(value)
    return _number(value)


def _optimizers_table(entries: list[dict[str, Any]]) -> Table:
    table = Table("name", "matches", "hyperparameters (defaults)", header_style="bold")
    for e in entries:
        matches = f"torch.optim.{e['torch_class']}" if e["torch_class"] else e["reference"]
        hyper = ", ".join(f"{k}={_format_default(v)}" for k, v in e["hyperparameters"].items())
        table.add_row(e["name"], matches, hyper)
    return table


TABLES = {"functions": _functions_table, "optimizers": _optimizers_table}
TABLE_WIDTH_WHEN_PIPED = 160


def show(what: str, as_json: bool) -> None:
    entries = functions() if what == "functions" else optimizers()
    if as_json:
        write_stdout(to_json(entries))
        return
    console = stderr if stderr.is_terminal else Console(stderr=True, width=TABLE_WIDTH_WHEN_PIPED)
    console.print(TABLES[what](entries))
