"""Everything a person reads goes to stderr; stdout carries data only."""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from rich.markup import escape

stderr = Console(stderr=True, highlight=False, soft_wrap=True)


def fail(message: str, exit_code: int) -> typer.Exit:
    """Print one red line on stderr and return the Exit to raise."""
    first_line = " ".join(str(message).split()) or "failed"
    stderr.print(f"[bold red]error:[/] {escape(first_line)}")
    return typer.Exit(exit_code)


def write_stdout(text: str) -> None:
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    sys.stdout.flush()
