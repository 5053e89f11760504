"""Damped Newton: one step to the minimum of a quadratic, torch.autograd's Hessian step for step, saddles and maxima
reached as readily as minima, singular Hessians without a crash, schedules and clipping."""

from __future__ import annotations

import numpy as np
import pytest

import optviz
from optviz.clipping import clip_by_norm
from optviz.functions import FUNCTIONS
from optviz.optimizers import OPTIMIZERS
from tests.torch_reference import TORCH_FUNCTIONS, requires_torch, torch

RELATIVE = 1e-12


def newton_race(fn, spec="newton", start=None, steps=10, **options):
    return optviz.race(fn, [spec], start=start, steps=steps, tune=False, **options)


def worst_relative(ours, theirs):
    return float((np.abs(ours - theirs) / np.maximum(np.abs(theirs), 1.0)).max())


def test_the_registry_entry():
    entry = OPTIMIZERS.get("newton")
    assert entry.defaults() == {"lr": 1.0, "damping": 1e-3}
    assert entry.torch_class is None and not entry.tune_lr
    assert entry.build(entry.defaults()).needs == frozenset({"gradient", "hessian"})


@pytest.mark.parametrize(("fn", "start", "minimum"), [
    ("booth", (-7.0, 8.0), (1.0, 3.0)),
    ("quadratic", (-4.0, 1.5), (0.0, 0.0)),
    ("matyas", (8.0, -3.0), (0.0, 0.0)),
    ("x^2 + y^2", (2.5, -1.0), (0.0, 0.0)),
    ("(x - 1)^2 + 3*(y + 2)^2 + x*y", (5.0, 5.0), (24 / 11, -26 / 11)),
    ("x^2", (3.0,), (0.0,)),
])
def test_without_damping_one_step_lands_on_a_quadratics_minimum(fn, start, minimum):
    race = newton_race(fn, "newton(damping=0)", start=start, steps=3)
    positions = race.trajectories.positions[:, 0, 0]
    np.testing.assert_allclose(positions[1:], np.broadcast_to(minimum, positions[1:].shape), rtol=0, atol=1e-12)
    assert race.trajectories.evaluations[-1, 0, 0] == 3  # one evaluation a step (the Hessian is not counted)


def test_damping_shortens_the_step_by_h_over_h_plus_damping():
    """On θ² (H = 2): θ <- θ - 2θ / (2 + λ) = θ λ / (2 + λ) each step."""
    race = newton_race("x^2", "newton(damping=0.5)", start=(3.0,), steps=4)
    np.testing.assert_allclose(race.trajectories.positions[:, 0, 0, 0], 3.0 * (0.5 / 2.5) ** np.arange(5),
                               rtol=1e-15)


@requires_torch
@pytest.mark.parametrize("hyperparameters", [{}, {"damping": 0.0}, {"lr": 0.5, "damping": 0.1}])
@pytest.mark.parametrize("function", ["rosenbrock", "beale"])
def test_steps_equal_a_newton_step_from_torch_autograd_hessian(function, hyperparameters):
    start, steps = {"rosenbrock": ((-1.5, 2.0), 12), "beale": ((2.0, 0.3), 12)}[function]
    params = {**OPTIMIZERS.get("newton").defaults(), **hyperparameters}
    f = TORCH_FUNCTIONS[function]
    theta = torch.tensor(start, dtype=torch.float64)
    theirs = [theta.numpy().copy()]
    for _ in range(steps):
        x = theta.clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(f(x[0], x[1]), x)
        hessian = torch.autograd.functional.hessian(lambda v: f(v[0], v[1]), theta)
        theta = theta - params["lr"] * torch.linalg.solve(hessian + params["damping"] * torch.eye(2), grad)
        theirs.append(theta.numpy().copy())
    race = newton_race(function, optviz.specs.format_call("newton", hyperparameters), start=start, steps=steps)
    assert worst_relative(race.trajectories.positions[:, 0, 0], np.array(theirs)) <= RELATIVE


def test_from_a_saddle_basin_newton_goes_to_the_saddle():
    """x² - y² from just off its attracting axis: gradient descent would slide past; Newton jumps onto the saddle."""
    race = newton_race("saddle", "newton(damping=0)", start=(-1.0, 1e-3), steps=5)
    np.testing.assert_array_equal(race.trajectories.positions[1:, 0, 0], 0.0)
    assert race.trajectories.diverged_step[0, 0] == -1


@pytest.mark.parametrize(("start", "kind"), [
    ((3.2, 0.3), "saddle"),  # near the saddle at (3.385, 0.074)
    ((-0.2, -1.8), "saddle"),  # near the saddle at (-0.128, -1.954)
    ((-0.4, -1.0), "maximum"),  # near the local maximum at (-0.271, -0.923)
])
def test_on_himmelblau_newton_converges_to_the_nearest_critical_point_whatever_its_kind(start, kind):
    fn = FUNCTIONS.get("himmelblau")
    race = newton_race("himmelblau", start=start, steps=30)
    final = race.trajectories.positions[-1, 0, 0]
    assert np.linalg.norm(fn.gradient_at(final[None])[0]) < 1e-6  # a critical point (up to the damping's bias)
    eigenvalues = np.linalg.eigvalsh(fn.hessian_at(final[None])[0])
    assert {"saddle": eigenvalues[0] < 0 < eigenvalues[1], "maximum": eigenvalues[1] < 0}[kind]
    assert race.trajectories.losses[-1, 0, 0] > 10  # nowhere near a minimum (f = 0 at all four)


@pytest.mark.parametrize(("fn", "start"), [("(x + y)^2", (2.0, -0.5)), ("x^2 + 0*y", (1.5, 2.0))])
def test_a_singular_hessian_takes_the_least_squares_step(fn, start):
    """H = [[2, 2], [2, 2]] (or [[2, 0], [0, 0]]) is singular without damping: the pseudo-inverse step moves only
    where there is curvature, onto the valley of minima, and stays there."""
    race = newton_race(fn, "newton(damping=0)", start=start, steps=3)
    positions = race.trajectories.positions[:, 0, 0]
    assert np.all(np.isfinite(positions)) and race.trajectories.diverged_step[0, 0] == -1
    np.testing.assert_allclose(race.trajectories.losses[1:, 0, 0], 0.0, atol=1e-24)
    if fn.startswith("x^2"):
        np.testing.assert_array_equal(positions[:, 1], 2.0)  # no curvature along y: no step along y


def test_a_zero_hessian_and_gradient_stay_put_and_a_non_finite_one_diverges_alone():
    transform = OPTIMIZERS.get("newton").build({"lr": 1.0, "damping": 0.0})
    params = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]])
    grad = np.array([[0.0, 0.0], [np.nan, 1.0], [2.0, 2.0]])
    hessian = np.array([np.zeros((2, 2)), np.eye(2), 2 * np.eye(2)])
    new, _ = transform.update(grad, transform.init(params), params, hessian=hessian)
    np.testing.assert_array_equal(new[0], [0.0, 0.0])  # the monkey saddle's origin: nothing to go by
    assert np.all(np.isnan(new[1]))  # flagged diverged by the engine
    np.testing.assert_array_equal(new[2], [1.0, 1.0])


def test_the_monkey_saddle_origin_is_a_fixed_point():
    race = newton_race("monkey-saddle", "newton(damping=0)", start=(0.0, 0.0), steps=3)
    np.testing.assert_array_equal(race.trajectories.positions[:, 0, 0], 0.0)


@requires_torch
def test_a_schedule_scales_each_newton_step_as_torch_lr_scheduler():
    fn = FUNCTIONS.get("rosenbrock")
    steps = 15
    race = newton_race("rosenbrock", "newton(lr=0.8)", start=(-1.5, 2.0), steps=steps, schedule="cosine(T_max=15)")
    holder = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.8)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(holder, T_max=15)
    theta = np.array([[-1.5, 2.0]])
    theirs = [theta[0]]
    for _ in range(steps):
        lr = holder.param_groups[0]["lr"]
        system = fn.hessian_at(theta)[0] + 1e-3 * np.eye(2)
        theta = theta - lr * np.linalg.solve(system, fn.gradient_at(theta)[0])[None]
        theirs.append(theta[0])
        holder.step()
        scheduler.step()
    assert worst_relative(race.trajectories.positions[:, 0, 0], np.array(theirs)) <= RELATIVE


def test_clipping_clips_the_gradient_newton_solves_with():
    fn = FUNCTIONS.get("rosenbrock")
    race = newton_race("rosenbrock", start=(-1.5, 2.0), steps=10, clip_norm=1.0)
    theta = np.array([[-1.5, 2.0]])
    theirs = [theta[0]]
    for _ in range(10):
        system = fn.hessian_at(theta)[0] + 1e-3 * np.eye(2)
        theta = theta - np.linalg.solve(system, clip_by_norm(fn.gradient_at(theta), 1.0)[0])[None]
        theirs.append(theta[0])
    assert worst_relative(race.trajectories.positions[:, 0, 0], np.array(theirs)) <= RELATIVE
    assert race.runs[0].label == "newton clip_norm=1"
