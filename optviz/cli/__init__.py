"""The command line. Nothing imports this package; it imports everything else.

Ctrl-C while the modules load (typer, rich and numpy take a few tenths of a second) ends with one line and exit 130,
never a traceback: this file is the first of optviz's to run (`import optviz` loads nothing heavy) and it guards the
import of the app. `main` then makes SIGTERM (sent by `timeout`, CI cancellation, service managers) unwind like
Ctrl-C: helper processes are stopped, a half-written temporary file is removed, exit 143. Before `main` runs,
SIGTERM keeps its default action: the process ends at once, with nothing written yet.
"""

from __future__ import annotations

import signal
import sys
from typing import Any, NoReturn

INTERRUPTED_EXIT_CODE = 130  # 128 + SIGINT


def _exit_early(message: str, code: int) -> NoReturn:
    """Before rich is loaded: the same one red line the error handlers print."""
    label = "\033[1;31merror:\033[0m" if sys.stderr.isatty() else "error:"
    sys.stderr.write(f"{label} {message}\n")
    raise SystemExit(code)


try:
    from optviz.cli.app import app
    from optviz.cli.group import Terminated
except KeyboardInterrupt:
    _exit_early("interrupted", INTERRUPTED_EXIT_CODE)


def _raise_terminated(signum: int, frame: Any) -> None:
    raise Terminated()


def main() -> None:
    signal.signal(signal.SIGTERM, _raise_terminated)
    app()


__all__ = ["app", "main"]
