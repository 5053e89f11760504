"""`optviz list`: the registries as JSON or as readable tables, both on stdout (they are the data asked for, so
`optviz list functions | grep camel` works). The names people type are never wrapped or cut, at any width."""

from __future__ import annotations

from typing import Any

import os
import sys

from rich.console import Console
from rich.table import Table

from optviz.cli.console import write_stdout
from optviz.functions import FUNCTIONS
from optviz.plugins import registered_optimizers
from optviz.specs import format_number
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
    """The built-ins, then what installed packages register (entry-point group optviz.optimizers); an entry that
    cannot be loaded is listed with the reason instead of its hyperparameters."""
    found, broken = registered_optimizers()
    entries = [
        {
            "name": item.name,
            "aliases": list(item.definition.aliases),
            "summary": item.definition.summary,
            "torch_class": item.definition.torch_class,
            "hyperparameters": {h.name: h.default for h in item.definition.hyperparameters},
            "reference": item.definition.reference,
            "source": item.source,
        }
        for item in found
    ]
    entries += [{"name": name, "aliases": [], "summary": problem, "torch_class": None, "hyperparameters": {},
                 "reference": "", "source": "entry point (not loadable)"} for name, problem in broken.items()]
    return entries


def _number(value: Any) -> str:
    return "-" if value is None else format_number(value, digits=6)


def _point(point: Any) -> str:
    return "(" + ", ".join(_number(v) for v in point) + ")"


def _functions_table(entries: list[dict[str, Any]]) -> Table:
    table = Table(title="functions", header_style="bold")
    _name_column(table, entries)
    for header in ("formula", "domain", "f_min", "global minima", "start", "steps"):
        table.add_column(header, overflow="fold")
    for e in entries:
        table.add_row(e["name"], e["formula"], " x ".join(f"[{_number(a)}, {_number(b)}]" for a, b in e["domain"]),
                      _number(e["f_min"]), " ".join(_point(m) for m in e["minima"]) or "unbounded",
                      _point(e["defaults"]["start"]), str(e["defaults"]["steps"]))
    return table


def _format_default(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return str(value).lower()
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, list | tuple):
        return _point(value)
    return _number(value)


def _optimizers_table(entries: list[dict[str, Any]]) -> Table:
    table = Table(title="optimizers", header_style="bold")
    _name_column(table, entries)
    table.add_column("matches", overflow="fold")
    table.add_column("hyperparameters (defaults)", overflow="fold")
    table.add_column("source", overflow="fold")
    for e in entries:
        torch_class = e["torch_class"]
        matches = (torch_class if "." in (torch_class or "") else f"torch.optim.{torch_class}") if torch_class \
            else e["reference"] or e["summary"]
        hyper = ", ".join(f"{k}={_format_default(v)}" for k, v in e["hyperparameters"].items())
        table.add_row(e["name"], matches, hyper, e["source"])
    return table


def _name_column(table: Table, entries: list[dict[str, Any]]) -> None:
    """The first column, never wrapped or truncated however narrow the terminal: these are what people type."""
    table.add_column("name", no_wrap=True, min_width=max(len(e["name"]) for e in entries), style="bold")


KINDS = ("functions", "optimizers")
ENTRIES = {"functions": functions, "optimizers": optimizers}
TABLES = {"functions": _functions_table, "optimizers": _optimizers_table}
TABLE_WIDTH_WHEN_PIPED = 160  # unless COLUMNS says otherwise: one row per line reads best in a pager or grep


def show(kinds: tuple[str, ...], as_json: bool) -> None:
    """Print the registries named in `kinds`: one as a JSON list, several as an object keyed by kind."""
    if as_json:
        documents = {kind: ENTRIES[kind]() for kind in kinds}
        write_stdout(to_json(documents if len(kinds) > 1 else documents[kinds[0]]))
        return
    piped = not sys.stdout.isatty() and "COLUMNS" not in os.environ
    console = Console(file=sys.stdout, highlight=False, width=TABLE_WIDTH_WHEN_PIPED if piped else None)
    for kind in kinds:
        console.print(TABLES[kind](ENTRIES[kind]()))
