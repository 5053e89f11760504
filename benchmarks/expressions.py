"""Expression benchmark: a typed-in formula against the hand-written built-in it spells out.

For Rosenbrock, Beale and Rastrigin written out as text, times `value`, `gradient` and `hessian` of the parsed
expression and of the built-in `TestFunction`, on a batch of B = 1 and B = 40000 points, and prints the ratio
(expression time / built-in time; the target is < 3).

    python benchmarks/expressions.py
"""

from __future__ import annotations

import timeit

import numpy as np

from optviz.expressions import parse_expression
from optviz.functions import FUNCTIONS

WRITTEN_OUT = {
    "rosenbrock": "(1-x)**2 + 100*(y-x**2)**2",
    "beale": "(1.5 - x + x*y)**2 + (2.25 - x + x*y**2)**2 + (2.625 - x + x*y**3)**2",
    "rastrigin": "20 + x**2 - 10*cos(2*pi*x) + y**2 - 10*cos(2*pi*y)",
}
METHODS = (("value", "value"), ("gradient", "grad"), ("hessian", "hessian"))


def best_time(call, repeat: int = 7) -> float:
    """Seconds per call, the best of `repeat` rounds."""
    timer = timeit.Timer(call)
    number, _ = timer.autorange()
    return min(timer.repeat(repeat=repeat, number=number)) / number


def main() -> None:
    rng = np.random.default_rng(0)
    print(f"{'function':<12}{'method':<10}{'B':>7}{'builtin us':>12}{'expr us':>10}{'ratio':>7}")
    for name, text in WRITTEN_OUT.items():
        builtin, expression = FUNCTIONS.get(name), parse_expression(text)
        for batch in (1, 40_000):
            x, y = rng.uniform(-2, 2, size=(2, batch))
            for method, builtin_method in METHODS:
                ours = best_time(lambda: getattr(expression, method)(x, y))
                theirs = best_time(lambda: getattr(builtin, builtin_method)(x, y))
                print(f"{name:<12}{method:<10}{batch:>7}{theirs * 1e6:>12.1f}{ours * 1e6:>10.1f}"
                      f"{ours / theirs:>7.2f}")


if __name__ == "__main__":
    main()
