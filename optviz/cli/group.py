"""A Typer group whose every failure is one line on stderr with an exit code, never a traceback."""

from __future__ import annotations

import functools
import sys
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from typer.core import TyperCommand, TyperGroup

from optviz.cli import INTERRUPTED_EXIT_CODE  # defined before optviz.cli imports this module
from optviz.cli.console import fail
from optviz.errors import OptvizError

TERMINATED_EXIT_CODE = 143  # 128 + SIGTERM
F = TypeVar("F", bound=Callable[..., Any])


class Terminated(BaseException):
    """SIGTERM arrived (`optviz.cli.main` raises this from its handler): unwind as KeyboardInterrupt does."""


def reports_errors(command: F) -> F:
    """Map optviz's error hierarchy (and Ctrl-C, SIGTERM) to a one-line message and its exit code."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            with warnings.catch_warnings():
                # numpy's overflow and invalid-value warnings come from runs that diverge or from probing a
                # function where it is not finite: results the JSON and the picture report, not messages
                warnings.simplefilter("ignore", RuntimeWarning)
                return command(*args, **kwargs)
        except OptvizError as error:
            raise fail(error.cli_message(), error.exit_code) from None
        except KeyboardInterrupt:
            raise fail("interrupted", INTERRUPTED_EXIT_CODE) from None
        except Terminated:
            raise fail("terminated", TERMINATED_EXIT_CODE) from None

    return wrapper  # type: ignore[return-value]


class _FlagsWithoutMetavars:
    """`--json`, not `--json <bool>` in --help: a flag takes no value, and `--json true` would fail."""

    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)  # type: ignore[misc]
        for param in params:
            if getattr(param, "is_flag", False) and param.metavar is None:
                param.metavar = ""
        return params


class OptvizCommand(_FlagsWithoutMetavars, TyperCommand):
    """Every command of `optviz` (`@app.command(cls=OptvizCommand)` is the default of the app)."""


class OneLineErrorsGroup(_FlagsWithoutMetavars, TyperGroup):
    """Typer's own usage errors (bad option value, unknown option) become one line too."""

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        try:
            result = super().main(args=args, prog_name=prog_name or "optviz", complete_var=complete_var,
                                  standalone_mode=False, **extra)
        except (typer.Abort, KeyboardInterrupt):
            exit_code = fail("interrupted", INTERRUPTED_EXIT_CODE).exit_code
        except Terminated:
            exit_code = fail("terminated", TERMINATED_EXIT_CODE).exit_code
        except typer.TyperException as error:  # typer's (vendored click's) usage and parameter errors
            if type(error).__name__ == "NoArgsIsHelpError":  # bare `optviz`: the help, not an error
                typer.echo(error.format_message(), err=True)
                exit_code = 0
            else:
                exit_code = fail(_one_line(error), error.exit_code).exit_code
        else:
            exit_code = result if isinstance(result, int) else 0
        if standalone_mode:
            sys.exit(exit_code)
        return exit_code


def _one_line(error: typer.TyperException) -> str:
    """A usage error as optviz words every other: `--steps: input should be greater than or equal to 1` for a bad
    value of an option (the flag first, as our own errors put it), else the command and typer's message."""
    param, message = getattr(error, "param", None), getattr(error, "message", "")
    flags = [opt for opt in getattr(param, "opts", ()) if opt.startswith("--")]
    if type(error).__name__ == "BadParameter" and flags and message:
        return f"{flags[0]}: {message[0].lower()}{message[1:]}"
    context = getattr(error, "ctx", None)
    where = f"{context.command_path}: " if context is not None else ""
    return f"{where}{error.format_message()}"
