"""The one error hierarchy. The core raises these; only the CLI turns them into messages and exit codes.

A message names the parameter it is about the way the API spells it (`fps must be > 0`), through `parameter`:
`str(error)` reads `fps: must be > 0` for API users, and the CLI shows `--fps: must be > 0` (`cli_message`).
"""

from __future__ import annotations


class OptvizError(Exception):
    """Anything optviz refuses to do, with a one-line message meant for a person."""

    exit_code = 1

    def __init__(self, message: str, parameter: str | None = None):
        super().__init__(message)
        self.message = message
        self.parameter = parameter  # the API's keyword (`fps`, `batch_size`), or None when none applies

    def __str__(self) -> str:
        return f"{self.parameter}: {self.message}" if self.parameter else self.message

    def cli_message(self) -> str:
        """The message as the command line shows it: the parameter as its flag (`batch_size` -> `--batch-size`)."""
        if not self.parameter:
            return self.message
        return f"--{self.parameter.replace('_', '-')}: {self.message}"


class UsageError(OptvizError):
    """The user asked for something invalid: unknown name, malformed spec, value out of range."""

    exit_code = 2


class OutputError(OptvizError):
    """An output file cannot be written (unwritable folder, encoder missing, disk full)."""

    exit_code = 1
