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
    """The transform stepped by hand, given what it declares it needs (f and an oracle, the Hessian)."""
    params = np.array([start], dtype=float)
    state = transform.init(params)
    out = [params[0].copy()]
    for _ in range(steps):
        extras = {}
        if "value" in transform.needs:
            extras["value"] = function.value_at(params)
            extras["oracle"] = lambda points, rows: (function.value_at(points), function.gradient_at(points))
        if "hessian" in transform.needs:
            extras["hessian"] = function.hessian_at(params)
        params, state = transform.update(function.gradient_at(params), state, params, **extras)
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


# --- records and reductions -------------------------------------------------------------------------------------


def reference_converged_step(losses, f_min):
    """The definition: the first step from which |f - f_min| stays within tolerance, or -1."""
    within = np.abs(losses - f_min) <= engine.CONVERGENCE_TOLERANCE * (1.0 + abs(f_min))
    if not within[-1]:
        return -1
    outside = np.flatnonzero(~within)
    return int(outside[-1] + 1) if outside.size else 0


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam", "rmsprop"])
@pytest.mark.parametrize("function", ["booth", "himmelblau", "rosenbrock", "rastrigin"])
def test_running_reductions_equal_their_definitions_over_the_full_record(function, optimizer):
    fn = FUNCTIONS.get(function)
    starts = np.array([fn.default_start, np.mean(fn.domain, axis=1) + 0.3])
    result = engine.run(fn, [build(optimizer, lr=0.01), build(optimizer, lr=1.0)], starts, 300)
    np.testing.assert_array_equal(result.best_loss, result.losses.min(axis=0))
    lengths = np.linalg.norm(np.diff(result.positions, axis=0), axis=-1)
    np.testing.assert_allclose(result.path_length, lengths.sum(axis=0), rtol=1e-12)
    np.testing.assert_allclose(result.max_step, lengths.max(axis=0), rtol=1e-12)
    for r in range(2):
        for s in range(2):
            assert result.converged_step[r, s] == reference_converged_step(result.losses[:, r, s], fn.f_min)
    np.testing.assert_array_equal(result.evaluations[:, 0, 0], np.minimum(np.arange(301), np.where(
        result.diverged_step[0, 0] >= 0, result.diverged_step[0, 0] - 1, 300)))


def test_some_runs_converge_and_none_without_f_min():
    booth = FUNCTIONS.get("booth")
    result = engine.run(booth, [build("adam", lr=0.5)], np.array([booth.default_start]), 400)
    assert 0 < result.converged_step[0, 0] < 400
    saddle = FUNCTIONS.get("saddle")
    result = engine.run(saddle, [build("sgd", lr=0.01)], np.array([[1.0, 0.5]]), 20)
    assert result.converged_step[0, 0] == -1


@pytest.mark.parametrize("record_every", [None, 1, 7, 50, 1000])
def test_every_record_mode_gives_the_same_run(record_every):
    fn = FUNCTIONS.get("rosenbrock")
    starts = np.random.default_rng(1).uniform(-2, 2, size=(5, 2))
    transforms = [build("sgd", lr=0.5), build("adam", lr=0.05)]  # sgd at 0.5 diverges from most starts
    full = engine.run(fn, transforms, starts, 120)
    lean = engine.run(fn, transforms, starts, 120, record_every=record_every)
    expected_steps = {None: [0, 120], 1: list(range(121)), 7: [*range(0, 121, 7), 120], 50: [0, 50, 100, 120],
                      1000: [0, 120]}[record_every]
    assert lean.steps_kept.tolist() == expected_steps
    assert lean.every_step == (record_every == 1)
    np.testing.assert_array_equal(lean.positions, full.positions[expected_steps])
    np.testing.assert_array_equal(lean.losses, full.losses[expected_steps])
    np.testing.assert_array_equal(lean.evaluations, full.evaluations[expected_steps])
    for name in ("diverged_step", "best_loss", "path_length", "converged_step", "max_step"):
        np.testing.assert_array_equal(getattr(lean, name), getattr(full, name))


@pytest.mark.parametrize("block", [1, 2, 3, 64])
def test_block_length_changes_nothing(monkeypatch, block):
    fn = FUNCTIONS.get("rosenbrock")
    starts = np.array([fn.default_start, [0.5, 0.5], [np.nan, 0.0]])
    reference = engine.run(fn, [build("sgd", lr=0.002), build("momentum", lr=0.003)], starts, 90)
    monkeypatch.setattr(engine, "MAX_BLOCK_STEPS", block)
    result = engine.run(fn, [build("sgd", lr=0.002), build("momentum", lr=0.003)], starts, 90)
    for name in ("positions", "losses", "evaluations", "diverged_step", "best_loss", "converged_step"):
        np.testing.assert_array_equal(getattr(result, name), getattr(reference, name))
    np.testing.assert_allclose(result.path_length, reference.path_length, rtol=1e-12)
    assert (reference.diverged_step[:, 0] > 0).any(), "a run diverges inside a block"
    assert (reference.diverged_step[:, 2] == 0).all()


def test_threaded_path_is_bit_identical_to_single_threaded(monkeypatch):
    import os
    import threading

    fn = FUNCTIONS.get("himmelblau")
    starts = np.random.default_rng(2).uniform(-5, 5, size=(37, 2))
    transforms = [build("adam", lr=0.05), build("sgd", lr=0.02)]
    gradients = engine.Gradients(noise=0.3, seed=5)
    single = engine.run(fn, transforms, starts, 150, gradients=gradients)
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    threads = set()
    threaded = engine.run(fn, transforms, starts, 150, gradients=gradients, min_starts_per_thread=5,
                          progress=lambda done, total: threads.add(threading.get_ident()))
    assert len(threads) > 1, "the batch was split across threads"
    for name in ("positions", "losses", "evaluations", "diverged_step", "best_loss", "path_length",
                 "converged_step", "max_step"):
        np.testing.assert_array_equal(getattr(threaded, name), getattr(single, name))


def test_progress_counts_every_point_step():
    fn = FUNCTIONS.get("booth")
    calls = []
    engine.run(fn, [build("sgd"), build("adam")], np.zeros((3, 2)), 200, progress=lambda d, t: calls.append((d, t)))
    assert calls[-1] == (2 * 3 * 200, 2 * 3 * 200)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


# --- noise and minibatches ----------------------------------------------------------------------------------------


def test_noise_is_added_to_the_gradient_as_drawn_per_seed_start_and_step():
    fn = FUNCTIONS.get("booth")
    starts = np.array([[1.0, 2.0], [-3.0, 4.0]])
    sgd = build("sgd", lr=0.01)
    result = engine.run(fn, [sgd], starts, 30, gradients=engine.Gradients(noise=2.0, seed=11))
    for i, start in enumerate(starts):
        params = start[None].copy()
        state = sgd.init(params)
        for step in range(1, 31):
            grad = fn.gradient_at(params) + 2.0 * engine.gaussian_noise(11, step, np.array([i]), 2)
            params, state = sgd.update(grad, state, params)
            np.testing.assert_array_equal(result.positions[step, 0, i], params[0])


def test_identical_optimizers_see_identical_noise_and_seeds_differ():
    fn = FUNCTIONS.get("himmelblau")
    starts = np.array([[0.0, 0.0], [1.0, -1.0]])
    gradients = engine.Gradients(noise=1.0, seed=3)
    result = engine.run(fn, [build("adam", lr=0.05), build("adam", lr=0.05)], starts, 50, gradients=gradients)
    np.testing.assert_array_equal(result.positions[:, 0], result.positions[:, 1])
    exact = engine.run(fn, [build("adam", lr=0.05)], starts, 50)
    other = engine.run(fn, [build("adam", lr=0.05)], starts, 50, gradients=engine.Gradients(noise=1.0, seed=4))
    assert not np.array_equal(result.positions[:, 0], exact.positions[:, 0])
    assert not np.array_equal(result.positions[:, 0], other.positions[:, 0])
    alone = engine.step_batch(fn, build("adam", lr=0.05), starts[1:], 50, gradients=gradients, start_indices=[1])
    np.testing.assert_array_equal(alone.positions[:, 0, 0], result.positions[:, 0, 1])


def test_gaussian_noise_looks_standard_normal():
    draws = np.concatenate([engine.gaussian_noise(0, step, np.arange(500), 2) for step in range(1, 41)])
    assert draws.shape == (20000, 2)
    assert abs(draws.mean()) < 0.03 and abs(draws.std() - 1) < 0.03
    assert abs(np.corrcoef(draws.T)[0, 1]) < 0.03
    assert abs(np.mean(np.abs(draws) > 1.96) - 0.05) < 0.01


def line_fit(size=12):
    """f(w, b) = mean over data of (w x_i + b - y_i)^2, with minibatch gradients: a dataset function."""
    from optviz.functions.base import Dataset, TestFunction, literature

    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size)
    y = 2.0 * x - 0.5 + 0.1 * rng.standard_normal(size)

    def value(w, b):
        w, b = np.asarray(w, dtype=float), np.asarray(b, dtype=float)
        return np.mean((w[..., None] * x + b[..., None] - y) ** 2, axis=-1)

    def grad(w, b):
        w, b = np.asarray(w, dtype=float), np.asarray(b, dtype=float)
        r = w[..., None] * x + b[..., None] - y
        return np.mean(2 * r * x, axis=-1), np.mean(2 * r, axis=-1)

    def hessian(w, b):
        shape = np.broadcast_shapes(np.shape(w), np.shape(b))
        return (np.full(shape, 2 * np.mean(x * x)), np.full(shape, 2 * np.mean(x)), np.full(shape, 2.0))

    def batch_gradient(points, batches):
        r = points[:, :1] * x[batches] + points[:, 1:] - y[batches]
        return np.column_stack([np.mean(2 * r * x[batches], axis=1), np.mean(2 * r, axis=1)])

    a = np.array([[np.mean(x * x), np.mean(x)], [np.mean(x), 1.0]])
    w, b = np.linalg.solve(a, [np.mean(x * y), np.mean(y)])
    fn = TestFunction("line-fit", "mean (w x + b - y)^2", value, grad, hessian, ((-1.0, 4.0), (-3.0, 2.0)),
                      literature(((w, b),), float(value(w, b))), (0.0, 1.5), 100, True,
                      dataset=Dataset(size, batch_gradient))
    return fn, x, y


def test_minibatches_are_distinct_indices_drawn_per_seed_start_and_step():
    batches = engine.minibatches(7, 3, np.arange(50), 12, 5)
    assert batches.shape == (50, 5)
    assert all(len(set(row)) == 5 and row.min() >= 0 and row.max() < 12 for row in batches)
    assert len({tuple(row) for row in batches}) > 40, "starts draw different batches"
    np.testing.assert_array_equal(engine.minibatches(7, 3, np.array([9, 4]), 12, 5), batches[[9, 4]])
    assert not np.array_equal(engine.minibatches(7, 4, np.arange(50), 12, 5), batches)
    full = engine.minibatches(0, 1, np.arange(3), 12, 12)
    assert (full == np.arange(12)).all()


def test_minibatch_gradients_are_the_batches_gradients_and_the_same_for_every_optimizer():
    fn, x, y = line_fit()
    starts = np.array([[0.0, 1.5], [3.0, -2.0]])
    gradients = engine.Gradients(batch_size=4, seed=2)
    sgd = build("sgd", lr=0.1)
    result = engine.run(fn, [sgd, sgd], starts, 25, gradients=gradients)
    np.testing.assert_array_equal(result.positions[:, 0], result.positions[:, 1])
    params = starts[1:].copy()
    state = sgd.init(params)
    for step in range(1, 26):
        batch = engine.minibatches(2, step, np.array([1]), 12, 4)
        params, state = sgd.update(fn.dataset.batch_gradient(params, batch), state, params)
        np.testing.assert_array_equal(result.positions[step, 0, 1], params[0])
    full_batch = engine.run(fn, [sgd], starts, 25, gradients=engine.Gradients(batch_size=12))
    exact = engine.run(fn, [sgd], starts, 25)
    np.testing.assert_allclose(full_batch.positions, exact.positions, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize(("function", "gradients", "parameter", "fragment"), [
    ("rosenbrock", engine.Gradients(batch_size=4), "batch_size", "dataset"),
    ("line", engine.Gradients(batch_size=13), "batch_size", "from 1 to 12"),
    ("line", engine.Gradients(batch_size=0), "batch_size", "from 1 to 12"),
    ("line", engine.Gradients(noise=-1.0), "noise", ">= 0"),
    ("line", engine.Gradients(noise=float("nan")), "noise", "finite"),
    ("line", engine.Gradients(seed=-1), "seed", ">= 0"),
])
def test_gradients_refuse_what_cannot_be_done(function, gradients, parameter, fragment):
    from optviz.errors import UsageError

    fn = line_fit()[0] if function == "line" else FUNCTIONS.get(function)
    with pytest.raises(UsageError) as caught:
        gradients.check(fn)
    assert caught.value.parameter == parameter and fragment in caught.value.message


# --- what optimisers need -----------------------------------------------------------------------------------------


def newton_with_a_probe():
    """A Newton step that also probes f and the gradient at the new point through the oracle (a toy line search)."""
    from optviz.optimizers import Transform

    seen = []

    def update(grad, state, params, *, value, oracle, hessian):
        new = params - np.linalg.solve(hessian, grad[..., None])[..., 0]
        values, grads = oracle(new, np.arange(len(new)))
        seen.append((new, values, grads, params, value))
        return new, state

    return Transform(lambda params: (), update, needs=frozenset({"gradient", "value", "hessian"})), seen


def test_the_engine_passes_what_a_transform_needs_and_counts_evaluations():
    fn = FUNCTIONS.get("booth")
    transform, seen = newton_with_a_probe()
    starts = np.array([[-7.0, 8.0], [2.0, 2.0]])
    result = engine.run(fn, [transform, build("sgd", lr=0.01)], starts, 5)
    np.testing.assert_allclose(result.positions[1:, 0], np.broadcast_to([1.0, 3.0], (5, 2, 2)), atol=1e-12)
    assert result.converged_step[0].tolist() == [1, 1]
    assert result.evaluations[:, 0, 0].tolist() == [0, 2, 4, 6, 8, 10]
    assert result.evaluations[:, 1, 0].tolist() == [0, 1, 2, 3, 4, 5]
    new, values, grads, _, _ = seen[0]
    np.testing.assert_array_equal(values, fn.value_at(new))
    np.testing.assert_array_equal(grads, fn.gradient_at(new))
    for _, _, _, params, value in seen:  # `value` is f where the step's gradient was taken
        np.testing.assert_array_equal(value, fn.value_at(params))
    assert build("adam").needs == frozenset({"gradient"})


def test_value_is_f_where_the_gradient_was_taken_also_after_a_row_is_frozen():
    """A value-needing transform that doubles the params: the row from (1, 1) leaves the box, is frozen, and from
    then on steps from its frozen position with its frozen loss; the row at the origin stays."""
    from optviz.optimizers import Transform

    fn = FUNCTIONS.get("quadratic")
    seen = []

    def update(grad, state, params, *, value, oracle):
        seen.append((params.copy(), value.copy()))
        return params * 2.0, state

    doubling = Transform(lambda params: (), update, frozenset({"gradient", "value"}))
    result = engine.run(fn, [doubling, build("sgd", lr=0.01)], np.array([[1.0, 1.0], [0.0, 0.0]]), 120)
    assert result.diverged_step[0, 0] > 0 and result.diverged_step[0, 1] == -1
    for params, value in seen:
        np.testing.assert_array_equal(value, fn.value_at(params))
    assert len(seen) == 120


def test_optimizers_stepped_in_lockstep_equal_each_stepped_alone():
    fn = FUNCTIONS.get("rosenbrock")
    starts = np.array([fn.default_start, [0.3, -0.5], [1.9, 2.9]])
    transforms = [build("adam", lr=0.05), build("sgd", lr=0.003), newton_with_a_probe()[0], build("rmsprop")]
    together = engine.run(fn, transforms, starts, 70, gradients=engine.Gradients(noise=0.1, seed=2))
    for r, transform in enumerate(transforms):
        alone = engine.run(fn, [transform], starts, 70, gradients=engine.Gradients(noise=0.1, seed=2))
        for name in ("positions", "losses", "evaluations"):
            np.testing.assert_array_equal(getattr(together, name)[:, r], getattr(alone, name)[:, 0])
        for name in ("diverged_step", "best_loss", "path_length", "converged_step", "max_step"):
            np.testing.assert_array_equal(getattr(together, name)[r], getattr(alone, name)[0])


@pytest.mark.parametrize("function", FUNCTIONS.names())
def test_value_and_gradient_in_one_call_are_the_same_bits(function):
    fn = FUNCTIONS.get(function)
    points = np.random.default_rng(3).uniform([lo for lo, _ in fn.domain], [hi for _, hi in fn.domain],
                                              size=(257, fn.dimensions))
    value, grad = fn.value_and_gradient_at(points)
    np.testing.assert_array_equal(value, fn.value_at(points))
    np.testing.assert_array_equal(grad, fn.gradient_at(points))


def test_registry_of_fused_value_and_gradient_formulas():
    assert {name for name in FUNCTIONS.names() if FUNCTIONS.get(name).value_and_grad is not None} == {"rosenbrock"}
