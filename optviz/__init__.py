"""optviz: watch gradient-descent variants race across test functions.

    import optviz
    result = optviz.race("rosenbrock", ["adam", "sgd"])
    result.save("race.gif")

See `optviz.race` (the API), `optviz.Function` (your own function from Python callables) and `optviz.Race`.
The API (and numpy with it) loads on first use, so the command line can install its Ctrl-C handling first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from optviz.errors import OptvizError, OutputError, UsageError

__version__ = "0.1.0"

if TYPE_CHECKING:
    from optviz.api import Function, race
    from optviz.racing import Race

_LAZY = {"Function": "optviz.api", "race": "optviz.api", "Race": "optviz.racing"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'optviz' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = ["Function", "OptvizError", "OutputError", "Race", "UsageError", "__version__", "race"]
