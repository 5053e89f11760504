"""When no lr is given, every optimiser must make real progress on every function, without blowing up."""

import numpy as np
import pytest

from optviz.functions import FUNCTIONS
from optviz.optimizers import OPTIMIZERS
from optviz.racing import resolve_runs, run_race
from optviz.specs import parse_optimizer_list
from optviz.tuning import LR_GRID, tune_learning_rate


# Bowls and valleys with a single basin: every optimiser must at least halve the loss gap there. On the
# multimodal functions a local minimum is an honest result, so "real progress" means a visible descent.
SINGLE_BASIN = {"rosenbrock", "quadratic", "booth", "matyas", "beale"}


@pytest.mark.parametrize("optimizer", OPTIMIZERS.names())
@pytest.mark.parametrize("function", FUNCTIONS.names())
def test_tuned_lr_makes_real_progress(function, optimizer):
    fn = FUNCTIONS.get(function)
    race = run_race(fn, resolve_runs(parse_optimizer_list([optimizer])), [fn.default_start],
                    fn.default_steps)
    (run,) = race.runs
    assert run.lr_source == "tuned"
    assert run.params["lr"] in LR_GRID
    losses = race.trajectories.losses[:, 0, 0]
    assert race.trajectories.diverged_step[0, 0] == -1
    if fn.f_min is None:
        assert losses[-1] < losses[0] - 0.1 * (1 + abs(losses[0]))
    else:
        start_gap, final_gap = losses[0] - fn.f_min, losses[-1] - fn.f_min
        required = 0.5 if function in SINGLE_BASIN else 0.95
        assert final_gap < required * start_gap, f"{optimizer} barely moved on {function}: {start_gap} -> {final_gap}"
    moved = np.linalg.norm(race.trajectories.positions[-1, 0, 0] - race.starts[0])
    assert moved > 0.01 * np.ptp(np.array(fn.domain), axis=1).max()


def test_tuning_is_deterministic_and_respects_other_hyperparameters():
    fn = FUNCTIONS.get("rosenbrock")
    sgd = OPTIMIZERS.get("sgd")
    start = np.array([fn.default_start])
    plain = tune_learning_rate(fn, sgd, sgd.resolve({}), start, 300)
    assert plain == tune_learning_rate(fn, sgd, sgd.resolve({}), start, 300)
    heavy = tune_learning_rate(fn, sgd, sgd.resolve({"momentum": 0.99}), start, 300)
    assert heavy < plain, "heavy momentum amplifies steps, so the tuned lr must be smaller"


def test_explicit_lr_is_used_as_given_and_no_tune_uses_torch_default():
    fn = FUNCTIONS.get("beale")
    specs = resolve_runs(parse_optimizer_list(["adam(lr=0.0123),sgd"]))
    given, default = run_race(fn, specs, [fn.default_start], 20, tune=False).runs
    assert (given.params["lr"], given.lr_source) == (0.0123, "user")
    assert (default.params["lr"], default.lr_source) == (OPTIMIZERS.get("sgd").defaults()["lr"], "default")


def test_tuning_survives_a_start_where_the_function_is_not_finite():
    fn = FUNCTIONS.get("rosenbrock")
    adam = OPTIMIZERS.get("adam")
    assert tune_learning_rate(fn, adam, adam.resolve({}), np.array([[1e308, 1e308]]), 10) in LR_GRID
