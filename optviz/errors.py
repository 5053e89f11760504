"""The one error hierarchy. The core raises these; only the CLI turns them into messages and exit codes."""


class OptvizError(Exception):
    """Anything optviz refuses to do, with a one-line message meant for a person."""

    exit_code = 1


class UsageError(OptvizError):
    """The user asked for something invalid: unknown name, malformed spec, value out of range."""

    exit_code = 2


class OutputError(OptvizError):
    """An output file cannot be written (unwritable folder, encoder missing, disk full)."""

    exit_code = 1
