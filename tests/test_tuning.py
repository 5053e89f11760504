"""When no lr is given, every optimiser must make real progress on every function, without blowing up."""

import numpy as np
import pytest

from optviz.functions import FUNCTIONS
from optviz.optimizers import OPTIMIZERS
from optviz.racing import resolve_runs, run_race
from optviz.specs import parse_optimizer_list
from optviz.tuning import LR_GRID, MAX_TUNING_STARTS, choose_candidate, tune_learning_rate, tuning_starts


# Bowls and valleys with a single basin: every optimiser must at least halve the loss gap there. On the
# multimodal functions a local minimum is an honest result, so "real progress" means a visible descent.
SINGLE_BASIN = {"rosenbrock", "quadratic", "booth", "matyas", "beale", "linear-regression", "logistic-regression"}


TUNED = [entry.name for entry in OPTIMIZERS if entry.tune_lr]
UNTUNED = [entry.name for entry in OPTIMIZERS if not entry.tune_lr]


def test_the_optimizers_raced_untuned_are_the_newton_type_ones():
    assert UNTUNED == ["lbfgs", "newton"]


@pytest.mark.parametrize("optimizer", UNTUNED)
@pytest.mark.parametrize("function", ["rosenbrock", "himmelblau", "saddle"])
def test_newton_type_optimizers_race_at_their_own_lr_and_the_work_estimate_knows(function, optimizer):
    fn = FUNCTIONS.get(function)
    seen = []
    race = run_race(fn, resolve_runs(parse_optimizer_list([optimizer])), [fn.default_start], 20,
                    progress=lambda done, total: seen.append((done, total)))
    (run,) = race.runs
    assert (run.params["lr"], run.lr_source) == (1.0, "default")
    assert seen[-1] == (20, 20)  # no tuning was counted (or done)


@pytest.mark.parametrize("optimizer", TUNED)
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


def synthetic(final_gaps, steps=4):
    """Candidate losses (steps + 1, candidates, 1) falling from 1 to the given final gaps (f* = 0), and positions
    moving a tiny step each, inside the domain."""
    final = np.asarray(final_gaps, dtype=float)
    losses = np.linspace(1.0, 0.0, steps + 1)[:, None] * (1.0 - final) + final
    positions = np.zeros((steps + 1, len(final), 1, 2))
    positions[..., 0] = np.linspace(0.0, 0.01, steps + 1)[:, None, None]
    return losses[:, :, None], positions, np.full((len(final), 1), -1)


def test_candidates_that_reach_the_minimum_tie_and_the_middle_one_is_chosen():
    fn = FUNCTIONS.get("quadratic")
    # lr grows with the index: 0 and 1 stop short, 2..6 reach the floor (converged), 7 stops short again.
    losses, positions, diverged = synthetic([1e-2, 1e-5, 1e-14, 1e-13, 0.0, 1e-15, 1e-12, 1e-3])
    assert choose_candidate(fn, losses, positions, diverged) == 4
    diverged[4] = 3  # a diverged candidate is out, whatever its loss
    assert choose_candidate(fn, losses, positions, diverged) == 3


def test_ending_in_a_local_minimum_loses_to_reaching_the_global_one():
    fn = FUNCTIONS.get("three-hump-camel")
    losses, positions, diverged = synthetic([0.3, 0.3, 0.3, 0.3, 0.3, 1e-12, 0.3])
    assert choose_candidate(fn, losses, positions, diverged) == 5


def test_a_candidate_that_stops_short_of_where_the_others_arrive_is_not_as_good():
    fn = FUNCTIONS.get("three-hump-camel")
    # All end near the same local minimum (gap 0.2986), the first two 10% and 5% short of arriving.
    losses, positions, diverged = synthetic([0.33, 0.314, 0.2987, 0.2986, 0.2986, 0.2986])
    assert choose_candidate(fn, losses, positions, diverged) == 3


def test_many_starts_are_tuned_on_an_evenly_spread_subsample():
    starts = np.column_stack([np.linspace(-1.5, 1.5, 1000), np.linspace(2.0, -0.5, 1000)])
    chosen = tuning_starts(starts)
    assert len(chosen) == MAX_TUNING_STARTS
    np.testing.assert_array_equal(chosen, tuning_starts(starts))
    np.testing.assert_array_equal(chosen[[0, -1]], starts[[0, -1]])
    assert len(np.unique(chosen, axis=0)) == MAX_TUNING_STARTS
    np.testing.assert_array_equal(tuning_starts(starts[:MAX_TUNING_STARTS]), starts[:MAX_TUNING_STARTS])
    fn, adam = FUNCTIONS.get("rosenbrock"), OPTIMIZERS.get("adam")
    assert tune_learning_rate(fn, adam, adam.resolve({}), starts, 50) == tune_learning_rate(
        fn, adam, adam.resolve({}), chosen, 50)


def test_the_tuned_lr_depends_on_the_step_budget():
    fn, adam = FUNCTIONS.get("booth"), OPTIMIZERS.get("adam")
    start = np.array([fn.default_start])
    short, long = (tune_learning_rate(fn, adam, adam.resolve({}), start, steps) for steps in (5, fn.default_steps))
    assert short > long, "in 5 steps only the boldest lr gets far; a long budget affords a smooth arrival"
