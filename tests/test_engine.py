"""The engine against a plain step-by-step loop, its divergence handling, and its batching."""

import numpy as np
import pytest

from optviz import engine
from optviz.functions import FUNCTIONS
from optviz.optimizers import OPTIMIZERS


def build(name, **given):
    definition = OPTIMIZERS.get(name)
    return definition.build(definition.resolve(given))


def plain_loop(function, transform, start, steps):
    params = np.array([start], dtype=float)
    state = transform.init(params)
    out = [params[0].copy()]
    for _ in range(steps):
        params, state = transform.update(function.gradient_at(params), state, params)
        out.append(params[0].copy())
    return np.array(out)


@pytest.mark.parametrize("optimizer", OPTIMIZERS.names())
@pytest.mark.parametrize("function", FUNCTIONS.names())
def test_engine_matches_plain_loop_for_every_function_and_optimizer(function, optimizer):
    fn = FUNCTIONS.get(function)
    transform = build(optimizer, lr=1e-4)
    trajectories = engine.run(fn, [transform], np.array([fn.default_start]), 50)
    with np.errstate(all="ignore"):
        expected = plain_loop(fn, transform, fn.default_start, 50)
    assert trajectories.positions.shape == (51, 1, 1, 2)
    assert trajectories.losses.shape == (51, 1, 1)
    diverged = int(trajectories.diverged_step[0, 0])
    good = slice(0, diverged if diverged >= 0 else None)
    np.testing.assert_array_equal(trajectories.positions[good, 0, 0], expected[good])
    np.testing.assert_array_equal(trajectories.losses[good, 0, 0], fn.value_at(expected[good]))


def test_diverging_run_is_frozen_and_flagged_while_others_carry_on():
    fn = FUNCTIONS.get("rosenbrock")
    starts = np.array([fn.default_start])
    result = engine.run(fn, [build("sgd", lr=0.5), build("sgd", lr=1e-4)], starts, 100)
    step = int(result.diverged_step[0, 0])
    assert 1 <= step <= 100
    frozen = result.positions[step - 1 :, 0, 0]
    assert np.all(frozen == frozen[0]), "a diverged run stays at its last good position"
    assert np.all(np.isfinite(result.losses))
    assert result.diverged_step[1, 0] == -1
    assert not np.all(result.positions[-1, 1, 0] == result.positions[0, 1, 0]), "the stable run moved"


def test_leaving_the_divergence_box_counts_as_diverging():
    fn = FUNCTIONS.get("saddle")
    centre, reach = engine.divergence_box(fn)
    # Gradient ascent on the saddle's y direction grows geometrically but stays finite for a long time.
    result = engine.run(fn, [build("sgd", lr=0.9)], np.array([[0.0, 1e-3]]), 500)
    step = int(result.diverged_step[0, 0])
    assert step > 0
    last_good = result.positions[step - 1, 0, 0]
    assert np.all(np.abs(last_good - centre) <= reach)


def test_non_finite_start_is_diverged_at_step_zero():
    fn = FUNCTIONS.get("rosenbrock")
    result = engine.run(fn, [build("adam")], np.array([[np.inf, 0.0], [0.0, 0.0]]), 5)
    assert result.diverged_step[0].tolist() == [0, -1]


def test_batch_of_starts_equals_each_start_alone():
    fn = FUNCTIONS.get("beale")
    rng = np.random.default_rng(0)
    starts = rng.uniform(-2, 2, size=(7, 2))
    transform = build("adam", lr=0.01, amsgrad=True)
    batched = engine.run(fn, [transform], starts, 80)
    for i, start in enumerate(starts):
        alone = engine.run(fn, [transform], start[None], 80)
        np.testing.assert_array_equal(batched.positions[:, 0, i], alone.positions[:, 0, 0])
