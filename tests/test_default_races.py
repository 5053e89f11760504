"""What a newcomer sees first: the default race of the seed article's six optimisers on every built-in.

Every setting but the optimiser list is the default (start, steps, tuned lrs), so these assert what the defaults
teach: somebody reaches a global minimum, and on a landscape with several basins the runs do not all end in the
same place (the picture shows a difference between optimisers).
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

import optviz.api as api
from optviz.functions import FUNCTIONS

SIX = ["gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"]
# A run ending this close to a global minimiser has reached it.
REACHED = 1e-3
# Two runs whose ends are farther apart than this share of the domain's diagonal ended in different places.
APART = 0.05

# Every built-in with a global minimum, and whether its domain holds more than one local minimum (checked below
# against the landscape itself).
SEVERAL_BASINS = {
    "rosenbrock": False, "beale": False, "quadratic": False, "booth": False, "matyas": False,
    "himmelblau": True, "goldstein-price": True, "three-hump-camel": True, "six-hump-camel": True,
    "styblinski-tang": True, "rastrigin": True, "ackley": True, "levi": True, "mccormick": True,
    "linear-regression": False, "logistic-regression": False, "tiny-network": True,
}
# Several basins, yet every default run reaches the global minimum: the seed optimisers' tuned lrs all find the
# way down McCormick's valley from its default start, so there is no difference to show there.
ALL_REACH = {"mccormick"}


@functools.cache
def default_race(name: str):
    return api.race(name, SIX)


def ends_and_distances(name: str) -> tuple[np.ndarray, np.ndarray]:
    race = default_race(name)
    distances = np.array([run["distance_to_minimum"] for run in race.stats["runs"]])
    return race.trajectories.positions[-1, :, 0], distances


def test_the_table_lists_every_builtin_with_a_global_minimum():
    assert sorted(SEVERAL_BASINS) == sorted(fn.name for fn in FUNCTIONS if fn.minima)
    assert ALL_REACH <= {name for name, several in SEVERAL_BASINS.items() if several}


def local_minima(name: str, n: int = 201) -> int:
    """Distinct strict local minima of f in its domain: grid points lower than their 8 neighbours, polished by
    Newton's method and kept where the gradient vanishes and the Hessian is positive definite."""
    fn = FUNCTIONS.get(name)
    (x0, x1), (y0, y1) = fn.domain
    x, y = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
    f = fn.value(x, y)
    lowest = np.ones((n - 2, n - 2), dtype=bool)
    for di in (-1, 0, 1):
        for dj in (-1, 0, 1):
            if di or dj:
                lowest &= f[1:-1, 1:-1] < f[1 + di:n - 1 + di, 1 + dj:n - 1 + dj]
    x, y = x[1:-1, 1:-1][lowest], y[1:-1, 1:-1][lowest]
    for _ in range(30):
        gx, gy = fn.grad(x, y)
        a, b, c = fn.hessian(x, y)
        det = np.where(a * c - b * b > 0, a * c - b * b, np.inf)
        x, y = x - (c * gx - b * gy) / det, y - (a * gy - b * gx) / det
    a, b, c = fn.hessian(x, y)
    keep = (np.hypot(*fn.grad(x, y)) < 1e-6) & (a > 0) & (a * c - b * b > 0)
    return len(np.unique(np.round(np.column_stack([x[keep], y[keep]]), 4), axis=0))


@pytest.mark.parametrize("name", sorted(SEVERAL_BASINS))
def test_the_basins_column_matches_the_landscape(name):
    # Ackley's global minimum is a kink (no Hessian), so its count is of the local minima around it.
    assert (local_minima(name) > 1) == SEVERAL_BASINS[name]


@pytest.mark.parametrize("name", sorted(SEVERAL_BASINS))
def test_some_optimizer_reaches_a_global_minimum(name):
    _, distances = ends_and_distances(name)
    assert np.nanmin(distances.astype(float)) < REACHED, f"{name}: closest run ends {np.min(distances):.3g} away"


@pytest.mark.parametrize("name", sorted(name for name, several in SEVERAL_BASINS.items() if several))
def test_runs_do_not_all_end_in_the_same_place_where_there_are_several_basins(name):
    ends, distances = ends_and_distances(name)
    fn = FUNCTIONS.get(name)
    diagonal = np.linalg.norm(np.ptp(np.array(fn.domain), axis=1))
    spread = max(np.linalg.norm(a - b) for a in ends for b in ends) / diagonal
    if name in ALL_REACH:
        assert np.all(distances < REACHED)
    else:
        assert spread > APART, f"{name}: all six runs end within {spread:.1%} of the diagonal of each other"


def test_every_default_race_moves_every_optimizer():
    for name in SEVERAL_BASINS:
        race = default_race(name)
        moved = np.linalg.norm(race.trajectories.positions[-1, :, 0] - race.starts[0], axis=1)
        assert np.all(moved > 0.01 * np.ptp(np.array(race.function.domain), axis=1).max()), name


def test_the_readme_race_shows_adam_arriving_at_the_star():
    race = api.race("rosenbrock", "adam,sgd")
    adam = next(run for run in race.stats["runs"] if run["optimizer"] == "adam")
    assert adam["lr_source"] == "tuned"
    assert adam["distance_to_minimum"] < REACHED
