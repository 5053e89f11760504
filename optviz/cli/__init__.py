"""The command line. Nothing imports this package; it imports everything else."""

from optviz.cli.app import app


def main() -> None:
    app()


__all__ = ["app", "main"]
