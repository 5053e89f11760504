"""optviz: watch gradient-descent variants race across test functions.

    import optviz
    result = optviz.race("rosenbrock", ["adam", "sgd"])
    result.save("race.gif")

See `optviz.race` (the API), `optviz.Function` (your own function from Python callables) and `optviz.Race`.
"""

__version__ = "0.1.0"

from optviz.api import Function, race  # noqa: E402
from optviz.errors import OptvizError, OutputError, UsageError  # noqa: E402
from optviz.racing import Race  # noqa: E402

__all__ = ["Function", "OptvizError", "OutputError", "Race", "UsageError", "__version__", "race"]
